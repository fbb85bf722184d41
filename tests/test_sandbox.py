"""HumanEval completions run in a separate, limited process; the evaluation survives hostile output."""
import os
import time

from stages.sandbox import humaneval_program, run_program

PROBLEM = {"task_id": "T/0", "entry_point": "add",
           "prompt": "def add(a, b):\n    \"\"\"Return a + b.\"\"\"\n",
           "test": "def check(candidate):\n    assert candidate(1, 2) == 3\n    assert candidate(-1, 1) == 0\n"}


def run(completion, **kw):
    return run_program(humaneval_program(PROBLEM, completion), **kw)


def test_correct_and_wrong_completions():
    assert run("    return a + b\n")["status"] == "passed"
    res = run("    return a - b\n")
    assert res["status"] == "failed" and "AssertionError" in res["stderr"]


def test_same_failing_program_gives_the_same_stderr():
    """The random temp dir is not in the stderr kept in predictions (their DVC hash stays stable)."""
    a, b = run("    raise ValueError('x')\n"), run("    raise ValueError('x')\n")
    assert a["stderr"] == b["stderr"] and '"<sandbox>/prog.py"' in a["stderr"] and "mseed-sandbox" not in a["stderr"]


def test_infinite_loop_times_out_quickly():
    t0 = time.time()
    assert run("    while True:\n        pass\n", timeout=2)["status"] == "timeout"
    assert time.time() - t0 < 6


def test_early_exit_does_not_pass():
    assert run("    import sys\n    sys.exit(0)\n")["status"] == "failed"
    assert run("    import os\n    os._exit(0)\n")["status"] == "failed"
    # exit at import time, before the tests run
    assert run("    return a + b\nimport sys\nsys.exit(0)\n")["status"] == "failed"


def test_files_written_stay_in_a_deleted_temp_dir(tmp_path):
    before = set(os.listdir("."))
    res = run("    open('junk.txt', 'w').write('x')\n    return a + b\n")
    assert res["status"] == "passed"
    assert set(os.listdir(".")) == before


def test_no_network():
    code = ("    import socket\n    s = socket.create_connection(('127.0.0.1', 9))\n    return a + b\n")
    res = run(code)
    assert res["status"] == "failed" and "network disabled" in res["stderr"]


def test_memory_limit():
    res = run("    x = bytearray(3 * 1024**3)\n    return a + b\n", memory_mb=512)
    assert res["status"] == "failed" and "MemoryError" in res["stderr"]


def test_real_humaneval_canonical_solutions_pass(shared_data):
    from stages.eval_general import read_humaneval

    problems = read_humaneval(str(shared_data / "general" / "humaneval" / "HumanEval.jsonl.gz"))
    assert len(problems) == 164
    for p in list(problems.values())[:12]:
        assert run_program(humaneval_program(p, p["canonical_solution"]))["status"] == "passed", p["task_id"]


# ---- issue 16 (4): a completion cannot outlive or escape the sandbox --------------------------------

import secrets  # noqa: E402
import textwrap  # noqa: E402
from pathlib import Path  # noqa: E402

import pytest  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent


def sandboxed(code, **kw):
    return run_program(textwrap.dedent(code), **kw)


def processes_with(marker: str) -> list[int]:
    pids = []
    for p in Path("/proc").iterdir():
        try:
            if p.name.isdigit() and marker.encode() in (p / "cmdline").read_bytes():
                pids.append(int(p.name))
        except OSError:
            pass
    return pids


def reap(marker):
    """Processes left over by a failed test are killed here (they are ours), then counted."""
    time.sleep(0.3)
    left = processes_with(marker)
    for pid in left:
        try:
            os.kill(pid, 9)
        except OSError:
            pass
    return left


def test_double_forked_setsid_grandchild_does_not_outlive_the_run():
    marker = f"987.{secrets.randbelow(10**6)}"
    res = sandboxed(f"""
        import os, time
        if os.fork() == 0:
            os.setsid()
            if os.fork() == 0:
                null = os.open("/dev/null", os.O_RDWR)
                for fd in (0, 1, 2):
                    os.dup2(null, fd)
                os.execv("/bin/sleep", ["sleep", "{marker}"])
            os._exit(0)
        time.sleep(0.3)
    """, timeout=5)
    assert res["status"] == "passed", res
    assert reap(marker) == []


