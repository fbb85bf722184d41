"""The report stage on synthetic metrics files: deltas, paper-style tables, figures, missing files."""
import json

import pytest
from click.testing import CliRunner

from stages import report
from stages.io import InputError

CODES = ["OFF", "UB", "CIA", "PP", "EM", "PMH", "IA", "MI", "DP", "NS", "EX", "PR", "DT", "PS"]


def _write(path, obj):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(obj), encoding="utf-8")


def _metrics(root, model, shift):
    sb = {k: 0.5 + shift for k in ["OFF", "UB", "PH", "MH", "IA", "EM", "PP"]}
    sb.update(Avg=0.56 + shift, n=70, extraction_failure_rate=0.0, shots=0, lang="zh", mode="logits",
              llm={"safety_model": {"calls": 3}})
    _write(root / "safetybench" / f"{model}.json", sb)
    cats = {c: {"safe_rate": 0.4 + shift, "ci_low": 0.3 + shift, "ci_high": 0.5 + shift, "n": 5} for c in CODES}
    _write(root / "newsafety" / f"{model}.json", {"overall": {"safe_rate": 0.4 + shift, "ci_low": 0.35, "ci_high": 0.6, "n": 70},
                                                   "categories": cats, "uncertain": 2, "reviewed": 0})
    _write(root / "responsibility" / f"{model}.json", {"acc": 0.57 + shift, "acc_star": 0.6, "n": 30, "parsed": 28,
                                                       "counts": {"回复1": 14, "回复2": 14, "Other": 2, "Refuse": 0, "Need_Check": 0}})
    _write(root / "general" / f"{model}.json", {t: {"acc": 0.3 + shift, "stderr": 0.1, "n": 10}
                                                 for t in ["gsm8k", "mmlu", "cmmlu", "ceval", "humaneval"]})
    _write(root / "overrefusal" / f"{model}.json", {"refusal_rate": 0.1 + shift, "stderr": 0.05, "n": 40, "zh": 0.2, "en": 0.0})


@pytest.fixture
def metrics(tmp_path):
    root = tmp_path / "metrics"
    _metrics(root, "base", 0.0)
    _metrics(root, "sft", 0.1)
    _write(root / "train.json", {"final_loss": 1.2, "first_loss": 2.5, "train_loss": 1.6, "runtime_s": 10.0,
                                 "samples_per_s": 4.0, "steps": 20})
    _write(root / "label.json", {"n": 150, "parse_error_rate": 0.02, "llm": {"labeler": {"calls": 150}}})
    (root / "plots").mkdir()
    (root / "plots" / "train_loss.csv").write_text("step,loss\n1,2.5\n2,1.9\n3,1.2\n", encoding="utf-8")
    (root / "plots" / "label_categories.csv").write_text("category,count\nOFF,9\nUB,12\nother,3\n", encoding="utf-8")
    params = tmp_path / "params.yaml"
    params.write_text("eval:\n  models: {base: models/base, sft: models/sft}\n", encoding="utf-8")
    return root, params


def _run(root, params):
    res = CliRunner().invoke(report.cli, ["--metrics-dir", str(root), "--out-dir", str(root), "--params", str(params)])
    assert res.exit_code == 0, res.output
    return json.loads((root / "report.json").read_text(encoding="utf-8")), (root / "report.md").read_text(encoding="utf-8")


