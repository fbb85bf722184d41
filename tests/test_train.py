import csv
import json

import pytest
import torch
import yaml
from click.testing import CliRunner
from safetensors.torch import load_file
from transformers import AutoModelForCausalLM, AutoTokenizer

from stages.io import InputError
from stages.train import TIMING_KEYS, build_config, cli, prepare_dataset

KEYS = {"final_loss", "first_loss", "train_loss", "runtime_s", "samples_per_s", "steps"}
PARAMS = {"stage": "sft", "finetuning_type": "full", "lr": 1.0e-3, "per_device_batch": 2, "grad_accum": 1,
          "warmup_ratio": 0.0, "scheduler": "constant", "epochs": 1, "cutoff_len": 64,
          "template": "default_from_tokenizer", "precision": "fp32", "seed": 0, "lora_rank": 4,
          "launcher": None, "max_samples": 8, "logging_steps": 1}


def write_data(d):
    d.mkdir(exist_ok=True)
    sft = [{"instruction": f"How do I keep my computer safe from viruses? {i}", "input": "",
            "output": "I cannot help with that request.", "system": ""} for i in range(8)]
    pref = [{"instruction": r["instruction"], "input": "", "chosen": "我不能帮助你做这件事。",
             "rejected": "The answer is 42."} for r in sft]
    (d / "sft.json").write_text(json.dumps(sft, ensure_ascii=False), encoding="utf-8")
    (d / "pref.json").write_text(json.dumps(pref, ensure_ascii=False), encoding="utf-8")
    info = {"mseed_sft": {"file_name": "sft.json", "columns": {"prompt": "instruction", "query": "input",
                                                                "response": "output", "system": "system"}},
            "mseed_pref": {"file_name": "pref.json", "ranking": True,
                           "columns": {"prompt": "instruction", "query": "input", "chosen": "chosen",
                                       "rejected": "rejected"}}}
    (d / "dataset_info.json").write_text(json.dumps(info), encoding="utf-8")
    return d


def run_stage(tmp_path, model, **over):
    data = write_data(tmp_path / "data")
    params = tmp_path / "params.yaml"
    params.write_text(yaml.safe_dump({"train": {**PARAMS, **over}}))
    out, metrics, plot = tmp_path / "models" / "sft", tmp_path / "train.json", tmp_path / "loss.csv"
    res = CliRunner().invoke(cli, ["--params", str(params), "--model", str(model), "--data", str(data),
                                   "--out", str(out), "--metrics", str(metrics), "--plot", str(plot)])
    return res, out, metrics, plot


def check_outputs(out, metrics, plot, base):
    m = json.loads(metrics.read_text())
    assert KEYS <= set(m) and all(isinstance(m[k], (int, float)) for k in KEYS)
    rows = list(csv.DictReader(plot.open()))
    assert len(rows) > 1 and m["steps"] == int(rows[-1]["step"]) and m["final_loss"] == float(rows[-1]["loss"])
    model = AutoModelForCausalLM.from_pretrained(out)  # a plain HF directory
    tok = AutoTokenizer.from_pretrained(out)
    assert tok.chat_template == AutoTokenizer.from_pretrained(base).chat_template
    assert tok.eos_token == "<|im_end|>" and model.generation_config.eos_token_id == tok.eos_token_id
    assert not list(out.glob("checkpoint-*")) and not (out / "adapter_config.json").exists()
    assert not [p for p in out.parent.iterdir() if p.name.startswith(".")]  # no temp dirs left
    cfg = yaml.safe_load((out / "train_config.yaml").read_text())
    assert "template" not in cfg  # the tokenizer's own chat template
    before, after = load_file(base / "model.safetensors"), load_file(out / "model.safetensors")
    assert any(not torch.equal(before[k], after[k]) for k in before)  # the weights were trained
    return m, cfg


@pytest.mark.slow
def test_sft_full_end_to_end(tiny_llama, tmp_path):
    res, out, metrics, plot = run_stage(tmp_path, tiny_llama)
    assert res.exit_code == 0, res.output
    m, cfg = check_outputs(out, metrics, plot, tiny_llama)
    assert m["steps"] == 4 and cfg["stage"] == "sft" and cfg["learning_rate"] == 1.0e-3
    first = {p.name: p.read_bytes() for p in out.iterdir()}
    assert {"trainer_log.jsonl", "trainer_state.json", "training_args.bin", "model.safetensors"} <= set(first)
    for name in ("trainer_log.jsonl", "trainer_state.json", "all_results.json"):  # timings: metrics only
        assert not [k for k in TIMING_KEYS if f'"{k}"'.encode() in first[name]], name
    res, out, metrics, plot = run_stage(tmp_path, tiny_llama)  # again, the same inputs and paths
    assert res.exit_code == 0, res.output
    # the same inputs give the same bytes, so DVC's hash of models/sft does not change
    assert {p.name: p.read_bytes() for p in out.iterdir()} == first
    assert json.loads(metrics.read_text())["runtime_s"] > 0


