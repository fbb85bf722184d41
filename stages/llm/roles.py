"""Roles: named LLM configurations in params.yaml (`roles.<name>`) turned into cached `LLM` objects.

    llm = get_llm("judge")
    outs = llm.chat([messages, ...], task=ScoreResponse())    # stages.tasks object; list (per conv) of list (n)
    llm.loglik(["text", ...])                                  # [{nll_sum, n_tokens, ppl}, ...]
    llm.choice_logprobs(["prompt(", ...], ["A", "B"])          # [{"A": logprob, "B": logprob}, ...]
    llm.stats()

The cache is consulted first; only misses reach the backend, and every successful completion is
written to the cache as soon as the backend reports it (Backend.on_result), in small batches
(every FLUSH_ITEMS items or FLUSH_SECONDS seconds), so a killed stage keeps what was finished.
The rules backend is not cached: it is deterministic and cheaper than a cache lookup, and caching
it would hide rule changes.
"""
from __future__ import annotations

import importlib
import time
from typing import Any

from stages.llm import cache as cache_mod
from stages.llm.base import GEN_OPTIONS, Backend, Completion, GenConfig
from stages.params import PARAMS_FILE

BACKENDS = {
    "hf": "stages.llm.hf:HFBackend",
    "openai": "stages.llm.openai_backend:OpenAIBackend",
    "rules": "stages.llm.rules:RulesBackend",
    "vllm": "stages.llm.vllm:VLLMBackend",
}
GEN_KEYS = tuple(GEN_OPTIONS)  # n, temperature, top_p, max_tokens, seed
FLUSH_ITEMS = Backend.flush_items
FLUSH_SECONDS = 1.0


def backend_class(name: str) -> type[Backend]:
    if name not in BACKENDS:
        raise ValueError(f"unknown LLM backend {name!r}; choose one of {sorted(BACKENDS)}")
    module, cls = BACKENDS[name].split(":")
    return getattr(importlib.import_module(module), cls)  # lazy: heavy imports only when used


def _gen_config(values: dict[str, Any]) -> GenConfig:
    d = GenConfig()
    return GenConfig(n=int(values.get("n", d.n)), temperature=float(values.get("temperature", d.temperature)),
                     top_p=float(values.get("top_p", d.top_p)),
                     max_tokens=int(values.get("max_tokens", d.max_tokens)), seed=int(values.get("seed", d.seed)))


class _Writer:
    """Buffers cache puts; flushes every FLUSH_ITEMS items or FLUSH_SECONDS seconds, and at the end."""

    def __init__(self, cache: cache_mod.Cache | None, flush_items: int = FLUSH_ITEMS):
        self.cache, self.buf, self.last, self.flush_items = cache, [], time.monotonic(), flush_items

    def add(self, key: str, value: dict) -> None:
        if self.cache is None:
            return
        self.buf.append((key, value))
        if len(self.buf) >= self.flush_items or time.monotonic() - self.last >= FLUSH_SECONDS:
            self.flush()

    def flush(self) -> None:
        if self.cache is not None and self.buf:
            self.cache.put_many(self.buf)
        self.buf, self.last = [], time.monotonic()


class RoleOptionError(ValueError):
    """A role option that its backend does not declare, or of the wrong type: names `roles.<role>.<key>`."""


def check_options(role: str, cls: type[Backend], options: dict[str, Any]) -> dict[str, Any]:
    """A role's options validated against the backend's declared ones (`Backend.options_model`): the
    given keys with their values converted to the declared types (YAML "0.5" -> 0.5)."""
    import pydantic

    model = cls.options_model()
    try:
        valid = model(**options)
    except pydantic.ValidationError as e:
        problems = []
        for err in e.errors():
            key = ".".join(str(p) for p in err["loc"]) or "?"
            if err["type"] == "extra_forbidden":
                why = f"unknown option for backend {cls.name!r}; allowed: {', '.join(sorted(model.model_fields))}"
            else:
                why = f"{err['msg']} (got {err.get('input')!r})"
            problems.append(f"roles.{role}.{key}: {why}")
        raise RoleOptionError("; ".join(problems)) from None
    return {k: getattr(valid, k) for k in options}


