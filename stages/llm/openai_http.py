"""The HTTP side of the openai backend: `openai.AsyncOpenAI` clients and our retry policy.

One AsyncOpenAI client per base URL (`Pool`), all on one aiohttp connection pool (the SDK's
`DefaultAioHttpClient`: at most `concurrency` persistent connections; the SDK's default httpx2 pool
costs twice the CPU per request at 64 connections, bench/README.md). The SDK's own retries are off
(`max_retries=0`): `Pool.call` owns the policy, so every attempt is counted and bounded by one total
timeout. Bodies go out as built through `client.post(path, body=...)` (the typed `create()` re-walks
every message through the SDK's TypedDict transform: ~0.9 ms CPU per request, measured) and come back
as raw bytes, read as a stream and cut off at `max_response_bytes`; the caller's `parse(data)` turns
the JSON into a result or raises Retryable/Fatal.

Per attempt: 401/403 -> LLMAuthError at once (every other request would fail too); 408/409/425/429, 5xx,
timeouts, connection errors, empty or non-JSON bodies -> Retryable (`Retry-After` / `retry-after-ms`
honoured up to `retry_after_max`, else full jitter on an exponential ceiling); other statuses and
oversized bodies -> Fatal; of an error answer's body at most 64 KiB is read (a response hook, before the
SDK reads it). Each retry moves to the next base URL. Every text a server sends back is masked
(`masker`) before it is cut or kept; no SDK exception (its message holds the server's body) is chained
to what we raise.
"""
from __future__ import annotations

import asyncio
import email.utils
import itertools
import json
import random
import time

import aiohttp
import httpx2
import openai

ERROR_BODY_MAX = 64 << 10  # bytes of an error answer's body read (the rest is never received)

RETRY_STATUS = {408, 409, 425, 429}
NETWORK_ERRORS = (openai.APIConnectionError, httpx2.HTTPError, aiohttp.ClientError, OSError)


class LLMAuthError(RuntimeError):
    """The endpoint rejected the API key (401/403). The message never contains the key."""


class Retryable(Exception):
    """One failed attempt that may be retried; `wait` is the server's Retry-After, if any."""

    def __init__(self, reason: str, wait: float | None = None):
        super().__init__(reason)
        self.reason, self.wait = reason, wait


class Fatal(Exception):
    """One failed attempt that a retry cannot fix (e.g. HTTP 400)."""


def retry_after(headers) -> float | None:
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


def _network_reason(err: BaseException, timeout: float) -> str:
    """'timeout after Ns' or 'connection error: <innermost cause>' (the SDK wraps transport errors)."""
    root = err
    while root.__cause__ is not None:
        root = root.__cause__
    if isinstance(root, (TimeoutError, asyncio.TimeoutError, httpx2.TimeoutException)):
        return f"timeout after {timeout:g}s"
    return f"connection error: {type(root).__name__}"


