"""Shared helpers of the evaluation stages: the evaluated model as an LLM, option-letter logits,
bootstrap CIs, predictions/metrics writing, eval task declarations and the human review queue/labels.

Every eval stage runs once per model (`--name base|sft --model PATH`, dvc.yaml foreach over
params eval.models); the model is a local HF directory generated through the LLM layer
(`stages.llm.roles.make_llm`, so outputs are cached) with params `eval.generation`.
"""
from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import math
import os
from pathlib import Path
from typing import Any, Iterable

import click
import numpy as np
import yaml

from stages.io import InputError, atomic_open, iter_records, read_jsonl, require, write_json, write_jsonl

TASKS_DIR = Path(__file__).with_name("eval_tasks")
QUEUE = Path("data/review/queue")  # one file per (eval, model): a declared out of that stage
LABELS = Path("data/review/labels.jsonl")
GEN_KEYS = ("max_tokens", "temperature", "top_p", "seed", "batch_size", "dtype")


def model_options(f):
    """The `--name` / `--model` options every eval stage takes."""
    f = click.option("--model", "model_path", required=True, help="Local HF model directory to evaluate.")(f)
    return click.option("--name", required=True, help="Model name used in output paths (base, sft, ...).")(f)


def load_task(name: str) -> dict[str, Any]:
    """An eval task declaration: stages/eval_tasks/<name>.yaml (templates, extraction regexes, metric)."""
    path = TASKS_DIR / f"{name}.yaml"
    with open(path, encoding="utf-8") as f:
        return yaml.safe_load(f)


def model_llm(model_path: str, generation: dict, name: str = "eval_model", max_tokens: int | None = None):
    """An hf-backend LLM for a local model directory with the generation params of eval.generation
    (`max_tokens`: an eval's own override, e.g. eval.responsibility.max_tokens)."""
    from stages.llm.roles import make_llm

    if not Path(model_path).is_dir():
        raise InputError(model_path, "model directory not found")
    if max_tokens:
        generation = {**generation, "max_tokens": int(max_tokens)}
    spec = {"backend": "hf", "model": str(model_path), "dtype": generation.get("dtype", "float32")}
    spec.update({k: generation[k] for k in GEN_KEYS if k in generation and k != "dtype"})
    return make_llm(spec, name=name, stage="eval")


def user_convs(prompts: Iterable[str], system: str | None = None) -> list[list[dict]]:
    pre = [{"role": "system", "content": system}] if system else []
    return [pre + [{"role": "user", "content": p}] for p in prompts]


def generate(llm, prompts: list[str], task: str) -> list[str | None]:
    """One greedy/sampled response per prompt (None where the call failed)."""
    outs = llm.chat(user_convs(prompts), task=task)
    return [o[0].text for o in outs]


class OptionScorer:
    """Next-token logits of option letters after a prompt (SafetyBench's CLP method), with transformers.

    Batched with left padding, so the last position is the next token for every row.
    """

    def __init__(self, model_path: str, dtype: str = "float32", batch_size: int = 8, max_length: int = 2048):
        import torch
        from transformers import AutoModelForCausalLM, AutoTokenizer

        self.torch = torch
        self.tok = AutoTokenizer.from_pretrained(model_path)
        self.tok.padding_side = "left"
        self.tok.truncation_side = "left"  # over-long prompts lose their start, never the question
        if self.tok.pad_token is None:
            self.tok.pad_token = self.tok.eos_token
        self.model = AutoModelForCausalLM.from_pretrained(model_path, dtype=getattr(torch, dtype)).eval()
        self.batch_size, self.max_length = int(batch_size), max_length

    def letter_ids(self, letters: str) -> list[int]:
        return [self.tok(x, add_special_tokens=False)["input_ids"][0] for x in letters]

    def score(self, prompts: list[str], letters: str = "ABCD", progress: bool = True) -> list[list[float]]:
        """Per prompt, the next-token logit of each letter."""
        from tqdm import tqdm

        ids = self.letter_ids(letters)
        order = sorted(range(len(prompts)), key=lambda i: len(prompts[i]))  # similar lengths per batch
        out: list[list[float] | None] = [None] * len(prompts)
        starts = range(0, len(order), self.batch_size)
        for s in tqdm(starts, desc="option logits", unit="batch", disable=not progress):
            idx = order[s:s + self.batch_size]
            enc = self.tok([prompts[i] for i in idx], return_tensors="pt", padding=True, truncation=True,
                           max_length=self.max_length)
            with self.torch.no_grad():  # logits of the last position only (not [batch, len, vocab])
                logits = self.model(**enc, logits_to_keep=1).logits[:, -1, :]
            for row, i in enumerate(idx):
                out[i] = [float(logits[row, t]) for t in ids]
        return out  # type: ignore[return-value]


