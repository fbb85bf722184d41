"""issue 16 (8): every failure a user can cause ends as `error: <file>[:line][: field]: ...`, exit 2, nothing written."""
import json
from pathlib import Path

import pytest

from stages.cli import main
from tests.openai_server import ChatServer
from tests.test_label import row, setup

KEY, ENV = "sk-CLI/TEST+secret-0123456789", "MSEED_TEST_CLI_KEY"


def fails(capsys, argv):
    """Run `mseed <argv>`; the exit status and stderr (a traceback would escape as an exception here)."""
    with pytest.raises(SystemExit) as exc:
        main(argv)
    err = capsys.readouterr().err
    assert "Traceback" not in err and "error: " in err, err
    return exc.value.code, err[err.rfind("error: "):]  # the message (after any progress bars)


def label_with(tmp_path, monkeypatch, rows, labeler):
    setup(tmp_path, monkeypatch, rows, labeler)
    return Path("data/collect/safety.jsonl")


def nothing_written():
    return not Path("data/label/labeled.jsonl").exists() and not Path("metrics/label.json").exists() \
        and not list(Path(".").glob("data/label/.*.tmp"))


def test_lone_surrogate_is_named_with_file_line_and_field(tmp_path, monkeypatch, capsys):
    inp = label_with(tmp_path, monkeypatch, [row(1, "ok"), row(2, "x")], {"backend": "rules", "model": "r"})
    lines = inp.read_text(encoding="utf-8").splitlines()
    lines[1] = lines[1].replace('"prompt": "x"', '"prompt": "bad \\ud800 text"')
    inp.write_text("\n".join(lines) + "\n", encoding="utf-8")
    code, err = fails(capsys, ["label"])
    assert code == 2 and err.startswith("error: data/collect/safety.jsonl:2: field 'prompt': lone UTF-16 surrogate"), err
    assert "Traceback" not in err and nothing_written()


def test_rejected_api_key_is_an_error_naming_the_role(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv(ENV, KEY)
    with ChatServer(api_key="another-key") as srv:
        label_with(tmp_path, monkeypatch, [row(1, "怎么骗钱")], {"backend": "openai", "model": "m", "base_url": srv.url,
                                                                "api_key_env": ENV, "max_retries": 0})
        code, err = fails(capsys, ["label"])
    assert code == 2 and err.startswith("error: params.yaml: field 'roles.labeler.api_key_env': "), err
    assert "401" in err and ENV in err and KEY not in err and nothing_written()


def test_corrupt_cache_is_named_with_how_to_rebuild(tmp_path, monkeypatch, capsys):
    cache = tmp_path / "broken-cache.sqlite"
    cache.write_bytes(b"this is not an sqlite database at all" * 100)
    monkeypatch.setenv("MSEED_LLM_CACHE", str(cache))
    with ChatServer() as srv:
        label_with(tmp_path, monkeypatch, [row(1, "怎么骗钱")], {"backend": "openai", "model": "m", "base_url": srv.url})
        code, err = fails(capsys, ["label"])
        assert srv.requests == 0
    assert code == 2 and err.startswith(f"error: {cache}: the LLM cache is not readable"), err
    assert "delete it to rebuild it" in err and f"rm -f '{cache}'" in err and nothing_written()


def test_a_json_document_where_jsonl_is_expected_says_what_it_is(tmp_path, monkeypatch, capsys):
    inp = label_with(tmp_path, monkeypatch, [row(1, "ok")], {"backend": "rules", "model": "r"})
    inp.write_text(json.dumps({"records": [row(1, "ok")]}, indent=2, ensure_ascii=False), encoding="utf-8")
    code, err = fails(capsys, ["label"])
    assert code == 2 and err.startswith("error: data/collect/safety.jsonl:1: invalid JSON"), err
    assert "one JSON object spread over several lines, not JSON Lines" in err and nothing_written()


def test_review_queue_row_without_key(tmp_path, capsys):
    q, labels = tmp_path / "queue.jsonl", tmp_path / "labels.jsonl"
    q.write_text(json.dumps({"kind": "newsafety", "eval": "newsafety", "prompt": "p", "response": "r"}) + "\n")
    code, err = fails(capsys, ["review", "--queue", str(q), "--labels", str(labels)])
    assert code == 2 and err.startswith(f"error: {q}:1: field 'key': missing required field"), err
    assert not labels.exists()


@pytest.mark.parametrize("value", ["SAFE", "banana", "回复3"])
def test_bad_review_label_values_are_errors(tmp_path, monkeypatch, capsys, value):
    from stages.evaluate import review_key, update_queue

    q, labels = tmp_path / "queue.jsonl", tmp_path / "labels.jsonl"
    update_queue("newsafety", "base", [{"key": review_key("p", "r"), "id": "x/1", "kind": "newsafety",
                                        "prompt": "p", "response": "r"}], q)
    good = {"key": "k0", "label": "unsafe", "eval": "newsafety", "model": "base", "id": "x/0", "at": "t"}
    bad = dict(good, key=review_key("p", "r"), label=value)
    labels.write_text(json.dumps(good) + "\n" + json.dumps(bad, ensure_ascii=False) + "\n", encoding="utf-8")
    before = labels.read_bytes()
    code, err = fails(capsys, ["review", "--queue", str(q), "--labels", str(labels)])
    assert code == 2 and err.startswith(f"error: {labels}:2: field 'label': label '{value}' is not one of"), err
    assert labels.read_bytes() == before
