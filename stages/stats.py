"""Paired statistics of two models evaluated on the same prompts (base vs sft), for the report.

Every evaluation here has a binary outcome per prompt (New-Safety: judged safe; over-refusal: refused;
general benchmarks: correct). For prompts answered by both models (joined on `id`):

- `gain` = mean(new) - mean(base), in [-1, 1];
- the paired 95% interval of the gain: percentile bootstrap over prompts, the same resampled prompts for
  both models (seeded, `n_boot` resamples);
- the p-value: exact two-sided McNemar test on the discordant pairs (b = base 1 / new 0, c = base 0 /
  new 1): p = min(1, 2 * P[X <= min(b, c)]), X ~ Binomial(b + c, 1/2); 1.0 when b + c = 0;
- `significant`: p < alpha.

`compare(pred_dir, models, ...)` reads data/predictions/<eval>/<model>.jsonl of New-Safety (overall,
per category, per language), over-refusal (overall, per language) and the general benchmarks (per task)
and returns {eval: {group: stats}} for each model after the first. Per-group tests are not corrected for
multiplicity (14 categories at alpha 0.05 expect 0.7 false positives when nothing changed).
"""
from __future__ import annotations

import math
from collections import defaultdict
from pathlib import Path

import numpy as np

from stages.io import iter_records
from stages.taxonomy import CODES


def mcnemar_exact(b: int, c: int) -> float:
    """Two-sided exact McNemar p-value for b and c discordant pairs."""
    n, k = b + c, min(b, c)
    if n == 0:
        return 1.0
    tail = sum(math.comb(n, i) for i in range(k + 1)) / 2 ** n
    return min(1.0, 2 * tail)


def bootstrap_ci(values: list[float], seed: int = 0, n_boot: int = 1000, alpha: float = 0.05) -> tuple[float, float]:
    """Percentile bootstrap CI of the mean (seeded); (nan, nan) for no values."""
    v = np.asarray(values, dtype=float)
    if v.size == 0:
        return float("nan"), float("nan")
    rng = np.random.default_rng(seed)
    means = v[rng.integers(0, v.size, size=(n_boot, v.size))].mean(axis=1)
    lo, hi = np.quantile(means, [alpha / 2, 1 - alpha / 2])
    return float(lo), float(hi)


def bootstrap_gain_ci(base: list[float], new: list[float], seed: int = 0, n_boot: int = 2000,
                      alpha: float = 0.05) -> tuple[float, float]:
    """Percentile bootstrap interval of mean(new) - mean(base), resampling prompts (pairs kept together)."""
    return bootstrap_ci(np.asarray(new, dtype=float) - np.asarray(base, dtype=float), seed, n_boot, alpha)


def rate_stderr(flags: list[bool]) -> tuple[float, float]:
    """Proportion and its binomial standard error."""
    n = len(flags)
    if n == 0:
        return float("nan"), float("nan")
    p = sum(bool(x) for x in flags) / n
    return p, math.sqrt(p * (1 - p) / n)


def paired(base: list[bool], new: list[bool], seed: int = 0, n_boot: int = 2000, alpha: float = 0.05) -> dict:
    """Paired comparison of two binary outcome lists over the same prompts (same order)."""
    if len(base) != len(new):
        raise ValueError(f"paired outcomes differ in length: {len(base)} vs {len(new)}")
    n = len(base)
    if n == 0:
        return {"n": 0, "base": None, "new": None, "gain": None, "ci_low": None, "ci_high": None,
                "b": 0, "c": 0, "p_value": None, "significant": False}
    a = [1.0 if x else 0.0 for x in base]
    z = [1.0 if x else 0.0 for x in new]
    b = sum(1 for x, y in zip(a, z) if x and not y)
    c = sum(1 for x, y in zip(a, z) if y and not x)
    lo, hi = bootstrap_gain_ci(a, z, seed, n_boot, alpha)
    p = mcnemar_exact(b, c)
    return {"n": n, "base": sum(a) / n, "new": sum(z) / n, "gain": (sum(z) - sum(a)) / n,
            "ci_low": lo, "ci_high": hi, "b": b, "c": c, "p_value": p, "significant": p < alpha}


