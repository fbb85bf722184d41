"""The LLM cache at stage level: `regenerate` cold, re-run warm, and re-run with 1% new prompts.

    .venv/bin/python bench/bench_regenerate_cache.py [--n 200] [--delay 0.03] [--concurrency 4]

The safety_model role points at the local OpenAI-compatible server (tests/openai_server.py) that
answers after `delay` seconds, so a model call costs real (small) time. The stage runs in-process
(stages.regenerate.run, in a temporary working dir with its own params.yaml and cache), imports are
warmed first so that no run pays them. Printed per run: stage wall time, time spent inside
LLM.chat, backend calls (role stats) and requests the server saw.
Targets: warm run makes 0 calls; cold/warm time >= 50x for LLM.chat (the cache) and as high as the
stage's own fixed costs allow for the whole stage; +1% prompts costs ~1% of the cold calls.
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import yaml  # noqa: E402

from stages.llm import roles  # noqa: E402
from tests.openai_server import ChatServer  # noqa: E402
from tests.test_stage_faults import cot_answer, prow  # noqa: E402

CHAT_SECONDS = [0.0]


def _timed_chat(orig):
    def chat(self, *a, **kw):
        t0 = time.perf_counter()
        try:
            return orig(self, *a, **kw)
        finally:
            CHAT_SECONDS[0] += time.perf_counter() - t0
    return chat


def write_inputs(rows) -> None:
    p = Path("data/augment/prompts.jsonl")
    p.parent.mkdir(parents=True, exist_ok=True)
    p.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")


def stage_run(srv) -> dict:
    from stages.params import stage_params
    from stages.regenerate import run

    srv.reset_counts()
    CHAT_SECONDS[0] = 0.0
    t0 = time.perf_counter()
    report = run(stage_params("regenerate", "roles.safety_model"))
    wall = time.perf_counter() - t0
    st = report["llm"]["safety_model"]
    return {"wall_s": wall, "chat_s": CHAT_SECONDS[0], "calls": st["calls"], "cache_hits": st["cache_hits"],
            "server_requests": srv.requests, "rows": report["candidates"]}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=200, help="prompts")
    ap.add_argument("--delay", type=float, default=0.03, help="server seconds per request (model cost)")
    ap.add_argument("--concurrency", type=int, default=4)
    args = ap.parse_args()
    roles.LLM.chat = _timed_chat(roles.LLM.chat)  # instrumentation only: times the cache-first call

    tmp = Path(tempfile.mkdtemp(prefix="bench-regen-"))
    os.chdir(tmp)
    shutil.copytree(ROOT / "prompts", tmp / "prompts")
    os.environ["MSEED_LLM_CACHE"] = str(tmp / "cache.sqlite")
    rows = [prow(i) for i in range(args.n)]
    extra = [prow(args.n + i) for i in range(max(1, args.n // 100))]
    with ChatServer(delay=args.delay, responder=cot_answer) as srv:
        role = {"backend": "openai", "model": "bench-safety", "base_url": srv.url,
                "concurrency": args.concurrency, "timeout": 30}
        Path("params.yaml").write_text(yaml.safe_dump({"roles": {"safety_model": role},
                                                       "regenerate": {"keep_analysis": False}}), encoding="utf-8")
        # warm imports (schemas/GE, httpx, templates) on one prompt with a throwaway cache
        write_inputs(rows[:1])
        os.environ["MSEED_LLM_CACHE"] = str(tmp / "warmup.sqlite")
        stage_run(srv)
        os.environ["MSEED_LLM_CACHE"] = str(tmp / "cache.sqlite")

        write_inputs(rows)
        cold = stage_run(srv)
        cold_out = Path("data/regenerate/candidates.jsonl").read_text(encoding="utf-8")
        warm = stage_run(srv)
        same = Path("data/regenerate/candidates.jsonl").read_text(encoding="utf-8") == cold_out
        write_inputs(rows + extra)
        plus = stage_run(srv)
    shutil.rmtree(tmp, ignore_errors=True)

    print(f"regenerate, {args.n} prompts, server delay {args.delay * 1000:.0f} ms, concurrency {args.concurrency}")
    print(f"{'run':<10}{'stage s':>10}{'chat s':>10}{'calls':>8}{'hits':>8}{'requests':>10}")
    for name, r in (("cold", cold), ("warm", warm), (f"+{len(extra)} new", plus)):
        print(f"{name:<10}{r['wall_s']:>10.3f}{r['chat_s']:>10.4f}{r['calls']:>8}{r['cache_hits']:>8}"
              f"{r['server_requests']:>10}")
    chat_ratio = cold["chat_s"] / max(warm["chat_s"], 1e-9)
    stage_ratio = cold["wall_s"] / warm["wall_s"]
    print(f"warm calls: {warm['calls']} (target 0); warm output identical to cold: {same}")
    print(f"cold/warm LLM.chat time: {chat_ratio:.0f}x (target >= 50x); whole stage: {stage_ratio:.1f}x")
    print(f"+{len(extra)} prompts ({len(extra) / args.n:.0%}): {plus['calls']} calls = "
          f"{plus['calls'] / max(cold['calls'], 1):.1%} of cold (target ~{len(extra) / args.n:.0%})")
    ok = warm["calls"] == 0 and warm["server_requests"] == 0 and same and plus["calls"] == len(extra)
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
