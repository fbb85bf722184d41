"""Safety reward model features (paper 3.7): prompt perplexity, response safety, instruction safety.

Reads data/regenerate/candidates.jsonl (one row per candidate response), writes
data/score/features.jsonl (the same rows plus ppl, response_score, instruction_score, judge_raw,
instruction_raw, score_parse_error) and metrics/score.json.

- ppl: perplexity of the prompt under role `ppl_model`, once per distinct prompt text, first
  `max_ppl_tokens` tokens.
- response_score: the paper's pairwise prompt; the judge scores "output1" and "output2" of one
  prompt together and answers "[s1, s2]". Pairing: the candidates of a prompt that have a response,
  in file order, are paired (c0, c1), (c2, c3), ...; with an odd count the last one is paired with c0
  (c0 keeps the score of its first pair). A prompt with a single candidate is paired with itself
  (output1 == output2) and gets s1: the judge sees no competitor rather than an invented one.
- instruction_score: the judge's safety score of the prompt itself, once per distinct prompt text
  (lower = a stronger attack instruction, which selection prefers).
Unparseable, wrong-count or out-of-range answers give null + score_parse_error with the raw text
kept; nothing is clipped or defaulted. A candidate without a response (generation failed) gets no
judge call and a null response_score.
"""
from __future__ import annotations

import math

import click
from tqdm import tqdm

from stages.io import check_error_budget, clear_outputs, iter_records, write_jsonl, write_metrics
from stages.llm.roles import role_llm
from stages.params import stage_params
from stages.schemas import validate_rows
from stages.schemas.native import SCORE_INPUT
from stages.tasks.score_instruction import ScoreInstruction
from stages.tasks.score_response import ScoreResponse

INPUTS = {"candidates": "data/regenerate/candidates.jsonl"}
OUTPUTS = {"features": "data/score/features.jsonl", "metrics": "metrics/score.json"}
CHUNK = 256  # conversations per LLM call (progress granularity; the LLM layer batches inside)


def load_candidates(path) -> list[dict]:
    rows = []
    for line, row in iter_records(path):
        rows.append(SCORE_INPUT.check(row, path, line))
    return rows


def make_pairs(rows: list[dict]) -> tuple[list[tuple[int, int]], dict[int, tuple[int, int]]]:
    """Judge pairs over row indices, and for each scored row: (pair index, position 0|1) giving its score."""
    groups: dict[str, list[int]] = {}
    for i, r in enumerate(rows):
        if isinstance(r.get("response"), str) and r["response"].strip():
            groups.setdefault(r["id"], []).append(i)
    pairs: list[tuple[int, int]] = []
    owner: dict[int, tuple[int, int]] = {}
    for idx in groups.values():
        if len(idx) == 1:
            owner[idx[0]] = (len(pairs), 0)
            pairs.append((idx[0], idx[0]))
            continue
        for k in range(0, len(idx) - 1, 2):
            owner[idx[k]], owner[idx[k + 1]] = (len(pairs), 0), (len(pairs), 1)
            pairs.append((idx[k], idx[k + 1]))
        if len(idx) % 2:
            owner[idx[-1]] = (len(pairs), 0)
            pairs.append((idx[-1], idx[0]))
    return pairs, owner


def _chat_all(llm, convs, task, desc) -> list:
    out = []
    for start in tqdm(range(0, len(convs), CHUNK), desc=desc, unit="batch", disable=not convs):
        out.extend(c[0] for c in llm.chat(convs[start:start + CHUNK], task=task))
    return out


def _loglik_all(llm, texts, max_tokens) -> list[dict]:
    out = []
    for start in tqdm(range(0, len(texts), CHUNK), desc="score: perplexity", unit="batch", disable=not texts):
        out.extend(llm.loglik(texts[start:start + CHUNK], max_tokens=max_tokens))
    return out


def _dist(values) -> dict:
    v = sorted(x for x in values if x is not None)
    d = {"n": len(v), "null": sum(1 for x in values if x is None)}
    if not v:
        return d

    def q(p):
        pos = p * (len(v) - 1)
        lo, hi = math.floor(pos), math.ceil(pos)
        return v[lo] + (v[hi] - v[lo]) * (pos - lo)

    d.update(mean=round(sum(v) / len(v), 6), min=round(v[0], 6), max=round(v[-1], 6),
             **{f"q{int(p * 100):02d}": round(q(p), 6) for p in (0.05, 0.25, 0.5, 0.75, 0.95)})
    return d


