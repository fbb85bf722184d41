"""OpenAI-compatible chat backend (OpenAI, vLLM, SGLang, DashScope, ... any /v1/chat/completions).

Requests go through the `openai` SDK (AsyncOpenAI, stages/llm/openai_http.py: the transport, the retry
policy, masking of what servers send back): bounded concurrency over persistent connections, a total
timeout per request, exponential backoff with jitter on 429/5xx/timeouts/connection errors/bad bodies,
`Retry-After` honoured, several base URLs round-robin (a retry moves to the next URL). A request that
fails after `max_retries` retries becomes Completion(text=None, error=<short reason>); it is never raised
and never defaulted. Authentication failures (401/403) raise LLMAuthError at once: every other request
would fail too.

An answer is accepted only when it is usable: the choice with `index` 0 (not just `choices[0]`), a
non-empty `content` (empty: retried), not withheld by a content filter (`finish_reason`
content_filter: an error row, not retried), a body of at most `max_response_bytes` (read as a stream
and cut off there: an error row). Failures are never cached; `counters` (-> LLM.stats()["rejected"])
count the empty, filtered and oversized answers.
The API key is masked (stages/llm/secrets.py: every encoding, fragments too) in every text a server
sends back before anything is cut or stored: error bodies, content, `model` and other meta fields.

Role options (the keywords of `OpenAIBackend.__init__`): base_url (str | list), api_key_env (NAME of the
env var with the key; absent: "EMPTY"), concurrency (8), max_retries (6), timeout (60 s), backoff (0.5 s
base), backoff_max (30 s), retry_after_max (60 s), send_seed (true), max_response_bytes (4 MiB),
top_logprobs (20). The key never appears in errors, meta, logs or returns.

Log-likelihoods go to the completions endpoint, as vLLM serves it (`POST <base_url>/completions`):
- `loglik`: {prompt: text, max_tokens: 1, temperature: 0, echo: true, logprobs: 1} (what
  lm-evaluation-harness sends); the sum of the echoed prompt's `token_logprobs` (the first is null: no
  prediction; with a BOS-adding tokenizer that is the BOS, so every text token counts, as in hf).
  `max_tokens` keeps the first max_tokens predicted tokens.
- `choice_logprobs`: {prompt, max_tokens: 1, temperature: 0, logprobs: top_logprobs (20)}; per choice
  the log-prob of the first generated token whose text (stripped) is the choice; -inf when no
  top-k token matches. Meant for one-token choices ("A".."D").
A server without logprobs (HTTP 4xx, or no `logprobs` in the answer) is an error, not a default.
"""
from __future__ import annotations

import asyncio
import itertools
import math
import os
import random
import sys
import threading
from typing import Any

from tqdm import tqdm

from stages.llm.base import Backend, Completion, Conversation, GenConfig
from stages.llm.openai_http import Fatal, LLMAuthError, Pool, Retryable  # noqa: F401 (LLMAuthError: public)
from stages.llm.secrets import Masker


