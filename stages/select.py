"""Feature-based selection of safety alignment data in DuckDB (paper 3.8). Makes no model calls.

Reads data/score/features.jsonl and data/collect/general.jsonl; the SQL lives in stages/sql/*.sql
(one statement per `;`, parameters as $name). Steps: usable candidates -> perplexity cut (per-category
quantile and/or ppl_max) -> min response score -> max instruction score -> decontamination against
every evaluation set -> best candidate per prompt -> per-category cap; plus `general_count`
general-instruction samples, `helpful_count` helpfulness rows (benign-but-sensitive prompts with helpful
answers from `helpful_path`, split `helpful`: they counter over-refusal) and preference pairs (best vs
worst candidate when the gap exceeds pref_min_gap).

Decontamination (stages/sql/decontam.sql; tokens as stages.text.tokens: each CJK character, each other
letter/digit run): a prompt is dropped when its normalized token sequence equals an evaluation
prompt's (exact) or it shares a `decontam_ngram`-token n-gram with one (n-gram). Evaluation sets: data/eval/newsafety.jsonl and the files named by
params eval.safetybench.test, eval.responsibility.path, eval.overrefusal.path.

Outputs in data/select/: sft.json, pref.json, dataset_info.json (LLaMA-Factory), selected.jsonl
(lineage); metrics/select.json: a funnel of rows per category/source after each step, decontam counts.
"""
from __future__ import annotations

import json
import re
import shutil
import time
from pathlib import Path

import click
import duckdb
import numpy as np
import pyarrow as pa

from stages.io import InputError, clear_outputs, iter_jsonl, read_json, read_jsonl, write_json, write_metrics
from stages.params import stage_params
from stages.schemas import validate_file

SQL_DIR = Path(__file__).with_name("sql")
INPUTS = {"features": "data/score/features.jsonl", "general": "data/collect/general.jsonl",
          "newsafety": "data/eval/newsafety.jsonl"}
OUTPUTS = {"select": "data/select", "metrics": "metrics/select.json"}
PROMPT_FIELDS = ("prompt", "question", "instruction", "query")
DATASET_INFO = {
    "mseed_sft": {"file_name": "sft.json",
                  "columns": {"prompt": "instruction", "query": "input", "response": "output", "system": "system"}},
    "mseed_pref": {"file_name": "pref.json", "ranking": True,
                   "columns": {"prompt": "instruction", "query": "input", "chosen": "chosen", "rejected": "rejected"}},
}


def run_sql(con, name: str, params: dict, text: dict | None = None) -> duckdb.DuckDBPyConnection:
    """Run every statement of stages/sql/<name>.sql, each with the $parameters it names; `text`: SQL
    pieces written into the `{{name}}` places first."""
    sql = (SQL_DIR / f"{name}.sql").read_text(encoding="utf-8")
    for key, piece in (text or {}).items():
        sql = sql.replace("{{" + key + "}}", piece)
    body = "\n".join(line for line in sql.splitlines() if not line.lstrip().startswith("--"))
    result = None
    for stmt in (s.strip() for s in body.split(";")):
        if stmt:
            names = dict.fromkeys(re.findall(r"\$(\w+)", stmt))
            missing = [k for k in names if k not in params]
            if missing:
                raise KeyError(f"{name}.sql needs parameter(s) {missing} (params.yaml section 'select')")
            result = con.execute(stmt, {k: params[k] for k in names})
    return result


def _read_table(con, path: str, sql_name: str, params: dict, what: str) -> None:
    if not Path(path).is_file():
        raise InputError(path, "file not found")
    try:
        run_sql(con, sql_name, params)
    except duckdb.Error as e:
        for _ in read_jsonl(path):  # find the offending line for a precise message
            pass
        raise InputError(path, f"cannot read {what}: {str(e).splitlines()[0]}") from None


# ---- decontamination -----------------------------------------------------------------------

def eval_prompts(path) -> list[str]:
    """Prompt texts of one evaluation file (JSON list or JSONL): prompt/question/instruction/query;
    for multiple-choice records whose prompt wraps the question, meta_info.question."""
    path = Path(path)
    if path.suffix == ".json":
        data = read_json(path)
        records = list(data.values()) if isinstance(data, dict) else data
        if not isinstance(records, list):
            raise InputError(path, "expected a JSON list of records")
        rows = enumerate(records, 1)
    else:
        rows = iter_jsonl(path)
    out = []
    for i, rec in rows:
        if not isinstance(rec, dict):
            raise InputError(path, "expected a JSON object", line=i)
        meta_q = (rec.get("meta_info") or {}).get("question") if isinstance(rec.get("meta_info"), dict) else None
        value = meta_q or next((rec[k] for k in PROMPT_FIELDS if isinstance(rec.get(k), str) and rec[k].strip()), None)
        if value is None:
            raise InputError(path, f"no prompt text (one of {', '.join(PROMPT_FIELDS)})", line=i, field="prompt")
        out.append(value)
    return out


