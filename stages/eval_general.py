"""General capability (paper 5.1.2): gsm8k, mmlu, cmmlu, ceval and HumanEval with lm-evaluation-harness's
own task definitions on local files (stages/general_tasks.py; task files stages/eval_tasks/general/).

The model is loaded by the hf backend of the LLM layer (the role's device: eval.general.device, else
eval.generation.device, else cuda when available) and handed to lm-eval's `HFLM`; lm-eval's request
cache sits beside the LLM cache, keyed by the weights' fingerprint. HumanEval completions are
executed by stages/sandbox.py. Reads params eval.general and eval.generation.
"""
from __future__ import annotations

import hashlib
import json
import random
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import click

from stages import evaluate as ev
from stages import general_tasks as gt
from stages.io import InputError, clear_outputs, write_jsonl, write_metrics
from stages.params import stage_params


def sample_docs(local: dict, limit: int | None, seed: int) -> dict[str, list[int]] | None:
    """A seeded sample of `limit` documents over all subtasks ({subtask: doc indices}); None = all."""
    docs = [(sub, i) for sub in sorted(local) for i in range(len(local[sub]["rows"][local[sub]["eval_split"]]))]
    if not limit or len(docs) <= limit:
        return None
    out: dict[str, list[int]] = {}
    for sub, i in sorted(random.Random(seed).sample(docs, int(limit))):
        out.setdefault(sub, []).append(i)
    return out


def shots_for(cfg: dict, task: str) -> int | None:
    """eval.general.num_fewshot: null (lm-eval's default per task), an int, or {task: int}."""
    n = cfg.get("num_fewshot")
    if isinstance(n, dict):
        n = n.get(task)
    if task == "humaneval" or n is None:
        return None
    return int(n)


def harness_lm(model_path: str, cfg: dict, gen: dict):
    """lm-eval's HFLM around the model as the LLM layer's hf backend loads it (dtype, device)."""
    from lm_eval.models.huggingface import HFLM

    spec = {"dtype": cfg.get("dtype") or gen.get("dtype", "float32"), "batch_size": gen.get("batch_size", 8)}
    if cfg.get("device") or gen.get("device"):
        spec["device"] = cfg.get("device") or gen.get("device")
    llm = ev.model_llm(model_path, spec, name="eval_general")
    model, tok = llm.backend.load()
    lm = HFLM(pretrained=model, tokenizer=tok, batch_size=int(spec["batch_size"]))
    return lm, f"{llm.model_id}:{spec['dtype']}"


def read_humaneval(path: str) -> dict[str, dict]:
    """HumanEval problems {task_id: problem} of a (gzipped) JSONL file, fields checked."""
    return {r["task_id"]: r for r in gt.read_rows(Path(path), gt.load_spec("humaneval"), None)}


def run_humaneval(samples: list[dict], timeout: float, memory_mb: int) -> list[dict]:
    from stages.sandbox import humaneval_program, run_program

    def one(s):
        completion = s["filtered_resps"][0] if s["filtered_resps"] else ""
        res = run_program(humaneval_program(s["doc"], completion), timeout, memory_mb)
        return {"id": f"humaneval/{s['doc']['task_id']}", "task": "humaneval", "prompt": s["arguments"][0][0],
                "raw": completion, "pred": res["status"], "gold": "passed", "correct": res["status"] == "passed",
                "stderr_tail": res["stderr"]}

    with ThreadPoolExecutor(max_workers=2) as pool:
        return list(pool.map(one, samples))


def prediction_rows(task: str, sub: str, samples: list[dict], headline: str) -> list[dict]:
    """One row per document: the prompt sent, the model's answer, gold, correct (headline metric)."""
    metric, _, filt = headline.partition(",")
    by_doc: dict[int, dict] = {}
    for s in samples:
        row = by_doc.setdefault(s["doc_id"], {"id": f"{task}/{sub}/{s['doc_id']}", "task": task, "subtask": sub,
                                              "prompt": s["arguments"][0][0]})
        if isinstance(s["arguments"][0][1], str):  # multiple choice: (context, " A") per option
            choices = [a[1].strip() for a in s["arguments"]]
            scores = [float(r[0]) for r in s["filtered_resps"]]
            row.update(raw=json.dumps(scores), pred=choices[max(range(len(scores)), key=scores.__getitem__)],
                       gold=choices[int(s["target"])], correct=bool(s.get("acc")))
            continue
        row.setdefault("extracted", {})[s["filter"]] = s["filtered_resps"][0]
        row["raw"] = s["resps"][0][0]
        if s["filter"] == filt or "gold" not in row:
            row.update(pred=str(s["filtered_resps"][0]), gold=str(s["target"]).split("####")[-1].strip(),
                       correct=bool(s.get(metric)))
    return list(by_doc.values())


def task_metrics(res: dict, headline: str) -> dict:
    metric, _, filt = headline.partition(",")
    num = {k: (None if v == "N/A" else v) for k, v in res.items() if "," in k}
    return {"acc": num.get(headline), "stderr": num.get(f"{metric}_stderr,{filt}"), "harness_metrics": num}


