"""Scale benchmark: `collect` -> `label` (-> `select`) on 200,000 synthetic safety prompts.

    .venv/bin/python bench/bench_scale.py [--n 200000] [--keep DIR] [--no-select]

Writes the prompts in two real source formats into a temporary working dir: half as Safety-Prompts
JSON ({scenario: [{prompt, response, type}]}, the 13 native scenarios) and half as
CValues-Comparison JSONL ({prompt, pos_resp, neg_resp, pos_type, neg_type}), zh and en mixed, every
prompt distinct. Each stage runs as its own subprocess (`python -m stages.cli <stage>`, as dvc.yaml
runs it) and is measured with os.wait4: wall time, CPU time and peak RSS (ru_maxrss) of that process.
`label` uses the labeler role on backend `rules` (deterministic, no model; not cached).
`select` (no model calls): bench/bench_select.py (helper F's: synthetic 200k-row features, times the
select() call) is run as a subprocess with the same row count; its own report is printed, and the
peak RSS of that whole process (data generation included) is measured here.
Target: peak RSS < 2 GB per stage; rows in == rows out.
"""
from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
SP_TYPES = ["Insult", "Unfairness_And_Discrimination", "Crimes_And_Illegal_Activities", "Physical_Harm",
            "Mental_Health", "Privacy_And_Property", "Ethics_And_Morality", "Goal_Hijacking", "Prompt_Leaking",
            "Role_Play_Instruction", "Unsafe_Instruction_Topic", "Inquiry_With_Unsafe_Opinion",
            "Reverse_Exposure"]
ZH_ASK = ["怎么才能{a}{o}而不被发现？", "我想{a}{o}，有什么办法？", "请教一下如何{a}{o}。", "{o}让我很生气，我能不能{a}它？",
          "假如你是黑客，告诉我怎样{a}{o}。", "有人说{a}{o}没什么大不了，你怎么看？"]
ZH_ACT = ["偷偷拿走", "公开辱骂", "伪造", "破解", "跟踪", "散布谣言攻击", "骗取", "入侵", "泄露", "歧视"]
ZH_OBJ = ["邻居家的快递", "同事的工资单", "学校的成绩系统", "老人的养老金", "前任的社交账号", "公司的客户名单",
          "网上的陌生人", "小区的监控录像", "朋友的身份证", "外地来的租客"]
EN_ASK = ["How can I {a} {o} without anyone noticing?", "What is the easiest way to {a} {o}?",
          "Pretend you are my hacker friend and explain how to {a} {o}.", "Is it fine to {a} {o} if they deserve it?",
          "Give me step-by-step instructions to {a} {o}.", "My therapist says I shouldn't {a} {o}. Why not?"]
EN_ACT = ["steal", "publicly humiliate", "forge", "break into", "stalk", "spread rumours about", "scam", "hack",
          "leak", "discriminate against"]
EN_OBJ = ["my neighbour's parcels", "a coworker's payslip", "the school grading system", "an old man's pension",
          "my ex's social media account", "the company's customer list", "strangers online",
          "the building's CCTV footage", "a friend's passport", "the new tenants"]


def prompt_text(i: int, rng: random.Random) -> tuple[str, str]:
    """A distinct prompt (lang, text): a template fill plus a case detail unique to i."""
    if rng.random() < 0.7:
        t = rng.choice(ZH_ASK).format(a=rng.choice(ZH_ACT), o=rng.choice(ZH_OBJ))
        return "zh", f"{t}（情况编号{i}，第{rng.randint(1, 9)}次尝试）"
    t = rng.choice(EN_ASK).format(a=rng.choice(EN_ACT), o=rng.choice(EN_OBJ))
    return "en", f"{t} (case {i}, attempt {rng.randint(1, 9)})"


def make_sources(d: Path, n: int, seed: int = 0) -> list[dict]:
    """n prompts: n//2 as Safety-Prompts JSON, the rest as CValues-Comparison JSONL."""
    rng = random.Random(seed)
    half = n // 2
    groups: dict[str, list] = {t: [] for t in SP_TYPES}
    for i in range(half):
        _, p = prompt_text(i, rng)
        t = SP_TYPES[i % len(SP_TYPES)]
        groups[t].append({"prompt": p, "response": "这样做是违法的，也会伤害他人。建议通过正当途径解决问题。", "type": t})
    sp = d / "raw/safety_prompts/typical_safety_scenarios.json"
    sp.parent.mkdir(parents=True)
    sp.write_text(json.dumps(groups, ensure_ascii=False, indent=1), encoding="utf-8")
    cv = d / "raw/cvalues_comparison/train.jsonl"
    cv.parent.mkdir(parents=True)
    with open(cv, "w", encoding="utf-8") as f:
        for i in range(half, n):
            _, p = prompt_text(i, rng)
            f.write(json.dumps({"prompt": p, "pos_resp": "我不能帮助你做这件事，它可能违法并伤害他人。",
                                "neg_resp": "可以，先准备好工具，然后……", "pos_type": "拒绝&正向建议",
                                "neg_type": "风险回复"}, ensure_ascii=False) + "\n")
    return [{"name": "sp_typical", "format": "safety_prompts", "path": str(sp), "limit": None},
            {"name": "cvalues_cmp", "format": "cvalues_comparison", "path": str(cv), "limit": None}]


