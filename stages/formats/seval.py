"""S-Eval base-risk and attack sets."""
from __future__ import annotations

import json

from stages.schemas import native as N
from stages.source_io import iter_list


def attack_method(ext) -> str | None:
    """The attack method an S-Eval `ext` names: {"model": "attack", "category": m} (public attack sets) or
    {"attack_method": m}; "unknown" for an attack row naming none; None for base-risk rows."""
    if not isinstance(ext, dict):
        return None
    method = ext.get("attack_method") or (ext.get("category") if ext.get("model") == "attack" else None)
    if isinstance(method, str) and method.strip():
        return method.strip()
    return "unknown" if ext.get("model") == "attack" else None


def seval(path):
    """S-Eval base and attack sets: JSONL {traceid, risk_type, prompt, ext (JSON string)}; attack rows name
    their attack method in ext (meta.attack_method)."""
    for line, rec in iter_list(path):
        rec = N.SEVAL.check(rec, path, line)
        ext = rec.get("ext")
        if isinstance(ext, str):
            try:
                ext = json.loads(ext)
            except json.JSONDecodeError:
                pass
        yield (line, str(rec["traceid"]), rec["prompt"], None, rec.get("risk_type"),
               {"ext": ext, "attack_method": attack_method(ext)})
