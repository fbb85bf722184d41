"""Roofline for hf decoding on this machine: what one decoding step could cost, and what it does cost.

Run: .venv/bin/python bench/roofline.py [--batch 32] [--kv 300] [--dtype bfloat16]
- machine: memory bandwidth (tensor copy, read+write bytes / s), fp32 and bf16 matmul rate;
- physical bound for the embedded model (models/base, else the bench model) at batch B, KV length L:
  bytes per step = all weights once + the KV cache read (B x L x layers x 2 x kv_heads x head_dim);
  FLOPs per step = 2 x params x B + attention 4 x B x L x layers x heads x head_dim;
  step time >= max(bytes / bandwidth, FLOPs / matmul rate); bound new tokens/s = B / that;
- prefill floor (bench_hf): prefill FLOPs / matmul rate, which caps the share of the step bound that a
  generation with prefill included can reach;
- step bound: one decoding step as the backend runs it (stages/llm/hf_decode.decode on B prompts of L
  tokens: the median interval between successive one-token forwards), i.e. B / step seconds tokens/s.
Numbers vary with load on a shared machine: each measurement is the median of repetitions.
"""
from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def _median_time(fn, reps: int) -> float:
    fn()
    ts = []
    for _ in range(reps):
        t = time.perf_counter()
        fn()
        ts.append(time.perf_counter() - t)
    return statistics.median(ts)


def machine(reps: int = 5) -> dict:
    """{'bw': bytes/s (read+write), 'fp32': FLOP/s, 'bf16': FLOP/s} measured with torch."""
    import torch

    a = torch.empty(64 << 20, dtype=torch.float32)  # 256 MB: far beyond the caches
    a.fill_(1.0)
    b = torch.empty_like(a)
    bw = 2 * a.numel() * 4 / _median_time(lambda: b.copy_(a), reps)
    out = {"bw": bw}
    n = 2048
    for name, dt in (("fp32", torch.float32), ("bf16", torch.bfloat16)):
        x, y = torch.randn(n, n).to(dt), torch.randn(n, n).to(dt)
        out[name] = 2 * n ** 3 / _median_time(lambda: x @ y, reps)
    return out


def _shape(config) -> tuple[int, int, int, int]:
    """(layers, attention heads, KV heads, head dim) of a transformers config."""
    layers, heads = config.num_hidden_layers, config.num_attention_heads
    kv_heads = getattr(config, "num_key_value_heads", None) or heads
    return layers, heads, kv_heads, getattr(config, "head_dim", None) or config.hidden_size // heads


def matmul_rate(m: dict, dtype: str) -> float:
    """The measured matmul FLOP/s for `dtype` (16-bit types use the bf16 rate)."""
    return m["bf16"] if dtype in ("bfloat16", "float16") else m["fp32"]


def step_cost(config, n_params: int, batch: int, kv: int, bytes_per: int) -> tuple[float, float]:
    """(bytes, FLOPs) of one decoding step at `batch` rows with `kv` cached tokens each."""
    layers, heads, kv_heads, dim = _shape(config)
    kv_bytes = batch * kv * layers * 2 * kv_heads * dim * bytes_per
    flops = 2 * n_params * batch + 4 * batch * kv * layers * heads * dim
    return n_params * bytes_per + kv_bytes, flops


def physical_bound(m: dict, config, n_params: int, batch: int, kv: int, dtype: str) -> dict:
    bytes_per = 2 if dtype in ("bfloat16", "float16") else 4
    nbytes, flops = step_cost(config, n_params, batch, kv, bytes_per)
    rate = matmul_rate(m, dtype)
    t = max(nbytes / m["bw"], flops / rate)
    return {"bytes": nbytes, "flops": flops, "t_mem": nbytes / m["bw"], "t_flop": flops / rate,
            "step_s": t, "tok_s": batch / t}


