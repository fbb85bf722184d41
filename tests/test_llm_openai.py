"""OpenAI-compatible backend against a real local HTTP server with injected faults (tests/openai_server.py)."""
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import yaml

from stages.llm.base import GenConfig
from stages.llm.openai_backend import OpenAIBackend
from tests.openai_server import ChatServer, echo_answer

ROOT = Path(__file__).resolve().parent.parent
FAST = {"timeout": 3.0, "backoff": 0.01, "backoff_max": 0.05}  # client settings for quick tests


def convs(n, prefix="q"):
    return [[{"role": "system", "content": "be brief"}, {"role": "user", "content": f"{prefix}{i}"}]
            for i in range(n)]


def write_params(path, **role):
    path.write_text(yaml.safe_dump({"roles": {"remote": {"backend": "openai", "model": "test-model", **role}}}))
    return str(path)


def test_faults_every_row_returns_and_requests_equal_rows_plus_retries():
    with ChatServer(delay=0.005, fault_rate=0.2, hang=4.0, seed=3) as srv:
        b = OpenAIBackend("m", base_url=srv.url, concurrency=8, max_retries=8, **FAST)
        cs = convs(200)
        out = b.generate(cs, GenConfig(), "label")
    assert len(out) == 200
    assert [c.error for c in out] == [None] * 200
    assert [c.text for c in out] == [echo_answer(c) for c in cs]  # row i answers conversation i
    assert len(set(srv.fault_log)) == 8  # every fault kind was exercised
    assert b.counters["retries"] == len(srv.fault_log) > 0
    assert srv.requests == 200 + b.counters["retries"]
    assert all(c.tokens_out > 0 and c.tokens_in > 0 for c in out)


def test_no_retry_budget_turns_failures_into_error_rows():
    with ChatServer(fault_rate=0.3, hang=4.0, seed=2) as srv:
        b = OpenAIBackend("m", base_url=srv.url, concurrency=8, max_retries=0, **FAST)
        cs = convs(60)
        out = b.generate(cs, GenConfig(), "label")
    assert len(out) == 60 and srv.requests == 60
    failed = [c for c in out if c.error is not None]
    assert len(failed) == len(srv.fault_log) == b.counters["errors"] > 0
    for c, conv in zip(out, cs):
        if c.error is None:
            assert c.text == echo_answer(conv)
        else:
            assert c.text is None and "1 attempt" in c.error


def test_http_400_is_not_retried():
    with ChatServer() as srv:
        b = OpenAIBackend("m", base_url=srv.url[:-3] + "/v2", max_retries=5, **FAST)
        out = b.generate(convs(2), GenConfig(), "label")
    assert all(c.text is None and c.error.startswith("HTTP 404") and "(1 attempt)" in c.error for c in out)
    assert b.counters == {"retries": 0, "errors": 2, "requests": 2}


def _first_429_then_ok(srv, n=500):
    for i in range(n):
        content = f"r{i}"
        if srv._pick_fault(content, 1) == "429" and srv._pick_fault(content, 2) is None:
            return content
    raise AssertionError("no suitable content")


def test_retry_after_is_honoured_and_capped():
    with ChatServer(fault_rate=0.5, faults=("429",), retry_after=1.0) as srv:
        content = _first_429_then_ok(srv)
        b = OpenAIBackend("m", base_url=srv.url, max_retries=3, timeout=5, backoff=0.001)
        t0 = time.monotonic()
        out = b.generate([[{"role": "user", "content": content}]], GenConfig(), "t")
        elapsed = time.monotonic() - t0
        assert out[0].text == echo_answer([{"role": "user", "content": content}])
        assert srv.requests == 2 and elapsed >= 1.0 and srv.times[1] - srv.times[0] >= 1.0
        # a huge Retry-After is capped by retry_after_max
        srv.retry_after = 3600
        srv.reset_counts()
        srv.times.clear()
        b = OpenAIBackend("m", base_url=srv.url, max_retries=3, timeout=5, backoff=0.001, retry_after_max=0.2)
        t0 = time.monotonic()
        out = b.generate([[{"role": "user", "content": content}]], GenConfig(), "t")
        assert out[0].error is None and 0.2 <= time.monotonic() - t0 < 2


