"""The one LLM interface every stage uses. Backends: hf.py, openai_backend.py, rules.py (vllm.py optional)."""
from __future__ import annotations

import dataclasses
import inspect
import typing
from dataclasses import dataclass, field
from typing import Any

import pydantic

Message = dict  # {"role": "system"|"user"|"assistant", "content": str}
Conversation = list  # list[Message]


@dataclass(frozen=True)
class GenConfig:
    """Sampling settings; all of them are part of the cache key (n is expanded into sample indices)."""
    n: int = 1
    temperature: float = 0.0
    top_p: float = 1.0
    max_tokens: int = 256
    seed: int = 0

    def key(self) -> dict[str, Any]:
        d = dataclasses.asdict(self)
        d.pop("n")
        return d


@dataclass
class Completion:
    """One sample for one conversation. `text` is None exactly when `error` is set (call failed after retries)."""
    text: str | None
    error: str | None = None
    cached: bool = False
    tokens_in: int = 0
    tokens_out: int = 0
    meta: dict[str, Any] = field(default_factory=dict)


class Options(pydantic.BaseModel):
    """The role options every backend accepts (generation defaults). A backend's own options are the
    keyword parameters of its `__init__` (their annotations are the types): `Backend.options_model()`
    adds them. Unknown keys are errors (`extra="forbid"`), so a misspelled option is never ignored.
    """
    model_config = pydantic.ConfigDict(extra="forbid")
    n: int = 1
    temperature: float = 0.0
    top_p: float = 1.0
    max_tokens: int = 256
    seed: int = 0


class Backend:
    """A model behind one backend. Subclasses implement `_generate` (and `loglik` where possible).

    name: backend name used in the cache key ("hf", "openai", "rules", "vllm").
    model: model id/path used in the cache key.
    """
    name = "base"

    def __init__(self, model: str, **options):
        self.model = model
        self.options = options
        self.counters = {"retries": 0, "errors": 0}
        self.on_result = None  # set by roles.LLM: called as on_result(index, completion) as results arrive

    def _emit(self, index: int, completion: Completion) -> None:
        if self.on_result is not None:
            self.on_result(index, completion)

    def generate(self, conversations: list[Conversation], gen: GenConfig, task: str,
                 sample_index: int = 0) -> list[Completion]:
        """One completion per conversation for sample `sample_index` (0..gen.n-1).

        `task` names the prompt template (e.g. "label", "score_response"); the rules backend
        dispatches on it, model backends use it only for progress bars and counters.
        """
        raise NotImplementedError

    def loglik(self, texts: list[str], max_tokens: int | None = None) -> list[dict[str, float]]:
        """Per text: {"nll_sum": float, "n_tokens": int, "ppl": float}. Local backends only.

        max_tokens: score only the first max_tokens tokens of each text (None: all).
        """
        raise NotImplementedError(f"{self.name} backend has no token log-likelihoods")

    def choice_logprobs(self, prompts: list[str], choices: list[str]) -> list[dict[str, float]]:
        """Per prompt {choice: log-probability of `choice` as the continuation of the prompt} for short
        choice strings (e.g. "A".."D"; the prompt is sent raw, no chat template)."""
        raise NotImplementedError(f"{self.name} backend has no choice log-probabilities")

    def close(self) -> None:
        pass

    @classmethod
    def options_model(cls) -> type[Options]:
        """The pydantic model of this backend's role options (Options + the keywords of `__init__`)."""
        if "_options_model" not in cls.__dict__:
            hints = typing.get_type_hints(cls.__init__)
            fields = {}
            for p in inspect.signature(cls.__init__).parameters.values():
                if p.name in ("self", "model") or p.kind in (p.VAR_KEYWORD, p.VAR_POSITIONAL):
                    continue
                default = ... if p.default is p.empty else p.default
                fields[p.name] = (hints.get(p.name, Any), default)
            cls._options_model = pydantic.create_model(f"{cls.__name__}Options", __base__=Options, **fields)
        return cls._options_model