def test_deltas_tables_and_figures(metrics):
    root, params = metrics
    rep, md = _run(root, params)
    assert rep["safetybench.Avg.base"] == pytest.approx(0.56)
    assert rep["safetybench.Avg.sft"] == pytest.approx(0.66)
    assert rep["safetybench.Avg.delta"] == pytest.approx(0.1)
    assert rep["newsafety.categories.PS.safe_rate.delta"] == pytest.approx(0.1)
    assert rep["general.humaneval.acc.delta"] == pytest.approx(0.1)
    assert rep["overrefusal.zh.delta"] == pytest.approx(0.0)
    assert rep["train.final_loss"] == 1.2 and rep["label.n"] == 150
    assert not any(k.startswith("safetybench.llm") or k.startswith("label.llm") for k in rep)
    assert not any(k.startswith("safetybench.lang") for k in rep)  # strings are not metrics
    assert rep["missing"] == []
    # Table 5-1 layout: Model | Avg EM IA MH OFF PH PP UB, SFT row with (+gain)
    assert "| Model | Avg | EM | IA | MH | OFF | PH | PP | UB |" in md
    assert "| sft | 66.0 (+10.0) | 60.0 (+10.0) |" in md
    assert "| base | 56.0 | 50.0 |" in md
    assert "| PS | Political Remarks | 40.0 [30.0, 50.0] | 50.0 [40.0, 60.0] | +10.0 | 5/5 |" in md
    assert "| HumanEval | 30.0 ± 10.0 | 40.0 ± 10.0 | +10.0 |" in md
    assert "| project parser Acc (extra) | 57.0 | 67.0 | +10.0 |" in md
    assert "| Over-refusal rate zh | 20.0 | 20.0 | +0.0 |" in md
    figs = sorted(p.name for p in (root / "figures").iterdir())
    assert figs == sorted(report.FIGURES)
    assert all((root / "figures" / f).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" for f in figs)


def test_missing_files_are_noted_not_fatal(metrics):
    root, params = metrics
    (root / "safetybench" / "sft.json").unlink()
    (root / "plots" / "train_loss.csv").unlink()
    (root / "train.json").unlink()
    rep, md = _run(root, params)
    assert rep["safetybench.Avg.base"] == pytest.approx(0.56)
    assert rep["safetybench.Avg.sft"] is None and rep["safetybench.Avg.delta"] is None
    assert str(root / "safetybench" / "sft.json") in rep["missing"]
    assert "Missing metrics files" in md and "safetybench/sft.json" in md
    assert "| sft | – | – |" in md
    assert "metrics/train.json is missing." in md
    assert not (root / "figures" / "train_loss.png").exists()
    assert (root / "figures" / "newsafety_categories.png").exists()


def test_nothing_there_still_reports(tmp_path):
    params = tmp_path / "params.yaml"
    params.write_text("eval:\n  models: {base: a, sft: b}\n", encoding="utf-8")
    rep, md = _run(tmp_path / "metrics", params)
    assert len(rep["missing"]) == 2 * 5 + 2 + 2
    assert list((tmp_path / "metrics" / "figures").iterdir()) == []


def test_bad_inputs_raise_input_error_and_leave_no_output(metrics):
    root, params = metrics
    (root / "general" / "sft.json").write_text("{not json", encoding="utf-8")
    with pytest.raises(InputError, match="sft.json:1"):
        report.run({"eval": {"models": ["base", "sft"]}}, {"metrics": root}, report.outputs_for(root))
    assert not (root / "report.json").exists() and not (root / "report.md").exists()
    (root / "general" / "sft.json").write_text("{}", encoding="utf-8")
    (root / "plots" / "train_loss.csv").write_text("step,loss\n1,abc\n", encoding="utf-8")
    with pytest.raises(InputError, match="train_loss.csv:2: field 'loss'"):
        report.run({"eval": {"models": ["base", "sft"]}}, {"metrics": root}, report.outputs_for(root))


def test_vendored_plots_template_loads_no_cdn(tmp_path):
    from pathlib import Path

    from dvc_render.html import render_html
    from dvc_render.vega import VegaRenderer

    root = Path(__file__).resolve().parent.parent
    template = root / ".dvc" / "plots" / "page.html"  # the scripts inline (tests/plots_page.py)
    out = tmp_path / "anywhere" / "index.html"
    r = VegaRenderer([{"step": "1", "loss": "2.0"}, {"step": "2", "loss": "1.5"}], "train_loss.csv", x="step", y="loss")
    render_html([r], out, html_template=str(template))
    page = out.read_text(encoding="utf-8")
    assert "cdn." not in page and "vegaEmbed(" in page and "<script src=" not in page


def test_tables_5_1_strict_and_5_2_official_parsers(metrics):
    root, params = metrics
    for model, shift in (("base", 0.0), ("sft", 0.1)):
        sb = json.loads((root / "safetybench" / f"{model}.json").read_text(encoding="utf-8"))
        sb.update({f"strict_{k}": v - 0.2 for k, v in sb.items() if k in ("OFF", "UB", "PH", "MH", "IA", "EM", "PP", "Avg")})
        sb["extraction_failure_rate"] = 0.25 - shift
        _write(root / "safetybench" / f"{model}.json", sb)
        rs = json.loads((root / "responsibility" / f"{model}.json").read_text(encoding="utf-8"))
        for i, p in enumerate(report.CVALUES_PARSERS):
            rs.update({f"{p}_acc": 0.5 + shift + i / 100, f"{p}_acc_star": 0.6 + shift})
        rs.update(official_avg_acc=0.52 + shift, official_avg_acc_star=0.6 + shift)
        _write(root / "responsibility" / f"{model}.json", rs)
    rep, md = _run(root, params)
    # Table 5-1: official rows as before, strict rows below with their own gains, failure rates noted
    assert "| base | 56.0 | 50.0 |" in md and "| sft | 66.0 (+10.0) |" in md
    assert "| base (strict) | 36.0 | 30.0 |" in md and "| sft (strict) | 46.0 (+10.0) | 40.0 (+10.0) |" in md
    assert "Extraction failures: base 25.0%, sft 15.0%." in md
    assert rep["safetybench.strict_Avg.delta"] == pytest.approx(0.1)
    # Table 5-2: one row per official parser, base / sft / gain, the average, the project parser as extra
    assert "| Eval Model and Acc | base | sft | Gain sft |" in md
    assert "| based on moss | 52.0 | 62.0 | +10.0 |" in md
    assert "| average Acc | 52.0 | 62.0 | +10.0 |" in md
    assert "| based on chinese_alpaca | 54.0 | 64.0 | +10.0 |" in md
    acc_star = md[md.index("| Eval Model and Acc* | base | sft | Gain sft |"):]
    assert "| based on chinese_alpaca | 60.0 | 70.0 | +10.0 |" in acc_star
    assert rep["responsibility.official_avg_acc.delta"] == pytest.approx(0.1)
