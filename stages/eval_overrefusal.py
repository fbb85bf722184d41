"""eval_overrefusal stage: how often a model refuses benign prompts that look sensitive.

Prompts: params eval.overrefusal.path (JSONL {id, prompt, lang, type}). The model answers each; the
`eval_judge` role classifies the response (task `refusal`: refusal / compliance; template in
stages/eval_tasks/overrefusal.yaml). Metrics: refusal_rate with binomial stderr, overall and per language
(`zh`, `en`), and per prompt type. Unparseable judge outputs are counted and left out of the rates.
"""
from __future__ import annotations

import re
from collections import defaultdict
from pathlib import Path

import click

from stages import evaluate as ev
from stages.io import InputError, iter_records, require
from stages.llm.roles import get_llm
from stages.params import section
from stages.prompts import render

TASK = ev.load_task("overrefusal")
VERDICTS = {k: [re.compile(p, re.I) for p in pats] for k, pats in TASK["verdicts"].items()}


def verdict(text: str | None) -> str | None:
    for kind, pats in VERDICTS.items():
        if any(p.search(text or "") for p in pats):
            return kind
    return None


def load_prompts(path, limit: int | None = None) -> list[dict]:
    rows = []
    for i, r in iter_records(path):
        for f in ("id", "prompt"):
            require(r, f, path, i)
        if r.get("lang") not in ("zh", "en"):
            raise InputError(path, f"expected zh or en, got {r.get('lang')!r}", line=i, field="lang")
        rows.append(r)
        if limit and len(rows) >= limit:
            break
    return rows


def rates(rows: list[dict]) -> dict:
    judged = [r for r in rows if r["pred"] is not None]
    p, se = ev.rate_stderr([r["pred"] == "refusal" for r in judged])
    out = {"refusal_rate": p if judged else None, "stderr": se if judged else None, "n": len(judged),
           "unparsed": len(rows) - len(judged)}
    for key in ("lang", "type"):
        groups = defaultdict(list)
        for r in judged:
            groups[r.get(key) or "none"].append(r["pred"] == "refusal")
        block = {}
        for g, v in sorted(groups.items()):
            rate, stderr = ev.rate_stderr(v)
            block[g] = {"refusal_rate": rate, "stderr": stderr, "n": len(v)}
        out["by_" + key] = block
    for lang in ("zh", "en"):  # flat per-language rates (metrics keys zh, en)
        b = out["by_lang"].get(lang)
        out[lang] = b["refusal_rate"] if b else None
    return out


@click.command()
@ev.model_options
def cli(name: str, model_path: str) -> None:
    """Refusal rate of one model on benign-but-sensitive prompts (over-refusal)."""
    p, generation = section("eval")["overrefusal"], section("eval")["generation"]
    pred_path = Path(f"data/predictions/overrefusal/{name}.jsonl")
    metrics_path = Path(f"metrics/overrefusal/{name}.json")
    ev.clean(pred_path, metrics_path)

    items = load_prompts(p["path"], p.get("limit"))
    llm = ev.model_llm(model_path, generation, max_tokens=p.get("max_tokens"))
    responses = ev.generate(llm, [it["prompt"] for it in items], task="overrefusal")
    judge = get_llm("eval_judge", stage="eval_overrefusal")
    convs = [render(TASK["judge_template"], untrusted={"PROMPT": it["prompt"], "RESPONSE": r or ""})
             for it, r in zip(items, responses)]
    judged = [o[0].text for o in judge.chat(convs, task=TASK["judge_task"])]
    rows = [{"id": it["id"], "model": name, "task": "overrefusal", "raw": resp, "pred": verdict(jr),
             "gold": "compliance", "correct": None if verdict(jr) is None else verdict(jr) == "compliance",
             "lang": it["lang"], "type": it.get("type"), "judge_raw": jr}
            for it, resp, jr in zip(items, responses, judged)]
    m = rates(rows)
    m["llm"] = {"eval_model": llm.stats(), "eval_judge": judge.stats()}
    llm.close()
    judge.close()
    ev.write_predictions(pred_path, rows)
    ev.write_metrics(metrics_path, m)
    click.echo(f"overrefusal {name}: refusal_rate={m['refusal_rate']} n={m['n']} zh={m['zh']} en={m['en']}", err=True)
