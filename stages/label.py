"""Stage `label`: multi-intent recognition of safety prompts (paper 3.4).

The `labeler` role gives every prompt free-form safety-theme labels (several allowed). Each label is
normalised into the 14-code taxonomy through taxonomy.normalize_label; a label with no match is kept
(in `intent_labels`, code `other` in `intent_codes`). The source's native category is strong evidence
and takes precedence:

    categories = codes of map_native(format, native_category), then the LLM codes not already there
    category   = categories[0]  (native primary first, else the first LLM code), `other` when empty

An output that yields no label (empty, garbage, a sentence, a generation error) is flagged with
`label_parse_error` and the record is kept with the native categories only. When more than
`max_error_rate` (default 0.05) of the labeler calls fail after their retries, the stage fails and
writes nothing.

Reads: data/collect/safety.jsonl, params `label`, role `labeler`, the prompt template.
Writes: data/label/labeled.jsonl, metrics/label.json, metrics/plots/label_categories.csv,
metrics/plots/label_top_labels.csv.
"""
from __future__ import annotations

import csv
import itertools
import json
from collections import Counter, defaultdict
from pathlib import Path

import click
from tqdm import tqdm

from stages import taxonomy
from stages.io import atomic_open, atomic_path, check_error_budget, read_jsonl, write_json
from stages.params import section
from stages.parsing import parse_labels
from stages.prompts import load_template, render
from stages.schemas import validate_file

INPUT = "data/collect/safety.jsonl"
OUTPUT = "data/label/labeled.jsonl"
METRICS = "metrics/label.json"
PLOT_CATEGORIES = "metrics/plots/label_categories.csv"
PLOT_LABELS = "metrics/plots/label_top_labels.csv"
CHUNK = 512  # records per model call batch (output is streamed chunk by chunk)


def label_record(row: dict, raw: str | None, error: str | None, labeler: str) -> dict:
    """The labeled record for one collected record and the labeler's output (text or error)."""
    labels, parse_error = parse_labels(raw) if error is None else ([], True)
    codes = [taxonomy.normalize_label(lbl) or taxonomy.OTHER for lbl in labels]
    native = taxonomy.map_native(row.get("format") or "", row.get("native_category"))
    categories = list(dict.fromkeys(native + [c for c in codes if c != taxonomy.OTHER]))
    if not categories:
        categories = [taxonomy.OTHER]
    out = dict(row)
    out.update(category=categories[0], categories=categories, intent_labels=labels, intent_codes=codes,
               label_raw=raw if raw is not None else "", label_parse_error=parse_error, labeler=labeler)
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

    def add(self, rec: dict, gen_error: bool = False) -> None:
        src = rec["source"]
        self.n[src] += 1
        self.labels[src].update(rec["intent_labels"])
        self.primary[src][rec["category"]] += 1
        self.multi[src].update(rec["categories"])
        self.parse_errors[src] += rec["label_parse_error"]
        self.gen_errors[src] += gen_error
        self.unmatched[src] += sum(c == taxonomy.OTHER for c in rec["intent_codes"])

    def total(self, per: dict[str, Counter]) -> Counter:
        return sum(per.values(), Counter())

    def as_dict(self, top_k: int) -> dict:
        def block(src=None):
            pick = (lambda d: d[src]) if src else self.total
            n = self.n[src] if src else sum(self.n.values())
            return {"n": n,
                    "parse_errors": self.parse_errors[src] if src else sum(self.parse_errors.values()),
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


def run(params_path: str = "params.yaml", inp: str = INPUT, out: str = OUTPUT, metrics: str = METRICS,
        plot_categories: str = PLOT_CATEGORIES, plot_labels: str = PLOT_LABELS) -> dict:
    from stages.llm import get_llm

    for p in (out, metrics, plot_categories, plot_labels):
        Path(p).unlink(missing_ok=True)
    params = section("label", params_path)
    template = load_template(params.get("prompt", "prompts/label.txt"))
    top_k = int(params.get("top_k_labels", 20))
    max_error_rate = float(params.get("max_error_rate", 0.05))
    validate_file(inp, "collected")
    total = sum(1 for _ in read_jsonl(inp))

    llm = get_llm("labeler", stage="label", params_path=params_path)
    labeler = llm.backend.model
    m = _Metrics()
    rows = read_jsonl(inp)
    with atomic_path(out) as tmp:
        with open(tmp, "w", encoding="utf-8") as f, tqdm(total=total, desc="label", unit="prompt") as bar:
            while chunk := list(itertools.islice(rows, CHUNK)):
                convs = [render(template, untrusted={"PROMPT": r["prompt"]}) for r in chunk]
                results = llm.chat(convs, task="label", n=1)
                for row, comps in zip(chunk, results):
                    c = comps[0]
                    rec = label_record(row, c.text, c.error, labeler)
                    m.add(rec, gen_error=c.error is not None)
                    f.write(json.dumps(rec, ensure_ascii=False) + "\n")
                bar.update(len(chunk))
        errors = sum(m.gen_errors.values())
        error_rate = check_error_budget("label", errors, total, max_error_rate, "labeler calls", "labeler",
                                        llm.stats())
        validate_file(tmp, "labeled", name=out)

    report = m.as_dict(top_k)
    report["error_rate"] = round(error_rate, 4)
    report["llm"] = {"labeler": llm.stats()}
    write_json(metrics, report)
    cats = report["all"]["categories"]
    _write_csv(plot_categories, ["category", "count"], [(c, cats[c]) for c in taxonomy.ALL_LABELS])
    _write_csv(plot_labels, ["label", "count"], report["all"]["top_labels"].items())
    return report


@click.command(help=__doc__)
def cli():
    report = run()
    a = report["all"]
    click.echo(f"label: {a['n']} prompts, {a['parse_errors']} parse errors, "
               f"{a['unmatched_labels']} labels outside the taxonomy -> {OUTPUT}", err=True)
