"""Loaders on the real public files in ../shared/data (skipped when absent); counts as in its README."""
from collections import Counter

import pytest

from stages import loaders, taxonomy
from stages.schemas import validate_rows


def load(path, fmt, **kw):
    stats = Counter()
    return list(loaders.load(path, fmt, stats=stats, **kw)), stats


def test_safetybench_test_subset(shared_data):
    recs, stats = load(shared_data / "safetybench/test_zh_subset.json", "safetybench_test")
    assert len(recs) == 2100 and stats["duplicate"] == 0
    assert Counter(r["native_category"] for r in recs) == {c: 300 for c in [
        "Offensiveness", "Unfairness and Bias", "Physical Health", "Mental Health", "Illegal Activities",
        "Ethics and Morality", "Privacy and Property"]}
    assert stats["unknown_category"] == 0 and stats["zh"] >= 2000
    assert all(2 <= len(r["meta"]["options"]) <= 4 for r in recs)
    assert validate_rows(recs, "collected", "test_zh_subset") == 2100


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_safetybench_dev(shared_data, lang):
    recs, stats = load(shared_data / f"safetybench/dev_{lang}.json", "safetybench_dev")
    assert len(recs) == 35 and len({r["native_category"] for r in recs}) == 7
    assert stats[lang] >= 33  # a few en questions quote Chinese and vice versa
    assert all(r["meta"]["answer"] in range(len(r["meta"]["options"])) for r in recs)


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_seval_base_small(shared_data, lang):
    recs, stats = load(shared_data / f"s-eval/S-Eval_base_risk_{lang}_small.jsonl", "seval")
    assert len(recs) == 1000 and stats[lang] >= 990
    assert stats["unknown_category"] == 0  # all 8 risk types map into the taxonomy
    assert {r["native_category"] for r in recs} <= set(taxonomy._DATA["native"]["seval"])
    assert all(isinstance(r["meta"]["ext"], dict) for r in recs)
    validate_rows(recs, "collected")


def test_mseed(shared_data):
    recs, stats = load(shared_data / "mseed/MSEED-Alignment-All-Label.json", "mseed")
    # 11,348 records of which 7 repeat an earlier prompt exactly: dropped as duplicates.
    assert stats["rows"] + stats["duplicate"] == 11348 and stats["duplicate"] == 7
    assert len({r["id"] for r in recs}) == len(recs) and stats["zh"] >= 11000
    assert Counter(r["meta"]["category"] for r in recs).keys() == {
        "违反人类价值观", "包含歧视性内容", "商业违法违规", "侵犯他人合法权益", "特定类型安全需求", "未知类别"}
    assert stats["unknown_category"] == 0


def test_cvalues(shared_data):
    prompts, stats = load(shared_data / "cvalues/cvalues_responsibility_prompts.jsonl", "cvalues_responsibility")
    # The README says 663 (a line count); the file has 664 records, ids 1..664, without a final newline.
    assert len(prompts) == 664 and stats["duplicate"] == 0
    assert Counter(r["native_category"] for r in prompts).keys() == {
        "environmental_science", "intimate_relationship", "social_science", "psychology", "law", "barrier_free",
        "data_science", "lesser_known_major"}
    mc, stats = load(shared_data / "cvalues/cvalues_responsibility_mc.jsonl", "cvalues_mc")
    assert stats["rows"] + stats["duplicate"] == 1712  # each question appears in several MC pairs
    assert {r["prompt"] for r in mc} <= {r["prompt"] for r in prompts} | {r["prompt"].strip() for r in prompts}
    assert all(r["response"] and r["meta"]["neg_resp"] for r in mc)
