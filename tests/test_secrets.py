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
    role = {"backend": "openai", "model": "m", "base_url": url, "api_key_env": ENV, "timeout": 1.0,
            "backoff": 0.01, **extra}
    path = tmp_path / "params.yaml"
    path.write_text(yaml.safe_dump({"roles": {"remote": role}}))
    return str(path)


def files_containing(root, needle: bytes):
    return [p for p in root.rglob("*") if p.is_file() and needle in p.read_bytes()]


def test_key_is_used_but_never_stored_or_printed(tmp_path, monkeypatch, capfd):
    monkeypatch.setenv(ENV, KEY)
    with ChatServer(api_key=KEY, fault_rate=0.3, hang=2.0, seed=4) as srv:
        p = params(tmp_path, srv.url, max_retries=0, n=2)
        convs = [[{"role": "user", "content": f"secret test {i}"}] for i in range(40)]
        with get_llm("remote", params_path=p) as llm:
            out = llm.chat(convs, task="label")
            stats = llm.stats()
            dump = json.dumps({"rows": [[c.__dict__ for c in row] for row in out], "stats": stats,
                               "repr": repr(llm.backend), "options": llm.backend.options}, default=str)
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
