"""eval_overrefusal stage: how often a model refuses benign prompts that look sensitive.

Prompts: params eval.overrefusal.path (JSONL {id, prompt, lang, type}). The model answers each; the
`eval_judge` role classifies the response (task `refusal`, stages/tasks/refusal.py: refusal / compliance;
template in stages/eval_tasks/overrefusal.yaml). Metrics: refusal_rate with binomial stderr, overall and per language
(`zh`, `en`), and per prompt type. Unparseable judge outputs are counted and left out of the rates.
"""
from __future__ import annotations

from collections import defaultdict

import click

from stages import evaluate as ev
from stages import stats
from stages.io import clear_outputs, iter_records, write_metrics
from stages.llm.roles import role_llm
from stages.params import stage_params
from stages.schemas.native import OVERREFUSAL_ITEM
from stages.tasks.refusal import Refusal

TASK = ev.load_task("overrefusal")
JUDGE = Refusal(TASK["judge_template"], TASK["verdicts"])
verdict = JUDGE.parse  # refusal / compliance, None when the judge's output names neither


def load_prompts(path, limit: int | None = None) -> list[dict]:
    rows = []
    for i, r in iter_records(path):
        rows.append(OVERREFUSAL_ITEM.check(r, path, i))
        if limit and len(rows) >= limit:
            break
    return rows


def rates(rows: list[dict]) -> dict:
    judged = [r for r in rows if r["pred"] is not None]
    p, se = stats.rate_stderr([r["pred"] == "refusal" for r in judged])
    out = {"refusal_rate": p if judged else None, "stderr": se if judged else None, "n": len(judged),
           "unparsed": len(rows) - len(judged)}
    for key in ("lang", "type"):
        groups = defaultdict(list)
        for r in judged:
            groups[r.get(key) or "none"].append(r["pred"] == "refusal")
        block = {}
        for g, v in sorted(groups.items()):
            rate, stderr = stats.rate_stderr(v)
            block[g] = {"refusal_rate": rate, "stderr": stderr, "n": len(v)}
        out["by_" + key] = block
    for lang in ("zh", "en"):  # flat per-language rates (metrics keys zh, en)
        b = out["by_lang"].get(lang)
        out[lang] = b["refusal_rate"] if b else None
    return out


def outputs_for(name: str) -> dict:
    return {"predictions": f"data/predictions/overrefusal/{name}.jsonl", "metrics": f"metrics/overrefusal/{name}.json"}


def run(params: dict, inputs: dict, outputs: dict) -> dict:
    """params {"eval": {"overrefusal", "generation"}, "roles": {"eval_judge"}} (the prompts: eval.overrefusal.path);
    inputs {"name": the model's name, "model": its directory} -> the metrics (also in outputs["metrics"])."""
    p, name = params["eval"]["overrefusal"], inputs["name"]
    clear_outputs(outputs)

    items = load_prompts(p["path"], p.get("limit"))
    llm = ev.model_llm(inputs["model"], params["eval"]["generation"], max_tokens=p.get("max_tokens"),
                       batch_size=p.get("batch_size"))
    judge = role_llm(params, "eval_judge", stage="eval_overrefusal")
    responses, judged, llm_stats = ev.answer_and_judge(llm, judge, items, "overrefusal", JUDGE)
    preds = [verdict(jr) for jr in judged]
    rows = [{"id": it["id"], "model": name, "task": "overrefusal", "raw": resp, "pred": pred,
             "gold": "compliance", "correct": None if pred is None else pred == "compliance",
             "lang": it["lang"], "type": it.get("type"), "judge_raw": jr}
            for it, resp, jr, pred in zip(items, responses, judged, preds)]
    m = rates(rows)
    m["llm"] = llm_stats
    ev.write_predictions(outputs["predictions"], rows)
    return write_metrics(outputs["metrics"], m)


@click.command()
@ev.model_options
def cli(name: str, model_path: str) -> None:
    """Refusal rate of one model on benign-but-sensitive prompts (over-refusal)."""
    m = run(stage_params("eval.overrefusal", "eval.generation", "roles.eval_judge"), {"name": name, "model": model_path},
            outputs_for(name))
    click.echo(f"overrefusal {name}: refusal_rate={m['refusal_rate']} n={m['n']} zh={m['zh']} en={m['en']}", err=True)
