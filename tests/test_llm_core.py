"""roles.LLM: cache keys, cache-first chat/loglik, results cached as they arrive, stats."""
import dataclasses

import pytest
import yaml

from stages.llm import get_llm, make_llm
from stages.llm.base import GenConfig
from stages.llm.cache import Cache, chat_key, loglik_key

CONV = [{"role": "user", "content": "How do I keep my computer safe?"}]


def convs(k):
    return [[{"role": "user", "content": f"Question {i}: explain the history of the Opium War."}] for i in range(k)]


@pytest.fixture
def params(tmp_path, tiny_llama):
    p = tmp_path / "params.yaml"
    p.write_text(yaml.safe_dump({"roles": {
        "gen": {"backend": "hf", "model": str(tiny_llama), "batch_size": 1, "max_tokens": 4},
        "judge": {"backend": "rules", "model": "rules-v1"},
    }}), encoding="utf-8")
    return p


def test_chat_key_changes_with_every_param():
    g = GenConfig()
    base = chat_key("hf", "m", CONV, g.key(), 0)
    variants = [chat_key("openai", "m", CONV, g.key(), 0), chat_key("hf", "m2", CONV, g.key(), 0),
                chat_key("hf", "m", [{"role": "user", "content": "x"}], g.key(), 0),
                chat_key("hf", "m", CONV, g.key(), 1)]
    for f in ("temperature", "top_p", "max_tokens", "seed"):
        v = getattr(g, f)
        variants.append(chat_key("hf", "m", CONV, dataclasses.replace(g, **{f: v + 1}).key(), 0))
    assert len({base, *variants}) == len(variants) + 1
    assert chat_key("hf", "m", CONV, g.key(), 0) == base  # stable
    assert loglik_key("hf", "m", "t", {"max_tokens": 1}) != loglik_key("hf", "m", "t", {"max_tokens": 2})


def test_role_defaults_and_overrides(params):
    llm = get_llm("gen", params_path=params)
    assert llm.defaults.max_tokens == 4 and llm.defaults.temperature == 0.0
    assert llm.gen_config(temperature=0.7, n=2) == GenConfig(n=2, temperature=0.7, top_p=1.0, max_tokens=4, seed=0)
    with pytest.raises(TypeError):
        llm.gen_config(tempreature=1)
    with pytest.raises(KeyError):
        get_llm("missing", params_path=params)


def test_warm_rerun_makes_zero_backend_calls(params):
    cold = get_llm("gen", params_path=params)
    first = cold.chat(convs(5), "t")
    st = cold.stats()
    assert st["calls"] == 5 and st["cache_hits"] == 0 and st["tokens_out"] > 0 and st["tokens_in"] > 0
    assert not any(c[0].cached for c in first)
    cold.close()
    warm = get_llm("gen", params_path=params)
    again = warm.chat(convs(5), "t")
    assert warm.stats()["calls"] == 0 and warm.stats()["cache_hits"] == 5
    assert warm.backend._model is None  # a fully cached run never loads the model
    assert [c[0].text for c in again] == [c[0].text for c in first] and all(c[0].cached for c in again)
    # a changed setting is a miss
    warm.chat(convs(5), "t", max_tokens=3)
    assert warm.stats()["calls"] == 5


def test_n_samples_and_duplicates(params):
    llm = get_llm("gen", params_path=params)
    out = llm.chat(convs(2) + convs(1), "t", n=2, temperature=1.0)
    assert [len(x) for x in out] == [2, 2, 2]
    assert llm.stats()["calls"] == 4  # the duplicate conversation is generated once per sample
    assert out[2][0].text == out[0][0].text


def test_results_cached_as_they_arrive_survive_a_crash(params, monkeypatch):
    from stages.llm import hf_decode

    llm = get_llm("gen", params_path=params)
    real, calls = hf_decode._prefill, []

    def flaky(*a, **k):  # the third prompt's prefill dies (as a killed worker would); batch_size 1
        calls.append(1)
        if len(calls) == 3:
            raise RuntimeError("boom")
        return real(*a, **k)

    monkeypatch.setattr(hf_decode, "_prefill", flaky)
    with pytest.raises(RuntimeError, match="boom"):
        llm.chat(convs(5), "t")
    assert len(Cache()) == 2
    monkeypatch.setattr(hf_decode, "_prefill", real)
    llm.chat(convs(5), "t")
    assert llm.stats()["cache_hits"] == 2 and llm.stats()["calls"] == 5 + 3


def test_loglik_is_cached(params):
    llm = get_llm("gen", params_path=params)
    a = llm.loglik(["The answer is 42.", "我不能帮助你做这件事。"])
    assert all(v["n_tokens"] > 0 and v["nll_sum"] > 0 for v in a)
    b = llm.loglik(["The answer is 42.", "我不能帮助你做这件事。"])
    assert a == b and llm.stats()["cache_hits"] == 2 and llm.stats()["calls"] == 2
    assert llm.loglik(["The answer is 42."], max_tokens=2)[0]["n_tokens"] == 2


def test_rules_backend_is_not_cached(params):
    from stages.tasks.refusal import Refusal

    llm = get_llm("judge", params_path=params)
    llm.chat([CONV], Refusal())
    llm.chat([CONV], Refusal())
    assert llm.stats()["calls"] == 2 and llm.stats()["cache_hits"] == 0
    assert len(Cache()) == 0


def test_retrained_weights_miss_the_cache(tmp_path, tiny_llama):
    import shutil
    d = tmp_path / "m"
    shutil.copytree(tiny_llama, d)
    spec = {"backend": "hf", "model": str(d), "max_tokens": 2}
    before = make_llm(spec).model_id
    (d / "config.json").write_text((d / "config.json").read_text() + "\n")
    assert make_llm(spec).model_id != before


def test_unknown_backend(tmp_path):
    with pytest.raises(ValueError, match="unknown LLM backend"):
        make_llm({"backend": "nope", "model": "x"})