def run(params: dict, inputs: dict = INPUTS, outputs: dict = OUTPUTS) -> dict:
    """params {"score": ..., "roles": {"ppl_model": ..., "judge": ...}} -> the metrics (also in outputs["metrics"])."""
    clear_outputs(outputs)
    out, p = outputs["features"], params["score"]
    rows = load_candidates(inputs["candidates"])
    resp_task = ScoreResponse(p.get("response_prompt", "prompts/score_response.txt"))
    instr_task = ScoreInstruction(p.get("instruction_prompt", "prompts/score_instruction.txt"))
    prompts = list(dict.fromkeys(r["prompt"] for r in rows))

    # (a) perplexity per distinct prompt text
    ppl_llm = role_llm(params, "ppl_model", stage="score")
    ppl_of = {}
    for text, res in zip(prompts, _loglik_all(ppl_llm, prompts, p.get("max_ppl_tokens"))):
        v = res.get("ppl") if res else None
        ppl_of[text] = float(v) if v is not None and math.isfinite(v) else None

    # (c) instruction safety per distinct prompt text
    judge = role_llm(params, "judge", stage="score")
    convs = [instr_task.render(t) for t in prompts]
    instr_of, judge_errors = {}, {"instruction": 0, "response": 0}
    for text, comp in zip(prompts, _chat_all(judge, convs, instr_task, "score: instruction")):
        if comp.error is not None:
            judge_errors["instruction"] += 1
            instr_of[text] = (None, None, False)
            continue
        value, err = instr_task.parse(comp.text)
        instr_of[text] = (value, comp.text, err is not None)

    # (b) pairwise response safety
    pairs, owner = make_pairs(rows)
    convs = [resp_task.render(rows[a]["prompt"], rows[a]["response"], rows[b]["response"]) for a, b in pairs]
    pair_res = []
    for comp in _chat_all(judge, convs, resp_task, "score: responses"):
        if comp.error is not None:
            judge_errors["response"] += 1
            pair_res.append((None, None, False))
        else:
            values, err = resp_task.parse(comp.text)
            pair_res.append((values, comp.text, err is not None))

    feats, resp_errors, instr_errors = [], 0, 0
    for i, r in enumerate(rows):
        iscore, iraw, ierr = instr_of[r["prompt"]]
        rscore, rraw, rerr = None, None, False
        if i in owner:
            k, pos = owner[i]
            values, rraw, rerr = pair_res[k]
            rscore = values[pos] if values else None
        resp_errors += rerr
        feats.append({**r, "ppl": ppl_of[r["prompt"]], "response_score": rscore, "instruction_score": iscore,
                      "judge_raw": rraw, "instruction_raw": iraw, "score_parse_error": bool(rerr or ierr)})
    instr_errors = sum(1 for v in instr_of.values() if v[2])
    calls = len(prompts) + len(pairs)
    error_rate = check_error_budget("score", judge_errors["instruction"] + judge_errors["response"], calls,
                                    float(p.get("max_error_rate", 0.05)), f"judge calls {judge_errors}",
                                    "judge", judge.stats())

    validate_rows(feats, "features", str(out))
    write_jsonl(out, feats)
    m = {
        "rows": len(feats), "prompts": len(prompts), "judge_pairs": len(pairs),
        "no_response": sum(1 for i in range(len(rows)) if i not in owner),
        "ppl": _dist([ppl_of[t] for t in prompts]),
        "response_score": _dist([feats[i]["response_score"] for i in owner]),  # null = parse/judge error
        "instruction_score": _dist([instr_of[t][0] for t in prompts]),
        "parse_errors": {"response_pairs": sum(1 for x in pair_res if x[2]), "response_rows": resp_errors,
                         "instruction_prompts": instr_errors,
                         "rows_flagged": sum(1 for f in feats if f["score_parse_error"])},
        "judge_errors": judge_errors, "judge_error_rate": round(error_rate, 4),
        "llm": {"ppl_model": ppl_llm.stats(), "judge": judge.stats()},
    }
    return write_metrics(outputs["metrics"], m)


@click.command("score")
@click.option("--candidates", default=INPUTS["candidates"], show_default=True, help="Input candidates JSONL.")
@click.option("--out", default=OUTPUTS["features"], show_default=True, help="Output features JSONL.")
@click.option("--metrics", default=OUTPUTS["metrics"], show_default=True, help="Metrics JSON.")
def cli(candidates, out, metrics):
    """Perplexity, pairwise response safety and instruction safety features (paper 3.7)."""
    m = run(stage_params("score", "roles.ppl_model", "roles.judge"), {"candidates": candidates},
            {"features": out, "metrics": metrics})
    click.echo(f"score: {m['rows']} rows, {m['prompts']} prompts, {m['judge_pairs']} judge pairs, "
               f"{m['parse_errors']['rows_flagged']} rows with parse errors -> {out}", err=True)
