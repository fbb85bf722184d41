"""Local-model evaluations run on the role's device and (option scorer) through the LLM layer.

No GPU here, so the device under test is torch's real "meta" device: `model.to("meta")` works, and a
forward pre-hook on the model records the device of every input tensor and of the weights, then stops
the forward (meta tensors hold no numbers). A backend that ignored `device` would load on cpu, and one
that left its inputs where the tokenizer made them (the old OptionScorer) would hand cpu tensors to a
meta model: either way the recorded devices are not all "meta" and the test fails.
"""
import pytest
import torch

from stages import evaluate as ev
from stages.eval_general import harness_lm


class Stop(Exception):
    pass


def spy(model):
    """Record input/weight devices of the next forward, then stop it."""
    seen = []

    def hook(module, args, kwargs):
        tensors = [a for a in list(args) + list(kwargs.values()) if isinstance(a, torch.Tensor)]
        seen.append({"inputs": {str(t.device) for t in tensors},
                     "weights": {str(p.device) for p in module.parameters()}})
        raise Stop

    model.register_forward_pre_hook(hook, with_kwargs=True)
    return seen


def assert_on(seen, device):
    assert seen and seen[0]["inputs"] == {device} and seen[0]["weights"] == {device}, seen


def test_option_scorer_runs_on_the_roles_device(tiny_llama):
    scorer = ev.OptionScorer(str(tiny_llama), device="meta")
    seen = spy(scorer.llm.backend.load()[0])
    with pytest.raises(Stop):
        scorer.score(["Question: 1+1?\n(A) 2\n(B) 3\nAnswer: ("], "AB")
    assert_on(seen, "meta")


def test_hf_evaluations_run_on_the_roles_device(tiny_llama):
    llm = ev.model_llm(str(tiny_llama), {"device": "meta", "max_tokens": 4})  # eval.generation.device
    model = llm.backend.load()[0]
    seen = spy(model)
    with pytest.raises(Stop):
        llm.loglik(["hello"])
    assert_on(seen, "meta")
    # generation: the backend's own decoding loop (stages/llm/hf_decode.py) calls the model's forward,
    # so the same hook sees the prefill's inputs
    seen.clear()
    with pytest.raises(Stop):
        ev.generate(llm, ["hello"], task="t")
    assert_on(seen, "meta")


def test_general_harness_model_runs_on_the_roles_device(tiny_llama):
    from lm_eval.api.instance import Instance

    lm, _ = harness_lm(str(tiny_llama), {"device": "meta"}, {"batch_size": 2})
    assert str(lm.device) == "meta"
    seen = []  # HFLM's forward runs under torch.autocast, which has no meta kind: record its model call

    def model_call(inps, **kwargs):
        seen.append({"inputs": {str(inps.device)}, "weights": {str(p.device) for p in lm.model.parameters()}})
        raise Stop

    lm._model_call = model_call
    req = Instance("loglikelihood", {}, ("The answer is", " A"), 0)
    with pytest.raises(Stop):
        lm.loglikelihood([req])
    assert_on(seen, "meta")


def test_option_scorer_is_cached_and_counted(tiny_llama):
    prompts = ["Question: 1+1?\n(A) 2\n(B) 3\nAnswer: (", "I cannot help with that request. ("]
    scorer = ev.OptionScorer(str(tiny_llama), device="cpu", batch_size=1)
    first = scorer.score(prompts, "ABCD")
    assert scorer.llm.stats()["calls"] == 2 and scorer.llm.stats()["cache_hits"] == 0
    again = ev.OptionScorer(str(tiny_llama), device="cpu")  # a new process would see the same cache
    assert again.score(prompts, "ABCD") == first and again.llm.stats()["cache_hits"] == 2
    assert again.llm.stats()["calls"] == 0
    scorer.close()
    again.close()


def test_choice_logprobs_equal_one_sequence_reference(tiny_llama):
    """Batched, left-padded, deduplicated rows give each choice's summed token log-probs of the
    unpadded sequence prompt + choice (single- and multi-token choices)."""
    from stages.llm.hf import HFBackend

    b = HFBackend(str(tiny_llama), batch_size=2, device="cpu")
    model, tok = b.load()
    prompts = ["The answer is (", "I cannot help with that request. (", "如何保护个人隐私不被泄露？答案：("]
    for choices in (["A", "B", "C", "D"], ["safe", "unsafe uncertain", "42"]):
        got = b.choice_logprobs(prompts, choices)
        for p, g in zip(prompts, got):
            assert list(g) == choices
            for c in choices:
                cid = tok(c, add_special_tokens=False)["input_ids"]
                ids = b.encode_for_loglik(p) + cid
                with torch.no_grad():
                    lp = torch.log_softmax(model(torch.tensor([ids])).logits[0].float(), -1)
                ref = sum(float(lp[len(ids) - len(cid) - 1 + t, tok_id]) for t, tok_id in enumerate(cid))
                assert g[c] == pytest.approx(ref, abs=1e-4)