class OpenAIBackend(Backend):
    name = "openai"
    flush_items = 1  # each answer costs a network round trip: cache it at once (resume repeats nothing)

    def __init__(self, model: str, base_url: str | list[str] = "https://api.openai.com/v1",
                 api_key_env: str | None = None, concurrency: int = 8, max_retries: int = 6,
                 timeout: float = 60.0, backoff: float = 0.5, backoff_max: float = 30.0,
                 retry_after_max: float = 60.0, send_seed: bool = True, max_response_bytes: int = 4 << 20,
                 top_logprobs: int = 20):
        super().__init__(model)
        urls = [base_url] if isinstance(base_url, str) else list(base_url or [])
        if not urls:
            raise ValueError("openai backend: base_url is empty")
        self.base_urls = [u.rstrip("/") for u in urls]
        self.urls = [u + "/chat/completions" for u in self.base_urls]
        self.completion_urls = [u + "/completions" for u in self.base_urls]
        self.top_logprobs = max(1, int(top_logprobs))
        self.api_key_env = api_key_env
        if api_key_env:
            key = os.environ.get(api_key_env)
            if not key:
                raise RuntimeError(f"openai backend: environment variable {api_key_env} (api_key_env) "
                                   f"is not set or empty; export it with the API key")
        else:
            key = "EMPTY"  # local servers (vLLM, SGLang) accept any key
        self._key = key
        self._masker = Masker(key if api_key_env else None)
        self.max_response_bytes = int(max_response_bytes)
        self.concurrency = max(1, int(concurrency))
        self.max_retries = max(0, int(max_retries))
        self.timeout = float(timeout)
        self.backoff = float(backoff)
        self.backoff_max = float(backoff_max)
        self.retry_after_max = float(retry_after_max)
        self.send_seed = bool(send_seed)
        self._rr = itertools.count()
        self._rng = random.Random()
        self.counters.update(requests=0)

    def __repr__(self) -> str:
        return f"OpenAIBackend(model={self.model!r}, urls={len(self.urls)}, api_key_env={self.api_key_env!r})"

    def _count(self, what: str) -> None:  # rejected answers (empty / filtered / oversized)
        self.counters[what] = self.counters.get(what, 0) + 1

    # ---- sync entry points ----------------------------------------------------------------------
    def generate(self, conversations: list[Conversation], gen: GenConfig, task: Any,
                 sample_index: int = 0) -> list[Completion]:
        if not conversations:
            return []
        bodies = [self._body(c, gen, sample_index) for c in conversations]
        return self._sync(lambda: self._run_all("/chat/completions", bodies, self._chat_answer, task, emit_all=True))

    def _sync(self, coro_fn):
        """Run the coroutine from `coro_fn()` to completion (in a worker thread inside a running loop)."""
        try:
            asyncio.get_running_loop()
        except RuntimeError:
            return asyncio.run(coro_fn())
        # Called from inside a running loop (notebook): run ours in a worker thread.
        box: dict = {}

        def worker():
            try:
                box["out"] = asyncio.run(coro_fn())
            except BaseException as e:  # re-raised in the caller's thread
                box["err"] = e
        t = threading.Thread(target=worker)
        t.start()
        t.join()
        if "err" in box:
            raise box["err"]
        return box["out"]

    # ---- async core ---------------------------------------------------------------------------
    async def _run_all(self, path: str, bodies: list[dict], parse, task: str, emit_all: bool) -> list:
        """One request per body, `concurrency` at a time. A result is `parse(data)`, or a
        Completion(text=None, error=...) after retries; each is reported (Backend._emit) as it arrives,
        failures only when `emit_all` (failed logprob calls are not reported: nothing to keep)."""
        results: list = [None] * len(bodies)
        sem = asyncio.Semaphore(self.concurrency)
        bar = tqdm(total=len(bodies), desc=f"{task} [openai:{self.model}]", unit="req", file=sys.stderr,
                   dynamic_ncols=True, mininterval=0.5)
        async with Pool(self, self.base_urls, self._rr, self._rng) as pool:
            async def one(i):
                async with sem:
                    value, error, attempts, endpoint = await pool.call(path, bodies[i], parse)
                if error is not None:
                    value = Completion(text=None, error=error)
                elif isinstance(value, Completion):
                    value.meta.update(attempts=attempts, endpoint=endpoint)
                results[i] = value
                if emit_all or error is None:
                    self._emit(i, value)
                bar.update(1)
                bar.set_postfix(retries=self.counters["retries"], errors=self.counters["errors"], refresh=False)
            tasks = [asyncio.ensure_future(one(i)) for i in range(len(bodies))]
            try:
                await asyncio.gather(*tasks)
            finally:
                for t in tasks:
                    t.cancel()
                await asyncio.gather(*tasks, return_exceptions=True)
                bar.close()
        return results

    def _body(self, conv, gen: GenConfig, sample_index: int) -> dict:
        body = {"model": self.model, "messages": conv, "n": 1, "temperature": gen.temperature,
                "top_p": gen.top_p, "max_tokens": gen.max_tokens}
        if self.send_seed:
            body["seed"] = gen.seed + sample_index
        return body

    def _chat_answer(self, data) -> Completion:
        """The usable answer in a chat completion (Retryable/Fatal when there is none)."""
        mask = self._masker.mask
        choice = _choice0(data)
        try:
            text = choice["message"]["content"]
        except (KeyError, TypeError):
            raise Retryable("response has no choice with index 0 and a message.content") from None
        finish = choice.get("finish_reason")
        if finish == "content_filter":
            self._count("filtered")
            raise Fatal("answer withheld by the server's content filter (finish_reason content_filter)")
        if not isinstance(text, str):
            raise Retryable("response content is not a string")
        text = text.encode("utf-8", "surrogatepass").decode("utf-8", "replace")  # lone surrogates -> U+FFFD
        if not text.strip():
            self._count("empty")
            raise Retryable(f"empty answer (finish_reason {mask(str(finish))})")
        usage = data.get("usage") if isinstance(data.get("usage"), dict) else {}
        meta = {"finish_reason": finish, "model": data.get("model")}
        return Completion(text=mask(text), tokens_in=_int(usage.get("prompt_tokens")),
                          tokens_out=_int(usage.get("completion_tokens")),
                          meta={k: mask(v) if isinstance(v, str) else None for k, v in meta.items()})

    # ---- log-probabilities (completions endpoint) ---------------------------------------------
    def _logprob_calls(self, bodies: list[dict], convert, what: str) -> list:
        if not bodies:
            return []
        out = self._sync(lambda: self._run_all("/completions", bodies, convert, what, emit_all=False))
        bad = [c for c in out if isinstance(c, Completion)]
        if bad:
            raise RuntimeError(f"openai backend: {len(bad)} of {len(out)} {what} requests failed "
                               f"(first: {bad[0].error}); the finished ones are cached, re-run to retry")
        return out

    def _choice0_logprobs(self, data) -> dict:
        try:
            lp = _choice0(data)["logprobs"]
            if lp is None:
                raise KeyError("logprobs")
            return lp
        except (KeyError, IndexError, TypeError):
            raise RuntimeError(f"openai backend: {self.completion_urls[0]} answered without choices[0].logprobs; "
                               f"the server must support the completions endpoint with logprobs "
                               f"(vLLM does; most chat-only APIs do not)") from None

    def loglik(self, texts: list[str], max_tokens: int | None = None) -> list[dict[str, float]]:
        """Per text {nll_sum, n_tokens, ppl} from the server's echoed prompt logprobs."""
        def convert(data) -> dict:
            lp = self._choice0_logprobs(data)
            vals = list(lp.get("token_logprobs") or [])
            n_prompt = int((data.get("usage") or {}).get("prompt_tokens") or 0) or len(vals) - 1
            pred = [float(v) for v in vals[1:n_prompt] if v is not None]
            if max_tokens is not None:
                pred = pred[:int(max_tokens)]
            nll = -sum(pred)
            return {"nll_sum": nll, "n_tokens": len(pred), "ppl": math.exp(nll / len(pred)) if pred else float("nan")}

        bodies = [{"model": self.model, "prompt": t, "max_tokens": 1, "temperature": 0, "echo": True,
                   "logprobs": 1} for t in texts]
        return self._logprob_calls(bodies, convert, "loglik")

    def choice_logprobs(self, prompts: list[str], choices: list[str]) -> list[dict[str, float]]:
        """Per prompt {choice: log-prob of the choice as the next token}, from the top logprobs."""
        def convert(data) -> dict:
            top = (self._choice0_logprobs(data).get("top_logprobs") or [None])[0] or {}
            best = {c: float("-inf") for c in choices}
            for token, value in top.items():
                key = token.strip()
                if key in best:
                    best[key] = max(best[key], float(value))
            return best

        bodies = [{"model": self.model, "prompt": p, "max_tokens": 1, "temperature": 0,
                   "logprobs": self.top_logprobs} for p in prompts]
        return self._logprob_calls(bodies, convert, "choice_logprobs")


def _int(value) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else 0


def _choice0(data) -> dict | None:
    """The choice with `index` 0 (we ask for n=1); a lone choice without an index counts as 0."""
    choices = data.get("choices") if isinstance(data, dict) else None
    if not isinstance(choices, list):
        return None
    found = [c for c in choices if isinstance(c, dict) and c.get("index") == 0 and c.get("index") is not False]
    if not found and len(choices) == 1 and isinstance(choices[0], dict) and "index" not in choices[0]:
        found = choices
    return found[0] if len(found) == 1 else None