class LLM:
    """One role: a backend plus its default generation settings, behind the cache."""

    def __init__(self, name: str, spec: dict[str, Any], stage: str | None = None):
        spec = dict(spec)
        if "backend" not in spec or "model" not in spec:
            raise ValueError(f"role {name!r} needs 'backend' and 'model' (got {sorted(spec)})")
        self.name, self.stage, self.spec = name, stage, spec
        cls = backend_class(spec["backend"])
        self.options = check_options(name, cls, {k: v for k, v in spec.items() if k not in ("backend", "model")})
        self.defaults = _gen_config(self.options)
        own = {k: v for k, v in self.options.items() if k not in GEN_KEYS}
        self.backend: Backend = cls(model=str(spec["model"]), **own)
        self.backend.label = f"{stage}/{name}" if stage else name  # progress bar label
        self.cacheable = self.backend.cacheable
        self._cache = cache_mod.Cache() if self.cacheable else None
        self._stats = {"calls": 0, "cache_hits": 0, "tokens_in": 0, "tokens_out": 0, "seconds": 0.0}

    @property
    def model_id(self) -> str:
        """The model identity used in cache keys (a backend may add a weights fingerprint)."""
        return self.backend.cache_id

    def gen_config(self, **overrides) -> GenConfig:
        bad = set(overrides) - set(GEN_KEYS)
        if bad:
            raise TypeError(f"unknown generation setting(s) {sorted(bad)}; allowed: {GEN_KEYS}")
        values = {k: getattr(self.defaults, k) for k in GEN_KEYS}
        values.update({k: v for k, v in overrides.items() if v is not None})
        return _gen_config(values)

    def chat(self, convs: list[list[dict]], task: str, **overrides) -> list[list[Completion]]:
        """n completions per conversation (cache first, misses to the backend, results cached as they arrive)."""
        gen = self.gen_config(**overrides)
        convs = [list(c) for c in convs]
        out: list[list[Completion | None]] = [[None] * gen.n for _ in convs]

        def from_cache(v: dict) -> Completion:
            return Completion(v["text"], cached=True, tokens_in=v.get("tokens_in", 0),
                              tokens_out=v.get("tokens_out", 0), meta=v.get("meta", {}))

        def on_result(comp: Completion) -> dict | None:
            self._stats["tokens_in"] += comp.tokens_in
            self._stats["tokens_out"] += comp.tokens_out
            if comp.error is None and comp.text is not None:
                return {"text": comp.text, "tokens_in": comp.tokens_in, "tokens_out": comp.tokens_out,
                        "meta": comp.meta}
            return None  # failures are not cached: a re-run retries them

        for s in range(gen.n):
            keys = [cache_mod.chat_key(self.backend.name, self.model_id, c, gen.key(), s) for c in convs]
            got = self._cached(keys, from_cache, on_result, lambda idx, s=s: self.backend.generate(
                [convs[i] for i in idx], gen, task, sample_index=s))
            for i, comp in enumerate(got):
                out[i][s] = _drop_cut_char(comp)
        return out  # type: ignore[return-value]

    def loglik(self, texts: list[str], max_tokens: int | None = None) -> list[dict[str, float]]:
        """Per text {nll_sum, n_tokens, ppl}; cached like chat (key: backend, model, text, max_tokens)."""
        opts = {"max_tokens": max_tokens}
        keys = [cache_mod.loglik_key(self.backend.name, self.model_id, t, opts) for t in texts]

        def on_result(value: dict) -> dict:
            self._stats["tokens_in"] += int(value.get("n_tokens", 0))
            return value

        return self._cached(keys, lambda v: v, on_result,
                            lambda idx: self.backend.loglik([texts[i] for i in idx], max_tokens=max_tokens))

    def choice_logprobs(self, prompts: list[str], choices: list[str]) -> list[dict[str, float]]:
        """Per prompt {choice: log-probability as its continuation} (Backend.choice_logprobs); cached like
        loglik (key: backend, model, prompt, choices), counted in calls/cache_hits/seconds."""
        choices = [str(c) for c in choices]
        opts = {"kind": "choice_logprobs", "choices": choices}
        keys = [cache_mod.loglik_key(self.backend.name, self.model_id, p, opts) for p in prompts]
        return self._cached(keys, dict, dict,
                            lambda idx: self.backend.choice_logprobs([prompts[i] for i in idx], choices))

    def cached_scores(self, items: list[tuple[str, dict]], compute) -> list:
        """Values for (text, options) items that a caller computes with this role's model itself (e.g.
        label's first-token scores): cache hits first, `compute(indices)` for the misses (a list of JSON
        values, one per index); cached and counted like loglik (key: backend, model, text, options)."""
        keys = [cache_mod.loglik_key(self.backend.name, self.model_id, t, o) for t, o in items]
        return self._cached(keys, lambda v: v, lambda v: v, compute)

    def _cached(self, keys: list[str], from_cache, on_result, call) -> list:
        """Results for `keys`: cache hits first, then one backend request per distinct missing key.

        `call(indices)` asks the backend for those inputs; each result (also those the backend reports early
        through `on_result`, for resume) goes to every index sharing its key, to the stats via
        `on_result(value)`, and to the cache when `on_result` returns what to store.
        """
        out: list = [None] * len(keys)
        if self._cache is not None:
            hits = self._cache.get_many(keys)
            for i, k in enumerate(keys):
                if k in hits:
                    out[i] = from_cache(hits[k])
                    self._stats["cache_hits"] += 1
        todo: dict[str, list[int]] = {}
        for i, k in enumerate(keys):
            if out[i] is None:
                todo.setdefault(k, []).append(i)
        if not todo:
            return out
        items = list(todo.items())
        writer, done = _Writer(self._cache, self.backend.flush_items), set()

        def record(j: int, value) -> None:
            if j in done:
                return
            done.add(j)
            key, idxs = items[j]
            for i in idxs:
                out[i] = value
            stored = on_result(value)
            if stored is not None:
                writer.add(key, stored)

        self.backend.on_result = record
        self._stats["calls"] += len(items)
        t0 = time.monotonic()
        try:
            try:
                results = call([idxs[0] for _, idxs in items])
            except Exception as e:  # name the role in errors the CLI reports (e.g. LLMAuthError)
                if not hasattr(e, "role"):
                    e.role = self.name
                raise
            if len(results) != len(items):
                raise RuntimeError(f"{self.backend.name} backend returned {len(results)} results "
                                   f"for {len(items)} inputs")
            for j, value in enumerate(results):
                record(j, value)
        finally:
            self._stats["seconds"] += time.monotonic() - t0
            self.backend.on_result = None
            writer.flush()
        return out

    def stats(self) -> dict[str, Any]:
        st = dict(self._stats)
        st["retries"] = int(self.backend.counters.get("retries", 0))
        st["errors"] = int(self.backend.counters.get("errors", 0))
        st["rejected"] = {k: int(self.backend.counters.get(k, 0)) for k in ("empty", "filtered", "oversized")}
        st["seconds"] = round(st["seconds"], 3)
        st["tokens_per_s"] = round(st["tokens_out"] / st["seconds"], 2) if st["seconds"] > 0 else 0.0
        return st

    def close(self) -> None:
        self.backend.close()
        if self._cache is not None:
            self._cache.close()
            self._cache = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def make_llm(spec: dict[str, Any], name: str = "adhoc", stage: str | None = None) -> LLM:
    """An LLM from an explicit role dict (e.g. eval building one per evaluated model)."""
    return LLM(name, spec, stage=stage)


