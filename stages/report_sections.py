"""Report sections beside the paper's tables (rendered by stages/report.py into metrics/report.md):

- paired base-vs-model comparison on the same prompts (stages/stats.py): gain, paired 95% interval,
  exact McNemar p-value, significance, for New-Safety, over-refusal and the general benchmarks;
- the select funnel (metrics/select.json): rows after each filter by origin and by language;
- the eval judge's calibration (metrics/judge_calibration.json): accuracy and Cohen's kappa.
"""
from __future__ import annotations

from stages import taxonomy
from stages.stats import HIGHER_IS_BETTER

ORIGINS = ["source_response", "regenerated", "augmented_prompt"]
EVAL_TITLES = {"newsafety": "New-Safety safe rate", "overrefusal": "Over-refusal rate (lower is better)",
               "general": "General benchmark accuracy"}


def _pct(v) -> str:
    return "–" if v is None else f"{100 * v:.1f}"


def _group_name(e: str, g: str) -> str:
    if g == "overall":
        return "All"
    if g.startswith("lang_"):
        return g[5:]
    if e == "newsafety" and g in taxonomy.CATEGORIES:
        return f"{g} {taxonomy.CATEGORIES[g]['en']}"
    return g


def _sig(e: str, s: dict) -> str:
    if not s["significant"] or not s["gain"]:
        return "no"
    better = (s["gain"] > 0) == HIGHER_IS_BETTER[e]
    return "**yes, better**" if better else "**yes, worse**"


def paired_md(comparisons: dict, base: str, alpha: float) -> list[str]:
    out = []
    for m, evals in comparisons.items():
        out += ["", f"## Paired comparison {base} vs {m} (same prompts)", "",
                f"Gain = {m} - {base} in points, with a paired bootstrap 95% interval; p = exact two-sided McNemar "
                f"test on the discordant prompts (b: only {base} positive, c: only {m} positive); significant when "
                f"p < {alpha} (per row, not corrected for multiple comparisons)."]
        if not evals:
            out += ["", "No prediction files of both models (data/predictions/<eval>/<model>.jsonl)."]
            continue
        rows = []
        for e, groups in evals.items():
            for g, s in groups.items():
                ci = "" if s["ci_low"] is None else f" [{100 * s['ci_low']:+.1f}, {100 * s['ci_high']:+.1f}]"
                gain = "–" if s["gain"] is None else f"{100 * s['gain']:+.1f}{ci}"
                p = "–" if s["p_value"] is None else f"{s['p_value']:.3g}"
                rows.append([EVAL_TITLES[e], _group_name(e, g), str(s["n"]), _pct(s["base"]), _pct(s["new"]), gain,
                             f"{s['b']}/{s['c']}", p, _sig(e, s)])
        header = ["Eval", "Group", "n", f"{base} %", f"{m} %", "Gain [95% CI]", "b/c", "p", "Significant"]
        out += [""] + _table(header, rows)
    return out


def funnel_md(select_metrics: dict | None) -> list[str]:
    out = ["", "## Select funnel (rows after each filter, by origin and language)", ""]
    funnel = (select_metrics or {}).get("funnel")
    if not funnel:
        return out + ["metrics/select.json is missing or has no funnel."]
    langs = sorted({lg for s in funnel.values() for lg in (s.get("lang") or {})})
    header = ["Step", "rows", "prompts"] + ORIGINS + langs
    rows = [[step, str(s.get("rows", 0)), str(s.get("prompts", 0))]
            + [str((s.get("origin") or {}).get(o, 0)) for o in ORIGINS]
            + [str((s.get("lang") or {}).get(lg, 0)) for lg in langs] for step, s in sorted(funnel.items())]
    out += _table(header, rows)
    last = funnel[sorted(funnel)[-1]]
    total, origin = last.get("rows", 0), last.get("origin") or {}
    if total:
        made = origin.get("regenerated", 0) + origin.get("augmented_prompt", 0)
        out += ["", f"Selected safety rows with a regenerated response or an augmented prompt: {made}/{total} "
                    f"({100 * made / total:.1f}%). General rows: {select_metrics.get('general_rows', 0)}, "
                    f"helpfulness rows: {select_metrics.get('helpful_rows', 0)}."]
    return out


def calibration_md(cal: dict | None) -> list[str]:
    out = ["", "## Eval judge calibration", ""]
    if not cal:
        return out + ["metrics/judge_calibration.json is missing."]
    rows = []
    splits = ((cal.get("calibration") or {}).get("by_split") or {}).items()
    blocks = [("calibration set", cal.get("calibration"))] + [(f"calibration set, {k} items", v) for k, v in splits]
    for name, block in blocks + [("human review labels", cal.get("review"))]:
        if not block or not block.get("n"):
            rows.append([name, "0", "–", "–", "–"])
            continue
        rows.append([name, str(block["n"]), _pct(block.get("accuracy")),
                     "–" if block.get("kappa") is None else f"{block['kappa']:.3f}",
                     "–" if block.get("uncertain") is None else str(block["uncertain"])])
    out += _table(["Against", "n", "accuracy %", "Cohen's kappa", "uncertain"], rows)
    by_kind = (cal.get("calibration") or {}).get("by_kind") or {}
    if by_kind:
        out += ["", "Accuracy per kind of item: " + ", ".join(
            f"{k} {_pct(v.get('accuracy'))}% (n={v.get('n')})" for k, v in sorted(by_kind.items()))]
    if cal.get("judge"):
        out += ["", f"Judge: `{cal['judge']}`. `uncertain` counts as wrong. `dev` items were in view while the rules "
                    "judge was tuned; `heldout` items were written after, so they estimate its accuracy on new text."]
    return out


def _table(header: list[str], rows: list[list[str]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    return lines + ["| " + " | ".join(r) + " |" for r in rows]
