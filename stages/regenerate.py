"""Stage `regenerate`: the large safety model rewrites responses with chain-of-thought (paper 3.6).

The `safety_model` role gets every prompt with the CoT safety instruction (analyse the risk, explain
the reasoning, then answer safely) in the prompt's language, formatted `Analysis: ... / Answer: ...`
(`分析：... / 回答：...` for Chinese). One row per response candidate:

- `original`: the source's reference response, when it has one (response_model `source:<source>`);
- `original_negative`: the source's negative reference (`meta.neg_resp`, e.g. CValues-Comparison);
- `regenerated`: one per sample of the role (`n`), response_model = the role's model.

`mode: cot` (the default): the reply is parsed into `analysis` + answer; `keep_analysis` decides whether the
SFT target (`response`) is the answer alone or analysis + answer. A reply without the format is flagged
(`parse_error`) and the whole text becomes the response.

`mode: answer` (for small models, which do not produce the two-part format; needs keep_analysis false): the
system message (params `answer_prompt`, prompts/regenerate_answer.txt) asks for the safe answer itself, the
prompt is the user turn as in evaluation, and `few_shot_k` earlier turns show the sources' own reference
responses (same language, same category first; other prompts than this one, at most 300 characters each,
picked by a hash of the ids so the choice is stable). The reply is the response (an `Answer:` part is
taken when present); an empty or degenerate reply (`stages.llm.rules.gibberish`) or one that repeats the
prompt (an 8-token run of it) is a `parse_error`. A failed call gives a row with `gen_error`
and `response: null`; if failed calls exceed `max_error_rate` of all calls the stage fails and
writes nothing. Every prompt ends with at least one candidate row.

Reads: data/augment/prompts.jsonl, params `regenerate`, role `safety_model`, prompts/regenerate.txt or
prompts/regenerate_answer.txt.
Writes: data/regenerate/candidates.jsonl, metrics/regenerate.json.
"""
from __future__ import annotations

import itertools
import json
from collections import Counter

import click
from tqdm import tqdm

import hashlib
from collections import defaultdict

from stages.io import InputError, atomic_path, check_error_budget, clear_outputs, read_jsonl, write_metrics
from stages.llm.roles import role_llm
from stages.params import stage_params
from stages.schemas import validate_file
from stages.tasks.regenerate import TAGS, Regenerate, RegenerateAnswer

INPUTS = {"prompts": "data/augment/prompts.jsonl"}
OUTPUTS = {"candidates": "data/regenerate/candidates.jsonl", "metrics": "metrics/regenerate.json"}
CHUNK = 256
MODES = ("cot", "answer")
EXEMPLAR_CHARS = 300          # longer references are not used as few-shot exemplars
EXEMPLARS_PER_GROUP = 64      # pool kept per (language, category)
COT = Regenerate()


def exemplar_pool(rows) -> dict[tuple[str, str], list[dict]]:
    """(lang, category) -> collected prompts with a short reference response (few-shot exemplars)."""
    pool: dict = defaultdict(list)
    for r in rows:
        resp = r.get("response")
        if (r.get("origin", "original") == "original" and isinstance(resp, str) and resp.strip()
                and len(resp) <= EXEMPLAR_CHARS and len(r["prompt"]) <= EXEMPLAR_CHARS):
            group = pool[(r.get("lang"), r.get("category"))]
            if len(group) < EXEMPLARS_PER_GROUP:
                group.append({"id": r["id"], "prompt": r["prompt"], "response": resp.strip()})
    return pool


def pick_exemplars(row: dict, pool: dict, k: int) -> list[dict]:
    """k exemplars for a row: same language and category first, then same language; never the row itself."""
    def order(group):
        rest = [e for e in group if e["id"] != row["id"] and e["prompt"] != row["prompt"]]
        return sorted(rest, key=lambda e: hashlib.sha1(f"{row['id']}\0{e['id']}".encode()).hexdigest())
    same = order(pool.get((row.get("lang"), row.get("category")), []))
    other = order([e for (lg, c), g in sorted(pool.items(), key=str) if lg == row.get("lang")
                   and c != row.get("category") for e in g])
    return (same + other)[:k]