def test_leftover_process_holding_the_output_open_does_not_extend_the_timeout():
    marker = f"12.{secrets.randbelow(10**6)}"  # seconds: how long it would hold the output open
    t0 = time.monotonic()
    res = sandboxed(f"""
        import os
        if os.fork() == 0:
            os.setsid()
            os.execv("/bin/sleep", ["sleep", "{marker}"])  # inherits stdout/stderr
        while True:
            pass
    """, timeout=2)
    elapsed = time.monotonic() - t0
    left = reap(marker)
    assert res["status"] == "timeout" and elapsed < 2 + 5, elapsed
    assert left == []


def test_process_count_is_limited():
    t0 = time.monotonic()
    res = sandboxed("""
        import os, sys, time
        n = 0
        for i in range(200):
            try:
                pid = os.fork()
            except OSError as e:
                sys.stderr.write(f"LIMIT after {n}: {e}\\n"); sys.stderr.flush(); os._exit(3)
            if pid == 0:
                time.sleep(30); os._exit(0)
            n += 1
        sys.stderr.write("NO LIMIT\\n"); os._exit(4)
    """, timeout=5, max_procs=16)
    assert res["status"] == "failed" and "LIMIT after" in res["stderr"], res
    assert int(res["stderr"].split("LIMIT after ")[1].split(":")[0]) <= 16
    assert time.monotonic() - t0 < 5


@pytest.mark.parametrize("attack", [
    "open('/tmp/mseed-escape-{tok}', 'w').write('x')",          # write outside its temp dir (world-writable /tmp)
    "print(os.listdir('../..'))",                                 # look around
    "print(open({params!r}).read())",                             # read the project's params.yaml
    "print(os.listdir({root!r}))",
    "print(open('/proc/{ppid}/environ').read())",                 # the parent's environment (API keys)
    "print(open('/proc/1/environ').read())",
    "print(open(os.path.expanduser('~root/.bashrc')).read())",
])
def test_filesystem_outside_the_temp_dir_is_out_of_reach(monkeypatch, attack):
    tok, canary = secrets.token_hex(8), secrets.token_hex(8)
    monkeypatch.setenv("MSEED_SANDBOX_CANARY", canary)
    code = "import os\n" + attack.format(tok=tok, params=str(ROOT / "params.yaml"), root=str(ROOT), ppid=os.getpid())
    res = sandboxed(code + "\n", timeout=5)
    assert res["status"] == "failed" and ("PermissionError" in res["stderr"] or "FileNotFoundError" in res["stderr"]), res
    assert canary not in res["stderr"] and not Path(f"/tmp/mseed-escape-{tok}").exists()


def test_environment_is_minimal(monkeypatch):
    monkeypatch.setenv("MSEED_SANDBOX_CANARY", "xyz-canary")
    res = sandboxed("import os\nassert not any('CANARY' in k or 'KEY' in k for k in os.environ), dict(os.environ)\n"
                    "assert sorted(os.environ) == ['HOME', 'LANG', 'OMP_NUM_THREADS', 'PATH', 'PYTHONHASHSEED', 'TMPDIR']\n")
    assert res["status"] == "passed", res


@pytest.mark.parametrize("attack", [
    "import _socket; _socket.socket(_socket.AF_INET, _socket.SOCK_STREAM)",
    "import _socket; _socket.socket(_socket.AF_INET6, _socket.SOCK_DGRAM)",
    "import _socket; _socket.socket(_socket.AF_UNIX, _socket.SOCK_STREAM)",
    "import _socket; _socket.socketpair(_socket.AF_UNIX)",
    "import _socket; _socket.socket(16, _socket.SOCK_RAW)",       # AF_NETLINK
    "import ctypes, os\nr = ctypes.CDLL(None).syscall(41 if os.uname().machine == 'x86_64' else 198, 2, 1, 0)\n"
    "if r < 0: raise PermissionError('socket() refused')",
])
def test_no_socket_of_any_family(attack):
    res = sandboxed(attack + "\n", timeout=5)
    assert res["status"] == "failed" and ("PermissionError" in res["stderr"] or "not permitted" in res["stderr"]), res