def ngram_sql(n: int) -> dict:
    """The {{pieces}} of decontam.sql for n-grams of n tokens (two halves of m = ceil(n/2) tokens)."""
    m = (n + 1) // 2
    return {"half": str(m), "half_hash": "hash(" + ", ".join(f"h[i + {j}]" for j in range(m)) + ")",
            "shift": str(n - m)}


def decontaminate(con, eval_sets: dict[str, list[str]], n: int) -> dict:
    """Table `contam(prompt, exact, evalsets)` of the prompts in `cand_text` overlapping an eval set; counts."""
    names = list(eval_sets)
    table = pa.table({"evalset": pa.array([k for k in names for _ in eval_sets[k]], pa.string()),
                      "prompt": pa.array([t for k in names for t in eval_sets[k]], pa.string())})
    con.register("eval_arrow", table)
    con.execute("CREATE OR REPLACE TEMP TABLE eval_text AS SELECT * FROM eval_arrow")
    con.unregister("eval_arrow")
    if n < 1:
        raise ValueError(f"select.decontam_ngram must be at least 1, got {n}")
    run_sql(con, "decontam", {"n": n}, ngram_sql(n))
    checked, bad, exact = con.execute(
        "SELECT (SELECT count(*) FROM cand_text), count(*), count(*) FILTER (WHERE exact) FROM contam").fetchone()
    per_set = dict.fromkeys(names, 0)
    per_set.update(dict(con.execute(
        "SELECT e, count(*) FROM (SELECT unnest(evalsets) AS e FROM contam) GROUP BY e").fetchall()))
    return {"checked": checked, "contaminated": bad, "exact": exact, "ngram": bad - exact,
            "per_eval_set": per_set, "eval_prompts": {k: len(v) for k, v in eval_sets.items()}}


# ---- stage -----------------------------------------------------------------------------------

STEPS = ["0_input", "1_valid", "2_ppl", "3_response_score", "4_instruction_score", "5_decontam",
         "6_best_per_prompt", "7_category_cap"]
GROUPS = ("category", "source", "origin", "lang")
STEP_TABLES = ("s1_valid", "s2_ppl", "s3_response", "s4_instruction", "s5_decontam", "s6_best", "s7_cap")


def _funnel(con) -> dict:
    """step -> {rows, prompts, category: {..}, source: {..}, origin: {..}, lang: {..}} (rows per group);
    a row reaching step k counts at steps 0..k (funnel.sql), groups in sorted order."""
    lines = con.execute("SELECT count(*) FROM feat_rows").fetchone()[0]
    reach = np.zeros(lines + 1, dtype=np.int64)  # index = line; k = the step tables holding the line
    for table in STEP_TABLES:
        reach += np.bincount(con.execute(f"SELECT line FROM {table}").fetchnumpy()["line"], minlength=lines + 1)
    con.register("reach", pa.table({"k": reach[1:]}))
    counts = run_sql(con, "funnel", {}).fetchall()
    con.unregister("reach")
    rows = {s: {"rows": 0, "prompts": 0, **{g: {} for g in GROUPS}} for s in STEPS}
    for k, cat, src, origin, lang, n, prompts in counts:
        for step in STEPS[: k + 1]:
            s = rows[step]
            for key, value in zip(GROUPS, (cat, src, origin, lang)):
                if value is not None:
                    s[key][value] = s[key].get(value, 0) + n
                    break
            else:
                if prompts is None:
                    s["rows"] += n
                else:
                    s["prompts"] += prompts
    return {step: {**s, **{g: dict(sorted(s[g].items())) for g in GROUPS}}
            for step, s in rows.items() if s["rows"]}


def _rows(con, sql: str) -> list[dict]:
    return con.sql(sql).to_arrow_table().to_pylist()


class _Clock:
    def __init__(self):
        self.t, self.laps = time.perf_counter(), {}

    def lap(self, name: str) -> None:
        now = time.perf_counter()
        self.laps[name] = round(now - self.t, 3)
        self.t = now


def _write_outputs(con, out_dir: Path, system: str, clock: _Clock) -> dict:
    from stages.io import atomic_path

    order = "ORDER BY split DESC, category, id"
    sft = [{"instruction": r["prompt"], "input": "", "output": r["response"], "system": system}
           for r in _rows(con, f"SELECT prompt, response FROM selected {order}")]
    pref = [{"instruction": r["prompt"], "input": "", "chosen": r["chosen"], "rejected": r["rejected"]}
            for r in _rows(con, "SELECT prompt, chosen, rejected FROM pref")]
    lineage = _rows(con, f"SELECT * EXCLUDE (prompt, response) FROM selected {order}")
    tmp_dir = out_dir.with_name(f".{out_dir.name}.tmp")
    shutil.rmtree(tmp_dir, ignore_errors=True)
    try:
        write_json(tmp_dir / "sft.json", sft, indent=None)
        write_json(tmp_dir / "pref.json", pref, indent=None)
        write_json(tmp_dir / "dataset_info.json", DATASET_INFO)
        with atomic_path(tmp_dir / "selected.jsonl") as tmp:
            with open(tmp, "w", encoding="utf-8") as f:
                f.writelines(json.dumps(r, ensure_ascii=False) + "\n" for r in lineage)
            clock.lap("write")
            validate_file(tmp, "selected", name=tmp_dir / "selected.jsonl")
            clock.lap("validate")
        shutil.rmtree(out_dir, ignore_errors=True)
        tmp_dir.rename(out_dir)
    except BaseException:
        shutil.rmtree(tmp_dir, ignore_errors=True)
        raise
    return {"sft_rows": sum(1 for r in lineage if r["split"] == "sft"),
            "general_rows": sum(1 for r in lineage if r["split"] == "general"),
            "helpful_rows": sum(1 for r in lineage if r["split"] == "helpful"), "pref_pairs": len(pref)}


