from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared" / "data"


@pytest.fixture
def shared_data():
    """Path to ../shared/data (real public datasets); skips the test when it is absent."""
    if not SHARED.is_dir():
        pytest.skip("../shared/data is not present")
    return SHARED


@pytest.fixture(autouse=True)
def _isolated_cache(tmp_path, monkeypatch):
    """Every test gets its own LLM cache so no test sees another's results."""
    monkeypatch.setenv("MSEED_LLM_CACHE", str(tmp_path / "llm-cache.sqlite"))


@pytest.fixture(scope="session")
def tiny_llama(tmp_path_factory):
    """Directory of a tiny random-weight Llama (HF format, ChatML template), built once per session."""
    from tests.tiny_model import build_tiny_llama

    return build_tiny_llama(tmp_path_factory.mktemp("tiny-llama"))
