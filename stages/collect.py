"""collect: load every safety source and a sample of general instructions into `collected` records.

params `collect`: sources and general (source lists, see stages.sources: name, format, path, limit, lang,
seed, category, category_mode), general_count (null = all), seed, max_prompt_chars. A prompt already
collected (normalised) is dropped, within and across sources; metrics count them per source pair. Outputs data/collect/safety.jsonl and general.jsonl
(written atomically, validated against the `collected` suite before they appear) and metrics/collect.json.
Safety records are streamed; general records are reservoir-sampled (memory bounded by general_count).
"""
from __future__ import annotations

import random
import sys
from collections import Counter

import click
from tqdm import tqdm

from stages import loaders
from stages.io import InputError, clear_outputs, write_metrics
from stages.params import stage_params
from stages.schemas import validated_writer
from stages.sources import SKIPS, SourceSet, source_summary

OUTPUTS = {"safety": "data/collect/safety.jsonl", "general": "data/collect/general.jsonl",
           "metrics": "metrics/collect.json"}


def _records(sources: SourceSet, entries, label: str):
    """(source, record) of the entries, cross-source duplicates dropped, with a progress bar."""
    bar = tqdm(desc=f"collect {label}", unit=" rec", file=sys.stderr, mininterval=1.0)
    try:
        for src, rec in sources.records(entries):
            bar.update()
            yield src, rec
    finally:
        bar.close()


def run(params: dict, inputs: dict | None = None, outputs: dict = OUTPUTS) -> dict:
    """params {"collect": ...}; the inputs are the source paths in params; on any error no output is left."""
    try:
        return _run(params["collect"], outputs)
    except BaseException:
        clear_outputs(outputs)
        raise


def _run(params: dict, outputs: dict) -> dict:
    seed = params.get("seed", 0)
    max_chars = int(params.get("max_prompt_chars") or loaders.MAX_PROMPT_CHARS)
    safety = SourceSet(params.get("sources"), "collect.sources", seed=seed, kind="safety", max_prompt_chars=max_chars)
    general = SourceSet(params.get("general"), "collect.general", seed=seed, kind="general",
                        max_prompt_chars=max_chars)
    names = [s["name"] for s in safety.entries]
    clash = sorted(set(names) & {s["name"] for s in general.entries})
    if clash:
        raise InputError("params.yaml", f"collect.general: source names must be unique and contain no '/' "
                         f"(also used in collect.sources: {', '.join(clash)})", field="name")
    count = params.get("general_count")
    clear_outputs(outputs)

    lang, attacks = Counter(), Counter()
    with validated_writer(outputs["safety"], "collected") as w:
        for _, rec in _records(safety, None, "safety"):
            w.write(rec)
            lang[rec["lang"]] += 1
            attacks[rec["attack_method"]] += rec["attack_method"] is not None
        n_safety = w.count

    # Uniform sample of `count` general records over all general sources, in their original order.
    rng = random.Random(seed)
    reservoir: list[tuple[int, dict]] = []
    seen = 0
    for _, rec in _records(general, None, "general"):
        if count is None or len(reservoir) < count:
            reservoir.append((seen, rec))
        else:
            j = rng.randrange(seen + 1)
            if j < count:
                reservoir[j] = (seen, rec)
        seen += 1
    reservoir.sort(key=lambda item: item[0])
    sampled = Counter(rec["source"] for _, rec in reservoir)
    with validated_writer(outputs["general"], "collected") as w:
        for _, rec in reservoir:
            w.write(rec)
            lang[rec["lang"]] += 1
        n_general = w.count

    per_source = {name: source_summary(st) for name, st in safety.stats.items()}
    for name, st in general.stats.items():
        per_source[name] = dict(source_summary(st), sampled=sampled[name])
    metrics = {
        "safety_rows": n_safety,
        "general_rows": n_general,
        "general_available": seen,
        "lang": {k: lang[k] for k in ("zh", "en")},
        "skipped": {k: sum(s[k] for s in per_source.values()) for k in SKIPS},
        "unknown_category": sum(s["unknown_category"] for s in per_source.values()),
        "cross_source_duplicates": {"safety": safety.summary(), "general": general.summary()},
        "attack_methods": dict(attacks.most_common()),
        "sources": per_source,
    }
    return write_metrics(outputs["metrics"], metrics)


@click.command("collect")
@click.option("--params", "params_path", default="params.yaml", show_default=True, help="Parameters file.")
def cli(params_path):
    """Load the safety sources and sample general instructions (params section `collect`).

    Writes data/collect/safety.jsonl, data/collect/general.jsonl (schema `collected`) and metrics/collect.json.
    """
    m = run(stage_params("collect", path=params_path))
    click.echo(f"collect: {m['safety_rows']} safety + {m['general_rows']} general records "
               f"(skipped: {m['skipped']}, unknown categories: {m['unknown_category']})", err=True)
