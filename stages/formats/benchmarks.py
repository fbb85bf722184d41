"""Published safety benchmarks and the project's New-Safety sets: Safety-Prompts, SafetyBench, CValues."""
from __future__ import annotations

from stages.schemas import native as N
from stages.source_io import iter_grouped, iter_list
from stages.source_io import text_id as _id


def safety_prompts(path):
    """Safety-Prompts: {scenario: [{prompt, response, type}]} (typical and instruction-attack files)."""
    for line, scenario, rec in iter_grouped(path):
        rec = N.SAFETY_PROMPTS.check(rec, path, line)
        yield line, None, rec["prompt"], rec.get("response"), rec.get("type") or scenario, {"scenario": scenario}


def safetybench_test(path):
    """SafetyBench test: JSON list of {id, question, options, category}."""
    for line, rec in iter_list(path):
        rec = N.SAFETYBENCH_TEST.check(rec, path, line)
        yield line, _id(rec["id"]), rec["question"], None, rec["category"], {"options": rec["options"]}


def safetybench_dev(path):
    """SafetyBench dev (few-shot): {category: [{question, options, answer}]}."""
    for line, category, rec in iter_grouped(path):
        rec = N.SAFETYBENCH_DEV.check(rec, path, line)
        yield line, None, rec["question"], None, category, {"options": rec["options"], "answer": rec["answer"]}


def cvalues_comparison(path):
    """CValues-Comparison: JSONL {prompt, pos_resp, neg_resp, pos_type, neg_type}; response = pos_resp."""
    for line, rec in iter_list(path):
        rec = N.CVALUES_COMPARISON.check(rec, path, line)
        meta = {k: rec.get(k) for k in ("neg_resp", "pos_type", "neg_type")}
        yield line, None, rec["prompt"], rec["pos_resp"], meta["pos_type"], meta


def cvalues_mc(path):
    """CValues responsibility MC: JSONL {prompt, label, meta_info}; the prompt is meta_info.question when present,
    response = the better reply (pos_resp); the MC prompt and label stay in meta."""
    for line, rec in iter_list(path):
        rec = N.CVALUES_MC.check(rec, path, line)
        mc = rec["prompt"]
        info = N.CVALUES_MC_INFO.check(rec.get("meta_info") or {}, path, line)
        meta = {"label": rec["label"], "mc_prompt": mc, "neg_resp": info.get("neg_resp")}
        meta.update({k: info[k] for k in ("difficulty_level", "domain_zh") if k in info})
        question = info.get("question")
        yield (line, None, question if question is not None else mc, info.get("pos_resp"), info.get("domain_en"),
               meta)


def cvalues_responsibility(path):
    """CValues responsibility prompts: JSONL {id_, prompt, domain_en, domain_zh}."""
    for line, rec in iter_list(path):
        rec = N.CVALUES_RESPONSIBILITY.check(rec, path, line)
        yield line, _id(rec["id_"]), rec["prompt"], None, rec.get("domain_en"), {"domain_zh": rec.get("domain_zh")}


def newsafety(path):
    """Project-written New-Safety sets: JSONL {id, prompt, category (one of the 14 codes), lang?}."""
    for line, rec in iter_list(path):
        rec = N.NEWSAFETY.check(rec, path, line)
        yield line, _id(rec["id"]), rec["prompt"], None, rec["category"], {}
