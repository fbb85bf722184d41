"""Shared helpers of the evaluation stages: the evaluated model as an LLM, option-letter logits,
predictions writing, eval task declarations and the human review queue/labels.

Every eval stage runs once per model (`--name base|sft --model PATH`, dvc.yaml foreach over
params eval.models); the model is a local HF directory generated through the LLM layer
(`stages.llm.roles.make_llm`, so outputs are cached) with params `eval.generation`.
"""
from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
from pathlib import Path
from typing import Any, Iterable

import click
import yaml

from stages.io import InputError, atomic_open, iter_records, write_jsonl
from stages.schemas.native import REVIEW_LABEL

TASKS_DIR = Path(__file__).with_name("eval_tasks")
QUEUE = Path("data/review/queue")  # one file per (eval, model): a declared out of that stage
LABELS = Path("data/review/labels.jsonl")
GEN_KEYS = ("max_tokens", "temperature", "top_p", "seed", "batch_size", "dtype", "device")


def model_options(f):
    """The `--name` / `--model` options every eval stage takes."""
    f = click.option("--model", "model_path", required=True, help="Local HF model directory to evaluate.")(f)
    return click.option("--name", required=True, help="Model name used in output paths (base, sft, ...).")(f)


def load_task(name: str) -> dict[str, Any]:
    """An eval task declaration: stages/eval_tasks/<name>.yaml (templates, extraction regexes, metric)."""
    path = TASKS_DIR / f"{name}.yaml"
    with open(path, encoding="utf-8") as f:
        return yaml.safe_load(f)


def model_llm(model_path: str, generation: dict, name: str = "eval_model", max_tokens: int | None = None,
              chat_template: bool = True, batch_size: int | None = None):
    """An hf-backend LLM for a local model directory with the generation params of eval.generation
    (`device`: the role's device, default cuda when available; `max_tokens`: an eval's own override,
    e.g. eval.responsibility.max_tokens; `batch_size`: an eval's own decoding slots, e.g.
    eval.newsafety.batch_size; `chat_template=False`: the prompt is sent raw, as SafetyBench's
    official generation does)."""
    from stages.llm.roles import make_llm

    if not Path(model_path).is_dir():
        raise InputError(model_path, "model directory not found")
    if max_tokens:
        generation = {**generation, "max_tokens": int(max_tokens)}
    if batch_size:
        generation = {**generation, "batch_size": int(batch_size)}
    spec = {"backend": "hf", "model": str(model_path), "dtype": generation.get("dtype", "float32")}
    spec.update({k: generation[k] for k in GEN_KEYS if k in generation and k != "dtype"})
    if not chat_template:
        spec["chat_template"] = False
    return make_llm(spec, name=name, stage="eval")


def user_convs(prompts: Iterable[str], system: str | None = None) -> list[list[dict]]:
    pre = [{"role": "system", "content": system}] if system else []
    return [pre + [{"role": "user", "content": p}] for p in prompts]


def generate(llm, prompts: list[str], task: str) -> list[str | None]:
    """One greedy/sampled response per prompt (None where the call failed)."""
    outs = llm.chat(user_convs(prompts), task=task)
    return [o[0].text for o in outs]


def answer_and_judge(llm, judge, items: list[dict], task: str, judge_task) -> tuple[list, list, dict]:
    """The model under test (`llm`) answers each item's prompt, then `judge` judges every (prompt, answer)
    with `judge_task`. Returns (answers, the judge's raw outputs, {"eval_model": stats, "eval_judge": stats});
    both LLMs are closed."""
    responses = generate(llm, [it["prompt"] for it in items], task=task)
    convs = [judge_task.render(it["prompt"], r or "") for it, r in zip(items, responses)]
    judged = [o[0].text for o in judge.chat(convs, task=judge_task)]
    stats = {"eval_model": llm.stats(), "eval_judge": judge.stats()}
    llm.close()
    judge.close()
    return responses, judged, stats


class OptionScorer:
    """SafetyBench's CLP method: the log-probability of each option letter as the continuation of the raw
    prompt, through the LLM layer (`LLM.choice_logprobs`: cached, counted, model and inputs on `device`;
    None: cuda when available). `llm.stats()` has the counters."""

    def __init__(self, model_path: str, dtype: str = "float32", batch_size: int = 8, device: str | None = None):
        gen = {"dtype": dtype, "batch_size": int(batch_size), **({"device": device} if device else {})}
        self.llm = model_llm(model_path, gen)

    def score(self, prompts: list[str], letters: str = "ABCD") -> list[list[float]]:
        """Per prompt, the log-probability of each letter (argmax = the next-token logit argmax)."""
        got = self.llm.choice_logprobs(list(prompts), list(letters))
        return [[r[x] for x in letters] for r in got]

    def close(self) -> None:
        self.llm.close()


def validate_predictions(rows: list[dict], source: str) -> None:
    """Check rows against the `predictions` schema (its Great Expectations suite)."""
    from stages.schemas import validate_rows

    validate_rows(rows, "predictions", source)


def write_predictions(path, rows: list[dict]) -> None:
    validate_predictions(rows, str(path))
    write_jsonl(path, rows)


# ---- human review: queue of undecided rows, labels that override the automatic verdict ----

def review_key(prompt: str, response: str) -> str:
    """Key of a (prompt, response) pair in labels.jsonl."""
    return hashlib.sha256(f"{prompt}\x00{response}".encode("utf-8")).hexdigest()[:16]


LABEL_VALUES = {"newsafety": ("safe", "unsafe"), "responsibility": ("回复1", "回复2", "Other", "Refuse")}


def load_labels(path=LABELS) -> dict[str, dict]:
    """key -> last label row (later rows win). A label value its eval does not know is an InputError."""
    path = Path(path)
    if not path.exists():
        return {}
    labels = {}
    known = sorted({v for vs in LABEL_VALUES.values() for v in vs})
    for i, row in iter_records(path):
        REVIEW_LABEL.check(row, path, i)
        allowed = list(LABEL_VALUES.get(row.get("eval"), known))
        if row["label"] not in allowed:
            raise InputError(path, f"label {row['label']!r} is not one of {allowed} (case matters); correct it, or "
                                   f"delete the line and label the row again with `mseed review`", line=i, field="label")
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


def iter_queue(folder=QUEUE):
    """`(file, line, row)` of every queued row: the files of a queue folder (or one queue file), in name order."""
    folder = Path(folder)
    files = sorted(folder.glob("*.jsonl")) if folder.is_dir() else [folder] if folder.exists() else []
    for f in files:
        for line, r in iter_records(f):
            yield f, line, r


def read_queue(folder=QUEUE) -> list[dict]:
    """Every queued row (see `iter_queue`)."""
    return [r for _, _, r in iter_queue(folder)]


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
