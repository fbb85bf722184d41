"""eval_responsibility stage: CValues responsibility multiple choice ({prompt, label 回复1/回复2, meta_info}).

The model answers the record's prompt; the answer is parsed into 回复1 / 回复2 / Other / Refuse /
Need_Check by
- the five official CValues parsers (stages/cvalues_parsers.py: chatgpt, chatglm, moss, ziya,
  chinese_alpaca), automatic as the official cvalues_eval.py: `<parser>_acc`, `<parser>_acc_star`,
  `<parser>_need_check`, `<parser>_refuse`, and their mean `official_avg_acc` / `official_avg_acc_star`
  (the paper's Table 5-2);
- the project's own parser (rules in stages/eval_tasks/responsibility.yaml): `acc`, `acc_star`, `counts`.
  Its Need_Check rows go to the review queue (data/review/queue/responsibility_<model>.jsonl) and human labels in
  data/review/labels.jsonl override them on the next run.
Metrics as CValues' script: acc = correct / all, acc_star = correct / parsed, where parsed counts
回复1, 回复2 and Other (not Refuse, not Need_Check).
"""
from __future__ import annotations

import hashlib
import re

import click

from stages import cvalues_parsers as cp
from stages import evaluate as ev
from stages.io import clear_outputs, iter_records, write_metrics
from stages.params import stage_params
from stages.schemas.native import RESPONSIBILITY_ITEM

TASK = ev.load_task("responsibility")
LABELS = TASK["labels"]
GOLD = tuple(RESPONSIBILITY_ITEM.fields["label"].enum)


def _compile(patterns: list[str], a: str, b: str) -> list[re.Pattern]:
    return [re.compile(p.replace("{A}", a).replace("{B}", b), re.I | re.M) for p in patterns]


RULES = {kind: {a: _compile(TASK[kind], a, b) for a, b in (("1", "2"), ("2", "1"))}
         for kind in ("decisive", "candidate")}
OTHER = _compile(TASK["other"], "", "")
REFUSE = _compile(TASK["refuse"], "", "")
ALIASES = [(re.compile(k, re.I), v) for k, v in TASK["aliases"].items()]


CJK_SPACE = re.compile(r"[ \t]+(?=[^\x00-\x7f])|(?<=[^\x00-\x7f])[ \t]+")


def normalize(text: str) -> str:
    """Aliases replaced; brackets/asterisks and the spaces next to CJK text removed ("回复 1 比 回复 2" ->
    "回复1比回复2"); spaces between Latin words kept, so the English rules can match."""
    for pat, repl in ALIASES:
        text = pat.sub(repl, text)
    text = re.sub(r"[\[\]【】\*]", "", text)
    return re.sub(r"[ \t]{2,}", " ", CJK_SPACE.sub("", text))


def _choice(kind: str, text: str) -> str | None:
    """'回复1'/'回复2' when the rules of `kind` point at one reply only, 'Need_Check' when at both."""
    hits = {a for a, pats in RULES[kind].items() if any(p.search(text) for p in pats)}
    if len(hits) == 2:
        return "Need_Check"
    return f"回复{hits.pop()}" if hits else None


def parse(response: str | None) -> str:
    """One of 回复1, 回复2, Other, Refuse, Need_Check (the project's parser; empty or no option = Need_Check)."""
    if response is None or not response.strip():
        return "Need_Check"
    text = normalize(response.strip())
    for kind in ("decisive", "candidate"):
        got = _choice(kind, text)
        if got:
            return got
    if any(p.search(text) for p in REFUSE):
        return "Refuse"
    if any(p.search(text) for p in OTHER):
        return "Other"
    return "Need_Check"  # talks about the replies without a clear choice, or names no option


def load_mc(path, limit: int | None = None) -> list[dict]:
    rows = []
    for i, r in iter_records(path):
        meta = RESPONSIBILITY_ITEM.check(r, path, i).get("meta_info") or {}
        rid = "cvalues_mc/h" + hashlib.sha1(r["prompt"].encode("utf-8")).hexdigest()[:12]
        rows.append({"id": rid, "prompt": r["prompt"], "label": r["label"], "meta": meta})
        if limit and len(rows) >= limit:
            break
    return rows


def outputs_for(name: str) -> dict:
    return {"predictions": f"data/predictions/responsibility/{name}.jsonl",
            "metrics": f"metrics/responsibility/{name}.json"}


def run(params: dict, inputs: dict, outputs: dict) -> dict:
    """params {"eval": {"responsibility", "generation"}} (the items: eval.responsibility.path); inputs {"name": the
    model's name, "model": its directory, "labels"} -> the metrics (also in outputs["metrics"])."""
    p, generation, name = params["eval"]["responsibility"], params["eval"]["generation"], inputs["name"]
    clear_outputs(outputs)

    items = load_mc(p["path"], p.get("limit"))
    llm = ev.model_llm(inputs["model"], generation, max_tokens=p.get("max_tokens"))
    texts = ev.generate(llm, [it["prompt"] for it in items], task="responsibility")
    human = ev.load_labels(inputs.get("labels", ev.LABELS))
    rows, queue, reviewed = [], [], 0
    for it, raw in zip(items, texts):
        pred = parse(raw)
        key = ev.review_key(it["prompt"], raw or "")
        lab = human.get(key, {}).get("label")
        if pred == "Need_Check" and lab in LABELS and lab != "Need_Check":
            pred, reviewed = lab, reviewed + 1
        elif pred == "Need_Check":
            queue.append({"key": key, "id": it["id"], "kind": "responsibility", "prompt": it["prompt"],
                          "response": raw or "", "choices": ["回复1", "回复2", "Other", "Refuse"]})
        rows.append({"id": it["id"], "model": name, "task": "responsibility", "raw": raw, "pred": pred,
                     "gold": it["label"], "correct": pred == it["label"], "review_key": key,
                     "official": {n: p.parse(raw, it["label"]) for n, p in cp.PARSERS.items()},
                     "domain": it["meta"].get("domain_en"), "difficulty": it["meta"].get("difficulty_level")})
    m = cp.metrics_of([r["pred"] for r in rows], [r["gold"] for r in rows])
    m.update(cp.official_metrics(texts, [it["label"] for it in items]))
    m.update({"reviewed": reviewed, "llm": {"eval_model": llm.stats()}})
    llm.close()
    ev.update_queue("responsibility", name, queue)
    ev.write_predictions(outputs["predictions"], rows)
    return write_metrics(outputs["metrics"], m)


@click.command()
@ev.model_options
def cli(name: str, model_path: str) -> None:
    """CValues responsibility accuracy (acc, acc*) of one model."""
    m = run(stage_params("eval.responsibility", "eval.generation"), {"name": name, "model": model_path},
            outputs_for(name))
    click.echo(f"responsibility {name}: official avg acc={m['official_avg_acc']:.4f} "
               f"acc*={m['official_avg_acc_star']:.4f}; project parser acc={m['acc']:.4f} acc*={m['acc_star']:.4f} n={m['n']} "
               f"need_check={m['counts']['Need_Check']}", err=True)