def outputs_for(name: str, out_dir: str | Path = ".") -> dict:
    out = Path(out_dir)
    return {"predictions": out / "data/predictions/general" / f"{name}.jsonl",
            "metrics": out / "metrics/general" / f"{name}.json"}


def run(params: dict, inputs: dict, outputs: dict) -> dict:
    """params {"eval": {"general", "generation"}} (the task files: eval.general.data); inputs {"name": the model's
    name, "model": its directory} -> the metrics (also in outputs["metrics"])."""
    import lm_eval
    from lm_eval.api.metrics import mean_stderr

    from stages.llm.cache import cache_path

    cfg, gen = params["eval"]["general"], params["eval"]["generation"]
    name, model_path, params_file = inputs["name"], inputs["model"], getattr(params, "file", "params.yaml")
    seed = int(cfg.get("seed", 0))
    specs = {t: gt.load_spec(t) for t in cfg["tasks"]}
    index = gt.official_index(specs)
    store = cache_path().parent / "eval_general"
    clear_outputs(outputs)
    with tempfile.TemporaryDirectory(prefix="mseed-general-") as work:
        names, samples, fewshot, local_of = [], {}, {}, {}
        for task, spec in specs.items():
            if task not in cfg.get("data", {}):
                raise InputError(params_file, f"no data path for task {task}", field=f"eval.general.data.{task}")
            local = gt.prepare(task, spec, cfg["data"][task], index)
            picked = sample_docs(local, cfg.get("limit"), seed)
            local = {s: v for s, v in local.items() if picked is None or s in picked}
            samples.update(picked or {s: list(range(len(v["rows"][v["eval_split"]]))) for s, v in local.items()})
            harness_name, fewshot[task] = gt.write_configs(task, spec, index, local, shots_for(cfg, task),
                                                           Path(work), store)
            names.append(harness_name)
            local_of[task] = local
        lm, model_key = harness_lm(model_path, cfg, gen)
        cache = cache_path().parent / "lm_eval" / hashlib.sha256(model_key.encode()).hexdigest()[:16]
        cache.parent.mkdir(parents=True, exist_ok=True)
        max_gen = cfg.get("max_gen_tokens")
        results = lm_eval.simple_evaluate(
            model=lm, tasks=names, task_manager=gt.task_manager(specs, Path(work)), samples=samples,
            bootstrap_iters=int(cfg.get("bootstrap_iters", 1000)), log_samples=True, use_cache=str(cache),
            gen_kwargs={"max_gen_toks": int(max_gen)} if max_gen else None,
            random_seed=seed, numpy_random_seed=seed, torch_random_seed=seed,
            fewshot_random_seed=int(cfg.get("fewshot_seed", 1234)))

    metrics, rows = {}, []
    for (task, spec), harness_name in zip(specs.items(), names):
        task_rows = []
        for sub in local_of[task]:
            subs = results["samples"].get(sub, [])
            if task == "humaneval":
                task_rows += run_humaneval(subs, float(cfg.get("humaneval_timeout", 3)),
                                           int(cfg.get("humaneval_memory_mb", 1024)))
            else:
                task_rows += prediction_rows(task, sub, subs, spec["headline"])
        if task == "humaneval":
            vals = [float(r["correct"]) for r in task_rows]
            m = {"acc": sum(vals) / len(vals) if vals else None,
                 "stderr": mean_stderr(vals) if len(vals) > 1 else None, "harness_metrics": {}}
        else:
            m = task_metrics(results["results"][harness_name], spec["headline"])
            if m["stderr"] is None and len(task_rows) > 1:  # lm-eval: N/A when a subtask has one document
                m["stderr"] = mean_stderr([float(r["correct"]) for r in task_rows])
        m.update(n=len(task_rows), headline=spec["headline"], harness={
            "name": "lm-evaluation-harness", "version": lm_eval.__version__, "task": harness_name,
            "task_version": results.get("versions", {}).get(harness_name),
            "num_fewshot": results.get("n-shot", {}).get(next(iter(local_of[task]))),
            "fewshot_split": sorted({str(v) for v in fewshot[task].values() if v}),
            "max_gen_toks": int(max_gen) if max_gen else "task default"})
        metrics[task] = m
        rows += [{"model": name, **r} for r in task_rows]
    write_jsonl(outputs["predictions"], rows)
    return write_metrics(outputs["metrics"], metrics)


@click.command(help="General capability of one model (gsm8k, mmlu, cmmlu, ceval, HumanEval) with "
                    "lm-evaluation-harness's own task definitions on local files; HumanEval executed in a "
                    "sandbox. Reads params eval.general and eval.generation.")
@ev.model_options
@click.option("--params", "params_file", default="params.yaml", show_default=True)
@click.option("--out-dir", default=".", show_default=True, help="Root for data/ and metrics/ outputs.")
def cli(name, model_path, params_file, out_dir):
    metrics = run(stage_params("eval.general", "eval.generation", path=params_file), {"name": name, "model": model_path},
                  outputs_for(name, out_dir))
    click.echo(json.dumps({t: {k: m[k] for k in ("acc", "stderr", "n")} for t, m in metrics.items()}, indent=1),
               err=True)
