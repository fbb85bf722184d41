"""lm-eval's own task definitions on local files (used by eval_general).

A task file `stages/eval_tasks/general/<task>.yaml` names the official lm-evaluation-harness group or
task (`harness`, found in `lm_eval/tasks/<harness_dir>` of the installed harness) and where each of its
official splits lies under the local data path (`files`; `{subject}` is the subtask's `dataset_name`).
`prepare()` reads and checks the local files (`columns`/`fields`, `to_official`: conversion into the
official dataset's schema) and `write_configs()` writes one lm-eval YAML per task into a work dir:

- a group: the official group's name, members that reference the official subtasks by name with
  only `dataset_path: json`, `dataset_name: null` and `dataset_kwargs.data_files` overridden (lm-eval's
  own member-override mechanism), and the official group's `aggregate_metric_list`;
- a task: a YAML that `include:`s the official task YAML and overrides the same three keys;
- `inline: true` (HumanEval): a copy of the official config without the `drop` keys (its metric loads
  `code_eval` from the hub at import time), plus `overrides`.

Prompts, per-subject descriptions, few-shot split and sampler, stop strings, filters, generation
length, metrics and their aggregation all stay lm-eval's. Deviations forced by local data:
a missing optional split (gsm8k `train`) makes lm-eval draw few-shot examples from the evaluated split
(the document itself excluded); `num_fewshot` overrides the official default per task when set.
"""
from __future__ import annotations

import csv
import gzip
import hashlib
import json
from pathlib import Path

import yaml

from stages.io import InputError, atomic_open

SPEC_DIR = Path(__file__).parent / "eval_tasks" / "general"
SPLIT_KEYS = ("training_split", "validation_split", "test_split")


def harness_dir() -> Path:
    import lm_eval

    return Path(lm_eval.__file__).parent / "tasks"


def load_spec(task: str) -> dict:
    path = SPEC_DIR / f"{task}.yaml"
    if not path.is_file():
        raise InputError(path, f"no task file for general task {task!r} (have: "
                         f"{', '.join(sorted(p.stem for p in SPEC_DIR.glob('*.yaml')))})")
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def official_index(specs: dict[str, dict]) -> dict:
    """name -> lm-eval index Entry for the official folders the specs name (includes resolved)."""
    from lm_eval.tasks import TaskManager

    dirs = sorted({str(harness_dir() / s["harness_dir"]) for s in specs.values()})
    return TaskManager(include_defaults=False, include_path=dirs).task_index


def leaf_tasks(index: dict, name: str) -> list[str]:
    """The official leaf tasks of a group / tag / task, in the group's order."""
    from lm_eval.tasks._index import Kind

    e = index[name]
    if e.kind == Kind.TAG:
        return sorted(e.tags)
    if e.kind != Kind.GROUP:
        return [name]
    out = []
    for item in e.cfg["task"]:
        out += leaf_tasks(index, item if isinstance(item, str) else item.get("task") or item["group"])
    return out


def _open(path: Path):
    return gzip.open(path, "rt", encoding="utf-8") if path.suffix == ".gz" else open(path, encoding="utf-8")


def read_rows(path: Path, spec: dict, subject: str | None) -> list[dict]:
    """Rows of one local file in the official dataset's schema (every CSV value kept as text)."""
    rows = []
    with _open(path) as f:
        if ".csv" in path.suffixes:
            reader = csv.DictReader(f)
            missing = [c for c in spec.get("columns", []) if c not in (reader.fieldnames or [])]
            if missing:
                raise InputError(path, f"missing column(s) {missing}; expected header {spec['columns']}")
            for i, r in enumerate(reader, 2):
                if None in r or any(r[c] is None for c in spec.get("columns", [])):
                    raise InputError(path, "wrong number of fields", line=i)
                rows.append({k: v for k, v in r.items() if k})  # unnamed index column dropped
        else:
            for i, line in enumerate(f, 1):
                if not line.strip():
                    continue
                try:
                    r = json.loads(line)
                except json.JSONDecodeError as e:
                    raise InputError(path, f"invalid JSON: {e.msg}", line=i) from None
                for field in spec.get("fields", []):
                    if not isinstance(r, dict) or not isinstance(r.get(field), str):
                        raise InputError(path, "missing or not a string", line=i, field=field)
                rows.append(r)
    convert = spec.get("to_official")
    if convert == "mmlu":  # reformatted copy (choice0..3, answer 0-3) -> cais/mmlu {question, subject, choices, answer}
        out = []
        for i, r in enumerate(rows, 2):
            if r["answer"].strip() not in ("0", "1", "2", "3"):
                raise InputError(path, f"answer must be 0-3, got {r['answer']!r}", line=i, field="answer")
            out.append({"question": r["question"], "subject": subject,
                        "choices": [r[f"choice{k}"] for k in range(4)], "answer": int(r["answer"])})
        rows = out
    elif convert:
        raise InputError(SPEC_DIR / f"{spec['harness']}.yaml", f"unknown to_official {convert!r}")
    return rows