def test_round_robin_over_base_urls_and_retry_moves_to_next_url():
    with ChatServer() as a, ChatServer() as b_srv:
        b = OpenAIBackend("m", base_url=[a.url, b_srv.url], concurrency=4, max_retries=0, **FAST)
        out = b.generate(convs(40), GenConfig(), "t")
        assert all(c.error is None for c in out)
        assert a.requests == b_srv.requests == 20
    # first URL always fails: every request that starts there succeeds on its retry at the second
    with ChatServer(fault_rate=1.0, faults=("500",)) as bad, ChatServer() as good:
        b = OpenAIBackend("m", base_url=[bad.url, good.url], concurrency=4, max_retries=1, **FAST)
        out = b.generate(convs(40), GenConfig(), "t")
        assert all(c.error is None for c in out)
        assert bad.requests == 20 and good.requests == 40 and b.counters["retries"] == 20


def test_concurrency_is_bounded():
    with ChatServer(delay=0.1) as srv:
        b = OpenAIBackend("m", base_url=srv.url, concurrency=4, timeout=5)
        t0 = time.monotonic()
        b.generate(convs(16), GenConfig(), "t")
        elapsed = time.monotonic() - t0
    assert 0.4 <= elapsed < 1.5  # 16 requests of 0.1 s in waves of 4


def test_cache_second_run_sends_nothing_and_samples_get_seeds(tmp_path):
    from stages.llm import get_llm

    with ChatServer() as srv:
        params = write_params(tmp_path / "params.yaml", base_url=srv.url, n=2, seed=5, temperature=0.7, **FAST)
        cs = convs(30)
        with get_llm("remote", params_path=params) as llm:
            first = llm.chat(cs, task="label")
        assert srv.requests == 60  # 30 conversations x n=2, one request per sample
        assert sorted({b["seed"] for b in srv.bodies}) == [5, 6]
        assert all(b["n"] == 1 and b["temperature"] == 0.7 for b in srv.bodies)
        sent = {json.dumps(b["messages"]) for b in srv.bodies}
        assert sent == {json.dumps(c) for c in cs}  # exactly the conversations were sent
        srv.reset_counts()
        with get_llm("remote", params_path=params) as llm:
            second = llm.chat(cs, task="label")
            stats = llm.stats()
        assert srv.requests == 0
        assert [[c.text for c in row] for row in second] == [[c.text for c in row] for row in first]
        assert all(c.cached for row in second for c in row) and stats["cache_hits"] == 60


RESUME_SCRIPT = """
import json, sys
from stages.llm import get_llm
llm = get_llm("remote", params_path=sys.argv[1])
convs = [[{"role": "user", "content": f"item {i}"}] for i in range(100)]
out = llm.chat(convs, task="label")
json.dump([[c.text for c in row] for row in out], open(sys.argv[2], "w"))
"""


def test_killed_run_resumes_without_repeating_finished_requests(tmp_path, monkeypatch):
    from stages.llm import get_llm

    concurrency = 4
    env = dict(os.environ, MSEED_LLM_CACHE=str(tmp_path / "resume.sqlite"))
    with ChatServer(delay=0.05) as srv:
        params = write_params(tmp_path / "params.yaml", base_url=srv.url, concurrency=concurrency, timeout=5)
        cmd = [sys.executable, "-c", RESUME_SCRIPT, params, str(tmp_path / "out.json")]
        proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 30
        while srv.served < 50 and time.monotonic() < deadline:
            time.sleep(0.005)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        served_before = srv.served
        assert 50 <= served_before < 100 and not (tmp_path / "out.json").exists()
        subprocess.run(cmd, cwd=ROOT, env=env, stderr=subprocess.DEVNULL, check=True, timeout=60)
        resumed = json.loads((tmp_path / "out.json").read_text())
        assert len(srv.by_content) == 100
        repeated = [c for c, k in srv.by_content.items() if k > 1]
        # may repeat: requests in flight at the kill, and finished rows still in the cache writer's
        # buffer (OpenAIBackend.flush_items = 1: none, only the in-flight ones)
        allowed = concurrency + OpenAIBackend.flush_items - 1
        assert len(repeated) <= allowed, f"{len(repeated)} requests repeated after resume (allowed {allowed})"
        assert srv.requests - 100 == len(repeated)
        # an uninterrupted run (fresh cache) gives the same outputs
        monkeypatch.setenv("MSEED_LLM_CACHE", str(tmp_path / "fresh.sqlite"))
        with get_llm("remote", params_path=params) as llm:
            full = llm.chat([[{"role": "user", "content": f"item {i}"}] for i in range(100)], task="label")
    assert resumed == [[c.text for c in row] for row in full]


