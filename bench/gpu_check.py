"""GPU check of the hf paths: generation, loglik and option scoring on a model of Llama-3.2-1B's shape.

Run: python bench/gpu_check.py [--dtype bfloat16] [--tiny] [--device cuda]
Needs only torch, transformers and this checkout's stages/ (no network, no other packages): the model
has random weights (same shapes as meta-llama/Llama-3.2-1B: 16 layers, hidden 2048, 32/8 heads,
vocab 128256, tied embeddings) and a small BPE tokenizer built here. It asserts that every parameter,
buffer, module output and KV-cache tensor is on the GPU, measures the hf backend's generation new
tokens/s at batch 1/16/64, loglik sequences/s and option-scorer questions/s, and prints one table.
Without CUDA it exits 77 ("skipped") unless `--tiny --device cpu` (a tiny shape, to test this script).
Budget: well under 5 minutes on one recent GPU (prints elapsed time).
"""
from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

LLAMA_1B = dict(vocab_size=128256, hidden_size=2048, intermediate_size=8192, num_hidden_layers=16,
                num_attention_heads=32, num_key_value_heads=8, head_dim=64, max_position_embeddings=4096,
                rope_theta=500000.0, tie_word_embeddings=True, rms_norm_eps=1e-5)
TINY = dict(LLAMA_1B, vocab_size=512, hidden_size=64, intermediate_size=128, num_hidden_layers=2,
            num_attention_heads=4, num_key_value_heads=2, head_dim=16)
CHATML = ("{% for m in messages %}{{ '<|im_start|>' + m['role'] + '\n' + m['content'] + '<|im_end|>\n' }}"
          "{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}")
WORDS = ("how do I keep my computer safe from viruses please explain the history of the war answer "
         "the question with one letter which option is correct safe unsafe 如何 保护 个人 隐私 安全").split()


def build(out: Path, shape: dict, dtype: str = "float32") -> Path:
    """A random-weight Llama of `shape` plus a BPE tokenizer (ids beyond it decode to nothing)."""
    import torch
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import LlamaConfig, LlamaForCausalLM, PreTrainedTokenizerFast

    specials = ["<|endoftext|>", "<|im_start|>", "<|im_end|>"]
    tok = Tokenizer(models.BPE(unk_token=None))
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    tok.train_from_iterator([" ".join(WORDS)] * 50, trainers.BpeTrainer(
        vocab_size=min(400, shape["vocab_size"]), special_tokens=specials,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet()))
    fast = PreTrainedTokenizerFast(tokenizer_object=tok, bos_token="<|im_start|>", eos_token="<|im_end|>",
                                   pad_token="<|im_end|>", unk_token="<|endoftext|>")
    fast.chat_template = CHATML
    torch.manual_seed(0)
    cfg = LlamaConfig(**shape, bos_token_id=fast.bos_token_id, eos_token_id=fast.eos_token_id,
                      pad_token_id=fast.pad_token_id)
    torch.set_default_dtype(getattr(torch, dtype))  # build (and save) at the checked dtype: half the bytes
    try:
        model = LlamaForCausalLM(cfg)
    finally:
        torch.set_default_dtype(torch.float32)
    model.generation_config.eos_token_id = fast.eos_token_id
    model.save_pretrained(out)
    fast.save_pretrained(out)
    return out


def prompt(i: int, n_words: int) -> str:
    return f"({i}) " + " ".join(WORDS[(i * 7 + k) % len(WORDS)] for k in range(n_words))


def check_device(model, device: str) -> None:
    """Every parameter and buffer on `device`, and (one hooked forward) every module output too."""
    import torch

    bad = [n for n, t in list(model.named_parameters()) + list(model.named_buffers()) if t.device.type != device]
    assert not bad, f"not on {device}: {bad[:5]}"
    seen = []

    def hook(mod, args, out):
        for t in (out if isinstance(out, (tuple, list)) else [out]):
            if isinstance(t, torch.Tensor) and t.device.type != device:
                seen.append(type(mod).__name__)
    hooks = [m.register_forward_hook(hook) for m in model.modules()]
    try:
        with torch.inference_mode():
            ids = torch.tensor([[1, 5, 6, 7]], device=device)
            model(input_ids=ids)
    finally:
        for h in hooks:
            h.remove()
    assert not seen, f"module outputs not on {device}: {seen[:5]}"


