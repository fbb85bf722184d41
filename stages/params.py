"""params.yaml access. dvc.yaml lists, per stage, the exact params keys it reads (tests/dvc_static.py checks it)."""
from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml

PARAMS_FILE = "params.yaml"


class _Loader(yaml.SafeLoader):
    """SafeLoader that reads `2e-5` as a float, as YAML 1.2 and DVC do (PyYAML's 1.1 says str)."""


_Loader.add_implicit_resolver(
    "tag:yaml.org,2002:float",
    re.compile(r"^[-+]?(?:\d+\.?\d*|\.\d+)[eE][-+]?\d+$"),
    list("-+0123456789."))


def load_yaml(path: str | Path) -> Any:
    """Any config YAML (params, recipes), with YAML 1.2 floats."""
    with open(path, encoding="utf-8") as f:
        return yaml.load(f, Loader=_Loader)


def load_params(path: str | Path = PARAMS_FILE) -> dict[str, Any]:
    with open(path, encoding="utf-8") as f:
        return yaml.load(f, Loader=_Loader) or {}


def section(name: str, path: str | Path = PARAMS_FILE) -> dict[str, Any]:
    params = load_params(path)
    if name not in params:
        raise KeyError(f"{path}: missing section '{name}'")
    return params[name]


class Params(dict):
    """The params a stage's `run` gets: {section: value} (dotted keys nested as in params.yaml); `.file`
    is the file they came from (named in errors)."""

    file: str = PARAMS_FILE


def stage_params(*keys: str, path: str | Path = PARAMS_FILE) -> Params:
    """The params.yaml entries `keys` (e.g. "label", "roles.labeler", "eval.newsafety") of one stage,
    nested as in the file: a missing one is a KeyError naming it."""
    params = load_params(path)
    out = Params()
    out.file = str(path)
    for key in keys:
        src, dst, parts = params, out, key.split(".")
        for i, part in enumerate(parts):
            if not isinstance(src, dict) or part not in src:
                raise KeyError(f"{path}: missing '{'.'.join(parts[:i + 1])}'")
            src = src[part]
            dst = dst.setdefault(part, src if i == len(parts) - 1 else {})
    return out


def role(name: str, path: str | Path = PARAMS_FILE) -> dict[str, Any]:
    roles = load_params(path).get("roles", {})
    if name not in roles:
        raise KeyError(f"{path}: roles.{name} is not defined")
    return dict(roles[name])
