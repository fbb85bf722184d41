"""LLM cache: cold vs warm run of 64 conversations through get_llm-style roles (warm = zero backend calls).

Run: .venv/bin/python bench/bench_cache.py [--n 64]. Target ratio >= 50x. Uses a temporary cache file.
"""
from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_hf import ROOT, convs, model_dir  # noqa: E402

sys.path.insert(0, str(ROOT))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=64)
    ap.add_argument("--max-tokens", type=int, default=16)
    a = ap.parse_args()
    os.environ["MSEED_LLM_CACHE"] = str(Path(tempfile.mkdtemp()) / "bench-cache.sqlite")
    from stages.llm import make_llm

    spec = {"backend": "hf", "model": str(model_dir()), "batch_size": 16, "max_tokens": a.max_tokens}
    cs = convs(a.n)
    t0 = time.perf_counter()
    cold = make_llm(spec, name="cold")
    first = cold.chat(cs, "bench")
    d1 = time.perf_counter() - t0
    cold.close()
    t0 = time.perf_counter()
    warm = make_llm(spec, name="warm")  # includes role setup + fingerprint, like a re-run stage
    again = warm.chat(cs, "bench")
    d2 = time.perf_counter() - t0
    st = warm.stats()
    assert st["calls"] == 0 and st["cache_hits"] == a.n, st
    assert [c[0].text for c in again] == [c[0].text for c in first]
    print(f"{a.n} conversations: cold {d1:.2f}s ({cold.stats()['calls']} backend calls) | warm {d2 * 1000:.1f} ms "
          f"(0 backend calls, {st['cache_hits']} hits) | ratio {d1 / d2:.0f}x (target >= 50x)")


if __name__ == "__main__":
    main()