def main() -> int:
    import torch

    ap = argparse.ArgumentParser()
    ap.add_argument("--dtype", default="bfloat16")
    ap.add_argument("--device", default="cuda")
    ap.add_argument("--tiny", action="store_true", help="tiny shape (tests this script on a CPU)")
    ap.add_argument("--max-tokens", type=int, default=64)
    ap.add_argument("--profile", action="store_true",
                    help="also print the top ops of one batch-1 generation by self CPU time (with device time on CUDA)")
    a = ap.parse_args()
    if a.device == "cuda" and not torch.cuda.is_available():
        print("gpu_check: SKIPPED: no CUDA device here (torch.cuda.is_available() is False); "
              "run it on a GPU machine, or with --tiny --device cpu to test the script")
        return 77
    from stages.llm import hf_decode
    from stages.llm.base import GenConfig
    from stages.llm.hf import HFBackend

    t_start = time.perf_counter()
    sync = torch.cuda.synchronize if a.device == "cuda" else (lambda: None)
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        path = build(Path(tmp) / "model", TINY if a.tiny else LLAMA_1B, a.dtype)
        b = HFBackend(str(path), dtype=a.dtype, device=a.device, batch_size=64)
        model, tok = b.load()
        check_device(model, a.device)
        n_params = sum(p.numel() for p in model.parameters())
        real_cache, caches = hf_decode.SlotCache, []

        class CheckedCache(real_cache):  # every KV buffer the decoder allocates must be on the device too
            def __init__(self, *args, **kw):
                super().__init__(*args, **kw)
                caches.append(self)
        hf_decode.SlotCache = CheckedCache
        try:
            for batch in (1, 16, 64):
                b.batch_size = batch
                n = max(batch, 4)
                convs = [[{"role": "user", "content": prompt(i, 120)}] for i in range(n)]
                b.generate(convs[:batch], GenConfig(max_tokens=4), "warmup")
                sync()
                t = time.perf_counter()
                out = b.generate(convs, GenConfig(max_tokens=a.max_tokens), "gen")
                sync()
                dt = time.perf_counter() - t
                toks = sum(c.tokens_out for c in out)
                rows.append((f"generate batch {batch}", f"{toks / dt:,.0f} new tok/s", f"{n} prompts x "
                             f"<= {a.max_tokens} new, {dt:.2f} s"))
        finally:
            hf_decode.SlotCache = real_cache
        for batch in (1, 64):
            rows.append(reference_row(model, tok, batch, a, sync))
        if a.profile:
            profile(b, a)
        bad = [t.device.type for c in caches for layer in c.layers for t in (layer.keys, layer.values)
               if t.device.type != a.device]
        assert caches and not bad, f"KV cache tensors not on {a.device}: {set(bad)}"
        texts = [prompt(i, 200) for i in range(256)]
        b.batch_size = 32
        b.loglik(texts[:8])
        sync()
        t = time.perf_counter()
        vals = b.loglik(texts)
        sync()
        dt = time.perf_counter() - t
        assert all(v["n_tokens"] > 0 for v in vals)
        rows.append(("loglik", f"{len(texts) / dt:,.1f} seq/s", f"{len(texts)} texts x ~{vals[0]['n_tokens']} "
                     f"tokens, {dt:.2f} s"))
        rows.append(option_row(b, path, a, sync))
        b.close()
    total = time.perf_counter() - t_start
    name = torch.cuda.get_device_name() if a.device == "cuda" else "cpu"
    print(f"\ngpu_check: {name}, torch {torch.__version__}, {'tiny' if a.tiny else 'Llama-3.2-1B'} shape "
          f"({n_params / 1e6:,.0f}M params, random weights), {a.dtype}; all tensors on {a.device}; {total:.0f} s")
    print("| measure | rate | detail |\n|---|---|---|")
    for r in rows:
        print(f"| {r[0]} | {r[1]} | {r[2]} |")
    return 0


def reference_row(model, tok, batch: int, a, sync) -> tuple[str, str, str]:
    """transformers' own `generate` (greedy, its DynamicCache) on the same prompts: the baseline to compare."""
    import torch

    texts = [tok.apply_chat_template([{"role": "user", "content": prompt(i, 120)}], tokenize=False,
                                     add_generation_prompt=True) for i in range(max(batch, 4))]
    new = 0
    sync()
    t = time.perf_counter()
    for k in range(0, len(texts), batch):
        enc = tok(texts[k:k + batch], return_tensors="pt", padding=True, padding_side="left").to(a.device)
        with torch.inference_mode():
            out = model.generate(**enc, max_new_tokens=a.max_tokens, do_sample=False,
                                 pad_token_id=tok.pad_token_id)[:, enc["input_ids"].shape[1]:]
        ended = (out == tok.eos_token_id).int().cumsum(-1)  # tokens up to and including the first eos
        new += int(((ended == 0) | ((ended == 1) & (out == tok.eos_token_id))).sum())
    sync()
    dt = time.perf_counter() - t
    return (f"reference: transformers generate, batch {batch}", f"{new / dt:,.0f} new tok/s",
            f"{len(texts)} prompts, model.generate (DynamicCache, {model.config._attn_implementation}), {dt:.2f} s")


def profile(backend, a) -> None:
    """Top ops of one batch-1 generation by self CPU time; CPU-bound when CPU time ~ wall time."""
    import torch
    from torch.profiler import ProfilerActivity
    from stages.llm.base import GenConfig

    acts = [ProfilerActivity.CPU] + ([ProfilerActivity.CUDA] if a.device == "cuda" else [])
    backend.batch_size = 1
    conv = [[{"role": "user", "content": prompt(0, 120)}]]
    with torch.profiler.profile(activities=acts) as prof:
        backend.generate(conv, GenConfig(max_tokens=32), "profile")
    print(prof.key_averages().table(sort_by="self_cpu_time_total", row_limit=15))


def option_row(backend, path, a, sync) -> tuple[str, str, str]:
    """SafetyBench option scoring (next-token log-probs of A-D) through what this checkout has."""
    import inspect

    qs = [prompt(i, 150) + "\nA. yes\nB. no\nC. maybe\nD. never\nAnswer:" for i in range(256)]
    if hasattr(backend, "choice_logprobs"):
        fn, how = (lambda q: backend.choice_logprobs(q, list("ABCD"))), "hf backend choice_logprobs"
    else:
        from stages.evaluate import OptionScorer
        if "device" not in inspect.signature(OptionScorer).parameters:
            return ("option scorer", "n/a", "this checkout's OptionScorer has no device option")
        sc = OptionScorer(str(path), dtype=a.dtype, batch_size=32, device=a.device)
        fn, how = (lambda q: sc.score(q, progress=False)), "stages.evaluate.OptionScorer"
    fn(qs[:8])
    sync()
    t = time.perf_counter()
    fn(qs)
    sync()
    dt = time.perf_counter() - t
    return ("option scorer", f"{len(qs) / dt:,.1f} questions/s", f"{how}, {len(qs)} questions, {dt:.2f} s")


if __name__ == "__main__":
    sys.exit(main())
