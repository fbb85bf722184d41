"""eval_newsafety stage: New-Safety (14 categories) generation + judge + human review (paper 4.3, item 2).

The evaluated model answers every prompt of data/eval/newsafety.jsonl; the `eval_judge` role labels each
(prompt, response) safe / unsafe / uncertain (template prompts/eval_judge.txt, task `eval_judge`).
`uncertain` rows go to the review queue (data/review/queue/newsafety_<model>.jsonl, `mseed review`); a human label in
data/review/labels.jsonl (key = hash of prompt + response) overrides the judge on the next run.
Score = share of safe responses per category and overall, with seeded bootstrap 95% CIs.
"""
from __future__ import annotations

import re
from collections import defaultdict
from pathlib import Path

import click

from stages import evaluate as ev
from stages import stats
from stages.io import iter_records
from stages.llm.roles import get_llm
from stages.params import section
from stages.prompts import render
from stages.schemas.native import NEWSAFETY_ITEM
from stages.taxonomy import CODES

TASK = ev.load_task("newsafety")
DATA = Path("data/eval/newsafety.jsonl")
TEMPLATE = Path(__file__).resolve().parents[1] / TASK["judge_template"]
VERDICTS = {k: [re.compile(p, re.I) for p in pats] for k, pats in TASK["verdicts"].items()}


def verdict(judge_output: str | None) -> str:
    """safe / unsafe / uncertain from the judge's raw output."""
    text = judge_output or ""
    for kind, pats in VERDICTS.items():
        if any(p.search(text) for p in pats):
            return kind
    return "uncertain"


def load_set(path=DATA) -> list[dict]:
    rows = []
    for i, r in iter_records(path):
        rows.append(NEWSAFETY_ITEM.check(r, path, i))
    return rows


def summarize(rows: list[dict], seed: int, n_boot: int, alpha: float) -> dict:
    """overall + per-category {safe_rate, ci_low, ci_high, n}."""
    def block(flags):
        if not flags:
            return {"safe_rate": None, "ci_low": None, "ci_high": None, "n": 0}
        lo, hi = stats.bootstrap_ci(flags, seed=seed, n_boot=n_boot, alpha=alpha)
        return {"safe_rate": sum(flags) / len(flags), "ci_low": lo, "ci_high": hi, "n": len(flags)}

    per = defaultdict(list)
    for r in rows:
        per[r["category"]].append(1.0 if r["pred"] == "safe" else 0.0)
    cats = [c for c in CODES if c in per] + sorted(c for c in per if c not in CODES)
    return {"overall": block([x for c in cats for x in per[c]]), "categories": {c: block(per[c]) for c in cats}}


@click.command()
@ev.model_options
def cli(name: str, model_path: str) -> None:
    """New-Safety safe-response rate per category of one model (judge + human review)."""
    p, generation = section("eval")["newsafety"], section("eval")["generation"]
    pred_path = Path(f"data/predictions/newsafety/{name}.jsonl")
    metrics_path = Path(f"metrics/newsafety/{name}.json")
    ev.clean(pred_path, metrics_path)

    items = load_set(DATA)
    llm = ev.model_llm(model_path, generation, max_tokens=p.get("max_tokens"))
    responses = ev.generate(llm, [it["prompt"] for it in items], task="newsafety")
    judge = get_llm("eval_judge", stage="eval_newsafety")
    convs = [render(TEMPLATE, untrusted={"PROMPT": it["prompt"], "RESPONSE": r or ""})
             for it, r in zip(items, responses)]
    judged = [o[0].text for o in judge.chat(convs, task=TASK["judge_task"])]

    human = ev.load_labels()
    rows, queue, reviewed = [], [], 0
    for it, resp, jr in zip(items, responses, judged):
        pred, key = verdict(jr), ev.review_key(it["prompt"], resp or "")
        label = human.get(key, {}).get("label")
        by = "judge"
        if label in ("safe", "unsafe"):
            by, pred, reviewed = "human", label, reviewed + 1
        elif pred == "uncertain":
            queue.append({"key": key, "id": it["id"], "kind": "newsafety", "category": it["category"],
                          "prompt": it["prompt"], "response": resp or "", "choices": ["safe", "unsafe"]})
        rows.append({"id": it["id"], "model": name, "task": "newsafety", "raw": resp, "pred": pred, "gold": None,
                     "correct": None, "category": it["category"], "lang": it.get("lang"),
                     "source": it.get("source"), "judge_raw": jr, "judged_by": by, "review_key": key})
    b = TASK["bootstrap"]
    m = summarize(rows, int(p.get("seed", 0)), int(b["n"]), float(b["alpha"]))
    m.update({"uncertain": sum(r["pred"] == "uncertain" for r in rows), "reviewed": reviewed,
              "llm": {"eval_model": llm.stats(), "eval_judge": judge.stats()}})
    llm.close()
    judge.close()
    ev.update_queue("newsafety", name, queue)
    ev.write_predictions(pred_path, rows)
    ev.write_metrics(metrics_path, m)
    o = m["overall"]
    click.echo(f"newsafety {name}: safe_rate={o['safe_rate']} CI=[{o['ci_low']}, {o['ci_high']}] n={o['n']} "
               f"uncertain={m['uncertain']} reviewed={m['reviewed']}", err=True)
