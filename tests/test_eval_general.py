"""General capability through lm-evaluation-harness's own task definitions on local files."""
import gzip
import json

import pytest
import yaml

from stages import general_tasks as gt
from stages.eval_general import cli, sample_docs
from stages.io import InputError

MMLU = "question,choice0,choice1,choice2,choice3,answer\n\"1+1=?\",1,2,3,4,1\nWhat is red?,a color,a fish,a car,None,0\n"
CMMLU = ",Question,A,B,C,D,Answer\n0,一加一等于几,1,2,3,4,B\n1,天空是什么颜色,蓝,红,绿,黄,A\n"
CEVAL = "id,question,A,B,C,D,answer\n0,二加二,3,4,5,6,B\n1,水的化学式,H2O,CO2,O2,N2,A\n"
CEVAL_DEV = "id,question,A,B,C,D,answer,explanation\n0,一加一,1,2,3,4,B,1+1=2\n"


def write_data(root):
    for task, text, dev, files in (
            ("mmlu", MMLU, MMLU, ("test/anatomy_test.csv", "dev/anatomy_dev.csv")),
            ("cmmlu", CMMLU, CMMLU, ("test/agronomy.csv", "dev/agronomy.csv")),
            ("ceval", CEVAL, CEVAL_DEV, ("val/law_val.csv", "dev/law_dev.csv"))):
        for rel, body in zip(files, (text, dev)):
            p = root / task / rel
            p.parent.mkdir(parents=True, exist_ok=True)
            p.write_text(body, encoding="utf-8")
    (root / "gsm8k").mkdir()
    (root / "gsm8k" / "test.jsonl").write_text("".join(json.dumps(
        {"question": f"Tom has {i} apples and buys 3. How many?", "answer": f"{i}+3={i + 3}\n#### {i + 3}"}) + "\n"
        for i in range(3)))
    problem = {"task_id": "T/0", "prompt": "def add(a, b):\n", "entry_point": "add",
               "canonical_solution": "    return a + b\n",
               "test": "def check(candidate):\n    assert candidate(1, 2) == 3\n"}
    with gzip.open(root / "he.jsonl.gz", "wt") as f:
        f.write(json.dumps(problem) + "\n")


def data_params(root):
    return {"gsm8k": str(root / "gsm8k"), "mmlu": str(root / "mmlu"), "cmmlu": str(root / "cmmlu"),
            "ceval": str(root / "ceval"), "humaneval": str(root / "he.jsonl.gz")}


def build(tmp_path, task, path, shots=None):
    spec = gt.load_spec(task)
    index = gt.official_index({task: spec})
    local = gt.prepare(task, spec, path, index)
    work = tmp_path / "work"
    work.mkdir(exist_ok=True)
    name, fewshot = gt.write_configs(task, spec, index, local, shots, work, tmp_path / "store")
    return yaml.safe_load((work / f"{task}.yaml").read_text(encoding="utf-8")), fewshot, local


def test_configs_change_only_the_data_source(tmp_path):
    write_data(tmp_path)
    doc, fewshot, local = build(tmp_path, "cmmlu", str(tmp_path / "cmmlu"))
    assert doc["group"] == "cmmlu" and [m["task"] for m in doc["task"]] == ["cmmlu_agronomy"]
    member = doc["task"][0]
    assert set(member) == {"task", "dataset_path", "dataset_name", "dataset_kwargs"}  # nothing else overridden
    assert member["dataset_path"] == "json" and member["dataset_name"] is None
    assert doc["aggregate_metric_list"][0]["metric"] == "acc" and fewshot == {"cmmlu_agronomy": "dev"}
    rows = [json.loads(x) for x in open(member["dataset_kwargs"]["data_files"]["test"], encoding="utf-8")]
    assert rows[0] == {"Question": "一加一等于几", "A": "1", "B": "2", "C": "3", "D": "4", "Answer": "B"}
    # gsm8k: a YAML that includes the official task; no train split -> few-shot drawn from test
    doc, fewshot, _ = build(tmp_path, "gsm8k", str(tmp_path / "gsm8k"))
    assert doc["include"].endswith("lm_eval/tasks/gsm8k/gsm8k.yaml") and doc["task"] == "gsm8k"
    assert doc["training_split"] is None and doc["fewshot_split"] == "test" and "num_fewshot" not in doc
    # mmlu: the reformatted copy becomes cais/mmlu's schema; text stays text ("None" is not NaN)
    _, _, local = build(tmp_path, "mmlu", str(tmp_path / "mmlu"), shots=5)
    assert local["mmlu_anatomy"]["rows"]["test"][1] == {
        "question": "What is red?", "subject": "anatomy", "choices": ["a color", "a fish", "a car", "None"],
        "answer": 0}
    # C-Eval: dev has an explanation column, val not: one schema for both
    _, _, local = build(tmp_path, "ceval", str(tmp_path / "ceval"))
    assert local["ceval-valid_law"]["rows"]["val"][0]["explanation"] == ""


