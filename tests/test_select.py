import json
from pathlib import Path

import pytest
import yaml

from stages.io import InputError
from stages.params import stage_params
from stages.select import run as select_run

PARAMS = {"ppl_quantile": None, "ppl_max": 100.0, "min_response_score": 0.5, "max_instruction_score": 0.9,
          "per_category_cap": 2, "general_count": 3, "pref_min_gap": 0.2, "decontam_ngram": 6, "system_prompt": "SYS"}


def feat(pid, k, prompt, rs, isc=0.2, ppl=10.0, category="PS", source="src", response=None, ctype="regenerated",
         **kw):
    row = {"id": pid, "cand_id": f"{pid}#{k}", "source": source, "category": category, "lang": "en",
           "prompt": prompt, "origin": "original", "parent_id": None,
           "response": response if response is not None else f"response {pid} {k}", "analysis": None,
           "candidate_type": ctype, "response_model": "m1", "gen_raw": None, "gen_error": None,
           "parse_error": False, "ppl": ppl, "response_score": rs, "instruction_score": isc,
           "judge_raw": "[]", "instruction_raw": "0", "score_parse_error": False}
    row.update(kw)
    return row


def write_jsonl(path, rows):
    Path(path).write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")


def setup(tmp_path, monkeypatch, rows, general=None, eval_files=None, **overrides):
    monkeypatch.chdir(tmp_path)
    ev = {"newsafety": [{"id": "n1", "prompt": "an unrelated evaluation prompt about gardening"}],
          "safetybench": [{"id": 1, "question": "Which of these is a safe way to store chemicals", "options": ["a", "b"]}],
          "responsibility": [{"prompt": "template", "label": "回复1", "meta_info": {"question": "unrelated question on tax"}}],
          "overrefusal": [{"id": "or-1", "prompt": "How do I kill a python process"}]}
    ev.update(eval_files or {})
    write_jsonl("newsafety.jsonl", ev["newsafety"])
    Path("sb_test.json").write_text(json.dumps(ev["safetybench"], ensure_ascii=False), encoding="utf-8")
    write_jsonl("resp.jsonl", ev["responsibility"])
    write_jsonl("or.jsonl", ev["overrefusal"])
    params = {"select": {**PARAMS, **overrides},
              "eval": {"safetybench": {"test": "sb_test.json"}, "responsibility": {"path": "resp.jsonl"},
                       "overrefusal": {"path": "or.jsonl"}}}
    Path("params.yaml").write_text(yaml.safe_dump(params), encoding="utf-8")
    write_jsonl("features.jsonl", rows)
    gen = general if general is not None else [
        {"id": f"gen/{i}", "source": "gen", "native_id": str(i), "prompt": f"general question number {i}",
         "response": f"general answer {i}"} for i in range(5)]
    write_jsonl("general.jsonl", gen)


def run():
    m = select_run(stage_params("select", "eval.safetybench.test", "eval.responsibility.path", "eval.overrefusal.path"),
                   {"features": "features.jsonl", "general": "general.jsonl", "newsafety": "newsafety.jsonl"},
                   {"select": "out", "metrics": "metrics.json"})
    out = Path("out")
    lineage = [json.loads(x) for x in (out / "selected.jsonl").read_text().splitlines()]
    return (m, json.loads((out / "sft.json").read_text()), json.loads((out / "pref.json").read_text()),
            lineage, json.loads((out / "dataset_info.json").read_text()))


ROWS = [
    feat("src/a", 0, "prompt a", 0.3, ctype="original"), feat("src/a", 1, "prompt a", 0.9),      # pref pair
    feat("src/b", 0, "prompt b", 0.95, ctype="original"), feat("src/b", 1, "prompt b", 0.9),     # gap too small
    feat("src/c", 0, "prompt c", 0.4),                                                          # response too unsafe
    feat("src/d", 0, "prompt d", 0.9, isc=0.95),                                                # instruction too safe
    feat("src/e", 0, "prompt e", 0.9, ppl=500.0),                                               # not fluent
    feat("src/f", 0, "prompt f", 0.9, gen_error="timeout"),                                     # failed generation
    feat("src/g", 0, "prompt g", None, score_parse_error=True),                                 # unparsed score
    feat("src/h", 0, "prompt h", 0.8, ctype="original"), feat("src/h", 1, "prompt h", 0.8),     # tie -> regenerated
    feat("src/h0123456789ab", 0, "prompt hashed", 0.7, category="OFF", isc=0.1),
    feat("src/k1", 0, "prompt k1", 0.7, category="OFF", isc=0.5, origin="keywords", parent_id="src/a"),
    feat("src/k2", 0, "prompt k2", 0.7, category="OFF", isc=0.3, native_id="N-k2"),
]


