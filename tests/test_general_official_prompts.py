"""Acceptance (issue 11): the prompt eval_general sends equals the one lm-eval builds from its official task.

The stage runs on the real data (../shared/data/general, seeded sample of 50 documents per task) with
the tiny model; each prediction row carries the context lm-eval sent. The reference is lm-eval's own
task object for the official name (e.g. `cmmlu_agronomy`, `gsm8k`) loaded from the installed YAML,
whose dataset comes from this test's own reading of the files (pandas, every value as text) instead of
the hub; its requests are built for the same documents with lm-eval's default few-shot seed.
"""
import json

import pytest
import yaml

from stages import general_tasks as gt
from stages.eval_general import cli

TASKS = ("mmlu", "cmmlu", "ceval", "gsm8k")
N = 50


def reference_docs(root, task, name):
    """{split: rows} of one official (sub)task, read independently of stages/general_tasks.py."""
    import pandas as pd

    def csv(path):
        df = pd.read_csv(path, dtype=str, keep_default_na=False)
        return [{k: v for k, v in r.items() if not k.startswith("Unnamed")} for r in df.to_dict("records")]

    if task == "mmlu":
        return {s: [{"question": r["question"], "subject": name, "choices": [r[f"choice{i}"] for i in range(4)],
                     "answer": int(r["answer"])} for r in csv(root / s / f"{name}_{s}.csv")] for s in ("test", "dev")}
    if task == "cmmlu":
        return {s: csv(root / s / f"{name}.csv") for s in ("test", "dev")}
    if task == "ceval":
        out = {s: csv(root / s / f"{name}_{s}.csv") for s in ("val", "dev")}
        return {s: [{"explanation": "", **r} for r in rows] for s, rows in out.items()}
    return {s: [json.loads(x) for x in open(root / f"{s}.jsonl", encoding="utf-8")] for s in ("train", "test")}


def official_prompts(monkeypatch, roots, wanted, shots):
    """{(official task, doc_id): context} built by lm-eval from its official task configs."""
    import datasets
    from lm_eval.tasks import TaskManager

    def load_dataset(path=None, name=None, **kw):
        task = {"cais/mmlu": "mmlu", "haonan-li/cmmlu": "cmmlu", "ceval/ceval-exam": "ceval",
                "openai/gsm8k": "gsm8k"}[path]
        docs = reference_docs(roots[task], task, name)
        return datasets.DatasetDict({s: datasets.Dataset.from_list(rows) for s, rows in docs.items()})

    specs = {t: gt.load_spec(t) for t in TASKS}
    tm = TaskManager(include_defaults=False, include_path=[str(gt.harness_dir() / s["harness_dir"])
                                                           for s in specs.values()])
    with monkeypatch.context() as m:
        m.setattr(datasets, "load_dataset", load_dataset)
        tasks = tm.load(sorted(wanted))["tasks"]
    out = {}
    for name, task in tasks.items():
        task.set_config(key="num_fewshot", value=shots)
        task.set_fewshot_seed(seed=1234)
        idx = sorted(wanted[name])
        task.build_all_requests(samples=idx)
        for inst in task.instances:  # with samples, lm-eval numbers the selected docs 0..k-1
            out[(name, idx[inst.doc_id])] = inst.args[0]
    return out


@pytest.mark.parametrize("shots", [0, 5])
def test_prompts_equal_official_lm_eval(shared_data, tiny_llama, tmp_path, monkeypatch, shots):
    general = shared_data / "general"
    gsm = tmp_path / "gsm8k"  # the official few-shot split is train: the first 1,000 rows stand in for it
    gsm.mkdir()
    lines = (general / "gsm8k" / "test.jsonl").read_text(encoding="utf-8").splitlines(keepends=True)
    (gsm / "train.jsonl").write_text("".join(lines[:1000]), encoding="utf-8")
    (gsm / "test.jsonl").write_text("".join(lines[1000:]), encoding="utf-8")
    roots = {"mmlu": general / "mmlu", "cmmlu": general / "cmmlu", "ceval": general / "ceval", "gsm8k": gsm}
    params = {"eval": {"generation": {"batch_size": 16}, "general": {
        "tasks": list(TASKS), "limit": N, "seed": 3, "num_fewshot": shots, "max_gen_tokens": 2,
        "data": {t: str(p) for t, p in roots.items()}}}}
    pfile = tmp_path / "params.yaml"
    pfile.write_text(yaml.safe_dump(params))
    cli.main(["--name", "base", "--model", str(tiny_llama), "--params", str(pfile),
              "--out-dir", str(tmp_path / "out")], standalone_mode=False)
    rows = [json.loads(x) for x in (tmp_path / "out/data/predictions/general/base.jsonl").open(encoding="utf-8")]
    ours, wanted = {}, {}
    for r in rows:
        doc_id = int(r["id"].rsplit("/", 1)[1])
        ours[(r["subtask"], doc_id)] = (r["task"], r["prompt"])
        wanted.setdefault(r["subtask"], []).append(doc_id)
    ref = official_prompts(monkeypatch, roots, wanted, shots)
    equal = {t: 0 for t in TASKS}
    for key, (task, prompt) in ours.items():
        assert prompt == ref[key], key
        equal[task] += 1
    print(f"{shots}-shot prompts equal to lm-eval's official ones: {equal}")
    assert all(n >= N for n in equal.values()), equal
    if shots:  # per-subject intro line and the subject's own dev examples
        mmlu = [p for t, p in ours.values() if t == "mmlu"]
        assert all(p.startswith("The following are multiple choice questions (with answers) about ") for p in mmlu)
        assert all(p.count("\nAnswer:") == shots + 1 for p in mmlu)
