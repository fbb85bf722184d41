"""The `report` stage: base vs SFT comparison (paper section 5) from the evaluation metrics files.

Reads metrics/{safetybench,newsafety,responsibility,general,overrefusal}/<model>.json for every model of
params `eval.models`, plus metrics/train.json, metrics/label.json and metrics/plots/{train_loss,
label_categories}.csv. A missing file is tolerated and named in the report. Writes
- metrics/report.json: flat keys `<eval>.<metric>.<model>` and `<eval>.<metric>.delta` (last model minus the
  first; `delta_<model>` for each when there are more than two models), `train.*` / `label.*` as is;
- metrics/report.md: tables laid out like the paper's Tables 5-1, 5-2, 5-3 plus the 14-category table
  (stages/report_tables.py);
- metrics/figures/*.png: New-Safety safe rate per category with CI bars, SafetyBench, loss curve, labels
  (stages/report_figures.py).
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

from stages import report_sections, stats
from stages.io import InputError, atomic_open, clear_outputs, read_json, write_metrics
from stages.params import load_params, stage_params
from stages.report_figures import make_figures, write_plot_csvs
from stages.report_tables import CVALUES_PARSERS, flatten, render_md  # noqa: F401  (CVALUES_PARSERS re-exported)

EVALS = ["safetybench", "newsafety", "responsibility", "general", "overrefusal"]
SINGLE = ["train", "label"]
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
