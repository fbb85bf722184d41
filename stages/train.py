"""train stage: fine-tune models/base with LLaMA-Factory (SFT / DPO / KTO, full or LoRA) into models/sft.

One precedence rule: the recipe (stages/recipes/<stage>_<finetuning_type>.yaml, or the named
`train.recipe`, e.g. paper_llama32_1b; LLaMA-Factory keys) is the base, and every params.yaml `train`
key that is not null wins over it (null: the recipe's value). KEYS below is the one table of renamed
keys. The exact config LLaMA-Factory receives is written to <out>/train_config.yaml. It is run by
LLaMA-Factory's run_exp in-process, or with `launcher: torchrun|deepspeed` by `llamafactory-cli train
<config>` in a subprocess with FORCE_TORCHRUN=1 (+ NPROC_PER_NODE; NNODES etc. pass through the env).
LoRA adapters are merged, so models/sft is always a plain HF directory with the base tokenizer.
models/sft holds only what the inputs determine: LLaMA-Factory runs in a fixed work dir (<out>'s parent,
.<name>.work) and the timing fields of its logs (TIMING_KEYS) are dropped there (metrics/train.json keeps
them), so an unchanged training gives an unchanged hash and DVC skips the evaluations downstream.
"""
from __future__ import annotations

import csv
import json
import os
import random
import shutil
import subprocess
import sys
import time
from pathlib import Path

import click
import yaml

from stages.io import InputError, StageError, atomic_dir, atomic_open, clear_outputs, read_json, read_jsonl, write_metrics
from stages.params import load_yaml

RECIPES = Path(__file__).resolve().parent / "recipes"
DEEPSPEED_DEFAULT = RECIPES / "ds_z3_config.json"
DATASETS = {"sft": "mseed_sft", "dpo": "mseed_pref", "kto": "mseed_kto"}
# params.yaml `train` key -> LLaMA-Factory key (the only renames; `precision` sets bf16/fp16, `template:
# default_from_tokenizer` drops LLaMA-Factory's template so it parses the tokenizer's own, `lora_rank` also
# sets lora_alpha = 2 * rank, `group_by_length: true` sets train_sampling_strategy: group_by_length)
KEYS = {
    "stage": "stage", "finetuning_type": "finetuning_type", "lr": "learning_rate",
    "per_device_batch": "per_device_train_batch_size", "grad_accum": "gradient_accumulation_steps",
    "warmup_ratio": "warmup_steps",  # a float < 1 is a ratio of the total steps in transformers 5
    "scheduler": "lr_scheduler_type", "epochs": "num_train_epochs", "cutoff_len": "cutoff_len",
    "seed": "seed", "max_samples": "max_samples", "logging_steps": "logging_steps",
    "dataset": "dataset", "pref_beta": "pref_beta",
}
TOKENIZER_FILES = ("tokenizer.json", "tokenizer_config.json", "special_tokens_map.json", "chat_template.jinja",
                   "tokenizer.model", "vocab.json", "merges.txt", "generation_config.json")
LOG_FILES = ("trainer_log.jsonl", "trainer_state.json", "train_results.json", "all_results.json")
TIMING_KEYS = ("elapsed_time", "remaining_time", "train_runtime", "train_samples_per_second",
               "train_steps_per_second")


def load_recipe(name: str) -> dict:
    path = RECIPES / f"{name}.yaml"
    if not path.is_file():
        known = sorted(p.stem for p in RECIPES.glob("*.yaml"))
        raise InputError("params.yaml", f"no recipe {path} (known: {', '.join(known)})", field="train.recipe")
    return load_yaml(path) or {}