def bootstrap_ci(values: list[float], seed: int = 0, n_boot: int = 1000, alpha: float = 0.05) -> tuple[float, float]:
    """Percentile bootstrap CI of the mean (seeded); (nan, nan) for no values."""
    v = np.asarray(values, dtype=float)
    if v.size == 0:
        return float("nan"), float("nan")
    rng = np.random.default_rng(seed)
    means = v[rng.integers(0, v.size, size=(n_boot, v.size))].mean(axis=1)
    lo, hi = np.quantile(means, [alpha / 2, 1 - alpha / 2])
    return float(lo), float(hi)


def rate_stderr(flags: list[bool]) -> tuple[float, float]:
    """Proportion and its binomial standard error."""
    n = len(flags)
    if n == 0:
        return float("nan"), float("nan")
    p = sum(bool(x) for x in flags) / n
    return p, math.sqrt(p * (1 - p) / n)


def clean(*paths) -> None:
    """Delete a stage's declared outputs at its start (no stale output survives a failure)."""
    for p in paths:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(p)


def validate_predictions(rows: list[dict], source: str) -> None:
    """Check rows against the `predictions` schema (its Great Expectations suite)."""
    from stages.schemas import validate_rows

    validate_rows(rows, "predictions", source)


def write_predictions(path, rows: list[dict]) -> None:
    validate_predictions(rows, str(path))
    write_jsonl(path, rows)


def write_metrics(path, metrics: dict) -> None:
    write_json(path, metrics)


# ---- human review: queue of undecided rows, labels that override the automatic verdict ----

def review_key(prompt: str, response: str) -> str:
    """Key of a (prompt, response) pair in labels.jsonl."""
    return hashlib.sha256(f"{prompt}\x00{response}".encode("utf-8")).hexdigest()[:16]


def load_labels(path=LABELS) -> dict[str, dict]:
    """key -> last label row (later rows win)."""
    path = Path(path)
    if not path.exists():
        return {}
    labels = {}
    for i, row in iter_records(path):
        for f in ("key", "label"):
            require(row, f, path, i, allow_empty=True)
        labels[row["key"]] = row
    return labels


@contextlib.contextmanager
def locked(path: Path):
    """Exclusive lock on `<path>.lock` (queue/labels are shared by several stages and `review`)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(str(path) + ".lock", "w") as f:
        fcntl.flock(f, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(f, fcntl.LOCK_UN)


def queue_file(eval_name: str, model: str, folder=QUEUE) -> Path:
    """This (eval, model)'s review queue: <folder>/<eval>_<model>.jsonl, an out of that eval stage."""
    return Path(folder) / f"{eval_name}_{model}.jsonl"


def read_queue(folder=QUEUE) -> list[dict]:
    """Every queued row: the files of a queue folder (or one queue file), in name order."""
    folder = Path(folder)
    files = sorted(folder.glob("*.jsonl")) if folder.is_dir() else [folder] if folder.exists() else []
    return [r for f in files for r in read_jsonl(f)]


def update_queue(eval_name: str, model: str, items: list[dict], path=QUEUE) -> None:
    """Write this (eval, model)'s review queue file (always, empty when nothing is undecided)."""
    write_jsonl(queue_file(eval_name, model, path), [dict(it, eval=eval_name, model=model) for it in items])


def append_label(row: dict, path=LABELS) -> None:
    """Append one label row atomically (rewrite through a temp file under the lock)."""
    path = Path(path)
    with locked(path):
        old = path.read_text(encoding="utf-8") if path.exists() else ""
        if old and not old.endswith("\n"):
            old += "\n"
        with atomic_open(path) as f:
            f.write(old + json.dumps(row, ensure_ascii=False) + "\n")