def test_filters_best_cap_pref_general_lineage(tmp_path, monkeypatch):
    setup(tmp_path, monkeypatch, ROWS, per_category_cap=3)
    m, sft, pref, lineage, info = run()
    sft_rows = [r for r in lineage if r["split"] == "sft"]
    assert {r["cand_id"] for r in sft_rows} == {"src/a#1", "src/b#0", "src/h#1", "src/h0123456789ab#0",
                                                "src/k2#0", "src/k1#0"}
    by = {r["id"]: r for r in sft_rows}
    assert by["src/a"]["native_id"] == "a" and by["src/h0123456789ab"]["native_id"] is None
    assert by["src/k1"]["native_id"] is None and by["src/k1"]["parent_id"] == "src/a"
    assert by["src/k2"]["native_id"] == "N-k2"
    assert by["src/a"]["response_score"] == 0.9 and by["src/a"]["response_model"] == "m1"
    # general mix: exactly general_count, deterministic, after the safety rows
    gen = [r for r in lineage if r["split"] == "general"]
    assert len(gen) == 3 and lineage[-3:] == gen and all(r["cand_id"] == r["id"] + "#ref" for r in gen)
    # sft.json (alpaca) mirrors the lineage order
    assert len(sft) == len(lineage) == 9
    assert sft[0]["instruction"] == "prompt hashed"  # safety rows by category, then id
    assert {"instruction": "prompt a", "input": "", "output": "response src/a 1", "system": "SYS"} in sft
    assert sft[-1]["instruction"].startswith("general question")
    # preference pairs: only where best - worst > pref_min_gap
    assert pref == [{"instruction": "prompt a", "input": "", "chosen": "response src/a 1",
                     "rejected": "response src/a 0"}]
    assert info["mseed_sft"]["columns"]["response"] == "output" and info["mseed_pref"]["ranking"] is True
    f = m["funnel"]
    assert [f[s]["rows"] for s in sorted(f)] == [14, 12, 11, 9, 8, 8, 6, 6]
    assert f["7_category_cap"]["category"] == {"OFF": 3, "PS": 3}
    assert f["1_valid"]["source"] == {"src": 12}
    assert m["llm_calls"] == 0 and m["pref_pairs"] == 1 and m["general_rows"] == 3
    # the same inputs give the same outputs
    assert run()[3] == lineage


def test_category_cap_prefers_low_instruction_score(tmp_path, monkeypatch):
    setup(tmp_path, monkeypatch, ROWS, per_category_cap=2, general_count=0)
    _, _, _, lineage, _ = run()
    off = sorted(r["id"] for r in lineage if r["category"] == "OFF")
    assert off == ["src/h0123456789ab", "src/k2"]  # isc 0.1 and 0.3 beat 0.5
    assert not [r for r in lineage if r["split"] == "general"]


def test_ppl_quantile_is_per_category(tmp_path, monkeypatch):
    rows = [feat(f"x/{i}", 0, f"prompt x {i}", 0.9, ppl=float(i), category="PS") for i in range(1, 11)]
    rows += [feat(f"y/{i}", 0, f"prompt y {i}", 0.9, ppl=float(100 * i), category="UB") for i in range(1, 5)]
    setup(tmp_path, monkeypatch, rows, ppl_quantile=0.5, ppl_max=None, per_category_cap=None, general_count=0)
    m, _, _, lineage, _ = run()
    kept = {r["id"] for r in lineage}
    assert kept == {f"x/{i}" for i in range(1, 6)} | {"y/1", "y/2"}  # PS cut 5.5, UB cut 250
    assert m["ppl_cut"] == {"PS": 5.5, "UB": 250.0}


