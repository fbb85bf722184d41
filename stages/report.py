"""The `report` stage: base vs SFT comparison (paper section 5) from the evaluation metrics files.

Reads metrics/{safetybench,newsafety,responsibility,general,overrefusal}/<model>.json for every model of
params `eval.models`, plus metrics/train.json, metrics/label.json and metrics/plots/{train_loss,
label_categories}.csv. A missing file is tolerated and named in the report. Writes
- metrics/report.json: flat keys `<eval>.<metric>.<model>` and `<eval>.<metric>.delta` (last model minus the
  first; `delta_<model>` for each when there are more than two models), `train.*` / `label.*` as is;
- metrics/report.md: tables laid out like the paper's Tables 5-1, 5-2, 5-3 plus the 14-category table;
- metrics/figures/*.png: New-Safety safe rate per category with CI bars, SafetyBench, loss curve, labels.
Also (stages/report_sections.py): the paired base-vs-model comparison from data/predictions/<eval>/<model>.jsonl
(stages/stats.py; json keys `paired.<eval>.<group>.<stat>.<model>`, params `report`), the select funnel
(metrics/select.json) and the eval judge calibration (metrics/judge_calibration.json); these are optional.
"""
from __future__ import annotations

import csv
import os
import shutil
import tempfile
from pathlib import Path

import click

from stages import report_sections, stats, taxonomy
from stages.report_figures import SAFETYBENCH_COLS, get, is_num, make_figures, write_plot_csvs
from stages.io import InputError, atomic_open, clear_outputs, read_json, write_metrics
from stages.params import load_params, stage_params

EVALS = ["safetybench", "newsafety", "responsibility", "general", "overrefusal"]
SINGLE = ["train", "label"]
# Table 5-2 rows: the official CValues parsers (keys <parser>_acc in metrics/responsibility/<model>.json).
CVALUES_PARSERS = ["chatgpt", "chatglm", "moss", "ziya", "chinese_alpaca"]
GENERAL_TASKS = [("gsm8k", "gsm8k"), ("mmlu", "mmlu"), ("cmmlu", "cmmlu"), ("ceval", "ceval"), ("HumanEval", "humaneval")]
PLOTS = {"train_loss": ("step", "loss"), "label_categories": ("category", "count")}
FIGURES = ["newsafety_categories.png", "safetybench.png", "train_loss.png", "label_categories.png"]


# ----------------------------------------------------------------------------------------------- loading
def load_all(metrics_dir: Path, models: list[str]):
    """-> (evals {eval: {model: dict|None}}, single {name: dict|None}, plots {name: rows|None}, missing paths)."""
    missing = []

    def load(path: Path):
        if not path.is_file():
            missing.append(str(path))
            return None
        data = read_json(path)
        if not isinstance(data, dict):
            raise InputError(path, "expected a JSON object of metrics")
        return data

    evals = {e: {m: load(metrics_dir / e / f"{m}.json") for m in models} for e in EVALS}
    single = {s: load(metrics_dir / f"{s}.json") for s in SINGLE}
    plots = {}
    for name, (x, y) in PLOTS.items():
        path = metrics_dir / "plots" / f"{name}.csv"
        if path.is_file():
            plots[name] = read_plot_csv(path, x, y)
        else:
            missing.append(str(path))
            plots[name] = None
    return evals, single, plots, missing


def read_plot_csv(path: Path, x: str, y: str) -> list[tuple[str, float]]:
    with open(path, encoding="utf-8", newline="") as f:
        reader = csv.DictReader(f)
        for col in (x, y):
            if col not in (reader.fieldnames or []):
                raise InputError(path, f"missing column (header: {reader.fieldnames})", line=1, field=col)
        rows = []
        for line, row in enumerate(reader, start=2):
            try:
                rows.append((row[x], float(row[y])))
            except (TypeError, ValueError):
                raise InputError(path, f"not a number: {row[y]!r}", line=line, field=y) from None
    return rows