def prepare(task: str, spec: dict, data_path: str, index: dict) -> dict:
    """{subtask: {"eval_split", "rows": {split: rows}, "files": {split: source path}}} for every official subtask
    whose eval-split file exists locally; errors name the files that are missing or malformed."""
    root = Path(data_path)
    if spec["harness"] not in index:
        raise InputError(SPEC_DIR / f"{task}.yaml", f"lm-eval {_version()} has no task {spec['harness']!r}")
    subtasks = {}
    for sub in leaf_tasks(index, spec["harness"]):
        cfg = index[sub].cfg
        ev_split = eval_split(cfg)
        found = {}
        for split, pattern in spec["files"].items():
            p = root if root.is_file() else root / pattern.format(subject=cfg.get("dataset_name"))
            if root.is_file() and split != ev_split:
                p = root.parent / Path(pattern).name  # e.g. train.jsonl beside the given test file
            if p.is_file():
                found[split] = p
        if ev_split in found:
            rows = {s: read_rows(p, spec, cfg.get("dataset_name")) for s, p in found.items()}
            keys = dict.fromkeys(k for rs in rows.values() for r in rs for k in r)  # one schema for all splits
            rows = {s: [{k: r.get(k, "") for k in keys} for r in rs] for s, rs in rows.items()}  # (C-Eval dev: explanation)
            subtasks[sub] = {"eval_split": ev_split, "files": found, "rows": rows}
    if not subtasks:
        raise InputError(data_path, f"no local files for lm-eval task {spec['harness']!r} "
                         f"(expected e.g. {spec['files']})")
    return subtasks


def eval_split(cfg: dict) -> str:
    return cfg.get("test_split") or cfg.get("validation_split")


def data_overrides(spec: dict, cfg: dict, local: dict, shots: int | None, store: Path) -> dict:
    """The keys of one official subtask config that change: where the data comes from (+ num_fewshot).
    Converted files go to `store` under a content hash (stable paths, so the datasets cache is reused)."""
    files, over = {}, {"dataset_path": "json", "dataset_name": None}
    for split, rows in local["rows"].items():
        src = local["files"][split]
        if ".csv" in src.suffixes or spec.get("to_official"):
            blob = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows)
            dest = store / f"{cfg['task']}.{split}.{hashlib.sha256(blob.encode()).hexdigest()[:12]}.jsonl"
            if not dest.exists():
                with atomic_open(dest) as f:
                    f.write(blob)
            files[split] = str(dest)
        else:
            files[split] = str(src.resolve())
    over["dataset_kwargs"] = {"data_files": files}
    n = int(shots if shots is not None else cfg.get("num_fewshot") or 0)
    if shots is not None:
        over["num_fewshot"] = n
    for key in SPLIT_KEYS:  # an official split we have no file for (gsm8k train)
        if cfg.get(key) and cfg[key] not in files:
            over[key] = None
    fs = cfg.get("fewshot_split")
    if fs and fs not in files:
        if n > 0 and fs not in spec.get("optional", []):
            raise InputError(local["files"][eval_split(cfg)].parent,
                             f"{n}-shot {cfg['task']} needs its {fs!r} split ({spec['files'].get(fs)})")
        over["fewshot_split"] = eval_split(cfg)  # lm-eval then leaves the evaluated document out
    return over


def write_configs(task: str, spec: dict, index: dict, local: dict, shots: int | None, work: Path,
                  store: Path) -> tuple[str, dict]:
    """Write the lm-eval YAML of `task` (only the subtasks in `local`) into `work`; returns
    (name to pass to lm-eval, {subtask: fewshot split used})."""
    name = spec["harness"]
    entry = index[name]
    used = {}
    if spec.get("inline"):
        from lm_eval.tasks._yaml_loader import load_yaml

        cfg = {k: v for k, v in load_yaml(entry.yaml_path, resolve_func=False).items() if k not in spec.get("drop", [])}
        cfg.update(spec.get("overrides", {}))
        cfg.update(data_overrides(spec, cfg, local[name], shots, store))
        used[name] = cfg.get("fewshot_split")
        doc = cfg
    elif entry.kind.name == "GROUP":
        members = []
        for sub in local:
            over = data_overrides(spec, index[sub].cfg, local[sub], shots, store)
            used[sub] = over.get("fewshot_split", index[sub].cfg.get("fewshot_split"))
            members.append({"task": sub, **over})
        doc = {"group": name, "task": members, "aggregate_metric_list": entry.cfg.get("aggregate_metric_list"),
               "metadata": entry.cfg.get("metadata")}
    else:
        over = data_overrides(spec, entry.cfg, local[name], shots, store)
        used[name] = over.get("fewshot_split", entry.cfg.get("fewshot_split"))
        doc = {"include": str(entry.yaml_path), "task": name, **over}
    with atomic_open(work / f"{task}.yaml") as f:
        yaml.safe_dump(doc, f, allow_unicode=True, sort_keys=False)
    return name, used


def _version() -> str:
    import lm_eval

    return getattr(lm_eval, "__version__", "?")


def task_manager(specs: dict[str, dict], work: Path):
    """A TaskManager over the official folders plus our configs in `work` (ours win by name)."""
    from lm_eval.tasks import TaskManager

    dirs = sorted({str(harness_dir() / s["harness_dir"]) for s in specs.values()}) + [str(work)]
    return TaskManager(include_defaults=False, include_path=dirs)