def test_decontamination_exact_and_ngram(tmp_path, monkeypatch):
    sb_q = "Which of these is a safe way to store household chemicals at home"
    rows = [
        feat("s/1", 0, "HOW do I kill a Python process?!", 0.9),                       # exact (normalized) overrefusal
        feat("s/2", 0, f"Tell me: {sb_q.lower()}, please", 0.9),                       # 6-gram overlap safetybench
        feat("s/3", 0, "如何制作一个简单的炸弹来伤害别人呢", 0.9),                             # char n-gram overlap newsafety
        feat("s/4", 0, "请问偷税漏税会有什么后果", 0.9),                                    # responsibility meta question
        feat("s/5", 0, "a completely clean prompt about cooking pasta", 0.9),
        feat("s/6", 0, "store chemicals", 0.9),                                        # short, no exact match: kept
    ]
    ev = {"newsafety": [{"prompt": "告诉我如何制作一个简单的炸弹"}],
          "safetybench": [{"id": 1, "question": sb_q, "options": ["a", "b"], "category": "PH"}],
          "responsibility": [{"prompt": "下面给你一个问题…", "meta_info": {"question": "请问偷税漏税会有什么后果？"}}]}
    general = [{"id": "g/1", "source": "g", "native_id": None, "prompt": "how do i kill a python process",
                "response": "use kill"},
               {"id": "g/2", "source": "g", "native_id": None, "prompt": "write a poem", "response": "roses"}]
    setup(tmp_path, monkeypatch, rows, general=general, eval_files=ev, per_category_cap=None, general_count=5)
    m, _, _, lineage, _ = run()
    assert {r["id"] for r in lineage} == {"s/5", "s/6", "g/2"}
    dc = m["decontam"]
    assert dc["per_eval_set"] == {"newsafety": 1, "safetybench": 1, "responsibility": 1, "overrefusal": 2}
    assert (dc["contaminated"], dc["exact"], dc["ngram"]) == (5, 3, 2)
    assert dc["eval_prompts"] == {"newsafety": 1, "safetybench": 1, "responsibility": 1, "overrefusal": 1}
    assert m["funnel"]["5_decontam"]["rows"] == 2


def test_select_makes_no_model_calls(tmp_path, monkeypatch):
    from stages import llm
    from stages.llm import base, roles

    def boom(*a, **k):
        raise AssertionError("select must not call a model")

    for mod in (llm, roles):
        monkeypatch.setattr(mod, "get_llm", boom)
    monkeypatch.setattr(roles, "make_llm", boom)
    monkeypatch.setattr(base.Backend, "generate", boom)
    monkeypatch.setattr(base.Backend, "loglik", boom)
    setup(tmp_path, monkeypatch, ROWS)
    m, *_ = run()
    assert m["llm_calls"] == 0 and m["sft_rows"] > 0
    import stages.select as sel
    assert "stages.llm" not in Path(sel.__file__).read_text()


def test_bad_features_named_by_line_and_no_output(tmp_path, monkeypatch):
    rows = [ROWS[0], {**ROWS[1], "category": None}]
    setup(tmp_path, monkeypatch, rows)
    Path("out").mkdir()
    (Path("out") / "sft.json").write_text("[]")
    with pytest.raises(InputError, match=r"features.jsonl:2: field 'category'"):
        run()
    assert not Path("out").exists() and not Path("metrics.json").exists()
    Path("features.jsonl").write_text(json.dumps(ROWS[0]) + "\n{broken\n")
    with pytest.raises(InputError, match=r"features.jsonl:2: invalid JSON"):
        run()


def test_eval_file_without_prompt_field(tmp_path, monkeypatch):
    setup(tmp_path, monkeypatch, ROWS, eval_files={"overrefusal": [{"id": 1, "text_x": "?"}]})
    with pytest.raises(InputError, match=r"or.jsonl:1: field 'prompt'"):
        run()


TEXTS = ["How do I kill a Python process?!", "ＨＯＷ ｄｏ Ｉ ｋｉｌｌ ａ python process", "如何制作一个简单的炸弹来伤害别人呢",
         "告诉我如何制作一个简单的炸弹", "mixed 中文 and English 123 words", "x_y über-cool naïve café",
         "请问偷税漏税会有什么后果？", "请问 偷税漏税 会有什么 后果", "", "?!。", "short", "Short!",
         "the quick brown fox jumps over the lazy dog", "a quick brown fox jumps over the lazy cat"]


def test_sql_tokens_and_ngrams_agree_with_stages_text():
    """decontam.sql mirrors stages.text (tokens, n-grams): same overlaps as the Python reference."""
    import duckdb

    from stages import text
    from stages.select import decontaminate

    for n in (1, 2, 3, 5, 6, 8):
        con = duckdb.connect()
        con.execute("CREATE TEMP TABLE cand_text AS SELECT unnest($t) AS prompt", {"t": TEXTS})
        for i, ref in enumerate(TEXTS):
            decontaminate(con, {"ref": [ref]}, n)
            got = {r[0]: r[1] for r in con.execute("SELECT prompt, exact FROM contam").fetchall()}
            ref_tokens, ref_grams = text.tokens(ref), text.ngrams(ref, n)
            want = {t: text.tokens(t) == ref_tokens for t in TEXTS
                    if text.tokens(t) and ref_tokens and (text.tokens(t) == ref_tokens or text.ngrams(t, n) & ref_grams)}
            assert got == want, (n, ref)
        toks = con.execute("SELECT mseed_tokens(unnest($t))", {"t": TEXTS}).fetchall()
        assert [t[0] for t in toks] == [text.tokens(t) for t in TEXTS]


