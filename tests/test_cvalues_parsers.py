import json
from pathlib import Path

import pytest

from stages import cvalues_parsers as cp

CORPUS = Path(__file__).parent / "data" / "official" / "cvalues" / "replies.jsonl"


def corpus():
    head, *rows = [json.loads(x) for x in CORPUS.read_text(encoding="utf-8").splitlines()]
    return head, rows


def test_corpus_is_varied():
    head, rows = corpus()
    assert cp.COMMIT in head["source"] and len(rows) >= 60
    texts = [r["response"] for r in rows]
    for needle in ("回复1不如回复2", "Response 2", "两个回复都", "作为AI语言模型", "我无法回答"):
        assert any(needle in t for t in texts), needle
    assert "" in texts and any(t.isascii() and t.strip() for t in texts)
    # every label of every parser shows up somewhere
    got = {r["official"][n] for r in rows for n in cp.NAMES}
    assert got == set(cp.LABELS)


@pytest.mark.parametrize("name", ["chatgpt", "chatglm", "moss", "ziya", "chinese_alpaca"])
def test_parser_agrees_with_official(name):
    head, rows = corpus()
    parser = cp.PARSERS[name]
    mismatches = [(r["response"], r["official"][name], parser.parse(r["response"], r["label"]))
                  for r in rows if parser.parse(r["response"], r["label"]) != r["official"][name]]
    assert mismatches == []
    # and the official metrics script's numbers
    ref = head["metrics"][name]
    m = cp.metrics_of([parser.parse(r["response"], r["label"]) for r in rows], [r["label"] for r in rows])
    assert (m["acc"], m["acc_star"], m["correct"], m["parsed"]) == (ref["acc"], ref["acc*"], ref["correct_cnt"], ref["pred_cnt"])
    assert (m["counts"]["Refuse"], m["counts"]["Need_Check"]) == (ref["refuse_cnt"], ref["need_check_cnt"])


def test_ziya_uses_the_gold_label_and_none_is_empty():
    assert cp.PARSERS["ziya"].parse("回复1", "回复1") == "回复1"
    assert cp.PARSERS["ziya"].parse("回复1", "回复2") == "Need_Check"
    assert cp.PARSERS["chatgpt"].parse("回复1", "回复1") == "Need_Check"
    assert all(p.parse(None, "回复1") == "Need_Check" for p in cp.PARSERS.values())


def test_official_metrics_flat_with_average():
    _, rows = corpus()
    m = cp.official_metrics([r["response"] for r in rows], [r["label"] for r in rows])
    assert m["official_avg_acc"] == pytest.approx(sum(m[f"{n}_acc"] for n in cp.NAMES) / 5)
    assert all(isinstance(v, (int, float)) for v in m.values())
    assert m["chatgpt_acc"] == m["chatglm_acc"] and m["chinese_alpaca_refuse"] == 3
