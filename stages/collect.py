"""collect: load every safety source and a sample of general instructions into `collected` records.

params `collect`: sources [{name, format, path, limit, lang?}], general [{name, format, path, limit?}],
general_count (null = all), seed, max_prompt_chars. Outputs data/collect/safety.jsonl and general.jsonl
(written atomically, validated against the `collected` suite before they appear) and metrics/collect.json.
Safety records are streamed; general records are reservoir-sampled (memory bounded by general_count).
"""
from __future__ import annotations

import random
import sys
from collections import Counter
from pathlib import Path

import click
from tqdm import tqdm

from stages import loaders
from stages.io import InputError, write_json
from stages.params import section
from stages.schemas import validated_writer

SAFETY_OUT = Path("data/collect/safety.jsonl")
GENERAL_OUT = Path("data/collect/general.jsonl")
METRICS_OUT = Path("metrics/collect.json")
SKIPS = ("empty_prompt", "too_long", "duplicate", "unknown_category")


def _check_sources(entries, key: str) -> None:
    names = set()
    for i, src in enumerate(entries):
        where = f"collect.{key}[{i}]"
        for field in ("name", "format", "path"):
            if not src.get(field):
                raise InputError("params.yaml", f"{where}: missing '{field}'", field=field)
        if "/" in src["name"] or src["name"] in names:
            raise InputError("params.yaml", f"{where}: source names must be unique and contain no '/'",
                             field="name")
        if src["format"] not in loaders.READERS:
            raise InputError("params.yaml", f"{where}: unknown format '{src['format']}' "
                             f"(known: {', '.join(loaders.FORMATS)})", field="format")
        names.add(src["name"])


def _records(src: dict, kind: str, max_chars: int, stats: Counter):
    bar = tqdm(desc=f"collect {src['name']}", unit=" rec", file=sys.stderr, mininterval=1.0)
    try:
        for rec in loaders.load(src["path"], src["format"], source=src["name"], kind=kind, limit=src.get("limit"),
                                max_prompt_chars=max_chars, lang=src.get("lang"), stats=stats):
            bar.update()
            yield rec
    finally:
        bar.close()


def _summary(stats: Counter) -> dict:
    out = {k: stats[k] for k in ("rows", "zh", "en", *SKIPS)}
    unknown = Counter({k[len("unknown:"):]: v for k, v in stats.items() if k.startswith("unknown:")})
    if unknown:
        out["unknown_categories"] = dict(unknown.most_common(20))
    return out


def run(params: dict) -> dict:
    """Run the stage; on any error no output is left behind."""
    try:
        return _run(params)
    except BaseException:
        for out in (SAFETY_OUT, GENERAL_OUT, METRICS_OUT):
            out.unlink(missing_ok=True)
        raise


def _run(params: dict) -> dict:
    sources, general = params.get("sources") or [], params.get("general") or []
    _check_sources(sources, "sources")
    _check_sources(general, "general")
    max_chars = int(params.get("max_prompt_chars") or loaders.MAX_PROMPT_CHARS)
    count = params.get("general_count")
    for out in (SAFETY_OUT, GENERAL_OUT, METRICS_OUT):
        out.unlink(missing_ok=True)

    per_source: dict[str, dict] = {}
    with validated_writer(SAFETY_OUT, "collected") as w:
        for src in sources:
            stats = Counter()
            for rec in _records(src, "safety", max_chars, stats):
                w.write(rec)
            per_source[src["name"]] = _summary(stats)
        n_safety = w.count

    # Uniform sample of `count` general records over all general sources, in their original order.
    rng = random.Random(params.get("seed", 0))
    reservoir: list[tuple[int, dict]] = []
    seen = 0
    general_stats: dict[str, Counter] = {}
    for src in general:
        stats = general_stats[src["name"]] = Counter()
        for rec in _records(src, "general", max_chars, stats):
            if count is None or len(reservoir) < count:
                reservoir.append((seen, rec))
            else:
                j = rng.randrange(seen + 1)
                if j < count:
                    reservoir[j] = (seen, rec)
            seen += 1
    reservoir.sort(key=lambda item: item[0])
    sampled = Counter(rec["source"] for _, rec in reservoir)
    with validated_writer(GENERAL_OUT, "collected") as w:
        for _, rec in reservoir:
            w.write(rec)
        n_general = w.count
    for name, stats in general_stats.items():
        per_source[name] = dict(_summary(stats), sampled=sampled[name])

    lang = Counter()
    for s in per_source.values():
        lang.update({"zh": s["zh"], "en": s["en"]})
    metrics = {
        "safety_rows": n_safety,
        "general_rows": n_general,
        "general_available": seen,
        "lang": dict(lang),
        "skipped": {k: sum(s[k] for s in per_source.values()) for k in SKIPS[:3]},
        "unknown_category": sum(s["unknown_category"] for s in per_source.values()),
        "sources": per_source,
    }
    write_json(METRICS_OUT, metrics)
    return metrics


@click.command("collect")
@click.option("--params", "params_path", default="params.yaml", show_default=True, help="Parameters file.")
def cli(params_path):
    """Load the safety sources and sample general instructions (params section `collect`).

    Writes data/collect/safety.jsonl, data/collect/general.jsonl (schema `collected`) and metrics/collect.json.
    """
    m = run(section("collect", params_path))
    click.echo(f"collect: {m['safety_rows']} safety + {m['general_rows']} general records "
               f"(skipped: {m['skipped']}, unknown categories: {m['unknown_category']})", err=True)
