"""build_newsafety stage: the 14-category New-Safety evaluation set (paper 4.2, second part).

Prompts come from the sources in params eval.newsafety.sources (S-Eval base/attack, CValues-Comparison
test, MSEED, ...; any `stages.loaders` format). Each prompt gets its category from the source's native
category (`taxonomy.map_native`, primary code), or from the source's fixed `category` (e.g. IA for
attack sets), or, when `keyword_fallback` is on and the native category maps to nothing, from the
taxonomy synonyms found in the prompt. Prompts also in the training pool (exact match after whitespace
normalization against `decontaminate` files, data/collect/safety.jsonl) are dropped. Then up to
`per_category` prompts per category are drawn with `seed`.
Output: data/eval/newsafety.jsonl {id, category, lang, prompt, source, native_category, category_from}.
"""
from __future__ import annotations

import random
import re
from collections import Counter, defaultdict
from pathlib import Path

import click

from stages import taxonomy
from stages.evaluate import clean
from stages.io import InputError, iter_records, require, write_json, write_jsonl
from stages.loaders import load
from stages.params import section

OUT = Path("data/eval/newsafety.jsonl")
METRICS = Path("metrics/build_newsafety.json")


def norm(prompt: str) -> str:
    return re.sub(r"\s+", " ", prompt).strip()


def training_prompts(paths: list[str]) -> set[str]:
    seen = set()
    for p in paths:
        for i, r in iter_records(p):
            seen.add(norm(require(r, "prompt", p, i, allow_empty=True)))
    return seen


def categorize(rec: dict, src: dict) -> tuple[list[str], str]:
    """(codes, how) for one collected record under its source's settings; codes primary first."""
    if src.get("category"):
        return [src["category"]], "fixed"
    codes = taxonomy.map_native(rec["format"], rec["native_category"])
    if codes:
        return codes, "native"
    if src.get("keyword_fallback"):
        code = taxonomy.normalize_label(rec["prompt"])
        if code:
            return [code], "keyword"
    return [], "none"


def candidates(sources: list[dict], exclude: set[str], stats: Counter) -> dict[str, list[dict]]:
    """category -> candidate rows (each prompt once, first source wins), sorted by id."""
    by_cat: dict[str, list[dict]] = defaultdict(list)
    seen: set[str] = set()
    for src in sources:
        for f in ("name", "format", "path"):
            if not src.get(f):
                raise InputError("params.yaml", f"eval.newsafety.sources: each source needs '{f}'", field=f)
        if src.get("category") and src["category"] not in taxonomy.CODES:
            raise InputError("params.yaml", f"unknown category {src['category']!r}", field="category")
        for rec in load(src["path"], src["format"], source=src["name"]):
            key = norm(rec["prompt"])
            if key in exclude:
                stats["decontaminated"] += 1
                continue
            if key in seen:
                stats["duplicate"] += 1
                continue
            seen.add(key)
            codes, how = categorize(rec, src)
            if not codes:
                stats["uncategorized"] += 1
                continue
            by_cat[codes[0]].append({"id": rec["id"], "category": codes[0], "lang": rec["lang"],
                                     "prompt": rec["prompt"], "source": rec["source"],
                                     "native_category": rec["native_category"], "category_from": how,
                                     "codes": codes})
    for rows in by_cat.values():
        rows.sort(key=lambda r: r["id"])
    return by_cat


def sample(by_cat: dict[str, list[dict]], per_category: int, seed: int) -> list[dict]:
    """per_category rows per code by primary category; a short category is then filled with unused
    rows whose secondary codes include it (e.g. S-Eval Pornographic_Contraband -> PR, DT)."""
    picked: dict[str, list[dict]] = {}
    rest: list[dict] = []
    for code in taxonomy.CODES:
        rows = list(by_cat.get(code, []))
        random.Random(f"{seed}:{code}").shuffle(rows)
        picked[code], left = rows[:per_category], rows[per_category:]
        rest.extend(left)
    used: set[str] = set()
    for code in taxonomy.CODES:
        need = per_category - len(picked[code])
        if need <= 0:
            continue
        pool = sorted((r for r in rest if code in r["codes"][1:] and r["id"] not in used), key=lambda r: r["id"])
        random.Random(f"{seed}:{code}:secondary").shuffle(pool)
        for r in pool[:need]:
            used.add(r["id"])
            picked[code].append(dict(r, category=code, category_from=r["category_from"] + "_secondary"))
    return [{k: v for k, v in r.items() if k != "codes"} for code in taxonomy.CODES for r in picked[code]]


@click.command()
def cli() -> None:
    """Sample the New-Safety benchmark (per_category prompts for each of the 14 categories)."""
    p = section("eval")["newsafety"]
    clean(OUT, METRICS)
    stats: Counter = Counter()
    exclude = training_prompts(p.get("decontaminate", []))
    by_cat = candidates(p["sources"], exclude, stats)
    rows = sample(by_cat, int(p["per_category"]), int(p.get("seed", 0)))
    counts = Counter(r["category"] for r in rows)
    missing = [c for c in taxonomy.CODES if counts[c] < int(p["per_category"])]
    if missing:
        click.echo(f"build-newsafety: fewer than {p['per_category']} prompts for {', '.join(missing)}", err=True)
    write_jsonl(OUT, rows)
    write_json(METRICS, {"n": len(rows), "categories": {c: counts[c] for c in taxonomy.CODES},
                         "available": {c: len(by_cat.get(c, [])) for c in taxonomy.CODES},
                         "langs": dict(Counter(r["lang"] for r in rows)), **{k: stats[k] for k in
                         ("decontaminated", "duplicate", "uncategorized")}})
    click.echo(f"build-newsafety: {len(rows)} prompts, {len(counts)} categories", err=True)
