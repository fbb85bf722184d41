"""OpenAI-compatible chat backend (OpenAI, vLLM, SGLang, DashScope, ... any /v1/chat/completions).

Plain httpx (not the openai client) so we see raw status codes, headers and bodies and own the retry
policy: bounded concurrency, a total timeout per request, exponential backoff with jitter on
429/5xx/timeouts/connection errors/bad bodies, `Retry-After` honoured, several base URLs round-robin
(a retry moves to the next URL). A request that fails after `max_retries` retries becomes
Completion(text=None, error=<short reason>); it is never raised and never defaulted.
Authentication failures (401/403) raise LLMAuthError at once: every other request would fail too.

Role options: base_url (str | list), api_key_env (NAME of the env var with the key; absent: "EMPTY"),
concurrency (8), max_retries (6), timeout (60 s), backoff (0.5 s base), backoff_max (30 s),
retry_after_max (60 s), send_seed (true). The key never appears in errors, meta, logs or returns.
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

import httpx
from tqdm import tqdm

from stages.llm.base import Backend, Completion, Conversation, GenConfig

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
                 retry_after_max: float = 60.0, send_seed: bool = True, **options):
        super().__init__(model, **options)
        urls = [base_url] if isinstance(base_url, str) else list(base_url or [])
        if not urls:
            raise ValueError("openai backend: base_url is empty")
        self.urls = [u.rstrip("/") + "/chat/completions" for u in urls]
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

    def _redact(self, text: str) -> str:
        if self._secret:
            text = text.replace(self._secret, "***")
        return text

    # ---- sync entry point -------------------------------------------------------------------
    def generate(self, conversations: list[Conversation], gen: GenConfig, task: str,
                 sample_index: int = 0) -> list[Completion]:
        if not conversations:
            return []
        coro_fn = lambda: self._run_all(conversations, gen, task, sample_index)  # noqa: E731
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
    async def _run_all(self, convs, gen, task, sample_index) -> list[Completion]:
        results: list[Completion | None] = [None] * len(convs)
        sem = asyncio.Semaphore(self.concurrency)
        limits = httpx.Limits(max_connections=self.concurrency * 2, max_keepalive_connections=self.concurrency)
        bar = tqdm(total=len(convs), desc=f"{task} [openai:{self.model}]", unit="req", file=sys.stderr,
                   dynamic_ncols=True, mininterval=0.5)
        async with httpx.AsyncClient(timeout=self.timeout, limits=limits, headers=self._headers) as client:
            async def one(i):
                async with sem:
                    c = await self._request(client, convs[i], gen, sample_index)
                results[i] = c
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

    async def _request(self, client: httpx.AsyncClient, conv, gen, sample_index) -> Completion:
        body = self._body(conv, gen, sample_index)
        start = next(self._rr)
        reason = "no attempt"
        for attempt in range(self.max_retries + 1):
            url = self.urls[(start + attempt) % len(self.urls)]
            wait = None
            try:
                self.counters["requests"] += 1
                c = await asyncio.wait_for(self._attempt(client, url, body), self.timeout)
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

    async def _attempt(self, client: httpx.AsyncClient, url: str, body: dict) -> Completion:
        r = await client.post(url, json=body)
        raw = r.content
        if r.status_code in (401, 403):
            raise LLMAuthError(self._redact(
                f"openai backend: HTTP {r.status_code} from {url}: the API key was rejected "
                f"(check {self.api_key_env or 'api_key_env'})"))
        if r.status_code in RETRY_STATUS or r.status_code >= 500:
            raise _Retryable(f"HTTP {r.status_code}", _retry_after(r.headers))
        if r.status_code != 200:
            snippet = self._redact(raw[:200].decode("utf-8", "replace")).replace("\n", " ")
            raise _Fatal(f"HTTP {r.status_code}: {snippet}")
        if not raw.strip():
            raise _Retryable("empty body")
        try:
            data = json.loads(raw)
        except ValueError:
            raise _Retryable("invalid JSON body (truncated or not JSON)") from None
        try:
            choice = data["choices"][0]
            text = choice["message"]["content"]
        except (KeyError, IndexError, TypeError):
            raise _Retryable("response has no choices[0].message.content") from None
        if not isinstance(text, str):
            raise _Retryable("response content is not a string")
        usage = data.get("usage") or {}
        return Completion(text=text, tokens_in=int(usage.get("prompt_tokens") or 0),
                          tokens_out=int(usage.get("completion_tokens") or 0),
                          meta={"finish_reason": choice.get("finish_reason"), "model": data.get("model")})
