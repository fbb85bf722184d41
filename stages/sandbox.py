"""Run untrusted model-written code (HumanEval completions) in a separate, limited process.

Each program runs as `python -I -B prog.py` in a fresh temporary directory that is deleted afterwards,
in its own process group, with a wall-clock timeout, CPU-time, address-space and file-size limits,
a minimal environment and no network: inside `unshare -rn` (an empty network namespace) when the
kernel allows unprivileged user namespaces, and in every case with socket creation disabled by a
prelude. This is a guard against accidents (loops, exits, stray files, fork bombs of a model's
making), not a security boundary against a determined attacker: use a container for that.
"""
from __future__ import annotations

import functools
import os
import secrets
import resource
import shutil
import signal
import subprocess
import sys
import tempfile

PRELUDE = """\
import socket as _s
def _no_net(*a, **k):
    raise OSError("network disabled in the sandbox")
_s.socket = _no_net
_s.create_connection = _no_net
del _s, _no_net
"""


@functools.lru_cache(maxsize=1)
def _unshare() -> list[str]:
    """['unshare', '-rn'] when an empty network namespace can be created here, else []."""
    exe = shutil.which("unshare")
    if not exe:
        return []
    try:
        ok = subprocess.run([exe, "-rn", "true"], capture_output=True, timeout=10).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        ok = False
    return [exe, "-rn"] if ok else []


def _limits(timeout: float, memory_mb: int):
    def apply():
        os.setsid()
        cpu = int(timeout) + 1
        resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu))
        mem = memory_mb * 1024 * 1024
        resource.setrlimit(resource.RLIMIT_AS, (mem, mem))
        resource.setrlimit(resource.RLIMIT_FSIZE, (10 * 1024 * 1024, 10 * 1024 * 1024))
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    return apply


def run_program(code: str, timeout: float = 10.0, memory_mb: int = 1024) -> dict:
    """Run `code`; returns {status: passed|failed|timeout, returncode, stderr (last 500 chars)}.

    `passed` needs exit status 0 AND a random token printed after the code ran to its end, so a
    program that calls exit(0) half-way does not pass.
    """
    token = secrets.token_hex(16)
    with tempfile.TemporaryDirectory(prefix="mseed-sandbox-") as tmp:
        prog = os.path.join(tmp, "prog.py")
        with open(prog, "w", encoding="utf-8") as f:
            f.write(PRELUDE + "\n" + code + f"\nprint({token!r}, flush=True)\n")
        env = {"PATH": "/usr/bin:/bin", "PYTHONHASHSEED": "0", "HOME": tmp, "TMPDIR": tmp,
               "OMP_NUM_THREADS": "1"}
        cmd = _unshare() + [sys.executable, "-I", "-B", prog]
        proc = subprocess.Popen(cmd, cwd=tmp, env=env, stdin=subprocess.DEVNULL,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                preexec_fn=_limits(timeout, memory_mb))
        try:
            out, err = proc.communicate(timeout=timeout)
            done = token.encode() in out[-4096:]
            status = "passed" if proc.returncode == 0 and done else "failed"
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            _, err = proc.communicate()
            status = "timeout"
        finally:
            try:  # children the program left behind
                os.killpg(proc.pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
    return {"status": status, "returncode": proc.returncode,
            "stderr": err.decode("utf-8", "replace")[-500:]}


def humaneval_program(problem: dict, completion: str) -> str:
    """The program HumanEval's own harness runs: prompt + completion + tests + check(entry_point)."""
    return (problem["prompt"] + completion + "\n\n" + problem["test"] + "\n\n"
            + f"check({problem['entry_point']})\n")
