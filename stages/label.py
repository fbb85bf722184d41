"""Stage `label`: multi-intent recognition of safety prompts (paper 3.4).

The `labeler` role labels every prompt (params `label.mode`, see stages/labeler.py): `free` gives free-form
safety-theme labels (the paper's prompt; several allowed), `closed` has the model choose among the 14
category names (log-likelihood ranking where the backend has it). Each label is normalised into the
14-code taxonomy through taxonomy.normalize_label; a label with no match is kept (in `intent_labels`,
code `other` in `intent_codes`). The record's native codes (`native_codes` from collect: native category,
attack method, source category) are strong evidence and take precedence:

    categories = the native codes (map_native(format, native_category) for older files), then the LLM codes
    category   = categories[0]  (native primary first, else the first LLM code), `other` when empty

An output that yields no label (empty, garbage, a sentence, a generation error) is flagged with
`label_parse_error` and the record is kept with the native categories only. When more than
`max_error_rate` (default 0.05) of the labeler calls fail after their retries, the stage fails and
writes nothing.

metrics/label.json also gives, per source and overall, the labeler's agreement with the native codes
(stages/agreement.py: precision, recall, Cohen's kappa, the chance baseline) and the parse-error share.

Reads: data/collect/safety.jsonl, params `label`, role `labeler`, the prompt templates.
Writes: data/label/labeled.jsonl, metrics/label.json, metrics/plots/label_categories.csv,
metrics/plots/label_top_labels.csv, metrics/plots/label_confusion.csv (one row per record with native codes:
native, labeler primary; DVC confusion plot) and metrics/plots/label_confusion.png.
"""
from __future__ import annotations

import csv
import itertools
import json
from collections import Counter, defaultdict

import click
from tqdm import tqdm

from stages import taxonomy
from stages.io import atomic_open, atomic_path, check_error_budget, clear_outputs, read_jsonl, write_metrics
from stages.llm.roles import role_llm
from stages.params import stage_params
from stages.schemas import validate_file
from stages import agreement
from stages.labeler import Labeler
from stages.tasks.label import Label, parse_labels

INPUTS = {"collected": "data/collect/safety.jsonl"}
OUTPUTS = {"labeled": "data/label/labeled.jsonl", "metrics": "metrics/label.json",
           "plot_categories": "metrics/plots/label_categories.csv", "plot_labels": "metrics/plots/label_top_labels.csv",
           "plot_confusion": "metrics/plots/label_confusion.csv", "figure_confusion": "metrics/plots/label_confusion.png"}
CHUNK = 512  # records per model call batch (output is streamed chunk by chunk)


def label_record(row: dict, raw: str | None, error: str | None, labeler: str, scores: dict | None = None) -> dict:
    """The labeled record for one collected record and the labeler's output (text or error; closed-set
    log-likelihood mode: `scores` {code: probability}, kept as `label_scores`)."""
    labels, parse_error = parse_labels(raw) if error is None else ([], True)
    codes = [taxonomy.normalize_label(lbl) or taxonomy.OTHER for lbl in labels]
    native = agreement.native_codes(row)
    categories = list(dict.fromkeys(native + [c for c in codes if c != taxonomy.OTHER]))
    if not categories:
        categories = [taxonomy.OTHER]
    out = dict(row)
    out.update(category=categories[0], categories=categories, intent_labels=labels, intent_codes=codes,
               label_raw=raw if raw is not None else "", label_parse_error=parse_error, labeler=labeler)
    if scores is not None:
        out["label_scores"] = scores
    return out


