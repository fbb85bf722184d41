"""Log-probabilities through a server: the openai backend's loglik (completions echo + logprobs) and
choice_logprobs (top_logprobs) against the local test server computing real logprobs with the tiny model."""
import math

import pytest
import torch

from stages.llm import make_llm
from stages.llm.hf import HFBackend
from stages.llm.openai_backend import OpenAIBackend
from tests.openai_server import ChatServer, TinyCompletions

TEXTS = ["How do I keep my computer safe from viruses?", "如何保护个人隐私不被泄露？", "The answer is 42.",
         "Please explain the history of the Opium War. " * 3, "hi"]


@pytest.fixture(scope="module")
def server(tiny_llama):
    with ChatServer(completions=TinyCompletions(tiny_llama)) as srv:
        yield srv


def backend(srv, **kw):
    return OpenAIBackend("tiny", base_url=srv.url, concurrency=4, max_retries=0, **kw)


def test_loglik_via_server_equals_hf(server, tiny_llama):
    ref = HFBackend(str(tiny_llama), batch_size=4).loglik(TEXTS)
    got = backend(server).loglik(TEXTS)
    for r, g in zip(ref, got):
        assert g["n_tokens"] == r["n_tokens"] > 0
        assert g["nll_sum"] == pytest.approx(r["nll_sum"], rel=1e-5)
        assert g["ppl"] == pytest.approx(r["ppl"], rel=1e-5)
    body = server.bodies[-1]
    assert body["echo"] is True and body["logprobs"] == 1 and body["max_tokens"] == 1


def test_loglik_max_tokens_and_cache_through_the_role(server, tiny_llama):
    ref = HFBackend(str(tiny_llama), batch_size=4).loglik(TEXTS, max_tokens=3)
    llm = make_llm({"backend": "openai", "model": "tiny", "base_url": server.url, "max_retries": 0})
    got = llm.loglik(TEXTS, max_tokens=3)
    assert [g["n_tokens"] for g in got] == [r["n_tokens"] for r in ref]
    assert [g["nll_sum"] for g in got] == pytest.approx([r["nll_sum"] for r in ref], rel=1e-5)
    server.reset_counts()
    assert llm.loglik(TEXTS, max_tokens=3) == got and server.requests == 0  # second time: all cached


def reference_choice_logprobs(model_dir, prompt, choices):
    """log p(first token spelling the choice | prompt) from the model directly (best spelling, e.g. 'A' / ' A')."""
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tok = AutoTokenizer.from_pretrained(model_dir)
    model = AutoModelForCausalLM.from_pretrained(model_dir, dtype=torch.float32)
    ids = [tok.bos_token_id] + tok(prompt, add_special_tokens=False)["input_ids"]
    with torch.inference_mode():
        logp = torch.log_softmax(model(torch.tensor([ids])).logits[0, -1].float(), -1)
    out = {}
    for c in choices:
        spell = [i for i in range(len(tok)) if tok.decode([i]).strip() == c]
        out[c] = max(float(logp[i]) for i in spell)
    return out


def test_choice_logprobs_via_top_logprobs(server, tiny_llama):
    prompts = ["Question: which is safe?\nA. yes\nB. no\nAnswer:", "问题：哪个安全？\nA. 是\nB. 否\n答案："]
    choices = ["A", "B", "C", "D"]
    vocab = len(TinyCompletions(tiny_llama).tok)
    got = backend(server, top_logprobs=vocab).choice_logprobs(prompts, choices)
    for p, g in zip(prompts, got):
        ref = reference_choice_logprobs(tiny_llama, p, choices)
        assert set(g) == set(choices)
        assert [g[c] for c in choices] == pytest.approx([ref[c] for c in choices], rel=1e-5)
    assert server.bodies[-1]["logprobs"] == vocab and "echo" not in server.bodies[-1]
    # with a small top-k, choices outside it are -inf (never a made-up value), those inside exact
    small = backend(server, top_logprobs=2).choice_logprobs(prompts[:1], choices)[0]
    assert sum(math.isinf(v) for v in small.values()) >= 2
    assert all(v == pytest.approx(got[0][c], rel=1e-5) for c, v in small.items() if not math.isinf(v))


def test_server_without_logprobs_is_a_clear_error(tiny_llama):
    with ChatServer(completions=lambda body: {"choices": [{"text": "x", "logprobs": None}]}) as srv:
        with pytest.raises(RuntimeError, match="without choices\\[0\\].logprobs"):
            backend(srv).loglik(["hi"])
