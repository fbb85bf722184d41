"""dvc.yaml declares what every stage reads (tests/dvc_static.py), and DVC acts on it."""
import contextlib
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tests.dvc_static import ROOT, check, module_reads

HF_USERS = {"label", "augment", "regenerate", "score"} | {
    f"{s}@{m}" for s in ("eval_safetybench", "eval_newsafety", "eval_responsibility", "eval_overrefusal",
                         "eval_general") for m in ("base", "sft")}
NOT_HF = {"base_model", "collect", "select", "train", "report", "build_newsafety"}


def test_every_stage_declares_what_it_reads():
    problems = check()
    assert not problems, "dvc.yaml is out of step with the code:\n" + "\n".join(problems)


def copy_repo(dst: Path) -> Path:
    for name in ("dvc.yaml", "params.yaml"):
        shutil.copy2(ROOT / name, dst / name)
    for name in ("stages", "prompts", "data/sample", "data/review"):
        shutil.copytree(ROOT / name, dst / name, ignore=shutil.ignore_patterns("__pycache__", "queue"))
    subprocess.run(["git", "init", "-q"], cwd=dst, check=True)
    subprocess.run([sys.executable, "-m", "dvc", "init", "-q"], cwd=dst, check=True)
    shutil.copy2(ROOT / ".dvc" / "config", dst / ".dvc" / "config")
    return dst


def edit_yaml(path: Path, fn) -> None:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    fn(data)
    path.write_text(yaml.safe_dump(data, sort_keys=False, allow_unicode=True), encoding="utf-8")


def test_check_names_stage_key_and_fix(tmp_path):
    repo = copy_repo(tmp_path)

    def drop_deps(d):
        st = d["stages"]
        st["label"]["deps"].remove("stages/llm")
        st["label"]["params"].remove("roles.labeler")
        st["eval_general"]["do"]["deps"].remove("${eval.general.data.gsm8k}")
        st["select"]["params"].remove("eval.overrefusal.path")

    edit_yaml(repo / "dvc.yaml", drop_deps)
    problems = "\n".join(check(repo))
    assert "label: imports stages/llm/hf.py (via stages.label), not a dep: add stages/llm/hf.py" in problems
    assert "label: stages/label.py:" in problems and "reads params roles.labeler, not in its params: add " \
                                                       "roles.labeler to `params:`" in problems
    assert "eval_general@base: stages/eval_general.py:" in problems
    assert "names data/sample/general_eval/gsm8k, not a dep" in problems
    assert "select: stages/select.py:" in problems and "add eval.overrefusal.path to `params:`" in problems
    assert "collect" not in problems and "train" not in problems


def test_reads_are_followed_through_names_get_and_defaults(tmp_path):
    mod = tmp_path / "stages" / "x.py"
    mod.parent.mkdir()
    mod.write_text("from stages.params import section\n"
                   "def f(g):\n"
                   "    ev = section('eval')\n"
                   "    cfg, gen = ev['general'], ev['generation']\n"
                   "    g(cfg.get('max_gen_tokens', 128))\n"
                   "    for src in cfg['sources']:\n"
                   "        g(src['path'])\n"
                   "    return list(ev['models']), gen\n")
    reads, defaults = module_reads("stages/x.py", tmp_path)
    assert {k: v[0] for k, v in reads.items()} == {
        "eval.general.max_gen_tokens": "value", "eval.general.sources": "value",
        "eval.general.sources.path": "value", "eval.models": "keys", "eval.generation": "value"}
    assert defaults == [("eval.general.max_gen_tokens", 128, 5)]


def _commit(repo) -> None:
    from dvc.repo import Repo

    with contextlib.chdir(repo), Repo(str(repo)) as r:
        r.commit(None, force=True)


def _stale(repo) -> set[str]:
    """Stage names `dvc status` lists (the DVC API in this process: a dvc subprocess takes seconds)."""
    from dvc.repo import Repo

    with contextlib.chdir(repo), Repo(str(repo)) as r:
        return set(r.status())


def _touch_outs(repo):
    """Stand-in artifacts where the outputs would be, so `dvc commit` can record every stage's deps."""
    from dvc.repo import Repo

    with Repo(str(repo)) as r:
        outs = [o.def_path for s in r.index.stages for o in s.outs]
    for o in outs:
        p = repo / o
        if Path(o).suffix:
            p.parent.mkdir(parents=True, exist_ok=True)
            p.write_text("{}\n")
        else:
            p.mkdir(parents=True, exist_ok=True)
            (p / "placeholder").write_text("x\n")


@pytest.mark.slow
def test_dvc_status_lists_exactly_the_stages_that_read_a_file(tmp_path):
    repo = copy_repo(tmp_path)
    raw = repo / "data" / "raw"
    raw.mkdir()
    shutil.copy2(repo / "data/sample/general_eval/gsm8k/test.jsonl", raw / "gsm8k.jsonl")
    shutil.copy2(repo / "data/sample/safety_prompts/typical_safety_scenarios.json", raw / "typical.json")

    def point(p):
        p["eval"]["general"]["data"]["gsm8k"] = "data/raw/gsm8k.jsonl"
        p["collect"]["sources"][0]["path"] = "data/raw/typical.json"

    edit_yaml(repo / "params.yaml", point)
    _touch_outs(repo)
    _commit(repo)
    assert _stale(repo) == set()

    for path, readers in ((raw / "gsm8k.jsonl", {"eval_general@base", "eval_general@sft"}),
                          (raw / "typical.json", {"collect"})):
        before = path.read_bytes()
        path.write_bytes(before + b"\n")
        assert _stale(repo) == readers, path
        path.write_bytes(before)  # back to the committed content

    # the sample files these keys named before are read by no stage now
    for old in ("data/sample/general_eval/gsm8k/test.jsonl", "data/sample/safety_prompts/typical_safety_scenarios.json"):
        with open(repo / old, "a", encoding="utf-8") as f:
            f.write("\n")
    assert _stale(repo) == set()

    with open(repo / "stages/llm/hf.py", "a", encoding="utf-8") as f:
        f.write("# edited\n")
    stale = _stale(repo)
    assert HF_USERS <= stale and not stale & NOT_HF