def role_llm(params: dict, role: str, stage: str | None = None) -> LLM:
    """The LLM for `roles.<role>` of a stage's params (stages.params.stage_params). `stage` only labels
    progress bars and errors. A misspelled or wrongly typed option raises InputError naming the params
    file and `roles.<role>.<key>`."""
    from stages.io import InputError

    file = getattr(params, "file", PARAMS_FILE)
    spec = (params.get("roles") or {}).get(role)
    if spec is None:
        raise KeyError(f"{file}: roles.{role} is not defined")
    try:
        return LLM(role, dict(spec), stage=stage)
    except RoleOptionError as e:
        raise InputError(file, str(e)) from None


def get_llm(role: str, stage: str | None = None, params_path: str = PARAMS_FILE) -> LLM:
    """The LLM for `roles.<role>` in the params file `params_path` (see role_llm)."""
    from stages.params import stage_params

    return role_llm(stage_params(f"roles.{role}", path=params_path), role, stage)


def _drop_cut_char(comp: Completion) -> Completion:
    """An answer cut by max_tokens inside a multibyte character decodes to a trailing U+FFFD: drop it
    (fresh or cached alike, so a warm run gives the same text as a cold one)."""
    if comp.text and comp.text.endswith("\ufffd") and comp.meta.get("finish_reason") == "length":
        comp.text = comp.text.rstrip("\ufffd")
    return comp
