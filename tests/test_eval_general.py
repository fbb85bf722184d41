"""General-capability evaluation through lm-evaluation-harness with local task files."""
import gzip
import json

import yaml

from stages.eval_general import cli, task_config

MMLU = "question,choice0,choice1,choice2,choice3,answer\n\"1+1=?\",1,2,3,4,1\nWhat is red?,a color,a fish,a car,None,0\n"
CMMLU = ",Question,A,B,C,D,Answer\n0,一加一等于几,1,2,3,4,B\n1,天空是什么颜色,蓝,红,绿,黄,A\n"
CEVAL = "id,question,A,B,C,D,answer\n0,二加二,3,4,5,6,B\n1,水的化学式,H2O,CO2,O2,N2,A\n"


def write_data(root):
    for task, text, splits in (("mmlu", MMLU, {"test": "test/x_test.csv", "dev": "dev/x_dev.csv"}),
                               ("cmmlu", CMMLU, {"test": "test/x.csv", "dev": "dev/x.csv"}),
                               ("ceval", CEVAL, {"test": "val/x_val.csv", "dev": "dev/x_dev.csv"})):
        for rel in splits.values():
            p = root / task / rel
            p.parent.mkdir(parents=True, exist_ok=True)
            p.write_text(text, encoding="utf-8")
    (root / "gsm8k.jsonl").write_text(
        json.dumps({"question": "Tom has 2 apples and buys 3. How many?", "answer": "2+3=5\n#### 5"}) + "\n")
    problem = {"task_id": "T/0", "prompt": "def add(a, b):\n", "entry_point": "add",
               "canonical_solution": "    return a + b\n",
               "test": "def check(candidate):\n    assert candidate(1, 2) == 3\n"}
    with gzip.open(root / "he.jsonl.gz", "wt") as f:
        f.write(json.dumps(problem) + "\n")


def test_task_configs_fill_local_files(tmp_path):
    write_data(tmp_path)
    cfg = task_config("ceval", str(tmp_path / "ceval"))
    assert cfg["dataset_kwargs"]["data_files"]["test"][0].endswith("val/x_val.csv")
    assert cfg["output_type"] == "multiple_choice"
    (tmp_path / "nodev").mkdir()
    (tmp_path / "nodev" / "test").mkdir()
    (tmp_path / "nodev" / "test" / "a.csv").write_text(MMLU)
    assert "fewshot_split" not in task_config("mmlu", str(tmp_path / "nodev"))


def test_stage_runs_all_tasks_on_tiny_model(tmp_path, tiny_llama):
    write_data(tmp_path)
    params = {"eval": {"generation": {"batch_size": 4}, "general": {
        "tasks": ["gsm8k", "mmlu", "cmmlu", "ceval", "humaneval"], "limit": None, "max_gen_tokens": 8,
        "humaneval_timeout": 5,
        "data": {"gsm8k": str(tmp_path / "gsm8k.jsonl"), "mmlu": str(tmp_path / "mmlu"),
                 "cmmlu": str(tmp_path / "cmmlu"), "ceval": str(tmp_path / "ceval"),
                 "humaneval": str(tmp_path / "he.jsonl.gz")}}}}
    pfile = tmp_path / "params.yaml"
    pfile.write_text(yaml.safe_dump(params))
    cli.main(["--name", "base", "--model", str(tiny_llama), "--params", str(pfile),
              "--out-dir", str(tmp_path / "out")], standalone_mode=False)
    metrics = json.loads((tmp_path / "out/metrics/general/base.json").read_text())
    assert {k: v["n"] for k, v in metrics.items()} == {"gsm8k": 1, "mmlu": 2, "cmmlu": 2, "ceval": 2,
                                                      "humaneval": 1}
    rows = [json.loads(x) for x in (tmp_path / "out/data/predictions/general/base.jsonl").open()]
    assert len(rows) == 8
    for task in ("mmlu", "cmmlu", "ceval"):
        mc = [r for r in rows if r["task"] == task]
        assert all(r["pred"] in "ABCD" and r["gold"] in "ABCD" for r in mc)
        assert metrics[task]["acc"] == sum(r["correct"] for r in mc) / 2
    assert {r["gold"] for r in rows if r["task"] == "mmlu"} == {"B", "A"}
    assert [r["gold"] for r in rows if r["task"] == "gsm8k"] == ["5"]


def test_real_general_formats_load(shared_data):
    import datasets

    counts = {"mmlu": 14042, "cmmlu": 11582, "ceval": 1346}
    for task, n in counts.items():
        cfg = task_config(task, str(shared_data / "general" / task))
        ds = datasets.load_dataset(cfg["dataset_path"], split="test", **cfg["dataset_kwargs"])
        assert len(ds) == n, task
    gsm = task_config("gsm8k", str(shared_data / "general" / "gsm8k" / "test.jsonl"))
    ds = datasets.load_dataset(gsm["dataset_path"], split="test", **gsm["dataset_kwargs"])
    assert len(ds) == 1319 and "####" in ds[0]["answer"]
