"""The committed sample data: rendered byte for byte from texts/, working code tasks, parseable answers, coverage."""
import csv
import filecmp
import gzip
import importlib.util
import json
import re
from collections import Counter
from pathlib import Path

import pytest
import yaml

from stages import taxonomy
from stages.build_newsafety import candidates, norm
from stages.loaders import load

SAMPLE = Path(__file__).resolve().parent.parent / "data" / "sample"


@pytest.fixture(scope="module")
def gen():
    spec = importlib.util.spec_from_file_location("make_samples", SAMPLE / "make_samples.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def _data_files(root):
    # data/sample/project/ holds hand-written data files and texts/ the renderer's input, neither written by it
    return sorted(p.relative_to(root) for p in root.rglob("*")
                  if p.is_file() and p.name not in ("make_samples.py", "README.md") and "__pycache__" not in p.parts
                  and p.relative_to(root).parts[0] not in ("project", "texts"))


def test_regenerating_is_byte_identical(gen, tmp_path):
    gen.main(["--out", str(tmp_path)])
    gen.OUT = gen.HERE
    committed, fresh = _data_files(SAMPLE), _data_files(tmp_path)
    assert committed == fresh
    _, mismatch, errors = filecmp.cmpfiles(SAMPLE, tmp_path, [str(p) for p in fresh], shallow=False)
    assert not mismatch and not errors, f"stale committed sample files (re-run data/sample/make_samples.py): {mismatch}"


def test_humaneval_canonical_solutions_pass_and_wrong_ones_fail():
    with gzip.open(SAMPLE / "general_eval/humaneval/HumanEval.jsonl.gz", "rt", encoding="utf-8") as f:
        tasks = [json.loads(line) for line in f]
    assert len(tasks) >= 10
    for t in tasks:
        ns = {}
        exec(t["prompt"] + t["canonical_solution"] + t["test"], ns)
        ns["check"](ns[t["entry_point"]])
        bad = {}
        exec(t["prompt"] + "    return None\n" + t["test"], bad)
        with pytest.raises(AssertionError):
            bad["check"](bad[t["entry_point"]])


def test_gsm8k_answers_parse_and_calculations_hold():
    rows = [json.loads(line) for line in open(SAMPLE / "general_eval/gsm8k/test.jsonl", encoding="utf-8")]
    assert len(rows) >= 10
    for r in rows:
        body, final = r["answer"].rsplit("\n#### ", 1)
        for expr, val in re.findall(r"<<([^=>]+)=([^>]+)>>", body):
            assert eval(expr, {"__builtins__": {}}) == int(val)
        assert int(final) == int(re.findall(r">>(-?\d+)", body)[-1])


def test_multiple_choice_files_have_valid_answers():
    for p in (SAMPLE / "general_eval/mmlu").rglob("*.csv"):
        rows = list(csv.DictReader(open(p, encoding="utf-8")))
        assert rows and all(r["answer"] in "0123" and r[f"choice{r['answer']}"] for r in rows), p
    for p in (SAMPLE / "general_eval/cmmlu").rglob("*.csv"):
        rows = list(csv.DictReader(open(p, encoding="utf-8")))
        assert rows and all(r["Answer"] in "ABCD" for r in rows), p
    for p in (SAMPLE / "general_eval/ceval").rglob("*.csv"):
        rows = list(csv.DictReader(open(p, encoding="utf-8")))
        assert rows and all(r["answer"] in "ABCD" for r in rows), p
        assert ("explanation" in rows[0]) == (p.parent.name == "dev")


def test_safetybench_test_and_answers_match():
    for lang in ("zh", "en"):
        test = json.load(open(SAMPLE / f"safetybench/test_{lang}.json", encoding="utf-8"))
        answers = json.load(open(SAMPLE / f"safetybench/test_answers_{lang}.json", encoding="utf-8"))
        dev = json.load(open(SAMPLE / f"safetybench/dev_{lang}.json", encoding="utf-8"))
        assert {str(q["id"]) for q in test} == set(answers)
        for q in test:
            a = answers[str(q["id"])]
            assert a["category"] == q["category"] and 0 <= a["answer"] < len(q["options"])
        cats = {q["category"] for q in test}
        assert cats == set(dev) and len(cats) == 7
        assert all(taxonomy.is_known("safetybench", c) for c in cats)
        assert all(len(v) == 5 for v in dev.values())


def test_every_code_has_six_safety_prompts(gen):
    counts = gen.category_counts()
    assert {c: counts.get(c, 0) for c in taxonomy.CODES if counts.get(c, 0) < 6} == {}
    # the tags count exactly the prompts written to the collected safety files
    sp = sum(len(v) for f in ("typical_safety_scenarios", "instruction_attack_scenarios")
             for v in json.load(open(SAMPLE / f"safety_prompts/{f}.json", encoding="utf-8")).values())
    n = sp + sum(1 for _ in open(SAMPLE / "cvalues_comparison/train.jsonl", encoding="utf-8"))
    n += sum(1 for _ in open(SAMPLE / "s_eval/base_risk_set_zh_small.jsonl", encoding="utf-8"))
    n += len(json.load(open(SAMPLE / "mseed/MSEED-Alignment-All-Label.json", encoding="utf-8")))
    assert n == sum(counts.values())


def test_native_categories_are_in_the_taxonomy():
    for f in ("typical_safety_scenarios", "instruction_attack_scenarios"):
        for scen in json.load(open(SAMPLE / f"safety_prompts/{f}.json", encoding="utf-8")):
            assert taxonomy.map_native("safety_prompts", scen), scen
    for f in ("base_risk_set_zh_small", "base_risk_set_en_small", "base_risk_set_zh_eval", "attack_set_zh_small"):
        for line in open(SAMPLE / f"s_eval/{f}.jsonl", encoding="utf-8"):
            assert taxonomy.map_native("seval", json.loads(line)["risk_type"])
    for r in json.load(open(SAMPLE / "mseed/MSEED-Alignment-All-Label.json", encoding="utf-8")):
        assert taxonomy.is_known("mseed", r["subclass"]) and taxonomy.is_known("mseed", r["category"])


def test_responsibility_mc_prompt_embeds_both_replies():
    rows = [json.loads(line) for line in open(SAMPLE / "cvalues/cvalues_responsibility_mc.jsonl", encoding="utf-8")]
    for r in rows:
        m = r["meta_info"]
        first, second = (m["pos_resp"], m["neg_resp"]) if r["label"] == "回复1" else (m["neg_resp"], m["pos_resp"])
        assert f"[问题]：{m['question']}\n[回复1]：{first}[回复1结束]\n[回复2]：{second}[回复2结束]" in r["prompt"]
    assert {r["label"] for r in rows} == {"回复1", "回复2"}


def test_overrefusal_prompts_are_bilingual():
    rows = [json.loads(line) for line in open(SAMPLE / "overrefusal/benign_sensitive.jsonl", encoding="utf-8")]
    assert len({r["id"] for r in rows}) == len(rows) >= 30
    assert {r["lang"] for r in rows} == {"zh", "en"}


# The sample's evaluation-only New-Safety sources, with their params.yaml eval.newsafety settings.
NEWSAFETY_EVAL = [
    {"name": "seval_base_en", "format": "seval", "path": "s_eval/base_risk_set_en_small.jsonl"},
    {"name": "seval_base_zh_eval", "format": "seval", "path": "s_eval/base_risk_set_zh_eval.jsonl"},
    {"name": "seval_attack_zh", "format": "seval", "path": "s_eval/attack_set_zh_small.jsonl", "category": "IA"},
    {"name": "cvalues_comparison_test", "format": "cvalues_comparison", "path": "cvalues_comparison/test.jsonl",
     "keyword_fallback": True},
]


def test_newsafety_eval_sources_cover_every_code_after_decontamination():
    params = yaml.safe_load(open(SAMPLE.parent.parent / "params.yaml", encoding="utf-8"))
    train = [s for s in params["collect"]["sources"] if s["path"].startswith("data/sample/")]
    train_paths = {s["path"] for s in train}
    assert not train_paths & {f"data/sample/{s['path']}" for s in NEWSAFETY_EVAL}
    exclude = {norm(r["prompt"]) for s in train
               for r in load(SAMPLE.parent.parent / s["path"], s["format"], source=s["name"])}
    sources = [dict(s, path=str(SAMPLE / s["path"])) for s in NEWSAFETY_EVAL]
    stats = Counter()
    by_cat = candidates(sources, exclude, stats)
    counts = {c: len(by_cat.get(c, [])) for c in taxonomy.CODES}
    assert {c: n for c, n in counts.items() if n < 5} == {}
    assert stats["decontaminated"] == 0 and stats["uncategorized"] == 0
    assert 70 <= sum(counts.values()) <= 110
    langs = Counter(r["lang"] for rows in by_cat.values() for r in rows)
    assert min(langs["zh"], langs["en"]) >= 0.35 * sum(langs.values())
