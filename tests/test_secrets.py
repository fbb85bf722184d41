"""The API key of an openai role never reaches outputs, the cache, logs, stats or error messages."""
import json
import traceback

import pytest
import yaml

from stages.llm import get_llm
from stages.llm.openai_backend import LLMAuthError, OpenAIBackend
from tests.openai_server import ChatServer

KEY = "sk-TESTSECRET-123456"
ENV = "MSEED_TEST_API_KEY"


def params(tmp_path, url, **extra):
    role = {"backend": "openai", "model": "m", "base_url": url, "api_key_env": ENV, "timeout": 3.0,
            "backoff": 0.01, **extra}
    path = tmp_path / "params.yaml"
    path.write_text(yaml.safe_dump({"roles": {"remote": role}}))
    return str(path)


def files_containing(root, needle: bytes):
    return [p for p in root.rglob("*") if p.is_file() and needle in p.read_bytes()]


def test_key_is_used_but_never_stored_or_printed(tmp_path, monkeypatch, capfd):
    monkeypatch.setenv(ENV, KEY)
    with ChatServer(api_key=KEY, fault_rate=0.3, hang=4.0, seed=4) as srv:
        p = params(tmp_path, srv.url, max_retries=0, n=2)
        convs = [[{"role": "user", "content": f"secret test {i}"}] for i in range(40)]
        with get_llm("remote", params_path=p) as llm:
            out = llm.chat(convs, task="label")
            stats = llm.stats()
            dump = json.dumps({"rows": [[c.__dict__ for c in row] for row in out], "stats": stats,
                               "repr": repr(llm.backend), "options": llm.options}, default=str)
    texts = [c for row in out for c in row]
    assert srv.served > 0 and any(c.error for c in texts)  # key accepted; some rows failed
    (tmp_path / "outputs.json").write_text(dump)
    captured = capfd.readouterr()
    assert KEY not in captured.out + captured.err
    assert KEY not in dump
    assert list(tmp_path.rglob("llm-cache.sqlite*"))  # the per-test cache (and WAL) is under tmp_path
    assert files_containing(tmp_path, KEY.encode()) == []


def test_rejected_key_raises_without_the_key(tmp_path, monkeypatch):
    monkeypatch.setenv(ENV, KEY)
    with ChatServer(api_key="another-key") as srv:  # answers 401 echoing our Authorization header
        with get_llm("remote", params_path=params(tmp_path, srv.url)) as llm:
            with pytest.raises(LLMAuthError) as err:
                llm.chat([[{"role": "user", "content": "hi"}]], task="label")
    text = "".join(traceback.format_exception(err.value))
    assert "401" in text and ENV in text and KEY not in text


def test_error_bodies_echoing_the_key_are_redacted(tmp_path, monkeypatch):
    monkeypatch.setenv(ENV, KEY)
    with ChatServer(api_key="another-key", auth_status=400) as srv:  # 400: not retried, becomes an error row
        b = OpenAIBackend("m", base_url=srv.url, api_key_env=ENV, timeout=1.0)
        from stages.llm.base import GenConfig
        out = b.generate([[{"role": "user", "content": "hi"}]], GenConfig(), "label")
    assert out[0].text is None and out[0].error.startswith("HTTP 400") and "***" in out[0].error
    assert KEY not in out[0].error


def test_missing_key_variable_is_named(monkeypatch):
    monkeypatch.delenv(ENV, raising=False)
    with pytest.raises(RuntimeError, match=ENV):
        OpenAIBackend("m", base_url="http://127.0.0.1:9/v1", api_key_env=ENV)


# ---- issue 16 (3): the key in every encoding a server may echo it in ------------------------------

import urllib.parse  # noqa: E402

from tests.openai_server import FAULTS, LEAKS  # noqa: E402

SLASH_KEY = "sk-TEST/SECRET+key=0123456789abcdefXYZ"  # '/', '+', '=' make the encodings differ


def key_forms(key):
    js = json.dumps(key)[1:-1]
    return {key, js.replace("/", "\\/"), urllib.parse.quote(key, safe=""), urllib.parse.quote_plus(key)}


def key_fragments(blob: str, key=SLASH_KEY, n=8):
    """Every fragment of >= n characters of any form of the key found in `blob` (independent of the code)."""
    return sorted({f[i:i + n] for f in key_forms(key) for i in range(len(f) - n + 1) if f[i:i + n] in blob})


