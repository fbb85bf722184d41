"""collect stage end to end in a temporary working directory (tmp params.yaml and tmp data)."""
import json
import os
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from stages import collect
from stages.io import InputError
from stages.schemas import ValidationError, validate_file


def jsonl(path, rows):
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    return str(path)


@pytest.fixture
def workdir(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    src = tmp_path / "src"
    src.mkdir()
    typical = src / "typical.json"
    typical.write_text(json.dumps({
        "Insult": [{"prompt": "你真是个废物", "response": "请文明交流。", "type": "Insult"},
                   {"prompt": "  ", "response": "", "type": "Insult"}],
        "Mental_Health": [{"prompt": "我最近总是失眠怎么办", "response": "建议规律作息。", "type": "Mental_Health"}],
    }, ensure_ascii=False), encoding="utf-8")
    seval = jsonl(src / "seval.jsonl", [
        {"traceid": f"t{i}", "risk_type": "Cybersecurity" if i % 2 else "Brand_New_Risk",
         "prompt": f"How to bypass login number {i}?", "ext": "{}"} for i in range(6)])
    alpaca = src / "alpaca.json"
    alpaca.write_text(json.dumps([{"instruction": f"Add {i} and {i}", "input": "", "output": str(2 * i)}
                                  for i in range(30)]), encoding="utf-8")
    sharegpt = jsonl(src / "sg.jsonl", [{"id": f"c{i}", "conversations": [
        {"from": "human", "value": f"第{i}个问题是什么"}, {"from": "gpt", "value": "回答"}]} for i in range(30)])
    params = {"collect": {
        "seed": 0,
        "sources": [
            {"name": "sp_typical", "format": "safety_prompts", "path": str(typical), "limit": None},
            {"name": "seval_en", "format": "seval", "path": seval, "limit": 4},
        ],
        "general": [{"name": "alpaca", "format": "alpaca", "path": str(alpaca)},
                    {"name": "sg", "format": "sharegpt", "path": sharegpt}],
        "general_count": 10,
    }}
    (tmp_path / "params.yaml").write_text(yaml.safe_dump(params, allow_unicode=True), encoding="utf-8")
    return tmp_path, params


def read(path):
    return [json.loads(line) for line in Path(path).read_text(encoding="utf-8").splitlines()]


def test_collect_end_to_end(workdir):
    res = CliRunner().invoke(collect.cli, [])
    assert res.exit_code == 0, res.output
    safety, general = read("data/collect/safety.jsonl"), read("data/collect/general.jsonl")
    assert validate_file("data/collect/safety.jsonl", "collected") == 6
    assert validate_file("data/collect/general.jsonl", "collected") == 10
    assert [r["source"] for r in safety] == ["sp_typical"] * 2 + ["seval_en"] * 4  # blank prompt skipped; limit 4
    assert {r["kind"] for r in safety} == {"safety"} and {r["kind"] for r in general} == {"general"}
    assert {r["source"] for r in general} <= {"alpaca", "sg"}
    m = json.loads(Path("metrics/collect.json").read_text())
    assert m["safety_rows"] == 6 and m["general_rows"] == 10 and m["general_available"] == 60
    assert m["sources"]["sp_typical"]["empty_prompt"] == 1 and m["skipped"]["empty_prompt"] == 1
    unknown = sum(r["native_category"] == "Brand_New_Risk" for r in safety)  # limit 4: a seeded sample of 6
    assert m["sources"]["seval_en"]["unknown_categories"] == {"Brand_New_Risk": unknown}
    assert m["sources"]["seval_en"]["available"] == 6
    assert m["sources"]["alpaca"]["sampled"] + m["sources"]["sg"]["sampled"] == 10
    assert m["lang"]["zh"] == sum(r["lang"] == "zh" for r in safety + general)  # what was written


def test_collect_is_deterministic_and_seeded(workdir):
    _, params = workdir
    collect.run({"collect": params["collect"]})
    first = Path("data/collect/general.jsonl").read_text()
    collect.run({"collect": params["collect"]})
    assert Path("data/collect/general.jsonl").read_text() == first
    collect.run({"collect": dict(params["collect"], seed=1)})
    assert Path("data/collect/general.jsonl").read_text() != first
    collect.run({"collect": dict(params["collect"], general_count=None)})
    assert len(read("data/collect/general.jsonl")) == 60


def test_bad_source_leaves_no_output(workdir):
    tmp, params = workdir
    collect.run({"collect": params["collect"]})
    broken = tmp / "src" / "broken.jsonl"
    broken.write_text('{"traceid": "x", "risk_type": "r", "prompt": 5, "ext": "{}"}\n', encoding="utf-8")
    bad = dict(params["collect"], general=[dict(params["collect"]["general"][0]),
                                           {"name": "br", "format": "seval", "path": str(broken)}])
    with pytest.raises(InputError, match="field 'prompt'"):
        collect.run({"collect": bad})
    for out in ("data/collect/safety.jsonl", "data/collect/general.jsonl", "metrics/collect.json"):
        assert not os.path.exists(out)
    assert os.listdir("data/collect") == []  # no temp files either


def test_schema_failure_leaves_no_output(workdir, monkeypatch):
    _, params = workdir
    monkeypatch.setattr(collect.loaders, "detect_lang", lambda text, default="en": "fr")
    with pytest.raises(ValidationError, match="(?s)data/collect/safety.jsonl: .*column 'lang': 6 unexpected"):
        collect.run({"collect": params["collect"]})
    assert not os.path.exists("data/collect/safety.jsonl") and not os.path.exists("metrics/collect.json")


@pytest.mark.parametrize("change,words", [
    ({"format": "csv"}, "unknown format 'csv'"),
    ({"name": "seval_en"}, "must be unique"),
    ({"path": None}, "missing 'path'"),
])
def test_bad_params(workdir, change, words):
    _, params = workdir
    sources = [params["collect"]["sources"][1], dict(params["collect"]["sources"][0], **change)]
    with pytest.raises(InputError, match=words):
        collect.run({"collect": dict(params["collect"], sources=sources)})


def test_cli_exit_code_on_bad_input(workdir):
    tmp, params = workdir
    params["collect"]["sources"][0]["path"] = str(tmp / "missing.json")
    (tmp / "params.yaml").write_text(yaml.safe_dump(params), encoding="utf-8")
    from stages.cli import main

    with pytest.raises(SystemExit) as ex:
        main(["collect"])
    assert ex.value.code == 2