def build_config(p: dict, model: str, data_dir: str, output_dir: str) -> tuple[dict, dict]:
    """Non-null params over the recipe. Returns (LLaMA-Factory config, extra environment for the launcher)."""
    stage, ft = p.get("stage") or "sft", p.get("finetuning_type") or "full"
    if stage not in DATASETS:
        raise InputError("params.yaml", f"stage must be one of {sorted(DATASETS)}, got {stage!r}", field="train.stage")
    if ft not in ("full", "lora"):
        raise InputError("params.yaml", f"finetuning_type must be full or lora, got {ft!r}",
                         field="train.finetuning_type")
    named = p.get("recipe")
    recipe = load_recipe(named or f"{stage}_{ft}")
    from_params = {lf: p[k] for k, lf in KEYS.items() if p.get(k) is not None}
    from_params.setdefault("dataset", DATASETS[stage])
    precision = p.get("precision")
    if precision not in (None, "fp32", "bf16", "fp16"):
        raise InputError("params.yaml", f"precision must be fp32, bf16 or fp16, got {precision!r}",
                         field="train.precision")
    if precision is not None:
        from_params.update(bf16=precision == "bf16", fp16=precision == "fp16")
    grouped = p.get("group_by_length")
    if grouped not in (None, True, False):
        raise InputError("params.yaml", f"group_by_length must be true or false, got {grouped!r}",
                         field="train.group_by_length")
    if grouped is not None:  # batches of similar length: less padding, the same steps (transformers' sampler)
        from_params["train_sampling_strategy"] = "group_by_length" if grouped else "random"
    if ft == "lora" and p.get("lora_rank"):
        from_params.update(lora_rank=int(p["lora_rank"]), lora_alpha=2 * int(p["lora_rank"]))
    template = p.get("template")
    if template is not None:
        from_params["template"] = None if template in ("", "default_from_tokenizer") else template
    cfg = {**recipe, **from_params}  # the recipe is the base; params win
    cfg = {k: v for k, v in cfg.items() if v is not None}  # None = LLaMA-Factory default (template: tokenizer's)
    cfg.update(model_name_or_path=str(model), dataset_dir=str(data_dir), output_dir=str(output_dir),
               do_train=True, save_strategy="no", overwrite_output_dir=True, report_to="none")
    if cfg.get("bf16") and not _cuda():  # transformers trains bf16 on a CPU only when told to use it
        cfg["use_cpu"] = True
    env = {}
    launcher = p.get("launcher")
    if launcher in ("torchrun", "deepspeed"):
        env["FORCE_TORCHRUN"] = "1"
        if p.get("nproc"):
            env["NPROC_PER_NODE"] = str(p["nproc"])
        if launcher == "deepspeed":
            cfg["deepspeed"] = str(p.get("deepspeed") or DEEPSPEED_DEFAULT)
    elif launcher is not None:
        raise InputError("params.yaml", f"launcher must be null, torchrun or deepspeed, got {launcher!r}",
                         field="train.launcher")
    return cfg, env


def _cuda() -> bool:
    import torch

    return torch.cuda.is_available()


def _records(path: Path) -> list:
    rows = list(read_jsonl(path)) if path.suffix == ".jsonl" else read_json(path)
    if not isinstance(rows, list):
        raise InputError(path, "expected a JSON list of records")
    if not rows:
        raise InputError(path, "no training records (did the select stage keep anything?)")
    return rows


def prepare_dataset(cfg: dict, work: Path) -> None:
    """Copy the datasets named in cfg into work/data: checked non-empty, capped to a seeded random
    `max_samples` subset (LLaMA-Factory would take the first N), KTO rows derived from pref pairs."""
    data_dir = Path(cfg["dataset_dir"])
    info_path = data_dir / "dataset_info.json"
    info = read_json(info_path)
    cap, rng = cfg.pop("max_samples", None), random.Random(cfg.get("seed", 0))
    out_dir, out_info = work / "data", {}
    out_dir.mkdir(parents=True)
    for name in [n.strip() for n in str(cfg["dataset"]).split(",")]:
        if name == DATASETS["kto"] and name not in info:  # KTO from the preference pairs
            if DATASETS["dpo"] not in info:
                raise InputError(info_path, f"KTO needs '{DATASETS['dpo']}' to derive '{name}'", field=DATASETS["dpo"])
            rows = []
            for r in _records(data_dir / info[DATASETS["dpo"]]["file_name"]):
                base = {k: r.get(k, "") for k in ("instruction", "input", "system")}
                rows += [{**base, "output": r["chosen"], "kto_tag": True},
                         {**base, "output": r["rejected"], "kto_tag": False}]
            entry = {"columns": {"prompt": "instruction", "query": "input", "response": "output",
                                 "system": "system", "kto_tag": "kto_tag"}}
        elif name not in info:
            raise InputError(info_path, f"dataset '{name}' is not defined (have: {', '.join(sorted(info))})",
                             field=name)
        elif "file_name" not in info[name]:  # hub/remote dataset: LLaMA-Factory loads it itself
            out_info[name] = info[name]
            continue
        else:
            entry, rows = dict(info[name]), _records(data_dir / info[name]["file_name"])
        if cap is not None and len(rows) > int(cap):
            keep = sorted(rng.sample(range(len(rows)), int(cap)))
            rows = [rows[i] for i in keep]
        entry["file_name"] = f"{name}.json"
        (out_dir / entry["file_name"]).write_text(json.dumps(rows, ensure_ascii=False), encoding="utf-8")
        out_info[name] = entry
    (out_dir / "dataset_info.json").write_text(json.dumps(out_info, ensure_ascii=False, indent=1), encoding="utf-8")
    cfg["dataset_dir"] = str(out_dir)


