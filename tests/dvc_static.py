"""Static check of dvc.yaml against the stage code: what each stage reads is declared.

For every stage DVC resolves from dvc.yaml (foreach entries included):
  (a) every path-valued param the stage reads (a string under a key it reads, naming a file or folder)
      is inside one of its deps;
  (b) every module under stages/ it imports, transitively (and every non-Python file under stages/
      that module names, e.g. taxonomy.yaml, sql/), is inside one of its deps;
  (c) every params key it reads is covered by its `params:` entry, exists in params.yaml, and a
      literal `.get(key, default)` in the code agrees with params.yaml (one default, in params.yaml).
What a stage "reads" is found in the source: `section("x")`, `role("x")`, `get_llm("x")`,
`role_llm(params, "x")` and `load_params()` / `stage_params(...)` results, the `params` argument of a
stage's `run(params, inputs, outputs)`, followed through names, `["key"]`, `.get("key")`, `or`, `dict()` and
for-loops; a value passed on whole (to a function, a loop over keys excepted) counts as read whole.
The entry point stages/cli.py and the package marker stages/__init__.py are not counted as code deps.
`python -m tests.dvc_static` prints the problems; tests/test_dvc_yaml.py fails on any.
"""
from __future__ import annotations

import ast
import os
import re
import sys
from functools import lru_cache
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
ENTRY = {"stages/cli.py", "stages/__init__.py"}
ACCESSOR = "stages/params.py"  # reads what its callers ask for: section("x") is counted at the call
PATH_PREFIXES = ("data/", "models/", "prompts/", "stages/", "metrics/")
MODULE_STR = re.compile(r"^(stages(?:\.\w+)+)(?::\w+)?$")
KEY_ONLY = {"list", "sorted", "len", "set"}
MISSING = object()


def module_file(name: str, root: Path = ROOT) -> str | None:
    base = name.replace(".", "/")
    for rel in (f"{base}.py", f"{base}/__init__.py"):
        if (root / rel).is_file():
            return rel
    return None


def _module_imports(rel: str, root: Path) -> set[str]:
    """stages.* module names imported anywhere in the file (module level and inside functions)."""
    tree = ast.parse((root / rel).read_text(encoding="utf-8"))
    pkg = rel[:-3].replace("/", ".").removesuffix(".__init__")
    if not rel.endswith("__init__.py"):
        pkg = pkg.rpartition(".")[0]
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                base = ".".join(pkg.split(".")[: len(pkg.split(".")) - node.level + 1] + ([base] if base else []))
            names.add(base)
            names |= {f"{base}.{a.name}" for a in node.names}
        elif isinstance(node, ast.Constant) and isinstance(node.value, str) and MODULE_STR.match(node.value):
            names.add(MODULE_STR.match(node.value).group(1))  # importlib.import_module("stages.llm.hf")
    out = set()
    for n in names:
        if n == "stages" or n.startswith("stages."):
            parts = n.split(".")
            out |= {".".join(parts[:i]) for i in range(2, len(parts) + 1)}  # parent packages run too
    return {n for n in out if module_file(n, root)}


def imported_files(module: str, root: Path = ROOT) -> list[str]:
    """Files of `module` and every stages.* module it imports, transitively."""
    seen, todo = set(), [module]
    while todo:
        rel = module_file(todo.pop(), root)
        if rel is None or rel in seen:
            continue
        seen.add(rel)
        todo += sorted(_module_imports(rel, root))
    return sorted(seen - ENTRY)


def resources_named(rel: str, root: Path = ROOT) -> set[str]:
    """Non-Python files/folders next to the module (under stages/) whose name the module spells out."""
    folder = (root / rel).parent
    here = {p.name: p.relative_to(root).as_posix() for p in folder.iterdir()
            if p.suffix != ".py" and p.name != "__pycache__" and not p.name.endswith(".md")
            and not (p.is_dir() and all(q.suffix == ".py" for q in p.rglob("*") if q.is_file() and "__pycache__" not in q.parts))}  # code: as modules
    strings = {n.value for n in ast.walk(ast.parse((root / rel).read_text(encoding="utf-8")))
               if isinstance(n, ast.Constant) and isinstance(n.value, str)}
    return {path for name, path in here.items() if any(s == name or s.startswith(name + "/") for s in strings)}


# ---- params reads ----