def test_bad_local_files(tmp_path):
    write_data(tmp_path)
    (tmp_path / "mmlu" / "test" / "anatomy_test.csv").write_text(MMLU.replace(",1\n", ",B\n"))
    with pytest.raises(InputError, match=r"anatomy_test.csv:2: field 'answer': answer must be 0-3, got 'B'"):
        build(tmp_path, "mmlu", str(tmp_path / "mmlu"))
    (tmp_path / "cmmlu" / "test" / "agronomy.csv").write_text(",Question,A,B,C,D\n0,q,1,2,3,4\n")
    with pytest.raises(InputError, match=r"missing column\(s\) \['Answer'\]"):
        build(tmp_path, "cmmlu", str(tmp_path / "cmmlu"))
    (tmp_path / "ceval" / "dev" / "law_dev.csv").unlink()
    with pytest.raises(InputError, match="5-shot ceval-valid_law needs its 'dev' split"):
        build(tmp_path, "ceval", str(tmp_path / "ceval"), shots=5)
    with pytest.raises(InputError, match="no local files for lm-eval task 'mmlu'"):
        build(tmp_path, "mmlu", str(tmp_path / "cmmlu"))


def test_sample_spreads_over_subjects():
    local = {f"s{k}": {"eval_split": "test", "rows": {"test": [{}] * 10}} for k in range(5)}
    picked = sample_docs(local, 12, seed=0)
    assert sum(map(len, picked.values())) == 12 and len(picked) >= 3
    assert picked == sample_docs(local, 12, seed=0) and picked != sample_docs(local, 12, seed=1)
    assert sample_docs(local, 50, seed=0) is None and sample_docs(local, None, seed=0) is None


def test_stage_runs_all_tasks_on_tiny_model(tmp_path, tiny_llama):
    write_data(tmp_path)
    params = {"eval": {"generation": {"batch_size": 4}, "general": {
        "tasks": ["gsm8k", "mmlu", "cmmlu", "ceval", "humaneval"], "limit": None, "max_gen_tokens": 8,
        "num_fewshot": {"gsm8k": 2, "mmlu": 1}, "data": data_params(tmp_path)}}}
    pfile = tmp_path / "params.yaml"
    pfile.write_text(yaml.safe_dump(params))
    cli.main(["--name", "base", "--model", str(tiny_llama), "--params", str(pfile),
              "--out-dir", str(tmp_path / "out")], standalone_mode=False)
    metrics = json.loads((tmp_path / "out/metrics/general/base.json").read_text())
    assert {k: v["n"] for k, v in metrics.items()} == {"gsm8k": 3, "mmlu": 2, "cmmlu": 2, "ceval": 2,
                                                      "humaneval": 1}
    assert metrics["mmlu"]["harness"]["version"] == __import__("lm_eval").__version__
    assert metrics["gsm8k"]["harness"]["num_fewshot"] == 2 and metrics["mmlu"]["harness"]["num_fewshot"] == 1
    assert {"acc,none", "acc_norm,none"} <= set(metrics["cmmlu"]["harness_metrics"])
    assert {"exact_match,strict-match", "exact_match,flexible-extract"} <= set(metrics["gsm8k"]["harness_metrics"])
    rows = [json.loads(x) for x in (tmp_path / "out/data/predictions/general/base.jsonl").open()]
    assert len(rows) == 10
    for task in ("mmlu", "cmmlu", "ceval"):
        mc = [r for r in rows if r["task"] == task]
        assert all(r["pred"] in "ABCD" and r["gold"] in "ABCD" for r in mc)
        assert metrics[task]["acc"] == sum(r["correct"] for r in mc) / 2
    mmlu = [r for r in rows if r["task"] == "mmlu"]
    assert {r["gold"] for r in mmlu} == {"B", "A"}
    assert all(r["prompt"].startswith("The following are multiple choice questions (with answers) about anatomy.")
               for r in mmlu)
    assert mmlu[0]["prompt"].count("Answer:") == 2  # one dev example (1-shot) + the question
    gsm = [r for r in rows if r["task"] == "gsm8k"]
    assert sorted(r["gold"] for r in gsm) == ["3", "4", "5"]
    for r in gsm:  # 2-shot from test (no train file): never the document itself
        assert r["prompt"].count("Question:") == 3 and r["prompt"].count(r["prompt"].split("Question: ")[-1]) == 1
        assert set(r["extracted"]) == {"strict-match", "flexible-extract"}
    assert [r["pred"] for r in rows if r["task"] == "humaneval"] in (["failed"], ["passed"], ["timeout"])


def test_real_general_formats_load(shared_data):
    counts = {"mmlu": (14042, 57), "cmmlu": (11582, 67), "ceval": (1346, 52), "gsm8k": (1319, 1),
              "humaneval": (164, 1)}
    specs = {t: gt.load_spec(t) for t in counts}
    index = gt.official_index(specs)
    for task, (n, subjects) in counts.items():
        local = gt.prepare(task, specs[task], str(shared_data / "general" / task), index)
        assert len(local) == subjects, task
        assert sum(len(v["rows"][v["eval_split"]]) for v in local.values()) == n, task