class _Metrics:
    def __init__(self):
        self.n = Counter()
        self.labels: dict[str, Counter] = defaultdict(Counter)
        self.primary: dict[str, Counter] = defaultdict(Counter)
        self.multi: dict[str, Counter] = defaultdict(Counter)
        self.parse_errors = Counter()
        self.gen_errors = Counter()
        self.unmatched = Counter()
        self.agree: dict[str, agreement.Agreement] = defaultdict(agreement.Agreement)

    def add(self, rec: dict, gen_error: bool = False) -> None:
        src = rec["source"]
        self.n[src] += 1
        self.labels[src].update(rec["intent_labels"])
        self.primary[src][rec["category"]] += 1
        self.multi[src].update(rec["categories"])
        self.parse_errors[src] += rec["label_parse_error"]
        self.gen_errors[src] += gen_error
        self.unmatched[src] += sum(c == taxonomy.OTHER for c in rec["intent_codes"])
        self.agree[src].add(agreement.native_codes(rec), agreement.llm_codes(rec))
        self.agree["*"].add(agreement.native_codes(rec), agreement.llm_codes(rec))

    def total(self, per: dict[str, Counter]) -> Counter:
        return sum(per.values(), Counter())

    def as_dict(self, top_k: int) -> dict:
        def block(src=None):
            pick = (lambda d: d[src]) if src else self.total
            n = self.n[src] if src else sum(self.n.values())
            errors = self.parse_errors[src] if src else sum(self.parse_errors.values())
            return {"n": n,
                    "parse_errors": errors,
                    "parse_error_share": round(errors / n, 4) if n else 0.0,
                    "agreement": self.agree[src or "*"].as_dict(),
                    "gen_errors": self.gen_errors[src] if src else sum(self.gen_errors.values()),
                    "unmatched_labels": self.unmatched[src] if src else sum(self.unmatched.values()),
                    "categories": {c: pick(self.primary)[c] for c in taxonomy.ALL_LABELS},
                    "categories_multi": {c: pick(self.multi)[c] for c in taxonomy.ALL_LABELS},
                    "top_labels": dict(pick(self.labels).most_common(top_k))}
        return {"all": block(), "sources": {s: block(s) for s in sorted(self.n)}}


def _write_csv(path: str, header: list[str], rows) -> None:
    with atomic_open(path) as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(header)
        w.writerows(rows)


def run(params: dict, inputs: dict = INPUTS, outputs: dict = OUTPUTS) -> dict:
    """params {"label": ..., "roles": {"labeler": ...}} -> the metrics (also written to outputs["metrics"])."""
    clear_outputs(outputs)
    inp, out = inputs["collected"], outputs["labeled"]
    p = params["label"]
    task = Label(p.get("prompt", "prompts/label.txt"))
    top_k = int(p.get("top_k_labels", 20))
    max_error_rate = float(p.get("max_error_rate", 0.05))
    validate_file(inp, "collected")
    total = sum(1 for _ in read_jsonl(inp))

    llm = role_llm(params, "labeler", stage="label")
    labeler = llm.backend.model
    lab = Labeler(llm, p, task)
    m = _Metrics()
    rows = read_jsonl(inp)
    with atomic_path(out) as tmp:
        with open(tmp, "w", encoding="utf-8") as f, tqdm(total=total, desc="label", unit="prompt") as bar:
            while chunk := list(itertools.islice(rows, CHUNK)):
                for row, (raw, error, scores) in zip(chunk, lab.label(chunk)):
                    rec = label_record(row, raw, error, labeler, scores)
                    m.add(rec, gen_error=error is not None)
                    f.write(json.dumps(rec, ensure_ascii=False) + "\n")
                bar.update(len(chunk))
        errors = sum(m.gen_errors.values())
        error_rate = check_error_budget("label", errors, total, max_error_rate, "labeler calls", "labeler",
                                        llm.stats())
        validate_file(tmp, "labeled", name=out)

    report = m.as_dict(top_k)
    report["error_rate"] = round(error_rate, 4)
    report["mode"] = lab.how
    report["llm"] = {"labeler": llm.stats()}
    write_metrics(outputs["metrics"], report)
    cats = report["all"]["categories"]
    _write_csv(outputs["plot_categories"], ["category", "count"], [(c, cats[c]) for c in taxonomy.ALL_LABELS])
    _write_csv(outputs["plot_labels"], ["label", "count"], report["all"]["top_labels"].items())
    pairs = m.agree["*"].pairs
    _write_csv(outputs["plot_confusion"], ["native", "labeler"], agreement.confusion_rows(pairs))
    a = report["all"]["agreement"]
    agreement.plot_confusion(pairs, outputs["figure_confusion"], f"{labeler} ({lab.how}): kappa {a.get('kappa')}, "
                             f"precision {a.get('precision')}, recall {a.get('recall')}, n {a['n']}")
    return report


@click.command(help=__doc__)
def cli():
    report = run(stage_params("label", "roles.labeler"))
    a = report["all"]
    click.echo(f"label: {a['n']} prompts, {a['parse_errors']} parse errors, "
               f"{a['unmatched_labels']} labels outside the taxonomy -> {OUTPUTS['labeled']}", err=True)
