"""build_newsafety stage: the 14-category New-Safety evaluation set (paper 4.2, second part).

Prompts come from the sources in params eval.newsafety.sources (a source list, see stages.sources: S-Eval
base/attack, CValues-Comparison test, MSEED, ...; limit/lang/seed/category honoured; a prompt seen in an
earlier source is dropped and counted per source pair). A record carries every code its native metadata
gives (`native_codes`, primary first: e.g. an S-Eval attack row is IA + its risk; a source `category` adds
a code, or with category_mode replace is the only one); when it has none and the source sets
`keyword_fallback`, the taxonomy synonyms found in the prompt. Prompts also in the training pool (normalised
exact match against the `decontaminate` files, data/collect/safety.jsonl) are dropped. Exact on purpose: this
only keeps pool prompts out of the evaluation set; leakage into training is stopped later by select's n-gram
decontamination (stages/sql/decontam.sql) of the final training data against this set.

Sampling (seeded): `per_category` prompts per category, each language aiming at an equal share; prompts
whose primary code it is first, then unused prompts carrying it as a secondary code (those mentioning the
category's keywords first), then the other language fills what one language could not. A category below `per_category`
is listed in metrics (`short`); below `min_share` x per_category the stage fails (StageError naming the
categories and the fix; nothing written). Output: data/eval/newsafety.jsonl {id, category, categories, lang, prompt, source,
native_category, attack_method, category_from}; metrics/build_newsafety.json.
"""
from __future__ import annotations

import random
from collections import Counter, defaultdict

import click

from stages import taxonomy
from stages.io import StageError, clear_outputs, iter_records, write_jsonl, write_metrics
from stages.loaders import norm_prompt
from stages.params import stage_params
from stages.schemas.native import TRAINING_PROMPT
from stages.sources import SourceSet, source_summary

OUTPUTS = {"newsafety": "data/eval/newsafety.jsonl", "metrics": "metrics/build_newsafety.json"}
norm = norm_prompt


def training_prompts(paths: list[str]) -> set[str]:
    seen = set()
    for p in paths or []:
        for i, r in iter_records(p):
            seen.add(norm(TRAINING_PROMPT.check(r, p, i)["prompt"]))
    return seen


def categorize(rec: dict, src: dict) -> tuple[list[str], str]:
    """(codes, how) for one loaded record under its source's settings; codes primary first."""
    codes = list(rec.get("native_codes") or [])
    if codes:
        return codes, "fixed" if src.get("category") and codes[0] == src["category"] else "native"
    if src.get("keyword_fallback"):
        code = taxonomy.normalize_label(rec["prompt"])
        if code:
            return [code], "keyword"
    return [], "none"


def candidates(sources: list[dict], exclude: set[str], stats: Counter, seed: int = 0,
               where: str = "eval.newsafety.sources") -> dict[str, list[dict]]:
    """primary code -> candidate rows (each prompt once, first source wins), sorted by id. `stats` gets the
    counters, stats["_sources"] the SourceSet (per-source and cross-source metrics)."""
    by_cat: dict[str, list[dict]] = defaultdict(list)
    srcs = SourceSet(sources, where, seed=seed)
    stats["_sources"] = srcs
    for src, rec in srcs.records():
        if norm(rec["prompt"]) in exclude:
            stats["decontaminated"] += 1
            continue
        codes, how = categorize(rec, src)
        if not codes:
            stats["uncategorized"] += 1
            continue
        by_cat[codes[0]].append({"id": rec["id"], "category": codes[0], "categories": codes, "lang": rec["lang"],
                                 "prompt": rec["prompt"], "source": rec["source"],
                                 "native_category": rec["native_category"], "attack_method": rec["attack_method"],
                                 "category_from": how})
    stats["duplicate"] = srcs.summary()["total"] + sum(s["duplicate_prompt"] for s in srcs.stats.values())
    for rows in by_cat.values():
        rows.sort(key=lambda r: r["id"])
    return by_cat


def _mentions(prompt: str, code: str) -> bool:
    low = prompt.lower()
    words = taxonomy.CATEGORIES[code].get("keywords", []) + taxonomy._DATA["synonyms"].get(code, [])
    return any(len(w) >= 2 and w.lower() in low for w in words)