class _Reads(ast.NodeVisitor):
    """Collects params paths read in one module: {path: kind}, kind 'value' or 'keys'; defaults."""

    def __init__(self):
        self.reads: dict[str, tuple[str, int]] = {}
        self.defaults: list[tuple[str, object, int]] = []
        self.env: list[dict[str, str]] = [{}]

    def track(self, node) -> str | None:
        if isinstance(node, ast.Name):
            for scope in reversed(self.env):
                if node.id in scope:
                    return scope[node.id]
            return None
        if isinstance(node, ast.Call):
            f = node.func
            fname = f.id if isinstance(f, ast.Name) else f.attr if isinstance(f, ast.Attribute) else None
            arg0 = node.args[0] if node.args else None
            const = arg0.value if isinstance(arg0, ast.Constant) and isinstance(arg0.value, str) else None
            if fname == "section" and const:
                return const
            if fname in ("role", "read_role", "get_llm") and const:
                return f"roles.{const}"
            arg1 = node.args[1] if len(node.args) > 1 else None
            if fname == "role_llm" and isinstance(arg1, ast.Constant) and isinstance(arg1.value, str):
                return f"roles.{arg1.value}"
            if fname in ("load_params", "stage_params"):
                return ""
            if fname == "dict" and arg0 is not None and len(node.args) == 1:
                return self.track(arg0)
            if isinstance(f, ast.Attribute) and f.attr == "get" and const:
                base = self.track(f.value)
                if base is not None:
                    return _join(base, const)
            return None
        if isinstance(node, ast.Subscript):
            base = self.track(node.value)
            if base is None:
                return None
            s = node.slice
            if isinstance(s, ast.Constant) and isinstance(s.value, str):
                return _join(base, s.value)
            if isinstance(s, ast.Constant) and isinstance(s.value, int):
                return base  # a list element: lists are transparent in paths
            return None  # a computed key: the base is read whole (recorded by the visitor)
        if isinstance(node, ast.BoolOp):
            for v in node.values:
                t = self.track(v)
                if t is not None:
                    return t
        return None

    def read(self, path: str, kind: str = "value", line: int = 0) -> None:
        if path == "":
            return
        if path not in self.reads or self.reads[path][0] != "value":
            self.reads[path] = (kind, line)

    def generic_visit(self, node):
        # Record tracked expressions used whole, i.e. not merely descended into or bound to a name.
        for child in ast.iter_child_nodes(node):
            self._visit_child(node, child)

    def _visit_child(self, parent, child):
        t = self.track(child) if isinstance(child, ast.expr) else None
        if t is None:
            self.visit(child)
            return
        if isinstance(parent, ast.Subscript) and parent.value is child and self.track(parent) is not None:
            pass  # the parent expression records the deeper path
        elif isinstance(parent, ast.Call) and isinstance(parent.func, ast.Name) and \
                parent.func.id in KEY_ONLY and child in parent.args:
            self.read(t, "keys", child.lineno)
        elif isinstance(parent, ast.Attribute) and parent.value is child and parent.attr == "keys":
            self.read(t, "keys", child.lineno)
        else:
            self.read(t, "value", child.lineno)
        self._visit_inside(child, t)

    def _visit_inside(self, node, path):
        """The parts of a tracked expression that are not the tracked chain itself (e.g. a default)."""
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "get":
            if len(node.args) > 1 and isinstance(node.args[1], ast.Constant):
                self.defaults.append((path, node.args[1].value, node.lineno))
            for a in node.args[1:] + [k.value for k in node.keywords]:
                self._visit_child(node, a)
        elif isinstance(node, ast.Call):
            for a in node.args[1:] + [k.value for k in node.keywords]:
                self._visit_child(node, a)
        elif isinstance(node, ast.BoolOp):
            for v in node.values:
                self._visit_child(node, v)

    def _bind(self, target, value_path):
        if isinstance(target, ast.Name) and value_path is not None:
            self.env[-1][target.id] = value_path
        elif isinstance(target, ast.Name):
            self.env[-1].pop(target.id, None)

    def visit_Assign(self, node):
        value = node.value
        for target in node.targets:
            if isinstance(target, ast.Tuple) and isinstance(value, ast.Tuple) and len(target.elts) == len(value.elts):
                for t, v in zip(target.elts, value.elts, strict=True):
                    self._bind(t, self.track(v))
            else:
                self._bind(target, self.track(value))
        if self.track(value) is None:
            if isinstance(value, ast.Tuple):
                for v in value.elts:
                    if self.track(v) is None:
                        self._visit_child(node, v)
                    else:  # bound to a name: the read is recorded where the name is used
                        self._visit_inside(v, self.track(v))
            else:
                self._visit_child(node, value)
        else:
            self._visit_inside(value, self.track(value))

    def visit_For(self, node):
        t = self.track(node.iter)
        if t is not None:
            self.read(t, "value", node.lineno)
            self._bind(node.target, t)
        else:
            self._visit_child(node, node.iter)
        for stmt in node.body + node.orelse:
            self.visit(stmt)

    def visit_FunctionDef(self, node):
        # a stage's `run(params, inputs, outputs)`: `params` is the params file's top level
        args = [a.arg for a in node.args.args]
        self.env.append({"params": ""} if node.name == "run" and args[:1] == ["params"] else {})
        for stmt in node.body:
            self.visit(stmt)
        self.env.pop()

    visit_AsyncFunctionDef = visit_FunctionDef


def _join(base: str, key: str) -> str:
    return f"{base}.{key}" if base else key


