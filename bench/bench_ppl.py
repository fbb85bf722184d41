"""Perplexity: batched hf loglik vs a one-text-at-a-time loop; values must agree (rel 1e-5).

Run: .venv/bin/python bench/bench_ppl.py [--n 64]. Target ratio >= 1.5x.
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_hf import PROMPTS, ROOT, model_dir  # noqa: E402

sys.path.insert(0, str(ROOT))


def texts(n: int) -> list[str]:
    # varied lengths: 1..6 prompts glued together
    return [" ".join(PROMPTS[(i + k) % len(PROMPTS)] for k in range(1 + i % 6)) for i in range(n)]


def main() -> None:
    from stages.llm.hf import HFBackend

    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=64)
    ap.add_argument("--batch", type=int, default=16)
    a = ap.parse_args()
    ts = texts(a.n)
    b = HFBackend(str(model_dir()), batch_size=1)
    b.load()
    b.loglik(ts[:2])  # warm-up
    t0 = time.perf_counter()
    single = [b.loglik([t])[0] for t in ts]
    d1 = time.perf_counter() - t0
    b.batch_size = a.batch
    t0 = time.perf_counter()
    batched = b.loglik(ts)
    d2 = time.perf_counter() - t0
    worst = max(abs(x["nll_sum"] - y["nll_sum"]) / max(abs(x["nll_sum"]), 1e-9) for x, y in zip(single, batched))
    assert all(x["n_tokens"] == y["n_tokens"] for x, y in zip(single, batched))
    assert worst <= 1e-5, f"batched loglik differs from single: rel {worst:.2e}"
    n_tok = sum(x["n_tokens"] for x in single)
    print(f"{a.n} texts, {n_tok} tokens: one-at-a-time {d1:.2f}s ({n_tok / d1:.0f} tok/s) | batched({a.batch}) "
          f"{d2:.2f}s ({n_tok / d2:.0f} tok/s) | ratio {d1 / d2:.2f}x (target >= 1.5x) | max rel diff {worst:.1e}")


if __name__ == "__main__":
    main()