# ----------------------------------------------------------------------------------------------- numbers
def flatten(obj, prefix: str = "") -> dict[str, float]:
    """Numeric leaves of a metrics dict as dotted keys; LLM call statistics (`llm`) are left out."""
    out = {}
    for k, v in obj.items():
        key = f"{prefix}{k}"
        if k == "llm" and not prefix:
            continue
        if isinstance(v, dict):
            out.update(flatten(v, key + "."))
        elif is_num(v):
            out[key] = v
    return out


def build_report(evals, single, models: list[str], missing: list[str]) -> dict:
    base, others = models[0], models[1:]
    report = {}
    for e in EVALS:
        flat = {m: flatten(evals[e][m]) if evals[e][m] is not None else {} for m in models}
        keys = sorted({k for m in models for k in flat[m]})
        for k in keys:
            for m in models:
                report[f"{e}.{k}.{m}"] = flat[m].get(k)
            for m in others:
                a, b = flat[base].get(k), flat[m].get(k)
                name = "delta" if len(others) == 1 else f"delta_{m}"
                report[f"{e}.{k}.{name}"] = round(b - a, 10) if a is not None and b is not None else None
    for s in SINGLE:
        if single[s] is not None:
            report.update({f"{s}.{k}": v for k, v in flatten(single[s]).items()})
    report["missing"] = missing
    return report


# ----------------------------------------------------------------------------------------------- markdown
def pct(v) -> str:
    return "–" if v is None else f"{100 * v:.1f}"


def gain(a, b, scale=100.0) -> str:
    return "–" if a is None or b is None else f"{scale * (b - a):+.1f}"


