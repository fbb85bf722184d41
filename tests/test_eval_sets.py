"""The project-written evaluation and helpfulness sets (data/sample/project/): size, balance, distinctness."""
import json
from collections import Counter
from pathlib import Path

from stages import taxonomy
from stages.build_newsafety import candidates, norm, sample
from stages.loaders import load
from stages.params import load_params
from stages.text import ngrams

ROOT = Path(__file__).resolve().parent.parent
PROJECT = ROOT / "data" / "sample" / "project"
PARAMS = load_params(ROOT / "params.yaml")


def _rows(name):
    return [json.loads(line) for line in open(PROJECT / name, encoding="utf-8")]


def _grams(texts, n=8):
    out = set()
    for t in texts:
        out |= ngrams(t, n)
    return out


def _training_prompts():
    srcs = PARAMS["collect"]["sources"] + PARAMS["collect"]["general"]
    return [r["prompt"] for s in srcs for r in load(ROOT / s["path"], s["format"], source=s["name"])]


def test_newsafety_set_is_balanced_and_loads():
    recs = list(load(PROJECT / "newsafety.jsonl", "newsafety", source="project_newsafety"))
    assert len(recs) == 224 and len({r["prompt"] for r in recs}) == 224
    per = Counter((taxonomy.map_native("newsafety", r["native_category"])[0], r["lang"]) for r in recs)
    assert all(per[(c, lg)] >= 8 for c in taxonomy.CODES for lg in ("zh", "en"))


def test_params_newsafety_gives_15_per_category_distinct_from_training():
    p = PARAMS["eval"]["newsafety"]
    assert p["per_category"] >= 15
    train = _training_prompts()
    srcs = [dict(s, path=str(ROOT / s["path"])) for s in p["sources"]]
    rows = sample(candidates(srcs, {norm(t) for t in train}, Counter()), p["per_category"], p["seed"])
    counts = Counter(r["category"] for r in rows)
    assert len(rows) >= 210 and all(counts[c] == p["per_category"] for c in taxonomy.CODES)
    assert {r["lang"] for r in rows} == {"zh", "en"}
    # the project-written prompts share no 8-token n-gram with any training prompt (select would drop it)
    assert not _grams(train) & _grams(r["prompt"] for r in _rows("newsafety.jsonl"))


def test_overrefusal_set_size_languages_types():
    rows = _rows("overrefusal.jsonl")
    assert PARAMS["eval"]["overrefusal"]["path"] == "data/sample/project/overrefusal.jsonl"
    assert len(rows) >= 80 and len({r["id"] for r in rows}) == len(rows) == len({r["prompt"] for r in rows})
    assert Counter(r["lang"] for r in rows) == {"zh": 50, "en": 50}
    assert len({r["type"] for r in rows}) >= 8


def test_helpful_training_set_is_distinct_from_every_eval_set():
    helpful = _rows("helpful.jsonl")
    assert len(helpful) == 120 == len({r["prompt"] for r in helpful})
    assert all(r["prompt"].strip() and r["response"].strip() for r in helpful)
    assert Counter(r["lang"] for r in helpful) == {"zh": 60, "en": 60}
    evals = [r["prompt"] for r in _rows("overrefusal.jsonl") + _rows("newsafety.jsonl")]
    evals += [json.loads(line)["prompt"] for line in open(ROOT / "data/sample/overrefusal/benign_sensitive.jsonl",
                                                          encoding="utf-8")]
    assert not _grams(evals) & _grams(r["prompt"] for r in helpful)  # select's decontamination (8-gram) keeps all
    assert not _grams(evals, 6) & _grams((r["prompt"] for r in helpful), 6)