@pytest.mark.slow
def test_dpo_lora_merged_end_to_end(tiny_llama, tmp_path):
    res, out, metrics, plot = run_stage(tmp_path, tiny_llama, stage="dpo", finetuning_type="lora", lr=5e-2)
    assert res.exit_code == 0, res.output
    m, cfg = check_outputs(out, metrics, plot, tiny_llama)
    assert cfg["dataset"] == "mseed_pref" and cfg["finetuning_type"] == "lora" and cfg["lora_rank"] == 4


def test_params_override_default_recipe_and_named_recipe():
    cfg, env = build_config(dict(PARAMS, lr=3e-5, template="qwen"), "m", "d", "o")
    assert cfg["learning_rate"] == 3e-5 and cfg["template"] == "qwen" and cfg["dataset"] == "mseed_sft"
    assert cfg["save_strategy"] == "no" and cfg["output_dir"] == "o" and env == {}
    assert "lora_rank" not in cfg
    # a named recipe is a base too: every non-null train.* key wins, null keys take the recipe's value
    cfg, _ = build_config(dict(PARAMS, recipe="paper_llama32_1b", lr=2.5e-6), "m", "d", "o")
    assert cfg["learning_rate"] == 2.5e-6 and cfg["per_device_train_batch_size"] == 2 and cfg["bf16"] is False
    assert cfg["ddp_timeout"] == 180000000  # recipe-only keys stay
    paper = {k: None for k in PARAMS if k not in ("stage", "finetuning_type", "launcher")}
    cfg, env = build_config(dict(paper, stage="sft", finetuning_type="full", recipe="paper_llama32_1b",
                                 launcher="deepspeed", nproc=8), "m", "d", "o")
    assert cfg["learning_rate"] == 6e-7 and cfg["gradient_accumulation_steps"] == 50
    assert cfg["per_device_train_batch_size"] == 1 and cfg["num_train_epochs"] == 3.0 and cfg["bf16"] is True
    assert cfg["warmup_steps"] == 0.0005 and cfg["lr_scheduler_type"] == "cosine"
    assert "max_samples" not in cfg and cfg["deepspeed"]  # the recipe keeps every sample
    assert cfg["deepspeed"].endswith("ds_z3_config.json")
    assert env == {"FORCE_TORCHRUN": "1", "NPROC_PER_NODE": "8"}


@pytest.mark.parametrize("over, field", [({"recipe": "nope"}, "train.recipe"), ({"stage": "ppo"}, "train.stage"),
                                         ({"precision": "fp8"}, "train.precision"),
                                         ({"launcher": "slurm"}, "train.launcher"),
                                         ({"group_by_length": "yes"}, "train.group_by_length")])
def test_bad_params_are_clear_errors(over, field):
    with pytest.raises(InputError) as e:
        build_config(dict(PARAMS, **over), "m", "d", "o")
    assert e.value.field == field


def test_dataset_checks_and_kto_from_pairs(tmp_path):
    data = write_data(tmp_path / "data")
    cfg, _ = build_config(dict(PARAMS, stage="kto", max_samples=None), "m", str(data), "o")
    prepare_dataset(cfg, tmp_path / "work")
    assert cfg["dataset_dir"] == str(tmp_path / "work" / "data")
    rows = json.loads((tmp_path / "work" / "data" / "mseed_kto.json").read_text())
    assert len(rows) == 16 and [r["kto_tag"] for r in rows[:2]] == [True, False]
    assert rows[0]["output"] == "我不能帮助你做这件事。"
    info = json.loads((tmp_path / "work" / "data" / "dataset_info.json").read_text())
    assert info["mseed_kto"]["columns"]["kto_tag"] == "kto_tag"
    (data / "sft.json").write_text("[]")
    cfg, _ = build_config(PARAMS, "m", str(data), "o")
    with pytest.raises(InputError, match="no training records"):
        prepare_dataset(cfg, tmp_path / "w2")
    cfg, _ = build_config(dict(PARAMS, dataset="other"), "m", str(data), "o")
    with pytest.raises(InputError, match="'other' is not defined"):
        prepare_dataset(cfg, tmp_path / "w3")


def test_max_samples_is_a_seeded_random_subset(tmp_path):
    data = write_data(tmp_path / "data")
    picked = []
    for i in range(2):
        cfg, _ = build_config(dict(PARAMS, max_samples=3), "m", str(data), "o")
        prepare_dataset(cfg, tmp_path / f"w{i}")
        assert "max_samples" not in cfg  # applied here, not by LLaMA-Factory (which takes the first N)
        rows = json.loads((tmp_path / f"w{i}" / "data" / "mseed_sft.json").read_text())
        picked.append([int(r["instruction"].split()[-1]) for r in rows])
    assert picked[0] == picked[1] and len(picked[0]) == 3 and picked[0] != [0, 1, 2]


