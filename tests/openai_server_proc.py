"""The test server (tests/openai_server.py) in its own process, for benchmarks: no GIL shared with the client.

    python -m tests.openai_server_proc --delay 0.2 --keep-alive   # prints its URL, serves until stdin closes
    with ServerProcess(delay=0.2) as srv: srv.url, srv.stats(), srv.cpu_seconds()
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import urllib.request
from pathlib import Path

from tests.openai_server import ChatServer

ROOT = Path(__file__).resolve().parent.parent


class ServerProcess:
    """A ChatServer (delay, keep_alive) in a child process: `with ServerProcess(...) as srv: srv.url, srv.stats()`.

    `stats()`: {requests, served, faults} from GET /stats; `cpu_seconds()`: the child's CPU time so far.
    """

    def __init__(self, delay: float = 0.0, keep_alive: bool = True):
        args = [sys.executable, "-m", "tests.openai_server_proc", "--delay", str(delay)] + ["--keep-alive"] * keep_alive
        self.proc = subprocess.Popen(args, cwd=ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        self.url = self.proc.stdout.readline().strip()
        if not self.url:
            raise RuntimeError("tests.openai_server did not start")

    def stats(self) -> dict:
        with urllib.request.urlopen(self.url.rsplit("/v1", 1)[0] + "/stats", timeout=10) as r:
            return json.loads(r.read())

    def cpu_seconds(self) -> float:
        fields = open(f"/proc/{self.proc.pid}/stat").read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def __enter__(self) -> "ServerProcess":
        return self

    def __exit__(self, *exc) -> None:
        self.proc.stdin.close()  # the child serves until its stdin closes
        self.proc.wait(timeout=30)


def main() -> None:
    """Serve until stdin closes (the parent exits or closes the pipe); prints the URL first."""
    import argparse

    ap = argparse.ArgumentParser(description="OpenAI-compatible test server in its own process")
    ap.add_argument("--delay", type=float, default=0.0)
    ap.add_argument("--keep-alive", action="store_true")
    ap.add_argument("--port", type=int, default=0)
    args = ap.parse_args()
    with ChatServer(delay=args.delay, keep_alive=args.keep_alive, port=args.port) as srv:
        print(srv.url, flush=True)
        sys.stdin.read()


if __name__ == "__main__":
    main()
