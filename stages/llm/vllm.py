"""Optional offline vLLM backend (`backend: vllm`): one `vllm.LLM` engine, all conversations in one batch.

Role options: model, dtype (default "auto"), plus any vllm.LLM keyword under `engine_args` (a dict,
e.g. {tensor_parallel_size: 2, gpu_memory_utilization: 0.85}). Requires `pip install vllm` and a GPU;
alternatively serve the model with `vllm serve <model>` and use `backend: openai`.

loglik: the text is tokenized as in the hf backend (BOS first when the tokenizer has one, then the
first max_tokens text tokens) and sent as token ids with SamplingParams(max_tokens=1,
prompt_logprobs=0); the sum of each prompt token's own logprob (the first has none), so values match
hf on the same model to float tolerance. choice_logprobs: SamplingParams(max_tokens=1, temperature=0,
logprobs=top_logprobs); per choice the best logprob among the top tokens whose text (stripped) is
the choice, -inf when none is (as in the openai backend).
"""
from __future__ import annotations

import hashlib
import math

from stages.llm.base import Backend, Completion
from stages.llm.hf import fingerprint

MISSING = ("the vllm backend needs the vllm package: pip install vllm; "
           "or serve the model with `vllm serve <model>` and use backend: openai")


class VLLMBackend(Backend):
    name = "vllm"
    local = True

    def __init__(self, model: str, dtype: str = "auto", engine_args: dict | None = None, top_logprobs: int = 20):
        super().__init__(model)
        try:
            import vllm  # noqa: F401
        except ImportError as e:
            raise RuntimeError(MISSING) from e
        fp = fingerprint(model)
        self.cache_id = f"{model}@{fp}" if fp else model
        self.dtype, self.engine_args = dtype, dict(engine_args or {})
        self.top_logprobs = max(1, int(top_logprobs))
        self._llm = None

    def engine(self):
        if self._llm is None:
            import vllm
            self._llm = vllm.LLM(model=self.model, dtype=self.dtype, **self.engine_args)
        return self._llm

    def generate(self, conversations, gen, task, sample_index=0):
        import vllm

        seed = int.from_bytes(hashlib.sha256(f"{gen.seed}:{sample_index}".encode()).digest()[:4], "little")
        params = vllm.SamplingParams(n=1, temperature=float(gen.temperature),
                                     top_p=float(gen.top_p) if gen.temperature > 0 else 1.0,
                                     max_tokens=int(gen.max_tokens), seed=seed)
        from stages.llm.hf import encode_chat  # message contents stay literal text (no injected control tokens)

        tok = self.engine().get_tokenizer()
        prompts = [{"prompt_token_ids": encode_chat(tok, c)} for c in conversations]
        results = self.engine().generate(prompts, params, use_tqdm=True)
        out = []
        for i, r in enumerate(results):
            o = r.outputs[0]
            c = Completion(o.text, tokens_in=len(r.prompt_token_ids or []), tokens_out=len(o.token_ids),
                           meta={"finish_reason": o.finish_reason})
            self._emit(i, c)
            out.append(c)
        return out

    def loglik(self, texts, max_tokens=None):
        import vllm

        tok = self.engine().get_tokenizer()
        prompts = []
        for t in texts:
            ids = tok(t, add_special_tokens=False)["input_ids"]
            ids = ids[:int(max_tokens)] if max_tokens is not None else ids
            prompts.append({"prompt_token_ids": ([tok.bos_token_id] if tok.bos_token_id is not None else []) + ids})
        params = vllm.SamplingParams(max_tokens=1, temperature=0.0, prompt_logprobs=0)
        out = []
        for i, r in enumerate(self.engine().generate(prompts, params, use_tqdm=True)):
            ids = list(r.prompt_token_ids)
            nll = -sum(float(lp[t].logprob) for lp, t in zip(r.prompt_logprobs[1:], ids[1:]))
            n = len(ids) - 1
            val = {"nll_sum": nll, "n_tokens": n, "ppl": math.exp(nll / n) if n else float("nan")}
            self._emit(i, val)
            out.append(val)
        return out

    def choice_logprobs(self, prompts: list[str], choices: list[str]) -> list[dict[str, float]]:
        import vllm

        params = vllm.SamplingParams(max_tokens=1, temperature=0.0, logprobs=self.top_logprobs)
        out = []
        for i, r in enumerate(self.engine().generate(list(prompts), params, use_tqdm=True)):
            best = {c: float("-inf") for c in choices}
            for lp in (r.outputs[0].logprobs or [{}])[0].values():
                key = (lp.decoded_token or "").strip()
                if key in best:
                    best[key] = max(best[key], float(lp.logprob))
            self._emit(i, best)
            out.append(best)
        return out

    def close(self) -> None:
        self._llm = None