def run_llamafactory(cfg: dict, config_path: Path, env_extra: dict) -> None:
    """Single process: LLaMA-Factory's run_exp in-process. torchrun/deepspeed: `llamafactory-cli train`."""
    with open(config_path, "w", encoding="utf-8") as f:
        yaml.safe_dump(cfg, f, sort_keys=False, allow_unicode=True)
    if not env_extra:
        from llamafactory.train.tuner import run_exp

        try:
            run_exp(dict(cfg))
        except Exception as e:
            raise StageError(f"LLaMA-Factory training failed: {type(e).__name__}: {e} (config {config_path})") from e
        return
    cmd = [sys.executable, "-m", "llamafactory.cli", "train", str(config_path)]
    print(f"train: {env_extra} {' '.join(cmd)}", file=sys.stderr, flush=True)
    proc = subprocess.run(cmd, env={**os.environ, **env_extra})
    if proc.returncode != 0:
        raise StageError(f"LLaMA-Factory training failed (exit {proc.returncode}); config {config_path}, "
                         "see its log above")


def merge_lora(base: str, adapter: Path, out: Path) -> None:
    import torch
    from peft import PeftModel
    from transformers import AutoModelForCausalLM

    model = AutoModelForCausalLM.from_pretrained(base, dtype=torch.float32)
    model = PeftModel.from_pretrained(model, str(adapter)).merge_and_unload()
    model.save_pretrained(out)  # safetensors


def read_logs(run: Path) -> tuple[dict, list[tuple[int, float]]]:
    """Per-step losses from trainer_log.jsonl and summary numbers from train_results/trainer_state."""
    losses = []
    log = run / "trainer_log.jsonl"
    if log.is_file():
        for line in log.read_text(encoding="utf-8").splitlines():
            row = json.loads(line) if line.strip() else {}
            if row.get("loss") is not None:
                losses.append((int(row["current_steps"]), float(row["loss"])))
    state = json.loads((run / "trainer_state.json").read_text()) if (run / "trainer_state.json").is_file() else {}
    if not losses:  # fall back to the trainer's own history
        losses = [(int(h["step"]), float(h["loss"])) for h in state.get("log_history", []) if "loss" in h]
    res = json.loads((run / "train_results.json").read_text()) if (run / "train_results.json").is_file() else {}
    metrics = {
        "first_loss": losses[0][1] if losses else None,
        "final_loss": losses[-1][1] if losses else None,
        "train_loss": res.get("train_loss"),
        "runtime_s": res.get("train_runtime"),
        "samples_per_s": res.get("train_samples_per_second"),
        "steps": state.get("global_step", losses[-1][0] if losses else 0),
    }
    return metrics, losses


