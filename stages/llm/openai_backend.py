"""OpenAI-compatible chat backend (OpenAI, vLLM, SGLang, DashScope, ... any /v1/chat/completions).

Plain httpx (not the openai client) so we see raw status codes, headers and bodies and own the retry
policy: bounded concurrency, a total timeout per request, exponential backoff with jitter on
429/5xx/timeouts/connection errors/bad bodies, `Retry-After` honoured, several base URLs round-robin
(a retry moves to the next URL). A request that fails after `max_retries` retries becomes
Completion(text=None, error=<short reason>); it is never raised and never defaulted.
Authentication failures (401/403) raise LLMAuthError at once: every other request would fail too.

An answer is accepted only when it is usable: the choice with `index` 0 (not just `choices[0]`), a
non-empty `content` (empty: retried), not withheld by a content filter (`finish_reason`
content_filter: an error row, not retried), a body of at most `max_response_bytes` (read as a stream
and cut off there: an error row). Failures are never cached; `counters` (-> LLM.stats()["rejected"])
count the empty, filtered and oversized answers.
The API key is masked (stages/llm/secrets.py: every encoding, fragments too) in every text a server
sends back before anything is cut or stored: error bodies, content, `model` and other meta fields.

Role options: base_url (str | list), api_key_env (NAME of the env var with the key; absent: "EMPTY"),
concurrency (8), max_retries (6), timeout (60 s), backoff (0.5 s base), backoff_max (30 s),
retry_after_max (60 s), send_seed (true), max_response_bytes (4 MiB), top_logprobs (20). The key never
appears in errors, meta, logs or returns.

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
import email.utils
import itertools
import json
import os
import random
import sys
import threading
import time

import math

import httpx
from tqdm import tqdm

from stages.llm.base import Backend, Completion, Conversation, GenConfig
from stages.llm.secrets import Masker

RETRY_STATUS = {408, 409, 425, 429}


class LLMAuthError(RuntimeError):
    """The endpoint rejected the API key (401/403). The message never contains the key."""


class _Retryable(Exception):
    """One failed attempt that may be retried; `wait` is the server's Retry-After, if any."""

    def __init__(self, reason: str, wait: float | None = None):
        super().__init__(reason)
        self.reason = reason
        self.wait = wait


class _Fatal(Exception):
    """One failed attempt that a retry cannot fix (e.g. HTTP 400)."""


def _retry_after(headers: httpx.Headers) -> float | None:
    """Seconds from `retry-after-ms` or `Retry-After` (seconds or HTTP date); None when absent/bad."""
    ms = headers.get("retry-after-ms")
    if ms:
        try:
            return max(0.0, float(ms) / 1000)
        except ValueError:
            pass
    value = headers.get("retry-after")
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        try:
            return max(0.0, email.utils.parsedate_to_datetime(value).timestamp() - time.time())
        except (TypeError, ValueError):
            return None


