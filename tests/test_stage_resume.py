"""Kill -9 a running LLM stage, run it again: it resumes from the LLM cache and ends with the same output.

`python -m stages.cli regenerate` runs as a subprocess (as dvc.yaml runs it) against the local
OpenAI-compatible server (tests/openai_server.py), is SIGKILLed when about half of the requests have
been answered, and is run again to completion with the same MSEED_LLM_CACHE.
"""
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from stages.llm.openai_backend import OpenAIBackend
from tests.openai_server import ChatServer
from tests.test_stage_faults import METRICS, OUT, cot_answer, prow, read, setup_stage

pytest.importorskip("stages.regenerate")
pytest.importorskip("stages.llm.openai_backend")

ROOT = Path(__file__).resolve().parent.parent
ROWS, CONCURRENCY = 80, 4


def env_for(cache: Path) -> dict:
    env = dict(os.environ, PYTHONPATH=str(ROOT), MSEED_LLM_CACHE=str(cache))
    # subprocesses compile their imports once into .cache/pycache (never into the venv)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env["PYTHONPYCACHEPREFIX"] = str(ROOT / ".cache" / "pycache")
    return env


def test_killed_regenerate_resumes_from_cache_with_identical_output(tmp_path, monkeypatch):
    from stages.params import stage_params
    from stages.regenerate import run

    rows = [prow(i) for i in range(ROWS)]
    cache = tmp_path / "resume.sqlite"
    cmd = [sys.executable, "-m", "stages.cli", "regenerate"]
    log = open(tmp_path / "stage.log", "w")
    with ChatServer(delay=0.05, responder=cot_answer) as srv:
        setup_stage(tmp_path, monkeypatch, rows, {"backend": "openai", "model": "safety-test", "base_url": srv.url,
                                                  "concurrency": CONCURRENCY, "timeout": 10, "max_retries": 2})
        proc = subprocess.Popen(cmd, cwd=tmp_path, env=env_for(cache), stdout=log, stderr=log)
        deadline = time.monotonic() + 50
        while srv.served < ROWS // 2 and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.002)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        served_before = srv.served
        assert ROWS // 2 <= served_before < ROWS, (served_before, (tmp_path / "stage.log").read_text()[-2000:])
        # (c) atomic writes: no output, no metrics; at most the hidden temp file of the killed writer
        assert not Path(OUT).exists() and not Path(METRICS).exists()
        assert all(p.name.startswith(".candidates.jsonl.") and p.suffix == ".tmp"
                   for p in Path("data/regenerate").iterdir())

        subprocess.run(cmd, cwd=tmp_path, env=env_for(cache), stdout=log, stderr=log, check=True, timeout=60)
        resumed = read()
        metrics = json.loads(Path(METRICS).read_text())
        assert len(srv.by_content) == ROWS  # every prompt reached the server
        repeated = [c for c, k in srv.by_content.items() if k > 1]
        # (b) only work unfinished at the kill is asked again: requests in flight (<= concurrency) and
        # finished results still in the cache writer's buffer (OpenAIBackend.flush_items = 1: none)
        allowed = CONCURRENCY + OpenAIBackend.flush_items - 1
        assert len(repeated) <= allowed, f"{len(repeated)} requests repeated after resume (allowed {allowed})"
        assert srv.requests == ROWS + len(repeated)
        print(f"served before kill {served_before}/{ROWS}, repeated after resume {len(repeated)} (bound {allowed})")
        st = metrics["llm"]["safety_model"]
        assert st["calls"] == ROWS - st["cache_hits"] and st["cache_hits"] >= served_before - allowed

        # (a) an uninterrupted run against a fresh cache gives exactly the same rows
        Path(OUT).unlink()
        monkeypatch.setenv("MSEED_LLM_CACHE", str(tmp_path / "fresh.sqlite"))
        srv.reset_counts()
        report = run(stage_params("regenerate", "roles.safety_model"))
        assert srv.requests == ROWS and report["llm"]["safety_model"]["cache_hits"] == 0
    full = read()
    assert len(full) == ROWS + sum(1 for r in rows if r["response"])
    assert resumed == full
