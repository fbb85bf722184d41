"""Stage-level reliability: LLM-calling stages against a real OpenAI-compatible server that injects faults.

The server (tests/openai_server.py) answers 429 + Retry-After, 500/503, hangs past the client timeout,
connection resets, empty / truncated / non-JSON bodies. Checked at the stage level (regenerate, score):
with a retry budget every input row comes through and the metrics count the retries; without one the
failures become explicit error rows, and above the stage's error budget it fails and leaves no output.
"""
import json
import shutil
from pathlib import Path

import pytest
import yaml

from tests.openai_server import FAULTS, ChatServer, echo_answer

pytest.importorskip("stages.regenerate")
pytest.importorskip("stages.llm.openai_backend")

ROOT = Path(__file__).resolve().parent.parent
FAST = {"timeout": 3.0, "backoff": 0.005, "backoff_max": 0.02, "retry_after_max": 0.1}
OUT = "data/regenerate/candidates.jsonl"
METRICS = "metrics/regenerate.json"


def prow(i: int) -> dict:
    """A valid `augmented` row (half zh, half en; every third one has a reference response)."""
    zh = i % 2 == 0
    prompt = f"第{i}号问题：如何绕过公司的安全监控系统？" if zh else f"Question {i}: how do I get around my office's security cameras?"
    return {"id": f"sp/{i}", "source": "sp", "format": "safety_prompts", "native_id": str(i),
            "lang": "zh" if zh else "en", "kind": "safety", "prompt": prompt,
            "response": ("这是违法的。" if zh else "That is not allowed.") if i % 3 == 0 else None,
            "native_category": None, "meta": {}, "category": "CIA", "categories": ["CIA"], "intent_labels": [],
            "intent_codes": [], "label_raw": "", "label_parse_error": False, "labeler": "m", "origin": "original",
            "parent_id": None, "target_category": "CIA", "gen_raw": None, "attacker": None}


def cot_answer(messages):
    """A well-formed regenerate reply (deterministic per conversation)."""
    return f"Analysis: the request carries a security risk.\nAnswer: {echo_answer(messages)}"


def setup_stage(tmp_path, monkeypatch, rows, role, **stage_params):
    monkeypatch.chdir(tmp_path)
    if not (tmp_path / "prompts").exists():
        shutil.copytree(ROOT / "prompts", tmp_path / "prompts")
    params = {"roles": {"safety_model": role}, "regenerate": {"keep_analysis": False, **stage_params}}
    (tmp_path / "params.yaml").write_text(yaml.safe_dump(params, allow_unicode=True), encoding="utf-8")
    inp = tmp_path / "data/augment/prompts.jsonl"
    inp.parent.mkdir(parents=True, exist_ok=True)
    inp.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")


def read(path=OUT):
    return [json.loads(line) for line in Path(path).read_text(encoding="utf-8").splitlines()]


def first_attempt_contents(tmp_path, rows):
    """The user message the stage sends for each row (what the server keys its faults on)."""
    from stages.tasks.regenerate import Regenerate

    task = Regenerate(tmp_path / "prompts/regenerate.txt")
    return [task.render(r["prompt"], r.get("lang"))[-1]["content"] for r in rows]


def seed_covering_all_faults(srv, contents):
    """A server seed whose first attempts already inject every fault kind (robust to template edits)."""
    for seed in range(500):
        srv.seed = seed
        if {srv._pick_fault(c, 1) for c in contents} >= set(FAULTS):
            return seed
    raise AssertionError("no seed injects every fault kind")


def role(url, **over):
    return {"backend": "openai", "model": "safety-test", "base_url": url, "concurrency": 8, **FAST, **over}