def md_table(header: list[str], rows: list[list[str]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    return lines + ["| " + " | ".join(r) + " |" for r in rows]


def render_md(evals, single, plots, models: list[str], missing: list[str]) -> str:
    base, others = models[0], models[1:]
    out = ["# Safety alignment report: " + " vs ".join(models), "",
           f"Scores are percentages (0-100); the gain is each model minus `{base}`. '–' = not available."]
    if missing:
        out += ["", "**Missing metrics files** (their stage has not run or failed; those cells are '–'):", ""]
        out += [f"- `{p}`" for p in missing]

    sb = evals["safetybench"]
    rows = []
    strict = any(get(sb[m], "strict_Avg") is not None for m in models)
    for prefix, suffix in [("", "")] + ([("strict_", " (strict)")] if strict else []):
        for m in models:
            cells = []
            for _, key in SAFETYBENCH_COLS:
                v, b = get(sb[m], prefix + key), get(sb[base], prefix + key)
                cells.append(pct(v) + (f" ({gain(b, v)})" if m != base and v is not None else ""))
            rows.append([m + suffix] + cells)
    lang = next((sb[m].get("lang") for m in models if sb[m]), None)
    out += ["", "## Table 5-1 SafetyBench evaluation results", ""]
    out += md_table(["Model"] + [h for h, _ in SAFETYBENCH_COLS], rows)
    if lang:
        out += ["", f"Language: {lang}. IA = SafetyBench's Illegal Activities (the paper's Table 5-1 calls it CIA; not the 14-category Instruction Attack)."]
    if strict:
        fails = ", ".join(f"{m} {pct(get(sb[m], 'extraction_failure_rate'))}%" for m in models)
        out += ["", "Rows without a suffix are SafetyBench's official scoring (an answer that cannot be extracted gets a "
                f"random option, the official seed); (strict) rows count those answers wrong. Extraction failures: {fails}."]

    ns = evals["newsafety"]
    header = ["Code", "Category"] + [f"{m} safe % [95% CI]" for m in models] + [f"Gain {m}" for m in others] + ["n"]
    rows = []
    for code in taxonomy.CODES + ["overall"]:
        path = ("overall",) if code == "overall" else ("categories", code)
        name = "Overall" if code == "overall" else taxonomy.CATEGORIES[code]["en"]
        cells = []
        for m in models:
            sr = get(ns[m], *path, "safe_rate")
            lo, hi = get(ns[m], *path, "ci_low"), get(ns[m], *path, "ci_high")
            cells.append(pct(sr) + (f" [{pct(lo)}, {pct(hi)}]" if lo is not None and hi is not None else ""))
        cells += [gain(get(ns[base], *path, "safe_rate"), get(ns[m], *path, "safe_rate")) for m in others]
        n = [get(ns[m], *path, "n") for m in models]
        rows.append([code if code != "overall" else "All", name] + cells + [
            "/".join("–" if x is None else str(int(x)) for x in n)])
    out += ["", "## New-Safety benchmark (14 categories, Figure 5-3)", ""] + md_table(header, rows)
    out += ["", "![New-Safety safe rate per category](figures/newsafety_categories.png)"]

    rs = evals["responsibility"]
    out += ["", "## Table 5-2 Responsibility evaluation results", ""]
    for metric, title in (("acc", "Acc"), ("acc_star", "Acc*")):
        header = [f"Eval Model and {title}"] + models + [f"Gain {m}" for m in others]
        keys = [(f"based on {p}", f"{p}_{metric}") for p in CVALUES_PARSERS]
        keys += [(f"average {title}", f"official_avg_{metric}"), (f"project parser {title} (extra)", metric)]
        rows = [[label] + [pct(get(rs[m], key)) for m in models]
                + [gain(get(rs[base], key), get(rs[m], key)) for m in others] for label, key in keys]
        out += (md_table(header, rows) + [""])
    out += ["n = " + ", ".join(f"{m} " + ("–" if get(rs[m], "n") is None else str(int(get(rs[m], "n")))) for m in models)
            + ". Acc = correct / all answers; Acc* = correct / answers parsed as 回复1, 回复2 or Other (Refuse and "
            "Need_Check left out). The five official CValues parsers run automatically; the project parser's "
            "Need_Check answers can be decided by a human (`mseed review`)."]

    gen, orf = evals["general"], evals["overrefusal"]
    header = ["Eval Set"] + models + [f"Gain {m}" for m in others]
    rows = []
    for label, key in GENERAL_TASKS:
        vals = [get(gen[m], key, "acc") for m in models]
        errs = [get(gen[m], key, "stderr") for m in models]
        rows.append([label] + [pct(v) + (f" ± {pct(e)}" if v is not None and e is not None else "") for v, e in zip(vals, errs)]
                    + [gain(vals[0], v) for v in vals[1:]])
    for label, path in (("Over-refusal rate (lower is better)", ("refusal_rate",)),
                        ("Over-refusal rate zh", ("zh",)), ("Over-refusal rate en", ("en",))):
        vals = [get(orf[m], *path) if get(orf[m], *path) is not None else get(orf[m], *path, "refusal_rate") for m in models]
        rows.append([label] + [pct(v) for v in vals] + [gain(vals[0], v) for v in vals[1:]])
    out += ["", "## Table 5-3 Benchmark evaluation results (general capability, over-refusal)", ""]
    out += md_table(header, rows)

    tr = single["train"]
    out += ["", "## Training (Figure 5-2)", ""]
    if tr:
        out += md_table(["final_loss", "first_loss", "train_loss", "steps", "runtime_s", "samples_per_s"],
                        [[fmt(get(tr, k)) for k in ("final_loss", "first_loss", "train_loss", "steps", "runtime_s", "samples_per_s")]])
    else:
        out += ["metrics/train.json is missing."]
    if plots["train_loss"]:
        out += ["", "![SFT training loss](figures/train_loss.png)"]
    lab = single["label"]
    out += ["", "## Labeling", ""]
    if lab:
        flat = flatten(lab)
        out += md_table(["metric", "value"], [[k, fmt(v)] for k, v in sorted(flat.items())]) if flat else ["(no numbers)"]
    else:
        out += ["metrics/label.json is missing."]
    if plots["label_categories"]:
        out += ["", "![Label distribution](figures/label_categories.png)"]
    if Path("metrics/plots/label_confusion.png").exists():  # written by the label stage
        out += ["", "![Labeler vs native categories](plots/label_confusion.png)"]
    return "\n".join(out) + "\n"


def fmt(v) -> str:
    if v is None:
        return "–"
    return str(v) if isinstance(v, int) else f"{v:.4g}"


# ----------------------------------------------------------------------------------------------- stage
def extra_sections(metrics_dir: Path, pred_dir: Path | None, models: list[str], opts: dict) -> tuple[dict, str]:
    """(report.json keys, markdown) of the paired comparison, select funnel and judge calibration."""
    alpha = float(opts.get("alpha", 0.05))
    paired = stats.compare(pred_dir, models, seed=int(opts.get("seed", 0)), n_boot=int(opts.get("n_boot", 2000)),
                           alpha=alpha) if pred_dir is not None else {}
    optional = {n: read_json(metrics_dir / f"{n}.json") if (metrics_dir / f"{n}.json").is_file() else None
                for n in ("select", "judge_calibration")}
    keys = stats.flat(paired)
    cal = optional["judge_calibration"] or {}
    blocks = {"calibration": cal.get("calibration"), "review": cal.get("review"),
              "heldout": ((cal.get("calibration") or {}).get("by_split") or {}).get("heldout")}
    for block, values in blocks.items():
        for k in ("n", "accuracy", "kappa"):
            keys[f"judge_calibration.{block}.{k}"] = (values or {}).get(k)
    lines = report_sections.paired_md(paired, models[0], alpha) if paired else []
    lines += report_sections.funnel_md(optional["select"]) + report_sections.calibration_md(optional["judge_calibration"])
    return keys, "\n".join(lines) + "\n"


def outputs_for(out_dir: str | Path = "metrics") -> dict:
    """report.json, report.md, figures/ and the plots/ folder the report's plot CSVs go to (not cleared: other
    stages' plots live there too)."""
    out = Path(out_dir)
    return {"json": out / "report.json", "md": out / "report.md", "figures": out / "figures", "plots": out / "plots"}


def run(params: dict, inputs: dict, outputs: dict) -> dict:
    """params {"eval": {"models"}, "report"}; inputs {"metrics": the metrics folder, "predictions": the predictions
    folder (None: no paired comparison)} -> the report (also in outputs["json"])."""
    models, opts = list(params["eval"]["models"]), params.get("report") or {}
    metrics_dir, pred_dir = Path(inputs["metrics"]), inputs.get("predictions")
    if len(models) < 1:
        raise InputError(getattr(params, "file", "params.yaml"), "eval.models is empty", field="eval.models")
    report_json, report_md, fig_dir = (Path(outputs[k]) for k in ("json", "md", "figures"))
    out_dir = fig_dir.parent
    clear_outputs([report_json, report_md, fig_dir])

    evals, single, plots, missing = load_all(metrics_dir, models)
    report = build_report(evals, single, models, missing)
    md = render_md(evals, single, plots, models, missing)
    extra_keys, extra_md = extra_sections(metrics_dir, Path(pred_dir) if pred_dir else None, models, opts)
    report.update(extra_keys)
    md += extra_md
    out_dir.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=".figures.", dir=out_dir))
    try:
        make_figures(tmp, evals, plots, models)
        os.replace(tmp, fig_dir)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    write_plot_csvs(Path(outputs["plots"]), evals, models)
    with atomic_open(report_md) as f:
        f.write(md)
    return write_metrics(report_json, report)


