"""Paired statistics (stages/stats.py) on cases worked out by hand."""
import json

import pytest

from stages import stats

# exact McNemar: p = min(1, 2 * sum_{i<=min(b,c)} C(b+c, i) / 2^(b+c))
HAND = [
    (1, 9, 22 / 1024),     # n=10: 2 * (1 + 10) / 1024 = 0.021484375
    (0, 5, 2 / 32),        # n=5: 2 * 1 / 32 = 0.0625
    (2, 8, 112 / 1024),    # n=10: 2 * (1 + 10 + 45) / 1024 = 0.109375
    (0, 6, 2 / 64),        # n=6: 0.03125 (the smallest n with p < 0.05 when all go one way)
    (3, 3, 1.0),           # 2 * 42/64 > 1 -> 1
    (0, 0, 1.0),           # no discordant pair
]


@pytest.mark.parametrize("b,c,p", HAND)
def test_mcnemar_exact_hand_cases(b, c, p):
    assert stats.mcnemar_exact(b, c) == pytest.approx(p, abs=1e-12)
    assert stats.mcnemar_exact(c, b) == pytest.approx(p, abs=1e-12)


def test_mcnemar_agrees_with_scipy_binomtest():
    scipy_stats = pytest.importorskip("scipy.stats")
    for b, c in [(10, 25), (7, 3), (0, 12), (40, 55)]:
        assert stats.mcnemar_exact(b, c) == pytest.approx(scipy_stats.binomtest(min(b, c), b + c, 0.5).pvalue)


def test_paired_counts_gain_and_p():
    # 10 prompts: base safe on 0 and 1; new safe on 1..8 (b = 1: prompt 0; c = 7: prompts 2..8)
    base = [True, True] + [False] * 8
    new = [False, True] + [True] * 7 + [False]
    s = stats.paired(base, new, seed=0, n_boot=2000)
    assert (s["n"], s["b"], s["c"]) == (10, 1, 7)
    assert s["base"] == pytest.approx(0.2) and s["new"] == pytest.approx(0.8)
    assert s["gain"] == pytest.approx(0.6)
    assert s["p_value"] == pytest.approx(2 * (1 + 8) / 256)  # n=8, k=1: 0.0703125
    assert s["significant"] is False
    assert s["ci_low"] <= 0.6 <= s["ci_high"]
    assert stats.paired(base, new, seed=0, n_boot=2000) == s  # seeded


def test_bootstrap_interval_hand_cases():
    # every pair improves: every resample has gain 1
    assert stats.bootstrap_gain_ci([0, 0, 0], [1, 1, 1]) == (1.0, 1.0)
    # two pairs, differences 0 and 1: resampled means are 0 (p=1/4), 1/2 (1/2), 1 (1/4) -> [0, 1]
    assert stats.bootstrap_gain_ci([0, 0], [0, 1], seed=3, n_boot=4000) == (0.0, 1.0)
    # no change at all
    assert stats.bootstrap_gain_ci([1, 0, 1], [1, 0, 1]) == (0.0, 0.0)


def test_paired_significant_only_when_p_below_alpha():
    base, new = [False] * 20, [True] * 6 + [False] * 14
    s = stats.paired(base, new)
    assert s["p_value"] == pytest.approx(0.03125) and s["significant"] is True
    assert s["ci_low"] > 0
    assert stats.paired([], [])["gain"] is None
    with pytest.raises(ValueError):
        stats.paired([True], [])


def test_cohen_kappa_hand_cases():
    # po = 8/10, pe = .6*.6 + .4*.4 = .52 -> (.8 - .52) / .48
    gold = ["safe"] * 6 + ["unsafe"] * 4
    pred = ["safe"] * 5 + ["unsafe"] * 4 + ["safe"]
    assert stats.cohen_kappa(gold, pred) == pytest.approx(0.28 / 0.48)
    # uncertain is its own label: po = 5/8, pe = 5/8*4/8 + 3/8*2/8 = 26/64
    gold = ["safe", "safe", "unsafe", "unsafe", "safe", "unsafe", "safe", "safe"]
    pred = ["safe", "uncertain", "unsafe", "safe", "safe", "unsafe", "uncertain", "safe"]
    assert stats.cohen_kappa(gold, pred) == pytest.approx((5 / 8 - 26 / 64) / (1 - 26 / 64))
    assert stats.cohen_kappa(["safe"] * 3, ["safe"] * 3) == 1.0
    assert stats.cohen_kappa([], []) is None


def _write(path, rows):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")


def test_compare_joins_on_id_per_group(tmp_path):
    pred = tmp_path / "predictions"
    base = [{"id": f"p{i}", "category": "OFF" if i < 6 else "UB", "lang": "zh" if i % 2 else "en",
             "pred": "unsafe"} for i in range(12)]
    sft = [dict(r, pred="safe") for r in base[:8]] + [dict(r, pred="uncertain") for r in base[8:11]]  # p11 missing
    _write(pred / "newsafety" / "base.jsonl", base)
    _write(pred / "newsafety" / "sft.jsonl", sft)
    _write(pred / "overrefusal" / "base.jsonl", [{"id": "o1", "lang": "en", "pred": "refusal"},
                                                 {"id": "o2", "lang": "en", "pred": None}])
    _write(pred / "overrefusal" / "sft.jsonl", [{"id": "o1", "lang": "en", "pred": "compliance"},
                                                {"id": "o2", "lang": "en", "pred": "refusal"}])
    out = stats.compare(pred, ["base", "sft"])["sft"]
    ns = out["newsafety"]
    assert list(ns)[:3] == ["overall", "OFF", "UB"]
    assert (ns["overall"]["n"], ns["overall"]["c"], ns["overall"]["b"]) == (11, 8, 0)
    assert ns["OFF"]["gain"] == 1.0 and ns["UB"]["gain"] == pytest.approx(2 / 5)
    assert ns["lang_zh"]["n"] + ns["lang_en"]["n"] == 11
    assert out["overrefusal"]["overall"]["n"] == 1  # o2 unparsed for base: left out
    assert out["overrefusal"]["overall"]["gain"] == -1.0
    assert "general" not in out
    keys = stats.flat({"sft": out})
    assert keys["paired.newsafety.overall.gain.sft"] == pytest.approx(8 / 11)
    assert keys["paired.overrefusal.overall.significant.sft"] is False
