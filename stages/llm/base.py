"""The one LLM interface every stage uses. Backends: hf.py, openai_backend.py, rules.py (vllm.py optional)."""
from __future__ import annotations

import abc
import dataclasses
import inspect
import typing
from dataclasses import dataclass, field
from typing import Any, ClassVar

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


GEN_OPTIONS = {k: v for k, v in dataclasses.asdict(GenConfig()).items()}  # role options of every backend


@dataclass
class Completion:
    """One sample for one conversation. `text` is None exactly when `error` is set (call failed after retries)."""
    text: str | None
    error: str | None = None
    cached: bool = False
    tokens_in: int = 0
    tokens_out: int = 0
    meta: dict[str, Any] = field(default_factory=dict)


class Backend(abc.ABC):
    """A model behind one backend. Subclasses implement `generate` (and `loglik` / `choice_logprobs`
    where they can); every optional capability is declared here, so callers never probe attributes.

    Role options: the generation defaults (GEN_OPTIONS, into GenConfig) plus the keyword parameters of
    the subclass's `__init__`, whose annotations are their types (`options_model()`: a pydantic model,
    unknown keys forbidden). roles.LLM validates a role against it before building the backend, so a
    misspelled or wrongly typed option is an error naming `roles.<role>.<key>`, never ignored.
    """
    name: ClassVar[str] = "base"  # used in the cache key ("hf", "openai", "rules", "vllm")
    cacheable: ClassVar[bool] = True  # roles.LLM caches its answers (rules: False, cheaper than a lookup)
    flush_items: ClassVar[int] = 32  # cache writes in batches of this many answers (openai: 1)
    local: ClassVar[bool] = False  # runs the model in this process (hf, vllm); label.loglik auto ranks only then
    torch_model: ClassVar[bool] = False  # `load()` gives (torch model, tokenizer) for stages' own forwards (hf)

    def __init__(self, model: str):
        self.model = model  # model id/path, in the cache key
        self.cache_id = model  # the model identity in cache keys (hf/vllm add a weights fingerprint)
        self.label = self.name  # progress bar label (roles.LLM sets "<stage>/<role>")
        self.counters = {"retries": 0, "errors": 0}
        self.on_result = None  # set by roles.LLM: called as on_result(index, completion) as results arrive

    def _emit(self, index: int, completion: Completion) -> None:
        if self.on_result is not None:
            self.on_result(index, completion)

    @abc.abstractmethod
    def generate(self, conversations: list[Conversation], gen: GenConfig, task: Any,
                 sample_index: int = 0) -> list[Completion]:
        """One completion per conversation for sample `sample_index` (0..gen.n-1), reported through
        `_emit` as each arrives.

        `task` is the stages.tasks object the conversations were rendered with (e.g. a tasks.label.Label);
        model backends use only `str(task)`, its name, in progress bars; the rules backend answers each
        conversation with `task.rules_answer(values, user)` and never reads a task name.
        """

    def loglik(self, texts: list[str], max_tokens: int | None = None) -> list[dict[str, float]]:
        """Per text: {"nll_sum": float, "n_tokens": int, "ppl": float}.

        max_tokens: score only the first max_tokens tokens of each text (None: all).
        """
        raise NotImplementedError(f"{self.name} backend has no token log-likelihoods")

    def choice_logprobs(self, prompts: list[str], choices: list[str]) -> list[dict[str, float]]:
        """Per prompt {choice: log-probability of `choice` as the continuation of the prompt} for short
        choice strings (e.g. "A".."D"; the prompt is sent raw, no chat template)."""
        raise NotImplementedError(f"{self.name} backend has no choice log-probabilities")

    def load(self):
        """(torch model, tokenizer), loaded on first use; only where `torch_model` is true."""
        raise NotImplementedError(f"{self.name} backend has no in-process torch model")

    @classmethod
    def has_loglik(cls) -> bool:
        return cls.loglik is not Backend.loglik

    def close(self) -> None:
        pass

    @classmethod
    def options_model(cls):
        """The pydantic model of this backend's role options (GEN_OPTIONS + the keywords of `__init__`)."""
        if "_options_model" not in cls.__dict__:
            import pydantic  # here, not at import: bench/gpu_check.py runs with torch + transformers only

            hints = typing.get_type_hints(cls.__init__)
            fields: dict[str, Any] = {k: (type(v), v) for k, v in GEN_OPTIONS.items()}
            for p in inspect.signature(cls.__init__).parameters.values():
                if p.name in ("self", "model"):
                    continue
                if p.kind in (p.VAR_KEYWORD, p.VAR_POSITIONAL):
                    raise TypeError(f"{cls.__name__}.__init__ takes *{p.name}: declare each option as a keyword")
                fields[p.name] = (hints.get(p.name, Any), ... if p.default is p.empty else p.default)
            config = pydantic.ConfigDict(extra="forbid")
            cls._options_model = pydantic.create_model(f"{cls.__name__}Options", __config__=config, **fields)
        return cls._options_model
