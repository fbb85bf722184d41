"""The markdown of the report stage (metrics/report.md): tables laid out like the paper's Tables 5-1, 5-2,
5-3, the 14-category New-Safety table, training and labeling; plus the cell helpers the figures share."""
from __future__ import annotations

import math
from pathlib import Path

from stages import taxonomy

# Table 5-1 column order of the paper (header, key in metrics/safetybench/<model>.json).
SAFETYBENCH_COLS = [("Avg", "Avg"), ("EM", "EM"), ("IA", "IA"), ("MH", "MH"), ("OFF", "OFF"),
                    ("PH", "PH"), ("PP", "PP"), ("UB", "UB")]
# Table 5-2 rows: the official CValues parsers (keys <parser>_acc in metrics/responsibility/<model>.json).
CVALUES_PARSERS = ["chatgpt", "chatglm", "moss", "ziya", "chinese_alpaca"]
GENERAL_TASKS = [("gsm8k", "gsm8k"), ("mmlu", "mmlu"), ("cmmlu", "cmmlu"), ("ceval", "ceval"), ("HumanEval", "humaneval")]

def is_num(v) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)


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


def pct(v) -> str:
    return "–" if v is None else f"{100 * v:.1f}"


def gain(a, b, scale=100.0) -> str:
    return "–" if a is None or b is None else f"{scale * (b - a):+.1f}"


def get(d, *path):
    for p in path:
        if not isinstance(d, dict) or p not in d:
            return None
        d = d[p]
    return d if is_num(d) else None


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