def sample(by_cat: dict[str, list[dict]], per_category: int, seed: int) -> list[dict]:
    """per_category rows per code: primary rows first, secondary ones (a code a record carries after its
    primary, e.g. MSEED 宣扬暴力、淫秽色情 -> PR, DT) only where primary rows run out, each language aiming at
    an equal share (a language short of its share is topped up with secondary rows of that language before
    the other language takes the rest)."""
    rows = sorted((r for rs in by_cat.values() for r in rs), key=lambda r: r["id"])
    order = {r["id"]: random.Random(f"{seed}:{r['id']}").random() for r in rows}
    langs = sorted({r["lang"] for r in rows})
    picked: dict[str, list[dict]] = {c: [] for c in taxonomy.CODES}
    used: set[str] = set()

    def take(code: str, secondary: bool, lang: str | None, k: int) -> None:
        if k <= 0:
            return
        pool = [r for r in rows if r["id"] not in used and (lang is None or r["lang"] == lang)
                and (code in r["categories"][1:] if secondary else r["categories"][0] == code)]
        pool.sort(key=lambda r: (secondary and not _mentions(r["prompt"], code), order[r["id"]]))
        for r in pool[:k]:
            used.add(r["id"])
            picked[code].append(dict(r, category=code, category_from=r["category_from"] + "_secondary")
                                if secondary else r)

    def share(code: str, lang: str) -> int:
        i = langs.index(lang)
        return per_category // len(langs) + (i < per_category % len(langs)) - sum(
            r["lang"] == lang for r in picked[code])

    for secondary in (False, True):  # each language's share: primary rows of every category, then secondary
        for code in taxonomy.CODES:
            for lang in langs:
                take(code, secondary, lang, share(code, lang))
    for secondary in (False, True):  # what a language could not fill goes to the other one
        for code in taxonomy.CODES:
            take(code, secondary, None, per_category - len(picked[code]))
    return [r for code in taxonomy.CODES for r in picked[code]]


def run(params: dict, inputs: dict | None = None, outputs: dict = OUTPUTS) -> dict:
    """params {"eval": {"newsafety": ...}} (the sources are its paths) -> the metrics (also in outputs["metrics"])."""
    p = params["eval"]["newsafety"]
    clear_outputs(outputs)
    per_category, seed = int(p["per_category"]), int(p.get("seed", 0))
    min_share = float(p["min_share"])
    stats: Counter = Counter()
    exclude = training_prompts(p.get("decontaminate", []))
    by_cat = candidates(p["sources"], exclude, stats, seed=seed)
    srcs: SourceSet = stats.pop("_sources")
    rows = sample(by_cat, per_category, seed)
    counts = Counter(r["category"] for r in rows)
    short = {c: counts[c] for c in taxonomy.CODES if counts[c] < per_category}
    metrics = {"n": len(rows), "per_category": per_category, "categories": {c: counts[c] for c in taxonomy.CODES},
               "short": short, "min_share": min_share,
               "available": {c: len(by_cat.get(c, [])) for c in taxonomy.CODES},
               "langs": dict(Counter(r["lang"] for r in rows)),
               "langs_by_category": {c: dict(Counter(r["lang"] for r in rows if r["category"] == c))
                                     for c in taxonomy.CODES},
               "category_from": dict(Counter(r["category_from"] for r in rows)),
               "attack_methods": dict(Counter(r["attack_method"] for r in rows if r["attack_method"])),
               **{k: stats[k] for k in ("decontaminated", "duplicate", "uncategorized")},
               "cross_source_duplicates": srcs.summary(),
               "sources": {name: source_summary(st) for name, st in srcs.stats.items()}}
    failing = [c for c, n in short.items() if n < min_share * per_category]
    if failing:
        hint = (" Most candidates were removed as training prompts: use different files (or a held-out split) "
                "in collect.sources and eval.newsafety.sources (docs/evaluation.md)."
                if stats["decontaminated"] > sum(len(v) for v in by_cat.values()) else
                " Add a source that carries these categories, or lower per_category / eval.newsafety.min_share.")
        raise StageError(f"build-newsafety: {', '.join(f'{c} {short[c]}' for c in failing)} prompts, below "
                         f"eval.newsafety.min_share {min_share:.0%} of per_category {per_category}; nothing written.{hint} "
                         f"(available by primary category: {metrics['available']})")
    if short:
        click.echo(f"build-newsafety: fewer than {per_category} prompts for "
                   f"{', '.join(f'{c} ({n})' for c, n in short.items())}", err=True)
    write_jsonl(outputs["newsafety"], rows)
    return write_metrics(outputs["metrics"], metrics)


@click.command()
def cli() -> None:
    """Sample the New-Safety benchmark (per_category prompts for each of the 14 categories)."""
    m = run(stage_params("eval.newsafety"))
    click.echo(f"build-newsafety: {m['n']} prompts, {sum(1 for n in m['categories'].values() if n)} categories", err=True)