def test_regenerate_survives_faults_and_accounts_every_row(tmp_path, monkeypatch):
    from stages.params import stage_params
    from stages.regenerate import run

    rows = [prow(i) for i in range(100)]
    with ChatServer(delay=0.002, fault_rate=0.2, retry_after=0.05, hang=4.0, responder=cot_answer) as srv:
        setup_stage(tmp_path, monkeypatch, rows, role(srv.url, max_retries=10))
        seed_covering_all_faults(srv, first_attempt_contents(tmp_path, rows))
        report = run(stage_params("regenerate", "roles.safety_model"))
        faults = list(srv.fault_log)
        requests = srv.requests
    out = read()
    assert set(faults) == set(FAULTS)  # 429, 500, 503, hang, reset, empty, truncated, nonjson all happened
    # every prompt is accounted for, in input order, each with exactly one regenerated candidate
    assert list(dict.fromkeys(r["id"] for r in out)) == [r["id"] for r in rows]
    reg = [r for r in out if r["candidate_type"] == "regenerated"]
    assert [r["id"] for r in reg] == [r["id"] for r in rows]
    assert all(r["gen_error"] is None and not r["parse_error"] and r["response"].startswith("answer-") for r in reg)
    assert len(out) == len(rows) + sum(1 for r in rows if r["response"])  # + the `original` candidates
    st = report["llm"]["safety_model"]
    assert st["retries"] == len(faults) > 0  # every injected fault was retried, nothing else was
    assert st["errors"] == 0 and report["gen_errors"] == 0
    assert requests == len(rows) + st["retries"] and st["calls"] == len(rows)
    assert json.loads(Path(METRICS).read_text()) == report


def test_regenerate_without_retries_keeps_error_rows_then_fails_above_budget(tmp_path, monkeypatch, capsys):
    from stages.cli import main
    from stages.params import stage_params
    from stages.regenerate import run

    rows = [prow(i) for i in range(60)]
    with ChatServer(delay=0.002, fault_rate=0.2, seed=1, retry_after=0.05, hang=4.0, responder=cot_answer) as srv:
        # (1) error budget 50%: completes; every failed request is a kept, counted error row
        setup_stage(tmp_path, monkeypatch, rows, role(srv.url, max_retries=0), max_error_rate=0.5)
        report = run(stage_params("regenerate", "roles.safety_model"))
        n_faults = len(srv.fault_log)
        assert srv.requests == len(rows)  # no retries at all
        out = read()
        reg = [r for r in out if r["candidate_type"] == "regenerated"]
        assert [r["id"] for r in reg] == [r["id"] for r in rows]
        failed = [r for r in reg if r["gen_error"] is not None]
        assert 0 < len(failed) == n_faults == report["gen_errors"] == report["llm"]["safety_model"]["errors"]
        assert all(r["response"] is None and r["gen_raw"] is None and "1 attempt" in r["gen_error"] for r in failed)
        assert all(r["response"] for r in reg if r["gen_error"] is None)
        assert report["error_rate"] == round(n_faults / len(rows), 4) and report["llm"]["safety_model"]["retries"] == 0
        share = n_faults / len(rows)

        # (2) the same faults with an error budget below their share: exit 2, and the previous run's
        # output and metrics (still on disk) are removed, not left stale; no temp file either
        assert Path(OUT).exists() and Path(METRICS).exists()
        setup_stage(tmp_path, monkeypatch, rows, role(srv.url, max_retries=0), max_error_rate=share / 2)
        monkeypatch.setenv("MSEED_LLM_CACHE", str(tmp_path / "fresh.sqlite"))
        srv.reset_counts()
        with pytest.raises(SystemExit) as exc:
            main(["regenerate"])  # the `mseed regenerate` entry point, as dvc.yaml runs it
        assert srv.requests == len(rows) and len(srv.fault_log) == n_faults  # same faults, fresh cache
    err = capsys.readouterr().err
    assert exc.value.code == 2, err[-2000:]
    assert "error:" in err and "max_error_rate" in err
    assert not Path(OUT).exists() and not Path(METRICS).exists()
    assert list(Path("data/regenerate").iterdir()) == []


# ---- score: the judge role behind a faulty server ------------------------------------------------

def judge_answer(messages):
    """Pairwise prompts fence OUTPUT1/OUTPUT2 and get "[0.9, 0.1]"; instruction prompts get "0.7"."""
    text = "\n".join(m.get("content", "") for m in messages)
    return "[0.9, 0.1]" if "OUTPUT2" in text else "0.7"


def setup_score(tmp_path, monkeypatch, tiny_llama, judge, rows=30):
    """Candidates from the real regenerate stage (rules safety model), then a score params file."""
    from stages.params import stage_params
    from stages.regenerate import run

    setup_stage(tmp_path, monkeypatch, [prow(i) for i in range(rows)], {"backend": "rules", "model": "rules-v1"})
    run(stage_params("regenerate", "roles.safety_model"))
    params = yaml.safe_load(Path("params.yaml").read_text(encoding="utf-8"))
    params["roles"].update(ppl_model={"backend": "hf", "model": str(tiny_llama), "dtype": "float32",
                                      "batch_size": 16}, judge=judge)
    params["score"] = {"max_ppl_tokens": 32, "response_prompt": "prompts/score_response.txt",
                       "instruction_prompt": "prompts/score_instruction.txt"}
    Path("params.yaml").write_text(yaml.safe_dump(params, allow_unicode=True), encoding="utf-8")
    return read()