def prefill_flops(config, n_params: int, lens: list[int]) -> float:
    """FLOPs of prefilling prompts of `lens` tokens, keeping logits for the last token only: each token goes
    through every weight but the embedding (a lookup; tied or not, the head runs once per prompt), plus
    causal attention (QK^T and AV, half of each len x len) per layer and head."""
    layers, heads, _, dim = _shape(config)
    emb = config.vocab_size * config.hidden_size
    body = n_params - emb if getattr(config, "tie_word_embeddings", False) else n_params - 2 * emb
    return sum(2 * body * n + 2 * emb + 2 * n * n * layers * heads * dim for n in lens)


def best_share(floor_s: float, new_tokens: int, step_tok_s: float) -> float:
    """The largest share of the step bound a generation with prefill included can reach: prefill at its
    FLOP floor, every new token at the step bound's rate, no idle slot."""
    decode_s = new_tokens / step_tok_s
    return decode_s / (floor_s + decode_s)


def step_bound(model, batch: int, kv: int, steps: int = 16) -> dict:
    """Time decoding steps as the hf backend runs them: prefill `batch` prompts of `kv` tokens, decode
    `steps` tokens; a step is the interval between successive one-token forwards (mask, forward, pick
    and bookkeeping included); the median interval is the step time."""
    import torch

    from stages.llm.hf_decode import decode

    vocab = model.config.vocab_size
    g = torch.Generator().manual_seed(0)
    prompts = [torch.randint(10, vocab, (kv,), generator=g).tolist() for _ in range(batch)]
    starts, real = [], model.forward

    def timed(*args, **kw):
        ids = kw.get("input_ids")
        if ids is not None and ids.shape[1] == 1:
            starts.append(time.perf_counter())
        return real(*args, **kw)
    model.forward = timed
    try:
        t = time.perf_counter()
        with torch.inference_mode():
            decode(model, prompts, list(range(batch)), 1 + steps, set(), batch, 0)
        total = time.perf_counter() - t
    finally:
        del model.forward
    step = statistics.median(b - a for a, b in zip(starts, starts[1:]))
    return {"prefill_s": total - step * len(starts), "step_s": step, "tok_s": batch / step}


def load(path: str, dtype: str):
    import torch
    from transformers import AutoModelForCausalLM

    model = AutoModelForCausalLM.from_pretrained(path, dtype=getattr(torch, dtype)).eval()
    return model, sum(p.numel() for p in model.parameters())


def main() -> None:
    from bench.bench_hf import model_dir

    ap = argparse.ArgumentParser()
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--kv", type=int, default=300)
    ap.add_argument("--dtype", default="bfloat16")
    a = ap.parse_args()
    m = machine()
    print(f"machine: copy {m['bw'] / 1e9:.1f} GB/s (read+write), matmul fp32 {m['fp32'] / 1e12:.3f} TFLOP/s, "
          f"bf16 {m['bf16'] / 1e12:.3f} TFLOP/s")
    model, n = load(str(model_dir()), a.dtype)
    pb = physical_bound(m, model.config, n, a.batch, a.kv, a.dtype)
    sb = step_bound(model, a.batch, a.kv)
    print(f"model {n / 1e6:.1f}M params, {a.dtype}, batch {a.batch}, KV {a.kv}: step reads "
          f"{pb['bytes'] / 1e6:.0f} MB, {pb['flops'] / 1e9:.1f} GFLOP -> physical bound {pb['step_s'] * 1e3:.1f} ms "
          f"(memory {pb['t_mem'] * 1e3:.1f}, compute {pb['t_flop'] * 1e3:.1f}) = {pb['tok_s']:.0f} new tok/s")
    print(f"step bound (backend's decoding step): {sb['step_s'] * 1e3:.1f} ms = {sb['tok_s']:.0f} new tok/s "
          f"({sb['tok_s'] / pb['tok_s']:.0%} of physical); prefill of {a.batch}x{a.kv} {sb['prefill_s']:.2f} s")


if __name__ == "__main__":
    main()