def candidates(row: dict, completions: list, model: str, keep_analysis: bool, task: Regenerate | None = None,
               exemplars: list[dict] = ()) -> list[dict]:
    """Candidate rows for one prompt: original, original_negative (when present), regenerated (parsed by `task`,
    default the cot task; `exemplars`: the few-shot turns its request showed, a reply copying one is an error)."""
    task = task or COT
    base = {"id": row["id"], "source": row["source"], "category": row["category"], "lang": row["lang"],
            "prompt": row["prompt"], "origin": row.get("origin", "original"), "parent_id": row.get("parent_id")}
    out = []

    def add(kind, response, analysis=None, response_model=None, gen_raw=None, gen_error=None, parse_error=False):
        out.append({**base, "cand_id": f"{row['id']}#{len(out)}", "response": response, "analysis": analysis,
                    "candidate_type": kind, "response_model": response_model, "gen_raw": gen_raw,
                    "gen_error": gen_error, "parse_error": parse_error})

    if isinstance(row.get("response"), str) and row["response"].strip():
        add("original", row["response"], response_model=f"source:{row['source']}")
    neg = (row.get("meta") or {}).get("neg_resp")
    if isinstance(neg, str) and neg.strip():
        add("original_negative", neg, response_model=f"source:{row['source']}")
    tags = TAGS.get(row.get("lang"), TAGS["en"])
    for c in completions:
        if c.error is not None or c.text is None:
            add("regenerated", None, response_model=model, gen_error=c.error or "no text")
            continue
        analysis, answer, perr = task.parse(c.text, row["prompt"], [e["response"] for e in exemplars])
        if isinstance(task, RegenerateAnswer):
            add("regenerated", answer, analysis, model, c.text, None, perr)
            continue
        response = answer if not (keep_analysis and analysis and not perr) else f"{tags[0]} {analysis}\n{tags[1]} {answer}"
        add("regenerated", response, analysis, model, c.text, None, perr)
    return out


def run(params: dict, inputs: dict = INPUTS, outputs: dict = OUTPUTS) -> dict:
    """params {"regenerate": ..., "roles": {"safety_model": ...}} -> the metrics (also in outputs["metrics"])."""
    clear_outputs(outputs)
    inp, out, params_file = inputs["prompts"], outputs["candidates"], getattr(params, "file", "params.yaml")
    p = params["regenerate"]
    keep_analysis = bool(p.get("keep_analysis", False))
    max_error_rate = float(p.get("max_error_rate", 0.05))
    mode, k = p.get("mode") or "cot", int(p.get("few_shot_k") or 0)
    if mode not in MODES:
        raise InputError(params_file, f"regenerate.mode must be one of {', '.join(MODES)}, got {mode!r}", field="mode")
    if mode == "answer" and keep_analysis:
        raise InputError(params_file, "mode answer has no analysis to keep: set keep_analysis false or mode cot",
                         field="keep_analysis")
    task = (RegenerateAnswer(p.get("answer_prompt", "prompts/regenerate_answer.txt")) if mode == "answer"
            else Regenerate(p.get("prompt", "prompts/regenerate.txt")))
    validate_file(inp, "augmented")
    total = sum(1 for _ in read_jsonl(inp))
    pool = exemplar_pool(read_jsonl(inp)) if mode == "answer" and k > 0 else {}

    def exemplars(r):
        return pick_exemplars(r, pool, k) if mode == "answer" else []

    llm = role_llm(params, "safety_model", stage="regenerate")
    model = llm.backend.model
    types, calls, errors, parse_errors, prompts = Counter(), 0, 0, 0, 0
    rows = read_jsonl(inp)
    with atomic_path(out) as tmp:
        with open(tmp, "w", encoding="utf-8") as f, tqdm(total=total, desc="regenerate", unit="prompt") as bar:
            while chunk := list(itertools.islice(rows, CHUNK)):
                shown = [exemplars(r) for r in chunk]
                results = llm.chat([task.render(r["prompt"], r.get("lang"), e) for r, e in zip(chunk, shown)],
                                   task=task)
                for row, comps, ex in zip(chunk, results, shown):
                    cands = candidates(row, comps, model, keep_analysis, task, ex)
                    prompts += 1
                    for c in cands:
                        types[c["candidate_type"]] += 1
                        if c["candidate_type"] == "regenerated":
                            calls += 1
                            errors += c["gen_error"] is not None
                            parse_errors += c["parse_error"]
                        f.write(json.dumps(c, ensure_ascii=False) + "\n")
                bar.update(len(chunk))
        error_rate = check_error_budget("regenerate", errors, calls, max_error_rate, "generations",
                                        "safety_model", llm.stats())
        validate_file(tmp, "candidates", name=out)

    report = {"prompts": prompts, "candidates": sum(types.values()),
              "candidate_types": {k: types[k] for k in ("original", "original_negative", "regenerated")},
              "gen_errors": errors, "error_rate": round(error_rate, 4), "parse_errors": parse_errors,
              "parse_error_rate": round(parse_errors / max(1, calls - errors), 4),
              "keep_analysis": keep_analysis, "mode": mode, "few_shot_k": k if mode == "answer" else 0,
              "llm": {"safety_model": llm.stats()}}
    return write_metrics(outputs["metrics"], report)


@click.command(help=__doc__)
def cli():
    r = run(stage_params("regenerate", "roles.safety_model"))
    click.echo(f"regenerate: {r['prompts']} prompts -> {r['candidates']} candidates "
               f"({r['gen_errors']} generation errors, {r['parse_errors']} unparsed) -> {OUTPUTS['candidates']}", err=True)