def test_missing_base_model_fails_before_training(tmp_path):
    res, out, metrics, plot = run_stage(tmp_path, tmp_path / "no-model")
    assert isinstance(res.exception, InputError) and "base_model stage" in str(res.exception)
    assert not out.exists() and not metrics.exists()


def test_training_template_matches_eval_chat_template(tiny_llama):
    """LLaMA-Factory's template parsed from the tokenizer encodes exactly what apply_chat_template
    gives at evaluation time, and the target ends with <|im_end|>."""
    from llamafactory.data.template import get_template_and_fix_tokenizer
    from llamafactory.hparams import DataArguments

    tok = AutoTokenizer.from_pretrained(tiny_llama)
    tpl = get_template_and_fix_tokenizer(tok, DataArguments(template=None))
    msgs = [{"role": "system", "content": "Be safe."}, {"role": "user", "content": "How do I stay safe?"},
            {"role": "assistant", "content": "I cannot help with that request."}]
    prompt, target = tpl.encode_oneturn(tok, msgs[1:], system=msgs[0]["content"])
    assert prompt == list(tok.apply_chat_template(msgs[:2], add_generation_prompt=True, return_dict=False))
    assert prompt + target == list(tok.apply_chat_template(msgs, return_dict=False))
    assert tok.eos_token_id in target[-2:]


def test_failed_training_leaves_no_output(tiny_llama, tmp_path):
    res, out, metrics, plot = run_stage(tmp_path, tiny_llama, template="no_such_template")
    assert type(res.exception).__name__ == "StageError" and "no_such_template" in str(res.exception)
    assert not out.parent.exists() or not list(out.parent.iterdir())
    assert not metrics.exists() and not plot.exists()


@pytest.mark.slow
def test_named_recipe_trains_with_the_params_lr(tiny_llama, tmp_path):
    """`-S train.recipe=paper_llama32_1b -S train.lr=x` trains with x: read back from what LLaMA-Factory got."""
    res, out, metrics, plot = run_stage(tmp_path, tiny_llama, recipe="paper_llama32_1b", lr=2.5e-4)
    assert res.exit_code == 0, res.output
    cfg = yaml.safe_load((out / "train_config.yaml").read_text())
    assert cfg["learning_rate"] == 2.5e-4 and cfg["gradient_accumulation_steps"] == 1 and cfg["bf16"] is False
    assert cfg["ddp_timeout"] == 180000000  # the recipe is the base
    state = json.loads((out / "trainer_state.json").read_text())
    lrs = [h["learning_rate"] for h in state["log_history"] if "learning_rate" in h]
    assert lrs and max(lrs) <= 2.5e-4 and max(lrs) > 6e-7  # the optimizer ran at x, not the recipe's 6e-7


@pytest.mark.slow
@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the CPU path")
def test_bf16_on_a_cpu_trains_with_use_cpu(tiny_llama, tmp_path):
    # transformers refuses bf16 without a GPU unless use_cpu is set; the stage sets it (and only then)
    assert "use_cpu" not in build_config(PARAMS, "m", "d", "o")[0]
    res, out, metrics, plot = run_stage(tmp_path, tiny_llama, precision="bf16")
    assert res.exit_code == 0, res.output
    m, cfg = check_outputs(out, metrics, plot, tiny_llama)
    assert cfg["bf16"] is True and cfg["use_cpu"] is True and m["steps"] == 4


@pytest.mark.parametrize("value, strategy", [(True, "group_by_length"), (False, "random"), (None, None)])
def test_group_by_length_sets_the_sampling_strategy(value, strategy):
    cfg, _ = build_config(dict(PARAMS, group_by_length=value), "m", "d", "o")
    assert cfg.get("train_sampling_strategy") == strategy


def test_group_by_length_trains_with_transformers_length_sampler(tiny_llama, tmp_path, monkeypatch):
    import transformers.trainer as hf_trainer

    built = []

    class Spy(hf_trainer.LengthGroupedSampler):  # the real sampler, recorded
        def __init__(self, *a, **kw):
            super().__init__(*a, **kw)
            built.append(self.lengths)

    monkeypatch.setattr(hf_trainer, "LengthGroupedSampler", Spy)
    res, out, metrics, plot = run_stage(tmp_path, tiny_llama, group_by_length=True)
    assert res.exit_code == 0, res.output
    m, cfg = check_outputs(out, metrics, plot, tiny_llama)
    assert cfg["train_sampling_strategy"] == "group_by_length" and m["steps"] == 4
    assert len(built) == 1 and len(built[0]) == 8  # one sampler over the 8 training rows
