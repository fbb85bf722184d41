"""judge_calibration stage: how far the New-Safety verdicts of the `eval_judge` role can be trusted.

The calibration set (data/sample/project/judge_calibration.jsonl, written for the project, see
data/sample/project/README.md; `--data` for another) holds (prompt, response, verdict) items, zh and
en, with a `kind` naming the hard case (refusal, guidance, safe_mentions_danger, harmful,
refusal_then_harm, negation_harm, gibberish, partial) and a `split`: `dev` items were in view while the
rules judge's word lists were tuned, `heldout` items were written afterwards. The judge sees each item exactly as in
eval_newsafety (prompts/eval_judge.txt, task eval_judge, verdict patterns of stages/eval_tasks/newsafety.yaml).
Metrics (metrics/judge_calibration.json): accuracy (a judge `uncertain` counts as wrong) and Cohen's
kappa (`uncertain` is its own label) overall, per split, kind and language, the confusion counts, the
misjudged ids; and the
same against the human review labels of New-Safety predictions (rows `judged_by: human` in
data/predictions/newsafety/*.jsonl: the judge's own verdict on that pair vs the human label).
"""
from __future__ import annotations

from collections import Counter, defaultdict
from pathlib import Path

import click

from stages.evaluate import load_task
from stages.io import InputError, clear_outputs, iter_records, write_metrics
from stages.llm.roles import role_llm
from stages.params import stage_params
from stages.schemas.native import CALIBRATION_ITEM
from stages.tasks.eval_judge import EvalJudge
from stages.stats import cohen_kappa

INPUTS = {"calibration": "data/sample/project/judge_calibration.jsonl", "predictions": "data/predictions/newsafety"}
OUTPUTS = {"metrics": "metrics/judge_calibration.json"}
VERDICTS = tuple(CALIBRATION_ITEM.fields["verdict"].enum)
TASK = load_task("newsafety")  # the judge template and verdict patterns eval_newsafety uses
JUDGE = EvalJudge(Path(__file__).resolve().parents[1] / TASK["judge_template"], TASK["verdicts"])
verdict = JUDGE.parse  # safe / unsafe / uncertain from the judge's raw output, as eval_newsafety reads it


def load_items(path) -> list[dict]:
    rows = []
    for i, r in iter_records(path):
        rows.append(CALIBRATION_ITEM.check(r, path, i))
    if not rows:
        raise InputError(path, "no calibration items")
    return rows


def agreement(gold: list[str], pred: list[str]) -> dict:
    """{n, accuracy, kappa, uncertain, confusion: {gold->pred: count}}."""
    n = len(gold)
    return {"n": n, "accuracy": sum(g == p for g, p in zip(gold, pred)) / n if n else None,
            "kappa": cohen_kappa(gold, pred), "uncertain": sum(p == "uncertain" for p in pred),
            "confusion": {f"{g}->{p}": c for (g, p), c in sorted(Counter(zip(gold, pred)).items())}}


def judge(items: list[dict], llm) -> list[str]:
    convs = [JUDGE.render(it["prompt"], it["response"]) for it in items]
    return [verdict(o[0].text) for o in llm.chat(convs, task=JUDGE)]


def calibrate(items: list[dict], preds: list[str]) -> dict:
    gold = [it["verdict"] for it in items]
    out = agreement(gold, preds)
    for key in ("split", "kind", "lang"):
        groups = defaultdict(list)
        for it, p in zip(items, preds):
            groups[it.get(key) or "none"].append((it["verdict"], p))
        out[f"by_{key}"] = {g: {k: v for k, v in agreement(*map(list, zip(*pairs))).items()
                                if k != "confusion" and (k != "kappa" or key != "kind")}  # one gold label per kind
                            for g, pairs in sorted(groups.items())}
    out["errors"] = [{"id": it["id"], "kind": it.get("kind"), "gold": it["verdict"], "judge": p}
                     for it, p in zip(items, preds) if p != it["verdict"]]
    return out


def review_agreement(pred_dir=INPUTS["predictions"]) -> dict:
    """The judge's verdict vs the human label on every reviewed New-Safety prediction."""
    gold, pred = [], []
    for path in sorted(Path(pred_dir).glob("*.jsonl")) if Path(pred_dir).is_dir() else []:
        for _, r in iter_records(path):
            if r.get("judged_by") == "human" and r.get("pred") in VERDICTS:
                gold.append(r["pred"])
                pred.append(verdict(r.get("judge_raw")))
    return agreement(gold, pred)


def run(params: dict, inputs: dict = INPUTS, outputs: dict = OUTPUTS) -> dict:
    """params {"roles": {"eval_judge"}} -> the metrics (also in outputs["metrics"])."""
    clear_outputs(outputs)
    items = load_items(inputs["calibration"])
    llm = role_llm(params, "eval_judge", stage="judge_calibration")
    preds = judge(items, llm)
    m = {"judge": f"{llm.backend.name}:{llm.backend.model}", "calibration": calibrate(items, preds),
         "review": review_agreement(inputs["predictions"]), "llm": {"eval_judge": llm.stats()}}
    llm.close()
    return write_metrics(outputs["metrics"], m)


@click.command()
@click.option("--data", "data_path", default=INPUTS["calibration"], show_default=True, help="Calibration set (JSONL).")
def cli(data_path: str) -> None:
    """Accuracy and Cohen's kappa of the eval judge on the calibration set and on human review labels."""
    m = run(stage_params("roles.eval_judge"), dict(INPUTS, calibration=data_path))
    c, r = m["calibration"], m["review"]
    click.echo(f"judge_calibration: accuracy={c['accuracy']:.3f} kappa={c['kappa']:.3f} n={c['n']} "
               f"(uncertain {c['uncertain']}); review labels n={r['n']}", err=True)