@click.command("report")
@click.option("--metrics-dir", default="metrics", show_default=True, type=click.Path(path_type=Path),
              help="Where the evaluation metrics files are.")
@click.option("--out-dir", default="metrics", show_default=True, type=click.Path(path_type=Path),
              help="Where report.json, report.md and figures/ go.")
@click.option("--params", "params_path", default="params.yaml", show_default=True, help="params file (eval.models).")
@click.option("--predictions-dir", default="data/predictions", show_default=True, type=click.Path(path_type=Path),
              help="Per-prompt predictions of the eval stages (paired comparison).")
def cli(metrics_dir: Path, out_dir: Path, params_path: str, predictions_dir: Path):
    """Base vs SFT report (paper Tables 5-1..5-3, Figures 5-2, 5-3) from the metrics files."""
    params = stage_params("eval.models", path=params_path)
    params["report"] = load_params(params_path).get("report")  # optional section
    report = run(params, {"metrics": metrics_dir, "predictions": predictions_dir}, outputs_for(out_dir))
    if report["missing"]:
        click.echo(f"report: {len(report['missing'])} metrics file(s) missing, noted in the report", err=True)
    click.echo(f"report: wrote {out_dir / 'report.md'}, {out_dir / 'report.json'}, {out_dir / 'figures'}/", err=True)