class Pool:
    """AsyncOpenAI clients for `urls` inside one event loop: `async with Pool(...) as pool: await pool.call(...)`.

    `b` is the backend (its settings: timeout, max_retries, backoff, backoff_max, retry_after_max,
    max_response_bytes, concurrency; its `counters`, `_masker`, `api_key_env`, `_key`).
    """

    def __init__(self, b, urls: list[str], start: itertools.count, rng: random.Random):
        self.b, self.urls, self.start, self.rng = b, urls, start, rng

    async def __aenter__(self) -> "Pool":
        n = self.b.concurrency
        self.http = openai.DefaultAioHttpClient(
            timeout=self.b.timeout, limits=httpx2.Limits(max_connections=n, max_keepalive_connections=n),
            follow_redirects=False, event_hooks={"response": [self._cap_error_body]})
        self.clients = [openai.AsyncOpenAI(api_key=self.b._key, base_url=u, max_retries=0, timeout=self.b.timeout,
                                           http_client=self.http) for u in self.urls]
        return self

    async def __aexit__(self, *exc) -> None:
        await self.http.aclose()

    async def call(self, path: str, body: dict, parse):
        """(parse(data), None, attempts, endpoint) of the first usable answer, or (None, error, attempts, None)."""
        b = self.b
        start = next(self.start)
        reason, attempt = "no attempt", 0
        for attempt in range(b.max_retries + 1):
            endpoint = (start + attempt) % len(self.urls)
            wait = None
            try:
                b.counters["requests"] += 1
                data = await asyncio.wait_for(self._attempt(endpoint, path, body), b.timeout)
                return parse(data), None, attempt + 1, endpoint
            except Fatal as e:
                reason = str(e)
                break
            except Retryable as e:
                reason, wait = e.reason, e.wait
            except asyncio.TimeoutError:
                reason = f"timeout after {b.timeout:g}s"
            except NETWORK_ERRORS as e:  # refused/reset connections, protocol errors (SDK-wrapped or raw)
                reason = _network_reason(e, b.timeout)
            if attempt == b.max_retries:
                break
            b.counters["retries"] += 1
            if wait is not None:
                delay = min(wait, b.retry_after_max)
            else:  # full jitter on an exponential ceiling
                delay = self.rng.uniform(0.5, 1.0) * min(b.backoff_max, b.backoff * 2 ** attempt)
            await asyncio.sleep(delay)
        b.counters["errors"] += 1
        tries = attempt + 1
        return None, b._masker.mask(f"{reason} ({tries} attempt{'s' * (tries > 1)})"), tries, None

    async def _attempt(self, endpoint: int, path: str, body: dict):
        status = None
        try:
            r = await self.clients[endpoint].post(path, body=body, cast_to=httpx2.Response, stream=True)
        except openai.APIStatusError as e:  # read outside the except: nothing of the SDK's error is chained
            status, headers, raw = e.status_code, e.response.headers, e.response.content
        if status is None:
            raw = await self._read(r)
            status, headers = r.status_code, r.headers
        if status != 200:  # also 201/204: not an answer
            self._status(status, headers, raw, self.urls[endpoint] + path)
        if not raw.strip():
            raise Retryable("empty body")
        try:
            return json.loads(raw)
        except ValueError:
            raise Retryable("invalid JSON body (truncated or not JSON)") from None

    def _status(self, status: int, headers, raw: bytes, url: str):
        b = self.b
        if status in (401, 403):
            raise LLMAuthError(b._masker.mask(
                f"openai backend: HTTP {status} from {url}: the API key was rejected "
                f"(check {b.api_key_env or 'api_key_env'})"))
        if status in RETRY_STATUS or status >= 500:
            raise Retryable(f"HTTP {status}", retry_after(headers))
        if len(raw) > b.max_response_bytes:
            raw = raw[:b.max_response_bytes]
        snippet = b._masker.mask(b._masker.mask(raw.decode("utf-8", "replace"))[:200]).replace("\n", " ")
        raise Fatal(f"HTTP {status}: {snippet}")

    async def _cap_error_body(self, response) -> None:
        """Before the SDK reads an error answer's whole body: keep at most ERROR_BODY_MAX bytes of it (the
        snippet we report is 200 characters; a hostile server may send gigabytes or never stop)."""
        if response.status_code >= 300:
            body, _ = await _read_upto(response, ERROR_BODY_MAX)
            response._content = body[:ERROR_BODY_MAX]  # what httpx's aread() returns from now on

    async def _read(self, r) -> bytes:
        """The body of a 2xx answer, at most max_response_bytes of it (Fatal beyond)."""
        limit = self.b.max_response_bytes
        body, over = await _read_upto(r, limit)
        if over:
            self.b._count("oversized")
            raise Fatal(f"response body over max_response_bytes={limit} "
                        f"(raise the role's max_response_bytes or lower max_tokens)")
        return body


async def _read_upto(r, limit: int) -> tuple[bytes, bool]:
    """(the body read until it ends or passes `limit` bytes, whether it passed); the response is closed."""
    chunks, size = [], 0
    try:
        async for chunk in r.aiter_bytes():
            chunks.append(chunk)
            size += len(chunk)
            if size > limit:
                return b"".join(chunks), True
    finally:
        await r.aclose()
    return b"".join(chunks), False