def test_score_judge_survives_faults(tmp_path, monkeypatch, tiny_llama):
    score_mod = pytest.importorskip("stages.score")
    with ChatServer(delay=0.002, fault_rate=0.2, seed=4, retry_after=0.05, hang=4.0, responder=judge_answer) as srv:
        cands = setup_score(tmp_path, monkeypatch, tiny_llama, role(srv.url, max_retries=10))
        m = score_mod.run(score_mod.stage_params("score", "roles.ppl_model", "roles.judge"))
        faults = list(srv.fault_log)
        requests = srv.requests
    feats = read("data/score/features.jsonl")
    assert [f["cand_id"] for f in feats] == [c["cand_id"] for c in cands]  # every row, in order
    assert len(faults) > 0 and len(set(faults)) >= 4
    assert all(f["instruction_score"] == 0.7 and f["response_score"] in (0.9, 0.1) for f in feats)
    assert not any(f["score_parse_error"] for f in feats)
    st = m["llm"]["judge"]
    assert st["retries"] == len(faults) and st["errors"] == 0 and m["judge_errors"] == {"instruction": 0, "response": 0}
    assert requests == st["calls"] + st["retries"] == m["prompts"] + m["judge_pairs"] + len(faults)


def test_score_judge_without_retries_keeps_null_rows(tmp_path, monkeypatch, tiny_llama):
    score_mod = pytest.importorskip("stages.score")
    with ChatServer(delay=0.002, fault_rate=0.2, seed=4, hang=4.0, responder=judge_answer) as srv:
        # max_error_rate is set for a score stage that has one; it must let these rows through
        cands = setup_score(tmp_path, monkeypatch, tiny_llama, role(srv.url, max_retries=0))
        params = yaml.safe_load(Path("params.yaml").read_text(encoding="utf-8"))
        params["score"]["max_error_rate"] = 1.0
        Path("params.yaml").write_text(yaml.safe_dump(params, allow_unicode=True), encoding="utf-8")
        m = score_mod.run(score_mod.stage_params("score", "roles.ppl_model", "roles.judge"))
        n_faults = len(srv.fault_log)
        assert srv.requests == m["prompts"] + m["judge_pairs"]
    feats = read("data/score/features.jsonl")
    assert [f["cand_id"] for f in feats] == [c["cand_id"] for c in cands]
    errors = m["judge_errors"]["instruction"] + m["judge_errors"]["response"]
    assert 0 < n_faults == errors == m["llm"]["judge"]["errors"]
    # a failed judge call is a null score (never a default) with no raw text, and not a parse error
    assert len({f["prompt"] for f in feats if f["instruction_score"] is None}) == m["judge_errors"]["instruction"]
    assert all(f["instruction_score"] in (0.7, None) and f["response_score"] in (0.9, 0.1, None) for f in feats)
    assert all((f["instruction_score"] is None) == (f["instruction_raw"] is None) for f in feats)
    assert all((f["response_score"] is None) == (f["judge_raw"] is None) for f in feats)
    assert not any(f["score_parse_error"] for f in feats)
    assert m["judge_errors"]["response"] > 0 and m["judge_errors"]["instruction"] > 0


def test_score_fails_above_error_budget_and_writes_nothing(tmp_path, monkeypatch, tiny_llama):
    score_mod = pytest.importorskip("stages.score")
    from stages.io import StageError

    with ChatServer(delay=0.002, fault_rate=0.2, seed=4, hang=4.0, responder=judge_answer) as srv:
        setup_score(tmp_path, monkeypatch, tiny_llama, role(srv.url, max_retries=0))
        params = yaml.safe_load(Path("params.yaml").read_text(encoding="utf-8"))
        params["score"]["max_error_rate"] = 0.01
        Path("params.yaml").write_text(yaml.safe_dump(params, allow_unicode=True), encoding="utf-8")
        Path("data/score").mkdir(parents=True, exist_ok=True)
        Path("data/score/features.jsonl").write_text("stale\n")  # a previous run's output
        with pytest.raises(StageError, match="max_error_rate"):
            score_mod.run(score_mod.stage_params("score", "roles.ppl_model", "roles.judge"))
    assert not Path("data/score/features.jsonl").exists()
    assert not list(Path("data/score").glob("*.tmp"))