def run(params: dict, inputs: dict = INPUTS, outputs: dict = OUTPUTS) -> dict:
    """params {"select": ..., "eval": {the eval sets' paths}} -> the metrics (also in outputs["metrics"])."""
    clear_outputs(outputs)
    features, general, out_dir = inputs["features"], inputs["general"], Path(outputs["select"])
    p = dict(params["select"])
    ev = params["eval"]
    eval_paths = {"newsafety": inputs["newsafety"]}
    eval_paths.update(safetybench=ev["safetybench"]["test"], responsibility=ev["responsibility"]["path"],
                      overrefusal=ev["overrefusal"]["path"])  # the keys dvc.yaml lists for select
    eval_sets = {name: eval_prompts(path) for name, path in eval_paths.items() if path}

    clock = _Clock()
    con = duckdb.connect()
    sql_params = {"features": str(features), "general": str(general), **p}
    _read_table(con, str(features), "load", sql_params, "features")
    missing = con.execute("SELECT line, field FROM feat_missing").fetchone()
    if missing:
        raise InputError(features, "missing required field", line=missing[0], field=missing[1])
    general_count = p.get("general_count")
    if general_count:
        _read_table(con, str(general), "general", sql_params, "general samples")
    else:
        con.execute("CREATE TEMP TABLE general (id VARCHAR, source VARCHAR, native_id VARCHAR, "
                    "prompt VARCHAR, response VARCHAR)")
    sql_params["helpful_count"] = int(p.get("helpful_count") or 0)
    if sql_params["helpful_count"]:
        _read_table(con, str(p.get("helpful_path")), "helpful", sql_params, "helpfulness samples")
    else:
        con.execute("CREATE TEMP TABLE helpful (id VARCHAR, source VARCHAR, native_id VARCHAR, "
                    "prompt VARCHAR, response VARCHAR)")
    clock.lap("load")
    run_sql(con, "filters", sql_params)
    clock.lap("filters")

    # decontaminate the distinct prompts that survived the feature filters, and the general pool
    con.execute("CREATE TEMP TABLE cand_text AS SELECT f.prompt FROM s4_instruction JOIN feat f USING (line) "
                "UNION SELECT prompt FROM general UNION SELECT prompt FROM helpful")
    dc = decontaminate(con, eval_sets, int(p.get("decontam_ngram") or 8))
    clock.lap("decontam")
    run_sql(con, "pick", sql_params)
    clock.lap("pick")

    counts = _write_outputs(con, out_dir, p.get("system_prompt") or "", clock)
    m = {
        **counts,
        "funnel": _funnel(con),
        "general": {"available": con.execute("SELECT count(*) FROM general").fetchone()[0],
                    "selected": counts["general_rows"]},
        "helpful": {"available": con.execute("SELECT count(*) FROM helpful").fetchone()[0],
                    "selected": counts["helpful_rows"]},
        "decontam": dc,
        "ppl_cut": {c: round(v, 4) for c, v in con.execute("SELECT category, cut FROM ppl_cut ORDER BY 1").fetchall()},
        "llm_calls": 0,
        "seconds": clock.laps,
    }
    return write_metrics(outputs["metrics"], m)


@click.command("select")
@click.option("--features", default=INPUTS["features"], show_default=True, help="Scored features JSONL.")
@click.option("--general", default=INPUTS["general"], show_default=True, help="General-instruction pool JSONL.")
@click.option("--newsafety", default=INPUTS["newsafety"], show_default=True,
              help="New-Safety evaluation set (decontamination).")
@click.option("--out-dir", default=OUTPUTS["select"], show_default=True, help="Output folder (LLaMA-Factory datasets).")
@click.option("--metrics", default=OUTPUTS["metrics"], show_default=True, help="Metrics JSON.")
def cli(features, general, newsafety, out_dir, metrics):
    """Select SFT and preference data by perplexity and safety scores (paper 3.8), no model calls."""
    m = run(stage_params("select", "eval.safetybench.test", "eval.responsibility.path", "eval.overrefusal.path"),
            {"features": features, "general": general, "newsafety": newsafety}, {"select": out_dir, "metrics": metrics})
    click.echo(f"select: {m['sft_rows']} safety + {m['general_rows']} general + {m['helpful_rows']} helpful SFT rows, {m['pref_pairs']} "
               f"preference pairs, {m['decontam']['contaminated']} contaminated prompts dropped -> {out_dir}",
               err=True)