@pytest.mark.parametrize("kind", [k for k in LEAKS if k not in ("leakmodel", "leakcontent")])
def test_error_bodies_echoing_the_key_in_any_encoding_are_masked(monkeypatch, kind):
    monkeypatch.setenv(ENV, SLASH_KEY)
    from stages.llm.base import GenConfig
    with ChatServer(fault_rate=1.0, faults=(kind,)) as srv:
        b = OpenAIBackend("m", base_url=srv.url, api_key_env=ENV, timeout=1.0)
        out = b.generate([[{"role": "user", "content": "hi"}]], GenConfig(), "label")
    assert out[0].text is None and out[0].error.startswith("HTTP 400") and "***" in out[0].error
    assert key_fragments(out[0].error) == [], out[0].error


@pytest.mark.parametrize("kind", ["leakmodel", "leakcontent"])
def test_answers_and_meta_echoing_the_key_are_masked_before_the_cache(tmp_path, monkeypatch, kind):
    monkeypatch.setenv(ENV, SLASH_KEY)
    with ChatServer(fault_rate=1.0, faults=(kind,)) as srv:
        with get_llm("remote", params_path=params(tmp_path, srv.url, max_retries=0)) as llm:
            c = llm.chat([[{"role": "user", "content": "hi"}]], task="label")[0][0]
    assert c.error is None and c.text.startswith("answer-")
    assert key_fragments(json.dumps(c.__dict__)) == [] and "***" in json.dumps(c.__dict__)
    assert all(key_fragments(p.read_bytes().decode("utf-8", "replace")) == []
               for p in tmp_path.rglob("llm-cache.sqlite*"))


def test_regenerate_under_every_fault_and_leak_keeps_every_row_and_never_the_key(tmp_path, monkeypatch, capfd):
    """The acceptance run of issue 16: old faults + leaks + bad answers through a real stage."""
    from tests.openai_server import BAD_ANSWERS
    from tests.test_stage_faults import FAST, cot_answer, first_attempt_contents, prow, read, setup_stage

    from stages.params import stage_params
    from stages.regenerate import run
    monkeypatch.setenv(ENV, SLASH_KEY)
    rows = [prow(i) for i in range(120)]
    kinds = FAULTS + LEAKS + BAD_ANSWERS
    with ChatServer(fault_rate=0.3, faults=kinds, retry_after=0.02, hang=4.0, responder=cot_answer,
                    huge=200_000) as srv:
        role = {"backend": "openai", "model": "safety-test", "base_url": srv.url, "api_key_env": ENV,
                "concurrency": 8, "max_retries": 4, "max_response_bytes": 100_000, **FAST}
        setup_stage(tmp_path, monkeypatch, rows, role, max_error_rate=1.0)
        contents = first_attempt_contents(tmp_path, rows)
        srv.seed = next(s for s in range(500) if {srv._pick_fault(c, 1) for c in contents} >= set(kinds))
        report = run(stage_params("regenerate", "roles.safety_model"))
        faults = list(srv.fault_log)
    out = read()
    reg = [r for r in out if r["candidate_type"] == "regenerated"]
    assert [r["id"] for r in reg] == [r["id"] for r in rows]  # rows lost: 0
    assert set(faults) >= set(LEAKS) | set(BAD_ANSWERS)
    st = report["llm"]["safety_model"]
    assert st["rejected"]["empty"] > 0 and st["rejected"]["filtered"] > 0 and st["rejected"]["oversized"] > 0
    assert all(r["response"] != "decoy" for r in reg)
    captured = capfd.readouterr()
    found = {str(p): key_fragments(p.read_bytes().decode("utf-8", "replace"))
             for p in tmp_path.rglob("*") if p.is_file()}
    found["<stdout+stderr>"] = key_fragments(captured.out + captured.err)
    assert {k: v for k, v in found.items() if v} == {}
    print(f"\nissue16: rows={len(rows)} faults={len(faults)} retries={st['retries']} errors={st['errors']} "
          f"rows_lost={len(rows) - len(reg)} key_occurrences={sum(map(len, found.values()))} "
          f"rejected={st['rejected']} kinds={len(set(faults))}")
