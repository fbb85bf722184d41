"""The records at every dataset boundary, each defined once (docs/developing.md explains the fields).
Category codes are read from stages/taxonomy.yaml (never copied); extra fields are allowed everywhere."""
from __future__ import annotations

from stages.schemas.fields import Field, Record
from stages.taxonomy import ALL_LABELS

LANGS = ("zh", "en")
KINDS = ("safety", "general")
ORIGINS = ("original", "keywords", "related")
CANDIDATE_TYPES = ("original", "original_negative", "regenerated")
SPLITS = ("sft", "general", "helpful")

COLLECTED = Record(
    "collected", "data/collect/safety.jsonl and general.jsonl: one row per source prompt.",
    id=Field("str", unique=True, length=(3, 512)), source=Field("str"), format=Field("str"),
    native_id=Field("str|null"), lang=Field("str", enum=LANGS), kind=Field("str", enum=KINDS),
    prompt=Field("str", nonblank=True), response=Field("str|null"), native_category=Field("str|null"),
    meta=Field("dict"))

LABELED = COLLECTED.extend(
    "labeled", "data/label/labeled.jsonl: collected + taxonomy category and raw intent labels.",
    category=Field("str", enum=ALL_LABELS), categories=Field("list"), intent_labels=Field("list"),
    label_raw=Field("str|null"), label_parse_error=Field("bool"), labeler=Field("str|null"))

AUGMENTED = LABELED.extend(
    "augmented", "data/augment/prompts.jsonl: labeled + origin/lineage of generated prompts.",
    origin=Field("str", enum=ORIGINS), parent_id=Field("str|null"), target_category=Field("str|null"),
    gen_raw=Field("str|null"), attacker=Field("str|null"))

CANDIDATES = Record(
    "candidates", "data/regenerate/candidates.jsonl: one row per response candidate.",
    id=Field("str"), cand_id=Field("str", unique=True), source=Field("str"),
    category=Field("str", enum=ALL_LABELS), lang=Field("str", enum=LANGS), prompt=Field("str", nonblank=True),
    origin=Field("str", enum=ORIGINS), parent_id=Field("str|null"), response=Field("str|null"),
    analysis=Field("str|null"), candidate_type=Field("str", enum=CANDIDATE_TYPES),
    response_model=Field("str|null"), gen_raw=Field("str|null"), gen_error=Field("str|bool|null"),
    parse_error=Field("bool"))

FEATURES = CANDIDATES.extend(
    "features", "data/score/features.jsonl: candidates + reward-model features.",
    ppl=Field("number|null", between=(0, None)), response_score=Field("number|null", between=(0, 1)),
    instruction_score=Field("number|null", between=(0, 1)), judge_raw=Field("str|null"),
    instruction_raw=Field("str|null"), score_parse_error=Field("bool"))

SELECTED = Record(
    "selected", "data/select/selected.jsonl: lineage of every training row.",
    id=Field("str"), cand_id=Field("str"), source=Field("str"), native_id=Field("str|null"),
    parent_id=Field("str|null"), category=Field("str", enum=ALL_LABELS), response_model=Field("str|null"),
    split=Field("str", enum=SPLITS))

PREDICTIONS = Record(
    "predictions", "data/predictions/<eval>/<model>.jsonl: one row per evaluated item.",
    id=Field("str", unique=True), model=Field("str"), task=Field("str"), raw=Field("any|null"),
    pred=Field("any|null"), gold=Field("any|null"), correct=Field("bool|null"))

RECORDS = {r.name: r for r in (COLLECTED, LABELED, AUGMENTED, CANDIDATES, FEATURES, SELECTED, PREDICTIONS)}
