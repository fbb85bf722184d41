"""params.yaml access. A stage reads only its own section (and the roles it declares in dvc.yaml)."""
from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

PARAMS_FILE = "params.yaml"


def load_params(path: str | Path = PARAMS_FILE) -> dict[str, Any]:
    with open(path, encoding="utf-8") as f:
        return yaml.safe_load(f) or {}


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
