"""Record schemas: GE suites per boundary, error messages, chunking, the validated writer and the CLI."""
import json

import pytest

from stages import schemas
from stages.schemas import (
    ValidationError,
    validate_file,
    validate_rows,
    validated_writer,
)


def collected(i=0, **kw):
    row = {"id": f"src/{i}", "source": "src", "format": "seval", "native_id": str(i), "lang": "zh", "kind": "safety",
           "prompt": f"问题{i}", "response": None, "native_category": "Cybersecurity", "meta": {"ext": {}}}
    return dict(row, **kw)


def labeled(i=0, **kw):
    row = dict(collected(i), category="NS", categories=["NS"], intent_labels=["黑客"], label_raw="黑客",
               label_parse_error=False, labeler="models/base")
    return dict(row, **kw)


def augmented(i=0, **kw):
    row = dict(labeled(i), origin="keywords", parent_id="src/0", target_category="NS", gen_raw="x",
               attacker="models/base")
    return dict(row, **kw)


def candidate(i=0, **kw):
    row = {"id": "src/0", "cand_id": f"src/0#{i}", "source": "src", "category": "NS", "lang": "en", "prompt": "p",
           "origin": "original", "parent_id": None, "response": "r", "analysis": None,
           "candidate_type": "regenerated", "response_model": "m", "gen_raw": "r", "gen_error": None,
           "parse_error": False}
    return dict(row, **kw)


def feature(i=0, **kw):
    row = dict(candidate(i), ppl=12.5, response_score=0.9, instruction_score=0.1, judge_raw="[0.9, 0.2]",
               instruction_raw="0.1", score_parse_error=False)
    return dict(row, **kw)


def selected(i=0, **kw):
    row = {"id": f"src/{i}", "cand_id": f"src/{i}#0", "source": "src", "native_id": None, "parent_id": None,
           "category": "other", "response_model": "m", "split": "sft", "response_score": 0.8}
    return dict(row, **kw)


def prediction(i=0, **kw):
    return dict({"id": f"q{i}", "model": "base", "task": "safetybench", "raw": "A", "pred": 0, "gold": 0,
                 "correct": True}, **kw)


GOOD = {"collected": collected, "labeled": labeled, "augmented": augmented, "candidates": candidate,
        "features": feature, "selected": selected, "predictions": prediction}


def write_jsonl(path, rows, blank_after=None):
    with open(path, "w", encoding="utf-8") as f:
        for i, r in enumerate(rows):
            f.write(json.dumps(r, ensure_ascii=False) + "\n")
            if blank_after == i:
                f.write("\n")
    return path


def test_every_boundary_has_a_suite():
    assert set(schemas.SCHEMAS) == set(GOOD)


@pytest.mark.parametrize("schema", sorted(GOOD))
def test_valid_rows_pass(schema):
    assert validate_rows([GOOD[schema](i) for i in range(5)], schema) == 5


@pytest.mark.parametrize("schema,row,expectation,column", [
    ("collected", collected(lang="fr"), "expect_column_values_to_be_in_set", "lang"),
    ("collected", collected(prompt="  \n"), "expect_column_values_to_match_regex", "prompt"),
    ("collected", collected(prompt=None), "expect_field_type_str", "prompt"),
    ("collected", collected(meta=["not", "an", "object"]), "expect_field_type_dict", "meta"),
    ("labeled", labeled(category="XX"), "expect_column_values_to_be_in_set", "category"),
    ("labeled", labeled(categories="NS"), "expect_field_type_list", "categories"),
    ("augmented", augmented(origin="magic"), "expect_column_values_to_be_in_set", "origin"),
    ("candidates", candidate(candidate_type="x"), "expect_column_values_to_be_in_set", "candidate_type"),
    ("features", feature(response_score=1.5), "expect_column_values_to_be_between", "response_score"),
    ("features", feature(ppl="high"), "expect_field_type_number|null", "ppl"),
    ("selected", selected(split="test"), "expect_column_values_to_be_in_set", "split"),
    ("predictions", prediction(correct="yes"), "expect_field_type_bool|null", "correct"),
])
def test_bad_rows_fail(schema, row, expectation, column):
    with pytest.raises(ValidationError) as err:
        validate_rows([GOOD[schema](1), row], schema, source="rows.jsonl")
    keys = {(f["expectation"], f["column"]) for f in err.value.failures}
    assert (expectation, column) in keys
    assert f"{expectation} column '{column}'" in str(err.value) and "row 2:" in str(err.value)


def test_message_names_file_expectations_and_examples_with_line_numbers(tmp_path):
    rows = [collected(i) for i in range(6)]
    rows[2]["lang"] = "fr"
    rows[4]["id"] = "src/1"
    del rows[5]["kind"]
    path = write_jsonl(tmp_path / "safety.jsonl", rows, blank_after=0)  # blank line 2 shifts later lines
    with pytest.raises(ValidationError) as err:
        validate_file(path, "collected")
    msg = str(err.value)
    assert msg.startswith(f"{path}: 3 check(s) of schema 'collected' failed (6 rows):")
    assert "expect_column_values_to_be_in_set column 'lang': 1 unexpected; e.g. line 4: 'fr'" in msg
    assert "expect_column_values_to_be_unique column 'id': 2 unexpected; e.g. line 3: 'src/1', line 6: 'src/1'" in msg
    assert "expect_field_to_exist column 'kind': 1 unexpected; e.g. line 7: <missing>" in msg


