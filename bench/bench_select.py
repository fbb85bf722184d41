"""Time the select stage on synthetic features (default 200,000 candidate rows; target: 2,000,000 in < 10 s, < 4 GB).

    .venv/bin/python bench/bench_select.py [--rows 200000] [--keep DIR [--reuse]]

Rows: two candidates per prompt, 15 categories, zh/en prompts of 15-60 tokens, random features;
evaluation sets of ~4,000 prompts, 1% of them copied (or embedded) into training prompts. Only the
select run() call is timed (not data generation). Uses the `select` section of params.yaml. `--reuse`: keep the
data already in DIR (from an earlier --keep run) instead of generating it again. Prints wall and CPU seconds
(all threads) and /proc/loadavg before and after: on a shared machine the wall time says little alone.
"""
from __future__ import annotations

import argparse
import json
import random
import sys
import tempfile
import time
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from stages.params import stage_params
from stages.select import run as select_run
from stages.taxonomy import CATEGORIES

ZH = "的一是不了人我在有他这中大来上国个到说们为子和你地出道也时年得就那要下以生会自着去之过家学对可她里后小么心多天而能好都然没日于起还发成事只作当想看文无开手十用主行方又如前所本见经头面公同三已老从动两长知民样现分将外但身些与高意进把法此实回二理美点月明其种声全工己话儿者向情部正名定女问力机给等几很业最间新什打便位因重被走电四第门相次东政海口使教西再平真听世气信北少关并内加化由却代军产入先山五太水万市眼体别处总才场师书比住员九笑性通目华报立马命张活难神数件安表原车白应路期叫死常提感金何更反合放做系计或司利受光王果亲界及今京务制解各任至清物台象记边共风战干接它许八特觉望直服毛林题建南度统色字请交爱让认算论百吃义科怎元社术结六功指思非流每青管夫连远资队跟带花快条院变联言权往展该领传近留红治决周保达办运武半候七必城父强步完革深区即求品士转量空甚众技轻程告江语英基派满式李息写呢识极令黄德收脸钱党倒未持音众"
EN = str.split("how do i make a safe home computer network privacy data law crime police drug weapon money bank "
      "tell me about the history of china war people health doctor medicine child school teacher work "
      "please explain why what is best way to avoid risk protect family friend online game social media "
      "buy sell steal hack password account email phone company government election vote news fake")


def zh_text(rng, n):
    return "".join(rng.choice(ZH) for _ in range(n))


def en_text(rng, n):
    return " ".join(rng.choice(EN) for _ in range(n))


def generate(d: Path, rows: int, seed: int = 0) -> None:
    rng = random.Random(seed)
    cats = list(CATEGORIES) + ["other"]
    evals = {name: [zh_text(rng, rng.randint(15, 40)) if i % 2 else en_text(rng, rng.randint(10, 30))
                    for i in range(k)] for name, k in
             (("newsafety", 70), ("safetybench", 2100), ("responsibility", 1700), ("overrefusal", 200))}
    pool = [t for texts in evals.values() for t in texts]
    with open(d / "features.jsonl", "w", encoding="utf-8") as f:
        for p in range(rows // 2):
            lang = "zh" if p % 2 else "en"
            prompt = zh_text(rng, rng.randint(15, 60)) if lang == "zh" else en_text(rng, rng.randint(10, 40))
            if rng.random() < 0.01:
                prompt = rng.choice(pool) + (" " + prompt[:20] if rng.random() < 0.5 else "")
            pid, cat, ppl, isc = f"bench/{p}", rng.choice(cats), rng.lognormvariate(3, 0.6), rng.random()
            for k, ctype in enumerate(("original", "regenerated")):
                rs = None if rng.random() < 0.01 else round(rng.random(), 3)
                f.write(json.dumps({
                    "id": pid, "cand_id": f"{pid}#{k}", "source": f"src{p % 6}", "category": cat, "lang": lang,
                    "prompt": prompt, "origin": "original", "parent_id": None,
                    "response": (zh_text(rng, 80) if lang == "zh" else en_text(rng, 60)), "analysis": None,
                    "candidate_type": ctype, "response_model": "bench", "gen_raw": None, "gen_error": None,
                    "parse_error": False, "ppl": ppl, "response_score": rs, "instruction_score": isc,
                    "judge_raw": f"[{rs}, 0.5]", "instruction_raw": str(isc), "score_parse_error": rs is None},
                    ensure_ascii=False) + "\n")
    with open(d / "general.jsonl", "w", encoding="utf-8") as f:
        f.writelines(json.dumps({"id": f"gen/{i}", "source": "gen", "native_id": str(i), "lang": "en",
                                "kind": "general", "prompt": en_text(rng, 12), "response": en_text(rng, 40)}) + "\n" for i in range(5000))
    for name, texts in evals.items():
        with open(d / f"{name}.jsonl", "w", encoding="utf-8") as f:
            f.writelines(json.dumps({"prompt": t}, ensure_ascii=False) + "\n" for t in texts)
    params = yaml.safe_load((ROOT / "params.yaml").read_text(encoding="utf-8"))
    params = {"select": params["select"],
              "eval": {"safetybench": {"test": str(d / "safetybench.jsonl")},
                       "responsibility": {"path": str(d / "responsibility.jsonl")},
                       "overrefusal": {"path": str(d / "overrefusal.jsonl")}}}
    (d / "params.yaml").write_text(yaml.safe_dump(params), encoding="utf-8")


def _loadavg() -> str:
    try:
        return " ".join(Path("/proc/loadavg").read_text().split()[:3])
    except OSError:
        return "n/a"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=200_000)
    ap.add_argument("--keep", help="write the synthetic data and outputs here instead of a temp folder")
    ap.add_argument("--reuse", action="store_true", help="with --keep: use the data already there")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        d = Path(args.keep or tmp)
        d.mkdir(parents=True, exist_ok=True)
        if not (args.reuse and args.keep and (d / "features.jsonl").is_file()):
            generate(d, args.rows)
        t0 = time.perf_counter()
        import great_expectations  # noqa: F401  (output validation; a one-off import cost, reported apart)
        t_import = time.perf_counter() - t0
        load0 = _loadavg()
        t0, c0 = time.perf_counter(), time.process_time()
        params = stage_params("select", "eval.safetybench.test", "eval.responsibility.path", "eval.overrefusal.path",
                              path=d / "params.yaml")
        m = select_run(params, {"features": d / "features.jsonl", "general": d / "general.jsonl",
                                "newsafety": d / "newsafety.jsonl"}, {"select": d / "select", "metrics": d / "select.json"})
        dt, cpu = time.perf_counter() - t0, time.process_time() - c0
    rows = m["funnel"]["0_input"]["rows"]
    print(f"select: {rows} feature rows in {dt:.2f} s wall, {cpu:.2f} s CPU ({rows / dt:,.0f} rows/s; "
          f"target 2M < 10 s); phases {m['seconds']}; great_expectations import {t_import:.1f} s not included; "
          f"loadavg {load0} -> {_loadavg()}")
    print(f"  {m['sft_rows']} sft + {m['general_rows']} general rows, {m['pref_pairs']} pref pairs, "
          f"{m['decontam']['contaminated']} contaminated prompts of {m['decontam']['checked']} checked")
    import resource

    print(f"  peak RSS of this process (data generation + select): "
          f"{resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB")


if __name__ == "__main__":
    main()
