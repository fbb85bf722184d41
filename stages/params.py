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


def role(name: str, path: str | Path = PARAMS_FILE) -> dict[str, Any]:
    roles = load_params(path).get("roles", {})
    if name not in roles:
        raise KeyError(f"{path}: roles.{name} is not defined")
    return dict(roles[name])