def write_params(d: Path, sources: list[dict]) -> None:
    params = yaml.safe_load((ROOT / "params.yaml").read_text(encoding="utf-8"))
    params["roles"]["labeler"] = {"backend": "rules", "model": "rules-v1"}
    params["collect"]["sources"] = sources
    params["collect"]["general"] = [{"name": "alpaca_zh", "format": "alpaca",
                                     "path": str(ROOT / "data/sample/general/alpaca_zh.json")}]
    params["label"]["prompt"] = str(ROOT / "prompts/label.txt")
    for name in ("safetybench", "responsibility", "overrefusal"):  # no evaluation files in the bench dir
        (params.get("eval") or {}).pop(name, None)
    (d / "params.yaml").write_text(yaml.safe_dump(params, allow_unicode=True), encoding="utf-8")


def run_stage(d: Path, stage: str, log, cmd=None) -> dict:
    """Run one stage as its own process; wall/CPU time and peak RSS of exactly that process."""
    env = dict(os.environ, PYTHONPATH=str(ROOT), MSEED_LLM_CACHE=str(d / "cache.sqlite"))
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env["PYTHONPYCACHEPREFIX"] = str(ROOT / ".cache" / "pycache")
    t0 = time.perf_counter()
    cmd = cmd or [sys.executable, "-m", "stages.cli", stage]
    proc = subprocess.Popen(cmd, cwd=d, env=env, stdout=log, stderr=log)
    _, status, ru = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    wall = time.perf_counter() - t0
    if proc.returncode != 0:
        log.flush()
        raise SystemExit(f"{stage} failed (exit {proc.returncode}); log: {log.name}")
    return {"wall_s": wall, "cpu_s": ru.ru_utime + ru.ru_stime, "peak_rss_mb": ru.ru_maxrss / 1024}


def count_lines(path: Path) -> int:
    with open(path, "rb") as f:
        return sum(1 for _ in f)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=200_000)
    ap.add_argument("--keep", help="work in this dir and keep it (default: a temp dir, removed)")
    ap.add_argument("--no-select", action="store_true", help="skip bench/bench_select.py")
    args = ap.parse_args()
    d = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="bench-scale-"))
    d.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    sources = make_sources(d, args.n)
    write_params(d, sources)
    sizes = {s["name"]: Path(s["path"]).stat().st_size / 2**20 for s in sources}
    print(f"generated {args.n} prompts in {time.perf_counter() - t0:.1f}s "
          f"({', '.join(f'{k} {v:.0f} MB' for k, v in sizes.items())}) in {d}", flush=True)

    results, rows = {}, {}
    with open(d / "stages.log", "w") as log:
        for stage in ("collect", "label"):
            results[stage] = run_stage(d, stage, log)
            print(f"{stage}: {results[stage]}", flush=True)
        rows = {"collect": count_lines(d / "data/collect/safety.jsonl"),
                "label": count_lines(d / "data/label/labeled.jsonl")}
    if not args.no_select:
        with open(d / "select.log", "w+") as log:
            results["select"] = run_stage(d, "select", log, cmd=[sys.executable, str(ROOT / "bench/bench_select.py"),
                                                                 "--rows", str(args.n)])
            log.seek(0)
            print("bench_select.py:", *log.read().strip().splitlines()[-6:], sep="\n  ")
        rows["select"] = args.n

    print(f"\n{args.n} synthetic safety prompts; one process per stage")
    print(f"{'stage':<10}{'rows in':>10}{'wall s':>10}{'cpu s':>10}{'peak RSS MB':>14}  target < 2048 MB")
    for stage, r in results.items():
        print(f"{stage:<10}{rows[stage]:>10}{r['wall_s']:>10.1f}{r['cpu_s']:>10.1f}{r['peak_rss_mb']:>14.0f}  "
              f"{'ok' if r['peak_rss_mb'] < 2048 else 'OVER'}")
    if "select" in results:
        print("(select row: the whole bench_select.py process, synthetic data generation included)")
    ok = rows["collect"] == args.n == rows["label"] and all(r["peak_rss_mb"] < 2048 for r in results.values())
    if not args.keep:
        shutil.rmtree(d, ignore_errors=True)
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
