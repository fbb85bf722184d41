"""Stage `augment`: attack/defense diversity control (paper 3.5).

1. Rejection sampling of the labeled prompts, visited in a seeded random order: a prompt whose
   n-gram Jaccard similarity to an earlier one is >= `dedup_threshold` is a near-duplicate and
   dropped (MinHash/LSH, text.NearDupIndex); a prompt whose primary category already holds
   `per_category_cap` prompts is dropped. Kept prompts are written in input order (origin original).
2. Prompt enhancement with the `attacker` role (high temperature/top_p from the role), for every
   taxonomy category with fewer than `target_per_category` kept prompts, by the paper's two methods:
   - keywords: the category's theme keywords + `few_shot_k` examples of the category -> new prompts;
   - related:  an existing prompt of the category -> related new questions (parent_id = that prompt).
   Each request asks for `per_call` prompts; the deficit is split over `methods`; a generated prompt
   is kept only if it is no near-duplicate of any input prompt (kept or not) or earlier generated
   one. Up to `max_rounds` rounds (each with a new sampling seed) fill what is still missing.

Deterministic given `seed` and the role's seed (and the LLM cache). When more than `max_error_rate`
(default 0.05) of the attacker requests fail after their retries, the stage fails and writes nothing.
Reads: data/label/labeled.jsonl, params `augment`, role `attacker`, the two prompt templates.
Writes: data/augment/prompts.jsonl, metrics/augment.json, metrics/plots/augment_categories.csv.
"""
from __future__ import annotations

import csv
import hashlib
import math
import random
import re
from collections import Counter, defaultdict
from itertools import zip_longest

import click
from tqdm import tqdm

from stages import taxonomy
from stages.io import atomic_open, atomic_path, check_error_budget, clear_outputs, read_jsonl, write_jsonl, write_metrics
from stages.llm.roles import role_llm
from stages.params import stage_params
from stages.schemas import validate_file
from stages.tasks.augment import AugmentKeywords, AugmentRelated
from stages.text import NearDupIndex, detect_lang, diversity

INPUTS = {"labeled": "data/label/labeled.jsonl"}
OUTPUTS = {"prompts": "data/augment/prompts.jsonl", "metrics": "metrics/augment.json",
           "plot": "metrics/plots/augment_categories.csv"}
METHODS = ("keywords", "related")
LANG_NAME = {"zh": "Chinese (简体中文)", "en": "English"}
_CJK = re.compile(r"[\u4e00-\u9fff]")


def _params(p: dict) -> dict:
    out = {"seed": int(p.get("seed", 0)), "dedup_threshold": float(p.get("dedup_threshold", 0.8)),
           "ngram": int(p.get("ngram", 3)), "per_category_cap": p.get("per_category_cap"),
           "target_per_category": int(p.get("target_per_category", 0)), "few_shot_k": int(p.get("few_shot_k", 3)),
           "methods": list(p.get("methods", METHODS)), "per_call": int(p.get("per_call", 4)),
           "max_rounds": int(p.get("max_rounds", 3)), "diversity_sample": int(p.get("diversity_sample", 200)),
           "max_error_rate": float(p.get("max_error_rate", 0.05)),
           "prompt_keywords": p.get("prompt_keywords", "prompts/augment_keywords.txt"),
           "prompt_related": p.get("prompt_related", "prompts/augment_related.txt")}
    if not 0 < out["dedup_threshold"] <= 1:
        raise ValueError("augment.dedup_threshold must be in (0, 1]")
    bad = [m for m in out["methods"] if m not in METHODS]
    if bad:
        raise ValueError(f"augment.methods: unknown {bad}; choose from {list(METHODS)}")
    if out["per_call"] < 1 or out["ngram"] < 1:
        raise ValueError("augment.per_call and augment.ngram must be >= 1")
    return out


def reject_sample(rows: list[dict], index: NearDupIndex, cap: int | None, seed: int) -> tuple[list[dict], Counter]:
    """Near-duplicate and per-category-cap rejection in a seeded random order; kept rows in input order.
    Every row (kept or not) ends up in `index`, so generated prompts are checked against all of them."""
    order = list(range(len(rows)))
    random.Random(seed).shuffle(order)
    keep, per_cat, rejected = [False] * len(rows), Counter(), Counter()
    for i in tqdm(order, desc="augment: dedup", unit="prompt"):
        r = rows[i]
        if index.add_if_new(("in", i), r["prompt"]) is not None:
            rejected["near_duplicate"] += 1
        elif cap is not None and per_cat[r["category"]] >= int(cap):
            rejected["category_cap"] += 1
        else:
            keep[i] = True
            per_cat[r["category"]] += 1
    return [r for r, k in zip(rows, keep) if k], rejected


