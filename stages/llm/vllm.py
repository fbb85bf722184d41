"""Optional offline vLLM backend (`backend: vllm`): one `vllm.LLM` engine, all conversations in one batch.

Role options: model, dtype (default "auto"), plus any vllm.LLM keyword under `engine_args` (a dict,
e.g. {tensor_parallel_size: 2, gpu_memory_utilization: 0.85}). Requires `pip install vllm` and a GPU;
alternatively serve the model with `vllm serve <model>` and use `backend: openai`.
"""
from __future__ import annotations

import hashlib

from stages.llm.base import Backend, Completion
from stages.llm.hf import fingerprint

MISSING = ("the vllm backend needs the vllm package: pip install vllm; "
           "or serve the model with `vllm serve <model>` and use backend: openai")


class VLLMBackend(Backend):
    name = "vllm"

    def __init__(self, model: str, dtype: str = "auto", engine_args: dict | None = None, **options):
        super().__init__(model, **options)
        try:
            import vllm  # noqa: F401
        except ImportError as e:
            raise RuntimeError(MISSING) from e
        fp = fingerprint(model)
        self.cache_id = f"{model}@{fp}" if fp else model
        self.dtype, self.engine_args = dtype, dict(engine_args or {})
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

    def close(self) -> None:
        self._llm = None