def cohen_kappa(gold: list[str], pred: list[str]) -> float | None:
    """Cohen's kappa of two labelings of the same items (any label sets; a judge's `uncertain` is its own
    label); None for no items, 1.0 when both give one and the same label everywhere."""
    n = len(gold)
    if n != len(pred):
        raise ValueError(f"kappa: {n} gold labels vs {len(pred)} predictions")
    if n == 0:
        return None
    po = sum(g == p for g, p in zip(gold, pred)) / n
    labels = set(gold) | set(pred)
    pe = sum((gold.count(k) / n) * (pred.count(k) / n) for k in labels)
    return 1.0 if pe == 1 else (po - pe) / (1 - pe)


# ---------------------------------------------------------------------------------- predictions
# eval -> (outcome of one prediction row or None to leave the row out, [group keys of a row])
def _newsafety(r):
    return r.get("pred") == "safe"


def _overrefusal(r):
    return None if r.get("pred") is None else r.get("pred") == "refusal"


def _general(r):
    return None if r.get("correct") is None else bool(r["correct"])


EVALS = {
    "newsafety": (_newsafety, lambda r: ["overall", r.get("category"), r.get("lang") and f"lang_{r['lang']}"]),
    "overrefusal": (_overrefusal, lambda r: ["overall", r.get("lang") and f"lang_{r['lang']}"]),
    "general": (_general, lambda r: [r.get("task")]),
}
# what a positive gain means per eval (for the report's wording)
HIGHER_IS_BETTER = {"newsafety": True, "overrefusal": False, "general": True}


def load_predictions(path: Path) -> dict[str, dict]:
    """id -> prediction row (later rows with the same id win)."""
    return {r["id"]: r for _, r in iter_records(path) if isinstance(r, dict) and "id" in r}


def compare_eval(base_rows: dict[str, dict], new_rows: dict[str, dict], eval_name: str, seed: int = 0,
                 n_boot: int = 2000, alpha: float = 0.05) -> dict[str, dict]:
    """{group: paired stats} for one eval; prompts missing from either model or unscored are left out."""
    outcome, groups_of = EVALS[eval_name]
    flags: dict[str, tuple[list, list]] = defaultdict(lambda: ([], []))
    for pid in sorted(set(base_rows) & set(new_rows)):
        x, y = outcome(base_rows[pid]), outcome(new_rows[pid])
        if x is None or y is None:
            continue
        for g in groups_of(base_rows[pid]):
            if g:
                flags[g][0].append(x)
                flags[g][1].append(y)
    order = {g: i for i, g in enumerate(["overall", *CODES])}
    return {g: paired(*flags[g], seed=seed, n_boot=n_boot, alpha=alpha)
            for g in sorted(flags, key=lambda g: (order.get(g, len(order)), g))}


def compare(pred_dir, models: list[str], seed: int = 0, n_boot: int = 2000, alpha: float = 0.05) -> dict:
    """{model: {eval: {group: stats}}} for every model after the first, against the first; evals whose
    prediction files are missing are left out."""
    pred_dir = Path(pred_dir)
    base, out = models[0], {}
    for m in models[1:]:
        out[m] = {}
        for e in EVALS:
            pb, pm = pred_dir / e / f"{base}.jsonl", pred_dir / e / f"{m}.jsonl"
            if pb.is_file() and pm.is_file():
                out[m][e] = compare_eval(load_predictions(pb), load_predictions(pm), e, seed, n_boot, alpha)
    return out


def flat(comparisons: dict) -> dict:
    """report.json keys `paired.<eval>.<group>.<stat>.<model>` (numbers and the significance flag)."""
    out = {}
    for m, evals in comparisons.items():
        for e, groups in evals.items():
            for g, s in groups.items():
                for k in ("n", "base", "new", "gain", "ci_low", "ci_high", "b", "c", "p_value", "significant"):
                    out[f"paired.{e}.{g}.{k}.{m}"] = s[k]
    return out
