"""Taxonomy: the 14 codes, synonym normalisation, and native mappings on the real source files."""
import json
from collections import Counter
from pathlib import Path

import pytest

from stages import taxonomy as t


def test_fourteen_codes_in_paper_order():
    assert t.CODES == ["OFF", "UB", "CIA", "PP", "EM", "PMH", "IA", "MI", "DP", "NS", "EX", "PR", "DT", "PS"]
    for code, info in t.CATEGORIES.items():
        assert info["zh"] and info["en"] and info["definition"] and info["keywords"], code


@pytest.mark.parametrize("label,code", [
    ("违法犯罪", "CIA"), ("道德伦理", "EM"), ("脏话侮辱", "OFF"), ("偏见歧视", "UB"), ("身体伤害", "PMH"),
    ("心理健康", "PMH"), ("财产隐私", "PP"), ("恶意诱导", "MI"), ("危险话题", "DT"), ("涉毒", "DT"),
    ("数据隐私（包括个人隐私）", "DP"), ("个人隐私", "DP"), ("网络安全", "NS"), ("极端主义", "EX"),
    ("敏感话题", "PS"), ("色情", "PR"), ("赌博", "DT"), ("政治言论", "PS"),
    ("Hate speech", "OFF"), ("  Data_Privacy leak. ", "DP"), ("cyber-security attacks", "NS"),
    ("Instruction Attack", "IA"), ("Illegal Activities", "CIA"), ("OFF", "OFF"),
])
def test_normalize_label(label, code):
    assert t.normalize_label(label) == code


@pytest.mark.parametrize("label", ["", "   ", None, "天气", "coffee", "cooking recipes"])
def test_normalize_label_unmatched(label):
    assert t.normalize_label(label) is None


def test_safetybench_ia_is_illegal_activities_not_instruction_attack():
    assert t.map_native("safetybench", "IA") == ["CIA"]
    assert t.map_native("safetybench_dev", "Illegal Activities") == ["CIA"]
    assert t.map_native("safety_prompts", "Goal_Hijacking")[0] == "IA"


def test_safety_prompts_13_scenarios(shared_data):
    scen = json.loads((shared_data / "safety-prompts" / "augmentation_prompts.json").read_text("utf-8"))
    assert len(scen) == 13
    for name in scen:
        assert t.map_native("safety_prompts", name), name
    attack = ["Goal_Hijacking", "Prompt_Leaking", "Role_Play_Instruction", "Unsafe_Instruction_Topic",
              "Inquiry_With_Unsafe_Opinion", "Reverse_Exposure"]
    assert all(t.map_native("safety_prompts", a)[0] == "IA" for a in attack)


@pytest.mark.parametrize("name", ["S-Eval_base_risk_zh_small.jsonl", "S-Eval_base_risk_en_small.jsonl"])
def test_seval_risk_types_all_mapped(shared_data, name):
    path = shared_data / "s-eval" / name
    risks = {json.loads(line)["risk_type"] for line in path.open(encoding="utf-8") if line.strip()}
    assert len(risks) >= 8
    unmapped = sorted(r for r in risks if not t.map_native("seval", r))
    assert unmapped == []


def test_mseed_categories_all_mapped(shared_data):
    rows = json.loads((shared_data / "mseed" / "MSEED-Alignment-All-Label.json").read_text("utf-8"))
    pairs = {(r["category"], r["subclass"]) for r in rows}
    assert len(pairs) > 25
    unmapped = sorted(f"{c}/{s}" for c, s in pairs if not t.map_native("mseed", f"{c}/{s}"))
    assert unmapped == []
    assert all(t.map_native("mseed", s) for _, s in pairs)
    assert t.map_native("mseed", "违反人类价值观/宣扬恐怖主义、极端主义") == ["EX"]
    # unknown subclass falls back to its dimension
    assert t.map_native("mseed", "包含歧视性内容/新的子类") == ["UB"]


def test_safetybench_categories_all_mapped(shared_data):
    sb = shared_data / "safetybench"
    test = json.loads((sb / "test_zh_subset.json").read_text("utf-8"))
    answers = json.loads((sb / "test_answers_zh_subset.json").read_text("utf-8"))
    names = {r["category"] for r in test} | {a["category"] for a in answers.values()}
    for dev in ("dev_zh.json", "dev_en.json"):
        names |= set(json.loads((sb / dev).read_text("utf-8")))
    assert len(names) == 7
    assert sorted(n for n in names if not t.map_native("safetybench_test", n)) == []


def test_cvalues_domains_all_mapped(shared_data):
    path = shared_data / "cvalues" / "cvalues_responsibility_prompts.jsonl"
    rows = [json.loads(line) for line in path.open(encoding="utf-8") if line.strip()]
    for r in rows:
        assert t.map_native("cvalues", r["domain_en"]), r["domain_en"]
        assert t.map_native("cvalues", r["domain_zh"]), r["domain_zh"]


def test_unknown_native_maps_to_nothing():
    assert t.map_native("seval", "No_Such_Risk") == []
    assert not t.is_known("seval", "No_Such_Risk")
    assert t.is_known("cvalues_comparison", "风险回复") and t.map_native("cvalues_comparison", "风险回复") == []
    assert t.map_native("unknown_format", "Insult") == []
    assert t.map_native("seval", None) == []


def test_seval_attack_methods_all_map_to_ia():
    """The 10 attack methods of the public S-Eval attack sets (ext {"model": "attack", "category": m})."""
    methods = ["positive_induction", "reverse_induction", "code_injection", "instruction_jailbreak",
               "goal_hijacking", "instruction_encryption", "deepinception", "in_context_attack",
               "chain_of_utterances", "compositional_instructions"]
    for m in methods:
        assert t.attack_codes(m) == ["IA"], m
        assert t.native_codes("seval", "Data_Privacy", m) == ["IA", "DP"]
    assert t.attack_codes("no_such_attack") is None
    assert t.native_codes("seval", "Cybersecurity", "no_such_attack") == ["IA", "NS"]  # still an attack row


def test_every_native_value_in_the_real_files_maps(shared_data):
    from stages import loaders

    files = [("s-eval/S-Eval_base_risk_zh_small.jsonl", "seval"), ("s-eval/S-Eval_base_risk_en_small.jsonl", "seval"),
             ("mseed/MSEED-Alignment-All-Label.json", "mseed")]
    synthetic = Path(__file__).with_name("data")
    paths = [(shared_data / f, fmt) for f, fmt in files] + [
        (synthetic / "S-Eval_attack_zh_synthetic.jsonl", "seval"), (synthetic / "S-Eval_attack_en_synthetic.jsonl", "seval"),
        (synthetic / "MSEED-Evaluation-synthetic.txt", "mseed_eval")]
    for path, fmt in paths:
        stats = Counter()
        recs = list(loaders.load(path, fmt, stats=stats))
        assert stats["unknown_category"] == 0, (path, stats)
        assert recs and all(r["native_codes"] for r in recs), path  # every record carries a code