@lru_cache(maxsize=None)
def module_reads(rel: str, root: Path = ROOT) -> tuple[dict[str, str], list]:
    v = _Reads()
    v.visit(ast.parse((root / rel).read_text(encoding="utf-8")))
    return v.reads, v.defaults


def lookup(params, path: str):
    """Values at a dotted path; lists are transparent (one value per element)."""
    values = [params]
    for key in path.split(".") if path else []:
        nxt = []
        for val in values:
            for item in (val if isinstance(val, list) else [val]):
                if isinstance(item, dict) and key in item:
                    nxt.append(item[key])
        values = nxt
    return values


def leaves(value):
    if isinstance(value, dict):
        for v in value.values():
            yield from leaves(v)
    elif isinstance(value, list):
        for v in value:
            yield from leaves(v)
    elif isinstance(value, str):
        yield value


def is_path(s: str, root: Path = ROOT) -> bool:
    if not s or "\n" in s or ":" in s.split("/")[0]:
        return False
    return s.startswith(PATH_PREFIXES) or os.path.isabs(s) and os.path.exists(s) or (root / s).exists()


def inside(path: str, deps: list[str]) -> bool:
    p = os.path.normpath(path)
    return any(p == d or p.startswith(d.rstrip("/") + "/") for d in deps)


def covered(key: str, declared: list[str]) -> bool:
    return any(key == d or key.startswith(d + ".") for d in declared)


def stage_module(cmd: str) -> str | None:
    m = re.match(r"python -m stages\.cli ([\w-]+)", cmd or "")
    if not m:
        return None
    from stages.cli import COMMANDS

    return COMMANDS[m.group(1)][0] if m.group(1) in COMMANDS else None


def check(root: Path = ROOT) -> list[str]:
    """Every problem found, one line each: `stage: what: fix`."""
    from dvc.repo import Repo

    from stages.params import load_params

    params = load_params(root / "params.yaml")
    problems = []
    with Repo(str(root)) as repo:
        stages = list(repo.index.stages)
    for st in stages:
        name = st.addressing
        module = stage_module(st.cmd)
        if module is None:
            problems.append(f"{name}: cmd {st.cmd!r} is not `python -m stages.cli <command>`: fix the cmd")
            continue
        deps, declared = [], []
        for d in st.deps:
            if type(d).__name__ == "ParamsDependency":
                declared += list(d.params or [])
            else:
                deps.append(os.path.normpath(os.path.relpath(d.fs_path, root)) if os.path.isabs(d.fs_path)
                            and str(d.fs_path).startswith(str(root)) else os.path.normpath(d.def_path))
        files = imported_files(module, root)
        for rel in files:
            if not inside(rel, deps):
                problems.append(f"{name}: imports {rel} (via {module}), not a dep: add {rel} "
                                f"(or its folder) to the stage's deps")
            for res in sorted(resources_named(rel, root)):
                if not inside(res, deps) and not any(inside(d, [res]) for d in deps):
                    problems.append(f"{name}: {rel} reads {res}, not a dep: add {res} to the stage's deps")
        reads: dict[str, tuple] = {}
        for rel in files:
            if rel == ACCESSOR:
                continue
            r, defaults = module_reads(rel, root)
            for k, (kind, line) in r.items():
                if k not in reads or reads[k][0] != "value":
                    reads[k] = (kind, f"{rel}:{line}")
            for key, default, line in defaults:
                vals = lookup(params, key)
                if vals and not all(v == default for v in vals) and covered(key, declared):
                    problems.append(f"{name}: {rel}:{line}: default {default!r} for {key} disagrees with "
                                    f"params.yaml ({vals[0]!r}): drop the code default")
        for key, (kind, where) in sorted(reads.items()):
            if key.startswith("roles.") and key.count(".") > 1:
                continue  # a role's keys depend on its backend
            if not covered(key, declared):
                problems.append(f"{name}: {where} reads params {key}, not in its params: add {key} to `params:`")
                continue
            vals = lookup(params, key)
            if not vals:
                problems.append(f"{name}: {where} reads params {key}, missing from params.yaml: add it there "
                                f"(its one default)")
                continue
            if kind == "keys":
                continue
            for v in vals:
                for s in leaves(v):
                    if key.startswith("roles.") and not _role_reads_model(v):
                        continue
                    if is_path(s, root) and not inside(s, deps):
                        problems.append(f"{name}: {where} reads params {key}, which names {s}, not a dep: add "
                                        f"\"${{{key}...}}\" (the key holding {s}) to the stage's deps")
    return problems


def _role_reads_model(role: dict) -> bool:
    """A role's `model` is a file only for the local backends."""
    return isinstance(role, dict) and role.get("backend") in ("hf", "vllm")


if __name__ == "__main__":
    found = check()
    print("\n".join(found) or "dvc.yaml: every stage declares what it reads")
    sys.exit(1 if found else 0)