def drop_timing(run: Path) -> None:
    """Remove TIMING_KEYS from LLaMA-Factory's log files in `run` (top level and per log entry)."""
    def clean(row: dict) -> dict:
        return {k: v for k, v in row.items() if k not in TIMING_KEYS}

    log = run / "trainer_log.jsonl"
    if log.is_file():
        rows = [json.loads(line) for line in log.read_text(encoding="utf-8").splitlines() if line.strip()]
        log.write_text("".join(json.dumps(clean(r), ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    for name in LOG_FILES[1:]:
        path = run / name
        if path.is_file():
            data = clean(json.loads(path.read_text(encoding="utf-8")))
            if isinstance(data.get("log_history"), list):
                data["log_history"] = [clean(h) for h in data["log_history"]]
            path.write_text(json.dumps(data, indent=2, sort_keys=True) + "\n", encoding="utf-8")


INPUTS = {"model": "models/base", "data": "data/select"}
OUTPUTS = {"model": "models/sft", "metrics": "metrics/train.json", "plot": "metrics/plots/train_loss.csv"}


def run(params: dict, inputs: dict = INPUTS, outputs: dict = OUTPUTS) -> dict:
    """params {"train": ...}: one training; writes the model (atomically), the metrics and the loss curve."""
    p, model, data_dir = params["train"], str(inputs["model"]), str(inputs["data"])
    out, metrics_path, plot_path = str(outputs["model"]), outputs["metrics"], outputs["plot"]
    clear_outputs(outputs)
    if not (Path(model) / "config.json").is_file():
        raise InputError(model, "no HF model here (run the base_model stage first)")
    out_path = Path(out)
    out_path.parent.mkdir(parents=True, exist_ok=True)
    work = out_path.parent / f".{out_path.name}.work"  # fixed: its path is in train_config.yaml
    shutil.rmtree(work, ignore_errors=True)  # left by an interrupted run
    work.mkdir()
    try:
        run_dir = work / "run"
        cfg, env = build_config(p, model, data_dir, str(run_dir))
        prepare_dataset(cfg, work)
        start = time.time()
        run_llamafactory(cfg, work / "train_config.yaml", env)
        metrics, losses = read_logs(run_dir)
        if not losses:
            raise StageError(f"training logged no loss ({run_dir}/trainer_log.jsonl)")
        drop_timing(run_dir)
        with atomic_dir(out) as tmp:
            if cfg["finetuning_type"] == "lora":
                merge_lora(model, run_dir, tmp)
                for name in LOG_FILES:
                    if (run_dir / name).is_file():
                        shutil.copy2(run_dir / name, tmp / name)
            else:
                for item in run_dir.iterdir():
                    if not item.name.startswith("checkpoint-"):
                        os.replace(item, tmp / item.name)
            for name in TOKENIZER_FILES:  # the base tokenizer + chat template, exactly as evaluated
                if (Path(model) / name).is_file():
                    shutil.copy2(Path(model) / name, tmp / name)
            shutil.copy2(work / "train_config.yaml", tmp / "train_config.yaml")  # exactly what LLaMA-Factory got
        metrics.update(wall_s=round(time.time() - start, 2), stage=cfg["stage"],
                       finetuning_type=cfg["finetuning_type"])
        write_metrics(metrics_path, metrics)
        with atomic_open(plot_path) as f:
            w = csv.writer(f)
            w.writerow(["step", "loss"])
            w.writerows(losses)
        return metrics
    finally:
        shutil.rmtree(work, ignore_errors=True)


@click.command()
@click.option("--params", "params_path", default="params.yaml", show_default=True, help="Parameter file.")
@click.option("--model", default=INPUTS["model"], show_default=True, help="Base model directory.")
@click.option("--data", "data_dir", default=INPUTS["data"], show_default=True,
              help="LLaMA-Factory dataset dir (dataset_info.json, sft.json, pref.json).")
@click.option("--out", default=OUTPUTS["model"], show_default=True, help="Output model directory.")
@click.option("--metrics", "metrics_path", default=OUTPUTS["metrics"], show_default=True)
@click.option("--plot", "plot_path", default=OUTPUTS["plot"], show_default=True)
def cli(params_path, model, data_dir, out, metrics_path, plot_path):
    """Fine-tune the base model with LLaMA-Factory (params `train`, recipes in stages/recipes/)."""
    from stages.params import stage_params

    m = run(stage_params("train", path=params_path), {"model": model, "data": data_dir},
            {"model": out, "metrics": metrics_path, "plot": plot_path})
    click.echo(f"train: {m['steps']} steps, loss {m['first_loss']:.4f} -> {m['final_loss']:.4f}, "
               f"{m['runtime_s']:.1f}s; wrote {out}", err=True)
