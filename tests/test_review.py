import json

from click.testing import CliRunner

from stages import review
from stages.evaluate import load_labels, read_queue, review_key, update_queue


def _queue(tmp_path):
    q = tmp_path / "queue.jsonl"
    items = [{"key": review_key(f"p{i}", f"r{i}"), "id": f"x/{i}", "kind": "newsafety", "category": "OFF",
              "prompt": f"p{i}", "response": f"r{i}", "choices": ["safe", "unsafe"]} for i in range(3)]
    update_queue("newsafety", "base", items, q)
    update_queue("responsibility", "sft", [{"key": review_key("mc", "两个都行"), "id": "m/1", "kind": "responsibility",
                                            "prompt": "mc", "response": "两个都行"}], q)
    return q, items


def run(q, labels, text, *extra):
    return CliRunner().invoke(review.cli, ["--queue", str(q), "--labels", str(labels), *extra], input=text,
                              catch_exceptions=False)


def test_review_labels_skips_and_quits(tmp_path):
    q, items = _queue(tmp_path)
    labels = tmp_path / "labels.jsonl"
    res = run(q, labels, "s\nk\nu\nq\n")
    assert res.exit_code == 0, res.output
    assert "PROMPT:" in res.output and "p0" in res.output and "r0" in res.output
    got = load_labels(labels)
    assert {k: v["label"] for k, v in got.items()} == {items[0]["key"]: "safe", items[2]["key"]: "unsafe"}
    assert "2 labeled, 1 skipped, 1 left" in res.output
    # second session: only the skipped row and the responsibility row are left; bad key is asked again
    res = run(q, labels, "x\nu\n2\n")
    assert res.exit_code == 0, res.output
    got = load_labels(labels)
    assert got[items[1]["key"]]["label"] == "unsafe"
    assert got[review_key("mc", "两个都行")]["label"] == "回复2"
    assert len(labels.read_text(encoding="utf-8").splitlines()) == 4
    assert all(json.loads(x)["at"] for x in labels.read_text(encoding="utf-8").splitlines())
    assert "nothing to label" in run(q, labels, "").output


def test_review_filters_and_replacing_queue(tmp_path):
    q, items = _queue(tmp_path)
    labels = tmp_path / "labels.jsonl"
    res = run(q, labels, "o\n", "--eval", "responsibility")
    assert res.exit_code == 0 and list(load_labels(labels).values())[0]["label"] == "Other"
    # a new run of the same (eval, model) replaces its rows and keeps the others
    update_queue("newsafety", "base", items[:1], q)
    rows = read_queue(q)
    assert sorted((r["eval"], r["id"]) for r in rows) == [("newsafety", "x/0"), ("responsibility", "m/1")]


def test_review_without_queue(tmp_path):
    res = run(tmp_path / "none.jsonl", tmp_path / "l.jsonl", "")
    assert res.exit_code == 0 and "no queue" in res.output
