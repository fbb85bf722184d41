"""Benchmark of the openai backend against the local test server (tests/openai_server.py).

    .venv/bin/python bench/bench_openai.py [--requests 256] [--delay 0.2] [--concurrency 16] [--in-process]

1. Throughput: the same number of distinct prompts (server latency `delay` each) sent with
   concurrency 1 and with `concurrency`; prints both times and the speed-up (ideal: concurrency).
   The server runs in its own process with persistent connections (tests/openai_server_proc.py), so
   the client's CPU is all this process has; `--in-process` is the old setup (server threads in this
   process, HTTP/1.0: one TCP connection per request). Then our own cost per request: the same
   requests at delay 0, as wall ms and CPU ms per request of this process (client: roles.LLM, cache,
   backend, SDK) and of the server process. The load average is printed before and after.
2. Reliability: `--fault-rows` rows with `--fault-rate` injected faults (429/5xx/hangs/resets/bad
   bodies); prints rows, retries, error rows and rows lost (must be 0).
Goes through roles.make_llm with a fresh temporary cache, so nothing is served from the cache.
"""
from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from stages.llm.roles import make_llm  # noqa: E402
from tests.openai_server import ChatServer, echo_answer  # noqa: E402
from tests.openai_server_proc import ServerProcess  # noqa: E402


class _InProcess(ChatServer):
    """The old setup, with ServerProcess's interface."""

    def stats(self) -> dict:
        return {"requests": self.requests}

    def cpu_seconds(self) -> float:
        return 0.0  # counted in this process


def server(delay: float, in_process: bool):
    return _InProcess(delay=delay) if in_process else ServerProcess(delay=delay)


def loadavg() -> str:
    return " ".join(open("/proc/loadavg").read().split()[:3])


def run(url: str, convs, concurrency: int, **extra):
    spec = {"backend": "openai", "model": "bench", "base_url": url, "concurrency": concurrency, **extra}
    with make_llm(spec, name=f"bench-c{concurrency}") as llm:
        t0 = time.perf_counter()
        out = llm.chat(convs, task="bench")
        return time.perf_counter() - t0, out, llm.stats()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--requests", type=int, default=256)
    ap.add_argument("--delay", type=float, default=0.2)
    ap.add_argument("--concurrency", type=int, default=16)
    ap.add_argument("--fault-rows", type=int, default=1000)
    ap.add_argument("--fault-rate", type=float, default=0.2)
    ap.add_argument("--skip-faults", action="store_true")
    ap.add_argument("--in-process", action="store_true", help="the old setup: server threads in this process")
    args = ap.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        os.environ["MSEED_LLM_CACHE"] = str(Path(tmp) / "bench-cache.sqlite")
        setup = "server threads in this process, HTTP/1.0" if args.in_process else \
            "server in its own process, keep-alive"
        print(f"load average at start: {loadavg()}; {os.cpu_count()} CPUs; {setup}")
        with server(args.delay, args.in_process) as srv:
            seq, _, _ = run(srv.url, [[{"role": "user", "content": f"seq {i}"}] for i in range(args.requests)], 1)
            par, _, _ = run(srv.url, [[{"role": "user", "content": f"par {i}"}] for i in range(args.requests)],
                            args.concurrency)
            assert srv.stats()["requests"] == 2 * args.requests, "some requests were served from the cache"
        print(f"throughput: {args.requests} requests, server delay {args.delay}s")
        print(f"  concurrency 1:  {seq:7.2f} s  ({args.requests / seq:6.1f} req/s)")
        print(f"  concurrency {args.concurrency}: {par:7.2f} s  ({args.requests / par:6.1f} req/s)")
        print(f"  speed-up: {seq / par:.1f}x (ideal {args.concurrency}x)")
        with server(0.0, args.in_process) as srv:
            cpu0, srv0 = time.process_time(), srv.cpu_seconds()
            zero, _, _ = run(srv.url, [[{"role": "user", "content": f"zero {i}"}] for i in range(args.requests)],
                             args.concurrency)
            cpu, srv_cpu = time.process_time() - cpu0, srv.cpu_seconds() - srv0
        ms = lambda x: x / args.requests * 1e3  # noqa: E731
        print(f"  own cost (delay 0, concurrency {args.concurrency}): {ms(zero):.2f} ms wall, "
              f"{ms(cpu):.2f} ms CPU per request in this process"
              + ("" if args.in_process else f" (client); server process {ms(srv_cpu):.2f} ms CPU"))
        print(f"load average at end: {loadavg()}")
        if args.skip_faults:
            return

        convs = [[{"role": "user", "content": f"fault {i}"}] for i in range(args.fault_rows)]
        with ChatServer(delay=0.01, fault_rate=args.fault_rate, hang=3.0, seed=0) as srv:
            secs, out, st = run(srv.url, convs, args.concurrency, timeout=1.0, backoff=0.05, max_retries=6)
            requests, faults = srv.requests, len(srv.fault_log)
        rows = [row[0] for row in out]
        good = sum(c is not None and c.error is None and c.text == echo_answer(conv) for c, conv in zip(rows, convs))
        errors = sum(c is not None and c.error is not None for c in rows)
        lost = len(convs) - good - errors
        print(f"faults: {args.fault_rows} rows, fault rate {args.fault_rate}, {secs:.2f} s")
        print(f"  rows processed: {good + errors}  ok: {good}  error rows: {errors}  rows lost: {lost}")
        print(f"  injected faults: {faults}  retries: {st['retries']}  requests: {requests} "
              f"(= rows + retries: {requests == len(convs) + st['retries']})")
        if lost:
            sys.exit(1)


if __name__ == "__main__":
    main()