# ---- issue 16 (6): unusable answers are errors, never cached; choices matched by index --------------

def test_empty_filtered_and_oversized_answers_are_not_cached(tmp_path):
    from stages.llm import get_llm

    for kind, what in (("emptyanswer", "empty answer"), ("filtered", "content filter"),
                       ("huge", "max_response_bytes")):
        with ChatServer(fault_rate=1.0, faults=(kind,), huge=50_000) as srv:
            p = write_params(tmp_path / "params.yaml", base_url=srv.url, max_retries=1, max_response_bytes=20_000, **FAST)
            with get_llm("remote", params_path=p) as llm:
                c = llm.chat([[{"role": "user", "content": kind}]], task="t")[0][0]
                st = llm.stats()
            assert c.text is None and what in c.error, (kind, c.error)
            assert st["rejected"][{"emptyanswer": "empty", "huge": "oversized"}.get(kind, kind)] >= 1
            srv.fault_rate = 0.0  # the server recovers: the next run asks again (nothing was cached)
            with get_llm("remote", params_path=p) as llm:
                c2 = llm.chat([[{"role": "user", "content": kind}]], task="t")[0][0]
                assert llm.stats()["cache_hits"] == 0
            assert c2.text == echo_answer([{"role": "user", "content": kind}])


def test_choices_are_matched_by_index():
    with ChatServer(fault_rate=1.0, faults=("badindex",)) as srv:
        out = OpenAIBackend("m", base_url=srv.url, max_retries=0, **FAST).generate(convs(3), GenConfig(), "t")
    assert [c.text for c in out] == [echo_answer(c) for c in convs(3)]


def test_answer_cut_inside_a_character_loses_the_broken_tail_fresh_and_cached(tmp_path):
    from stages.llm import get_llm
    cut = lambda messages: "安全第一\ufffd"  # noqa: E731  what a byte-level tokenizer decodes from a cut character
    for finish, want in (("length", "安全第一"), ("stop", "安全第一\ufffd")):
        with ChatServer(responder=cut, finish=finish) as srv:
            params = write_params(tmp_path / f"{finish}.yaml", base_url=srv.url, **FAST)
            for _ in range(2):  # fresh, then from the cache
                with get_llm("remote", params_path=params) as llm:
                    out = llm.chat([[{"role": "user", "content": f"q {finish}"}]], task="t")
                assert out[0][0].text == want
            assert srv.requests == 1


def test_endless_error_body_is_cut_not_read_to_the_end():
    """An HTTP 400 claiming 1 TB and streaming forever: the row fails at once with the status and a short
    snippet (the client reads 64 KiB of it), not after the timeout, and nothing grows without bound."""
    from tests.openai_server import HOSTILE
    with ChatServer(fault_rate=1.0, faults=HOSTILE) as srv:
        b = OpenAIBackend("m", base_url=srv.url, concurrency=2, max_retries=3, timeout=20, backoff=0.001)
        t0 = time.monotonic()
        out = b.generate(convs(2), GenConfig(), "t")
        elapsed = time.monotonic() - t0
    assert elapsed < 5  # without the cap: the 20 s timeout (or memory) ends it
    assert all(c.text is None and c.error.startswith("HTTP 400: ") for c in out)
    assert all(len(c.error) < 300 and "1 attempt" in c.error for c in out)  # a 4xx is not retried
    assert srv.requests == 2
