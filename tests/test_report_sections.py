"""The report's paired comparison, select funnel and judge calibration sections (synthetic inputs)."""
import json

import pytest
from click.testing import CliRunner

from stages import report


def _write(path, obj):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(obj, ensure_ascii=False), encoding="utf-8")


def _jsonl(path, rows):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")


@pytest.fixture
def inputs(tmp_path):
    metrics, pred = tmp_path / "metrics", tmp_path / "predictions"
    # New-Safety: 20 OFF prompts, base safe on none, sft safe on 12 (c = 12, b = 0: p = 2 / 2^12)
    base = [{"id": f"n{i}", "category": "OFF", "lang": "en", "pred": "unsafe"} for i in range(20)]
    _jsonl(pred / "newsafety" / "base.jsonl", base)
    _jsonl(pred / "newsafety" / "sft.jsonl", [dict(r, pred="safe" if i < 12 else "unsafe") for i, r in enumerate(base)])
    # over-refusal: 10 prompts, base refuses 0, sft refuses 8 (worse, p = 2 / 2^8)
    orf = [{"id": f"o{i}", "lang": "zh", "pred": "compliance"} for i in range(10)]
    _jsonl(pred / "overrefusal" / "base.jsonl", orf)
    _jsonl(pred / "overrefusal" / "sft.jsonl", [dict(r, pred="refusal" if i < 8 else "compliance") for i, r in enumerate(orf)])
    # general: gsm8k 4 prompts, one flips each way (p = 1)
    gen = [{"id": f"gsm8k/{i}", "task": "gsm8k", "correct": i < 2} for i in range(4)]
    _jsonl(pred / "general" / "base.jsonl", gen)
    _jsonl(pred / "general" / "sft.jsonl", [dict(r, correct=i in (1, 2)) for i, r in enumerate(gen)])
    _write(metrics / "select.json", {"sft_rows": 4, "general_rows": 2, "helpful_rows": 3, "funnel": {
        "0_input": {"rows": 10, "prompts": 6, "origin": {"source_response": 4, "regenerated": 5, "augmented_prompt": 1},
                    "lang": {"zh": 7, "en": 3}},
        "7_category_cap": {"rows": 4, "prompts": 4, "origin": {"source_response": 3, "augmented_prompt": 1},
                           "lang": {"zh": 4}}}})
    _write(metrics / "judge_calibration.json", {"judge": "rules:rules-v1",
                                                "calibration": {"n": 120, "accuracy": 0.9, "kappa": 0.8, "uncertain": 3,
                                                                "by_kind": {"gibberish": {"n": 10, "accuracy": 0.5}}},
                                                "review": {"n": 0}})
    params = tmp_path / "params.yaml"
    params.write_text("eval:\n  models: {base: models/base, sft: models/sft}\nreport: {seed: 0, n_boot: 500, alpha: 0.05}\n",
                      encoding="utf-8")
    return metrics, pred, params


def test_paired_funnel_and_calibration_sections(inputs):
    metrics, pred, params = inputs
    res = CliRunner().invoke(report.cli, ["--metrics-dir", str(metrics), "--out-dir", str(metrics), "--params",
                                          str(params), "--predictions-dir", str(pred)])
    assert res.exit_code == 0, res.output
    rep = json.loads((metrics / "report.json").read_text(encoding="utf-8"))
    md = (metrics / "report.md").read_text(encoding="utf-8")
    assert rep["paired.newsafety.overall.gain.sft"] == pytest.approx(0.6)
    assert rep["paired.newsafety.OFF.p_value.sft"] == pytest.approx(2 / 2 ** 12)
    assert rep["paired.overrefusal.overall.p_value.sft"] == pytest.approx(2 / 2 ** 8)
    assert rep["paired.general.gsm8k.p_value.sft"] == 1.0
    assert rep["judge_calibration.calibration.kappa"] == 0.8 and rep["judge_calibration.review.n"] == 0
    assert "## Paired comparison base vs sft (same prompts)" in md
    row = next(line for line in md.splitlines() if line.startswith("| New-Safety safe rate | All |"))
    assert "| 20 | 0.0 | 60.0 | +60.0 [" in row and row.endswith("| 0/12 | 0.000488 | **yes, better** |")
    row = next(line for line in md.splitlines() if line.startswith("| Over-refusal rate (lower is better) | All |"))
    assert row.endswith("| 0/8 | 0.00781 | **yes, worse** |")
    assert next(line for line in md.splitlines() if line.startswith("| General benchmark accuracy | gsm8k |")).endswith(
        "| 1/1 | 1 | no |")
    assert "| Step | rows | prompts | source_response | regenerated | augmented_prompt | en | zh |" in md
    assert "| 7_category_cap | 4 | 4 | 3 | 0 | 1 | 0 | 4 |" in md
    assert "augmented prompt: 1/4 (25.0%)" in md and "helpfulness rows: 3" in md
    assert "| calibration set | 120 | 90.0 | 0.800 | 3 |" in md
    assert "gibberish 50.0% (n=10)" in md


def test_sections_absent_inputs(tmp_path):
    params = tmp_path / "params.yaml"
    params.write_text("eval:\n  models: {base: b, sft: s}\n", encoding="utf-8")
    res = CliRunner().invoke(report.cli, ["--metrics-dir", str(tmp_path / "m"), "--out-dir", str(tmp_path / "m"),
                                          "--params", str(params), "--predictions-dir", str(tmp_path / "none")])
    assert res.exit_code == 0, res.output
    md = (tmp_path / "m" / "report.md").read_text(encoding="utf-8")
    assert "No prediction files of both models" in md
    assert "metrics/select.json is missing" in md and "metrics/judge_calibration.json is missing" in md
    rep = json.loads((tmp_path / "m" / "report.json").read_text(encoding="utf-8"))
    assert rep["judge_calibration.calibration.accuracy"] is None