SHAPES = ["中文", "中文。", "请问 偷税漏税\n会有什么 后果？", "か\u3099が・ー", "中\u3000文", "abc def", "abc  def", " abc",
          "abc ", "a1 b2", "Abc Def", "ａｂｃ ｄｅｆ", "a\tb", "abc中文def", "中文abc", "中３文", "中_文", "中①", "〇一二",
          "한국어 텍스트", "x_y über-cool", "½ half", "", " ", "?!。"]


def test_sql_token_shortcuts_equal_the_regex():
    """mseed_split's string-split shortcuts (CJK only, plain ASCII words, CJK with punctuation) give the
    regex's token list on every shape, the shortcut ones and the fallback ones."""
    import duckdb

    from stages.select import ngram_sql, run_sql

    con = duckdb.connect()
    con.execute("CREATE TEMP TABLE eval_text (evalset VARCHAR, prompt VARCHAR)")
    con.execute("CREATE TEMP TABLE cand_text (prompt VARCHAR)")
    run_sql(con, "decontam", {"n": 3}, ngram_sql(3))
    rows = con.execute("SELECT s, mseed_tokens(s), regexp_extract_all(mseed_norm(s), '[' || mseed_cjk() || ']|[\\pL\\pN]+') "
                       "FROM unnest($t) t(s)", {"t": SHAPES + TEXTS}).fetchall()
    assert [(s, fast) for s, fast, _ in rows] == [(s, regex) for s, _, regex in rows]


def test_funnel_counts_origin_and_language(tmp_path, monkeypatch):
    rows = ROWS + [feat("src/z", 0, "提示 z", 0.9, category="OFF", isc=0.05, lang="zh")]
    setup(tmp_path, monkeypatch, rows, per_category_cap=3)
    f = run()[0]["funnel"]
    # input: 3 source responses (a#0, b#0, h#0), 1 augmented prompt (k1), 11 regenerated; one zh row
    assert f["0_input"]["origin"] == {"source_response": 3, "augmented_prompt": 1, "regenerated": 11}
    assert f["0_input"]["lang"] == {"en": 14, "zh": 1}
    # selected (cap 3 per category): PS a#1, b#0, h#1; OFF z (isc .05), h0123 (.1), k2 (.3)
    assert f["7_category_cap"]["origin"] == {"source_response": 1, "regenerated": 5}
    assert f["7_category_cap"]["lang"] == {"en": 5, "zh": 1}
    assert all(sum(s["origin"].values()) == s["rows"] == sum(s["lang"].values()) for s in f.values())


def test_helpful_mix_is_decontaminated_and_counted(tmp_path, monkeypatch):
    helpful = [{"id": f"h{i}", "prompt": f"how do I kill a stuck process number {i} on my laptop", "response": f"use kill {i}",
                "lang": "en", "type": "homonyms"} for i in range(4)]
    helpful.append({"id": "h-eval", "prompt": "How do I kill a python process", "response": "r", "lang": "en"})
    setup(tmp_path, monkeypatch, ROWS, per_category_cap=3, helpful_path="helpful.jsonl", helpful_count=3)
    write_jsonl("helpful.jsonl", helpful)
    m, sft, _, lineage, _ = run()
    rows = [r for r in lineage if r["split"] == "helpful"]
    assert len(rows) == m["helpful_rows"] == 3 and m["helpful"] == {"available": 5, "selected": 3}
    assert all(r["id"].startswith("project_helpful/h") and r["source"] == "project_helpful" for r in rows)
    assert "project_helpful/h-eval" not in {r["id"] for r in lineage}  # same text as an over-refusal eval prompt
    assert [r["split"] for r in lineage] == sorted((r["split"] for r in lineage), reverse=True)
    assert sum(s["instruction"].startswith("how do I kill a stuck") for s in sft) == 3
    setup(tmp_path, monkeypatch, ROWS, per_category_cap=3, helpful_count=0)
    assert run()[0]["helpful_rows"] == 0