def _one_line(text: str, limit: int = 300) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[:limit] + "…"


def _keywords(code: str, lang: str) -> str:
    words = taxonomy.CATEGORIES[code].get("keywords", [])
    pick = [w for w in words if bool(_CJK.search(w)) == (lang == "zh")] or words
    return ", ".join(pick)


def _trusted(code: str, lang: str, k: int) -> dict:
    c = taxonomy.CATEGORIES[code]
    return {"category_name": c["en"], "category_zh": c["zh"], "definition": c.get("definition", ""),
            "keywords": _keywords(code, lang), "k": str(k), "language": LANG_NAME[lang]}


def _requests(code, method, need, pool, p, rng, cursor):
    """(conversation, parent_id, example_ids) for one category/method/round."""
    reqs = []
    for _ in range(math.ceil(need / p["per_call"])):
        if method == "keywords":
            ex = rng.sample(pool, min(p["few_shot_k"], len(pool)))
            langs = Counter(r["lang"] for r in ex)
            lang = langs.most_common(1)[0][0] if ex else "zh"
            conv = p["_tasks"]["keywords"].render([_one_line(r["prompt"]) for r in ex],
                                                  **_trusted(code, lang, p["per_call"]))
            reqs.append((conv, None, [r["id"] for r in ex]))
        else:
            parent = pool[cursor[code] % len(pool)]
            cursor[code] += 1
            conv = p["_tasks"]["related"].render(parent["prompt"], **_trusted(code, parent["lang"], p["per_call"]))
            reqs.append((conv, parent["id"], [parent["id"]]))
    return reqs


def generated_record(prompt, code, method, parent_id, example_ids, raw, attacker, rnd) -> dict:
    h = hashlib.sha1(f"{code}\x1f{prompt}".encode()).hexdigest()[:12]
    return {"id": f"augment/{method}/h{h}", "source": f"augment_{method}", "format": "augment", "native_id": None,
            "lang": detect_lang(prompt), "kind": "safety", "prompt": prompt, "response": None,
            "native_category": None, "meta": {"round": rnd, "examples": example_ids},
            "category": code, "categories": [code], "intent_labels": [], "intent_codes": [], "label_raw": None,
            "label_parse_error": False, "labeler": None, "origin": method, "parent_id": parent_id,
            "target_category": code, "gen_raw": raw, "attacker": attacker}


def enhance(kept: list[dict], index: NearDupIndex, p: dict, llm) -> tuple[list[dict], dict, dict]:
    """Generate prompts for categories below target. Returns (rows, per-method counts, shortfall)."""
    rng = random.Random(p["seed"] + 1)
    pools: dict[str, list[dict]] = defaultdict(list)
    for r in kept:
        pools[r["category"]].append(r)
    for pool in pools.values():  # related: visit parents in a seeded order
        rng.shuffle(pool)
    need = {c: max(0, p["target_per_category"] - len(pools[c])) for c in taxonomy.CODES}
    counts = {m: Counter() for m in p["methods"]}
    out: list[dict] = []
    attacker = llm.backend.model
    cursor: Counter = Counter()
    bar = tqdm(total=sum(need.values()), desc="augment: generate", unit="prompt")
    for rnd in range(p["max_rounds"]):
        if not p["methods"] or not any(need.values()):
            break
        batches: dict[str, list] = {m: [] for m in p["methods"]}  # method -> [(code, request)]
        for code in taxonomy.CODES:
            if not need[code]:
                continue
            methods = [m for m in p["methods"] if m == "keywords" or pools[code]]
            if not methods:
                continue
            share = math.ceil(need[code] / len(methods))
            for m in methods:
                batches[m] += [(code, req) for req in _requests(code, m, share, pools[code], p, rng, cursor)]
        if not any(batches.values()):
            break
        lines: dict[str, dict[str, list]] = defaultdict(lambda: defaultdict(list))  # code -> method -> items
        for m, items in batches.items():
            if not items:
                continue
            task = p["_tasks"][m]
            res = llm.chat([conv for _, (conv, _, _) in items], task=task, n=1,
                           seed=llm.defaults.seed + rnd)
            counts[m]["requests"] += len(items)
            for (code, (_, parent, ex)), comps in zip(items, res):
                c = comps[0]
                if c.error is not None:
                    counts[m]["gen_errors"] += 1
                    continue
                for line in task.parse(c.text):
                    counts[m]["lines"] += 1
                    lines[code][m].append((line, m, parent, ex, c.text))
        for code in taxonomy.CODES:  # accept methods' prompts alternately until the target is met
            for item in (x for grp in zip_longest(*lines[code].values()) for x in grp if x is not None):
                if not need[code]:
                    break
                line, m, parent, ex, raw = item
                rec = generated_record(line, code, m, parent, ex, raw, attacker, rnd)
                if index.add_if_new(("gen", rec["id"]), line) is not None:
                    counts[m]["near_duplicate"] += 1
                    continue
                counts[m]["accepted"] += 1
                need[code] -= 1
                bar.update(1)
                out.append(rec)
    bar.close()
    return out, {m: dict(c) for m, c in counts.items()}, {c: n for c, n in need.items() if n}