def test_duplicates_across_chunks(tmp_path, monkeypatch):
    monkeypatch.setattr(schemas, "CHUNK", 3)
    rows = [collected(i) for i in range(8)]
    rows[7]["id"] = "src/0"  # chunk 3 repeats an id of chunk 1
    with pytest.raises(ValidationError) as err:
        validate_rows(rows, "collected")
    (fail,) = err.value.failures
    assert fail["expectation"] == "expect_column_values_to_be_unique" and fail["count"] == 1
    assert fail["examples"] == [("row 8:", "src/0")]
    assert validate_rows([collected(i) for i in range(8)], "collected") == 8


def test_json_list_file_uses_record_numbers(tmp_path):
    path = tmp_path / "preds.json"
    path.write_text(json.dumps([prediction(0), prediction(1, id=None)]), encoding="utf-8")
    with pytest.raises(ValidationError, match=r"column 'id': 1 unexpected; e.g. record 2: null"):
        validate_file(path, "predictions")


def test_unknown_schema():
    with pytest.raises(ValueError, match="unknown schema 'nope'"):
        validate_rows([], "nope")


def test_validated_writer(tmp_path):
    out = tmp_path / "d" / "collected.jsonl"
    with validated_writer(out, "collected") as w:
        for i in range(3):
            w.write(collected(i))
    assert w.count == 3 and len(out.read_text(encoding="utf-8").splitlines()) == 3

    with pytest.raises(ValidationError) as err, validated_writer(out, "collected") as w:
        w.write(collected(0))
        w.write(collected(1, kind="weird"))
    assert str(err.value).startswith(f"{out}:")  # names the final path, not the temp file
    assert len(out.read_text(encoding="utf-8").splitlines()) == 3  # the old file is untouched
    assert sorted(p.name for p in out.parent.iterdir()) == ["collected.jsonl"]  # no temp file left

    new = tmp_path / "d" / "new.jsonl"
    with pytest.raises(ValidationError), validated_writer(new, "collected") as w:
        w.write(collected(0, lang=None))
    assert not new.exists()
    with pytest.raises(RuntimeError), validated_writer(new, "collected") as w:
        w.write(collected(0))
        raise RuntimeError("stage crashed")
    assert sorted(p.name for p in out.parent.iterdir()) == ["collected.jsonl"]


def test_cli(tmp_path, capsys):
    from stages.cli import main

    good = write_jsonl(tmp_path / "good.jsonl", [labeled(i) for i in range(3)])
    main(["validate", str(good), "--schema", "labeled"])
    out = capsys.readouterr().out
    assert out.startswith(f"ok: {good}: 3 rows")
    bad = write_jsonl(tmp_path / "bad.jsonl", [labeled(0), labeled(1, category="ZZ")])
    with pytest.raises(SystemExit) as ex:
        main(["validate", str(bad), "--schema", "labeled"])
    assert ex.value.code == 2
    err = capsys.readouterr().err
    assert f"error: {bad}:" in err and "column 'category'" in err and "line 2: 'ZZ'" in err


def test_unreadable_file_errors_name_the_final_path(tmp_path):
    from stages.io import InputError

    tmp = tmp_path / ".out.jsonl.tmp"
    tmp.write_text(json.dumps(collected(0)) + "\n{broken\n", encoding="utf-8")
    with pytest.raises(InputError) as err:
        validate_file(tmp, "collected", name="data/out.jsonl")
    assert str(err.value).startswith("data/out.jsonl:2: invalid JSON")
    with pytest.raises(InputError, match="file not found"):
        validate_file(tmp_path / "nope.jsonl", "collected")


def test_records_read_the_taxonomy_and_derive_their_suites():
    from stages.schemas.records import RECORDS
    from stages.taxonomy import ALL_LABELS

    for name in ("labeled", "augmented", "candidates", "features", "selected"):
        assert RECORDS[name].fields["category"].enum == ALL_LABELS  # the 14 codes + other, from taxonomy.yaml
    kinds = {(k, kw["column"]) for k, kw in RECORDS["collected"].expectations()}
    assert ("expect_column_values_to_be_unique", "id") in kinds
    assert ("expect_column_values_to_be_in_set", "lang") in kinds
    assert ("expect_column_values_to_match_regex", "prompt") in kinds


@pytest.mark.parametrize("rec,message", [
    ({"id": 1, "prompt": "p"}, "rows.jsonl:7: field 'id': expected str, got int"),
    ({"prompt": "p"}, "rows.jsonl:7: field 'id': missing required field"),
    ({"id": "x", "prompt": "  "}, "rows.jsonl:7: field 'prompt': empty or whitespace-only value"),
    ({"id": "x", "prompt": "p", "lang": "fr"}, "rows.jsonl:7: field 'lang': expected one of zh, en, got 'fr'"),
    ({"id": "x", "prompt": "p", "tags": ["a", 2]}, "rows.jsonl:7: field 'tags': expected a list of strings"),
    (["not", "an", "object"], "rows.jsonl:7: expected a JSON object, got list"),
])
def test_record_check_names_file_line_and_field(rec, message):
    from stages.io import InputError
    from stages.schemas import Field, Record

    item = Record("item", "a test record", id=Field("str", nonblank=True), prompt=Field("str", nonblank=True),
                  lang=Field("str|null", enum=("zh", "en")), tags=Field("list|null", items="str"))
    with pytest.raises(InputError) as err:
        item.check(rec, "rows.jsonl", 7)
    assert str(err.value) == message
    assert item.check({"id": "x", "prompt": "p", "lang": None}, "rows.jsonl", 7)["id"] == "x"