class OpenAIBackend(Backend):
    name = "openai"
    flush_items = 1  # each answer costs a network round trip: cache it at once (resume repeats nothing)

    def __init__(self, model: str, base_url: str | list[str] = "https://api.openai.com/v1",
                 api_key_env: str | None = None, concurrency: int = 8, max_retries: int = 6,
                 timeout: float = 60.0, backoff: float = 0.5, backoff_max: float = 30.0,
                 retry_after_max: float = 60.0, send_seed: bool = True, max_response_bytes: int = 4 << 20,
                 top_logprobs: int = 20, **options):
        super().__init__(model, **options)
        urls = [base_url] if isinstance(base_url, str) else list(base_url or [])
        if not urls:
            raise ValueError("openai backend: base_url is empty")
        self.urls = [u.rstrip("/") + "/chat/completions" for u in urls]
        self.completion_urls = [u.rstrip("/") + "/completions" for u in urls]
        self.top_logprobs = max(1, int(top_logprobs))
        self.api_key_env = api_key_env
        if api_key_env:
            key = os.environ.get(api_key_env)
            if not key:
                raise RuntimeError(f"openai backend: environment variable {api_key_env} (api_key_env) "
                                   f"is not set or empty; export it with the API key")
        else:
            key = "EMPTY"  # local servers (vLLM, SGLang) accept any key
        self._headers = {"Authorization": f"Bearer {key}"}
        self._secret = key if api_key_env else None
        self._masker = Masker(self._secret)
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

    def _redact(self, text: str) -> str:
        return self._masker.mask(text)

    # ---- sync entry point -------------------------------------------------------------------
    def generate(self, conversations: list[Conversation], gen: GenConfig, task: str,
                 sample_index: int = 0) -> list[Completion]:
        if not conversations:
            return []
        return self._sync(lambda: self._run_all(conversations, gen, task, sample_index))

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
    async def _run_all(self, convs, gen, task, sample_index, convert=None) -> list:
        """One request per conversation (or prebuilt completions body when `convert` is given: the
        answer goes through `convert(completion)` and that value is reported and returned)."""
        results: list[Completion | None] = [None] * len(convs)
        sem = asyncio.Semaphore(self.concurrency)
        limits = httpx.Limits(max_connections=self.concurrency * 2, max_keepalive_connections=self.concurrency)
        bar = tqdm(total=len(convs), desc=f"{task} [openai:{self.model}]", unit="req", file=sys.stderr,
                   dynamic_ncols=True, mininterval=0.5)
        async with httpx.AsyncClient(timeout=self.timeout, limits=limits, headers=self._headers) as client:
            async def one(i):
                async with sem:
                    c = await self._request(client, convs[i], gen, sample_index, as_data=convert is not None)
                if convert is not None and c.error is None:
                    c = convert(c.meta["data"])
                results[i] = c
                if not (isinstance(c, Completion) and convert is not None):  # failed logprob calls: not kept
                    self._emit(i, c)
                bar.update(1)
                bar.set_postfix(retries=self.counters["retries"], errors=self.counters["errors"], refresh=False)
            tasks = [asyncio.ensure_future(one(i)) for i in range(len(convs))]
            try:
                await asyncio.gather(*tasks)
            finally:
                for t in tasks:
                    t.cancel()
                await asyncio.gather(*tasks, return_exceptions=True)
                bar.close()
        return results  # type: ignore[return-value]

    def _body(self, conv, gen: GenConfig, sample_index: int) -> dict:
        body = {"model": self.model, "messages": conv, "n": 1, "temperature": gen.temperature,
                "top_p": gen.top_p, "max_tokens": gen.max_tokens}
        if self.send_seed:
            body["seed"] = gen.seed + sample_index
        return body

    async def _request(self, client: httpx.AsyncClient, conv, gen, sample_index, as_data: bool = False) -> Completion:
        """as_data: `conv` is a completions body; the parsed JSON comes back in meta["data"]."""
        body = conv if as_data else self._body(conv, gen, sample_index)
        urls = self.completion_urls if as_data else self.urls
        start = next(self._rr)
        reason = "no attempt"
        for attempt in range(self.max_retries + 1):
            url = urls[(start + attempt) % len(urls)]
            wait = None
            try:
                self.counters["requests"] += 1
                c = await asyncio.wait_for(self._attempt(client, url, body, as_data), self.timeout)
                c.meta.update(attempts=attempt + 1, endpoint=(start + attempt) % len(self.urls))
                return c
            except _Fatal as e:
                reason = str(e)
                break
            except _Retryable as e:
                reason, wait = e.reason, e.wait
            except (asyncio.TimeoutError, httpx.TimeoutException):
                reason = f"timeout after {self.timeout:g}s"
            except httpx.HTTPError as e:  # connection refused/reset, protocol errors
                reason = f"connection error: {type(e).__name__}"
            if attempt == self.max_retries:
                break
            self.counters["retries"] += 1
            if wait is not None:
                delay = min(wait, self.retry_after_max)
            else:  # full jitter on an exponential ceiling
                delay = self._rng.uniform(0.5, 1.0) * min(self.backoff_max, self.backoff * 2 ** attempt)
            await asyncio.sleep(delay)
        self.counters["errors"] += 1
        tries = attempt + 1
        return Completion(text=None, error=self._redact(f"{reason} ({tries} attempt{'s' * (tries > 1)})"))

    async def _read(self, client: httpx.AsyncClient, url: str, body: dict) -> tuple[httpx.Response, bytes]:
        """POST and read the body, at most max_response_bytes of it (_Fatal beyond)."""
        async with client.stream("POST", url, json=body) as r:
            chunks, size = [], 0
            async for chunk in r.aiter_bytes():
                size += len(chunk)
                if size > self.max_response_bytes:
                    self._count("oversized")
                    raise _Fatal(f"response body over max_response_bytes={self.max_response_bytes} "
                                 f"(raise the role's max_response_bytes or lower max_tokens)")
                chunks.append(chunk)
        return r, b"".join(chunks)

    async def _attempt(self, client: httpx.AsyncClient, url: str, body: dict, as_data: bool = False) -> Completion:
        r, raw = await self._read(client, url, body)
        if r.status_code in (401, 403):
            raise LLMAuthError(self._redact(
                f"openai backend: HTTP {r.status_code} from {url}: the API key was rejected "
                f"(check {self.api_key_env or 'api_key_env'})"))
        if r.status_code in RETRY_STATUS or r.status_code >= 500:
            raise _Retryable(f"HTTP {r.status_code}", _retry_after(r.headers))
        if r.status_code != 200:
            snippet = self._redact(self._redact(raw.decode("utf-8", "replace"))[:200]).replace("\n", " ")
            raise _Fatal(f"HTTP {r.status_code}: {snippet}")
        if not raw.strip():
            raise _Retryable("empty body")
        try:
            data = json.loads(raw)
        except ValueError:
            raise _Retryable("invalid JSON body (truncated or not JSON)") from None
        if as_data:
            return Completion(text="", meta={"data": data})
        choice = _choice0(data)
        try:
            text = choice["message"]["content"]
        except (KeyError, TypeError):
            raise _Retryable("response has no choice with index 0 and a message.content") from None
        finish = choice.get("finish_reason")
        if finish == "content_filter":
            self._count("filtered")
            raise _Fatal("answer withheld by the server's content filter (finish_reason content_filter)")
        if not isinstance(text, str):
            raise _Retryable("response content is not a string")
        text = text.encode("utf-8", "surrogatepass").decode("utf-8", "replace")  # lone surrogates -> U+FFFD
        if not text.strip():
            self._count("empty")
            raise _Retryable(f"empty answer (finish_reason {self._redact(str(finish))})")
        usage = data.get("usage") if isinstance(data.get("usage"), dict) else {}
        meta = {"finish_reason": finish, "model": data.get("model")}
        return Completion(text=self._redact(text), tokens_in=_int(usage.get("prompt_tokens")),
                          tokens_out=_int(usage.get("completion_tokens")),
                          meta={k: self._redact(v) if isinstance(v, str) else None for k, v in meta.items()})

    # ---- log-probabilities (completions endpoint) ---------------------------------------------
    def _logprob_calls(self, bodies: list[dict], convert, what: str) -> list:
        out = self._sync(lambda: self._run_all(bodies, None, what, 0, convert=convert)) if bodies else []
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
