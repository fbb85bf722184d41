"""The figures and DVC plot tables of the report stage (metrics/figures/*.png, metrics/plots/*.csv)."""
from __future__ import annotations

import csv
from pathlib import Path

from stages import taxonomy
from stages.io import atomic_open
from stages.report_tables import SAFETYBENCH_COLS, get, is_num


def make_figures(fig_dir: Path, evals, plots, models: list[str]) -> list[str]:
    """Write the PNGs that have data into fig_dir; returns their names."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    made = []
    width = 0.8 / len(models)

    def bars(ax, labels, series, errs=None):
        for i, m in enumerate(models):
            xs = [j + (i - (len(models) - 1) / 2) * width for j in range(len(labels))]
            vals = [v if v is not None else 0.0 for v in series[m]]
            kw = {}
            if errs is not None:
                lo = [max(0.0, v - e[0]) if e[0] is not None else 0.0 for v, e in zip(vals, errs[m])]
                hi = [max(0.0, e[1] - v) if e[1] is not None else 0.0 for v, e in zip(vals, errs[m])]
                kw = {"yerr": [lo, hi], "capsize": 2}
            ax.bar(xs, vals, width, label=m, **kw)
        ax.set_xticks(range(len(labels)))
        ax.set_xticklabels(labels)
        ax.legend()

    ns = evals["newsafety"]
    if any(ns[m] for m in models):
        codes = taxonomy.CODES
        series = {m: [get(ns[m], "categories", c, "safe_rate") for c in codes] for m in models}
        errs = {m: [(get(ns[m], "categories", c, "ci_low"), get(ns[m], "categories", c, "ci_high")) for c in codes]
                for m in models}
        fig, ax = plt.subplots(figsize=(11, 4))
        bars(ax, codes, series, errs)
        ax.set_ylim(0, 1.05)
        ax.set_ylabel("safe rate (95% CI)")
        ax.set_title("New-Safety benchmark: safe rate per category")
        made.append(save(fig, fig_dir / "newsafety_categories.png"))

    sb = evals["safetybench"]
    if any(sb[m] for m in models):
        fig, ax = plt.subplots(figsize=(8, 3.5))
        bars(ax, [h for h, _ in SAFETYBENCH_COLS], {m: [get(sb[m], k) for _, k in SAFETYBENCH_COLS] for m in models})
        ax.set_ylim(0, 1.05)
        ax.set_ylabel("accuracy")
        ax.set_title("SafetyBench")
        made.append(save(fig, fig_dir / "safetybench.png"))

    if plots["train_loss"]:
        fig, ax = plt.subplots(figsize=(6, 3.5))
        steps = [float(s) for s, _ in plots["train_loss"]]
        ax.plot(steps, [v for _, v in plots["train_loss"]], marker=".")
        ax.set_xlabel("step")
        ax.set_ylabel("loss")
        ax.set_title("SFT training loss")
        made.append(save(fig, fig_dir / "train_loss.png"))

    if plots["label_categories"]:
        fig, ax = plt.subplots(figsize=(8, 3.5))
        cats = [c for c, _ in plots["label_categories"]]
        ax.bar(range(len(cats)), [v for _, v in plots["label_categories"]])
        ax.set_xticks(range(len(cats)))
        ax.set_xticklabels(cats, rotation=45, ha="right")
        ax.set_ylabel("prompts")
        ax.set_title("Labeled safety prompts per category")
        made.append(save(fig, fig_dir / "label_categories.png"))
    return made


def write_plot_csvs(plot_dir: Path, evals, models: list[str]) -> None:
    """Base vs sft per category as DVC plot data (dvc.yaml `plots:` of the report stage)."""
    ns, sb = evals["newsafety"], evals["safetybench"]
    tables = {
        "newsafety_categories.csv": ("safe_rate", [(c, m, get(ns[m], "categories", c, "safe_rate"))
                                                   for c in taxonomy.CODES for m in models]),
        "safetybench_categories.csv": ("accuracy", [(h, m, get(sb[m], k)) for h, k in SAFETYBENCH_COLS for m in models]),
    }
    plot_dir.mkdir(parents=True, exist_ok=True)
    for name, (value, rows) in tables.items():
        with atomic_open(plot_dir / name) as f:
            w = csv.writer(f)
            w.writerow(["category", "model", value])
            w.writerows(r for r in rows if is_num(r[2]))


def save(fig, path: Path) -> str:
    import matplotlib.pyplot as plt

    fig.tight_layout()
    fig.savefig(path, dpi=110, metadata={"Software": None})
    plt.close(fig)
    return path.name
