"""`mseed review`: label the review queue by hand in the terminal.

The queue (data/review/queue/<eval>_<model>.jsonl, one file per eval stage) holds rows the automatic evaluation could not decide: New-Safety
responses the judge called `uncertain`, CValues responsibility answers parsed as Need_Check. Each
decision is appended to data/review/labels.jsonl (tracked; key = hash of prompt + response) at once and
atomically, so quitting loses nothing; the next `dvc repro` of the eval stages uses the labels.
Keys: newsafety  s = safe, u = unsafe;  responsibility  1 = 回复1, 2 = 回复2, o = Other, r = Refuse;
always  k = skip, q = quit.
"""
from __future__ import annotations

import datetime as dt
from pathlib import Path

import click

from stages import evaluate as ev
from stages.io import InputError
from stages.schemas.native import REVIEW_QUEUE

KEYS = {
    "newsafety": {"s": "safe", "u": "unsafe"},
    "responsibility": {"1": "回复1", "2": "回复2", "o": "Other", "r": "Refuse"},
}
assert {k: tuple(v.values()) for k, v in KEYS.items()} == ev.LABEL_VALUES


def show(item: dict, i: int, total: int) -> None:
    click.echo(click.style(f"\n[{i}/{total}] {item.get('eval')} / {item.get('model')} / {item.get('id')}"
                           + (f" / {item['category']}" if item.get("category") else ""), bold=True))
    click.echo(click.style("PROMPT:", fg="cyan") + "\n" + item.get("prompt", ""))
    click.echo(click.style("RESPONSE:", fg="yellow") + "\n" + item.get("response", ""))


@click.command()
@click.option("--queue", "queue_path", default=str(ev.QUEUE), show_default=True, type=click.Path())
@click.option("--labels", "labels_path", default=str(ev.LABELS), show_default=True, type=click.Path())
@click.option("--eval", "eval_name", type=click.Choice(sorted(KEYS)), help="Only this evaluation's rows.")
@click.option("--model", "model", help="Only this model's rows (base, sft, ...).")
def cli(queue_path: str, labels_path: str, eval_name: str | None, model: str | None) -> None:
    """Label undecided evaluation rows by hand (appends to data/review/labels.jsonl)."""
    if not Path(queue_path).exists():
        click.echo(f"review: no queue at {queue_path} (run the eval stages first)")
        return
    done = ev.load_labels(labels_path)
    todo, seen = [], set()
    for qf, line, r in ev.iter_queue(queue_path):
        kind = REVIEW_QUEUE.check(r, qf, line)["kind"]
        if kind not in KEYS:
            raise InputError(qf, f"unknown kind {kind!r}, expected one of {sorted(KEYS)}; re-run the eval "
                              f"stages to rebuild the queue", line=line, field="kind")
        if r["key"] in done or r["key"] in seen:
            continue
        if (eval_name and r.get("eval") != eval_name) or (model and r.get("model") != model):
            continue
        seen.add(r["key"])
        todo.append(r)
    if not todo:
        click.echo("review: nothing to label")
        return
    labeled = skipped = 0
    for i, item in enumerate(todo, 1):
        keys = KEYS[item["kind"]]
        show(item, i, len(todo))
        help_ = ", ".join(f"{k}={v}" for k, v in keys.items()) + ", k=skip, q=quit"
        key = click.prompt(f"label ({help_})", type=click.Choice([*keys, "k", "q"]), show_choices=False)
        if key == "q":
            break
        if key == "k":
            skipped += 1
            continue
        ev.append_label({"key": item["key"], "label": keys[key], "eval": item.get("eval"), "model": item.get("model"),
                         "id": item.get("id"), "at": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")},
                        labels_path)
        labeled += 1
    click.echo(f"review: {labeled} labeled, {skipped} skipped, {len(todo) - labeled - skipped} left")
