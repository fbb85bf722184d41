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