def original_record(r: dict) -> dict:
    out = dict(r)
    out.update(origin="original", parent_id=None, target_category=r["category"], gen_raw=None, attacker=None)
    return out


def run(params: dict, inputs: dict = INPUTS, outputs: dict = OUTPUTS) -> dict:
    """params {"augment": ..., "roles": {"attacker": ...}} -> the metrics (also written to outputs["metrics"])."""
    clear_outputs(outputs)
    inp, out = inputs["labeled"], outputs["prompts"]
    p = _params(params["augment"])
    p["_tasks"] = {"keywords": AugmentKeywords(p["prompt_keywords"]), "related": AugmentRelated(p["prompt_related"])}
    validate_file(inp, "labeled")
    rows = list(read_jsonl(inp))

    index = NearDupIndex(threshold=p["dedup_threshold"], n=p["ngram"], seed=p["seed"] + 1)
    kept, rejected = reject_sample(rows, index, p["per_category_cap"], p["seed"])
    llm = role_llm(params, "attacker", stage="augment")
    generated, gen_counts, shortfall = enhance(kept, index, p, llm)
    final = [original_record(r) for r in kept] + generated
    errors = sum(c.get("gen_errors", 0) for c in gen_counts.values())
    calls = sum(c.get("requests", 0) for c in gen_counts.values())
    error_rate = check_error_budget("augment", errors, calls, p["max_error_rate"], "attacker requests", "attacker",
                                    llm.stats())

    with atomic_path(out) as tmp:
        write_jsonl(tmp, final)
        validate_file(tmp, "augmented", name=out)

    before, after_rej, after = (Counter(r["category"] for r in rs) for rs in (rows, kept, final))
    div = {"n": p["ngram"], "sample": p["diversity_sample"], "seed": p["seed"]}
    report = {"input": len(rows), "kept_original": len(kept), "generated": len(generated), "output": len(final),
              "rejected": {"near_duplicate": rejected["near_duplicate"], "category_cap": rejected["category_cap"]},
              "methods": gen_counts, "shortfall": shortfall, "error_rate": round(error_rate, 4),
              "categories": {"before": {c: before.get(c, 0) for c in taxonomy.ALL_LABELS},
                             "after_rejection": {c: after_rej.get(c, 0) for c in taxonomy.ALL_LABELS},
                             "after": {c: after.get(c, 0) for c in taxonomy.ALL_LABELS}},
              "diversity": {"before": diversity([r["prompt"] for r in rows], **div),
                            "after": diversity([r["prompt"] for r in final], **div)},
              "llm": {"attacker": llm.stats()}}
    write_metrics(outputs["metrics"], report)
    with atomic_open(outputs["plot"]) as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(["category", "stage", "count"])
        for name in ("before", "after"):
            w.writerows((c, name, n) for c, n in report["categories"][name].items())
    return report


@click.command(help=__doc__)
def cli():
    r = run(stage_params("augment", "roles.attacker"))
    click.echo(f"augment: {r['input']} in, {r['rejected']['near_duplicate']} near-duplicates and "
               f"{r['rejected']['category_cap']} over cap dropped, {r['generated']} generated -> {OUTPUTS['prompts']}", err=True)
