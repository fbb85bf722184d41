"""Prompt templates (files under prompts/) and fencing of untrusted text.

A template file has `[system]` and `[user]` sections. `{name}` placeholders are replaced by the
caller's values; values passed as untrusted are wrapped in a fence whose tag carries a hash of
the content, so text inside cannot close its own fence. Templates put their instructions after
the fenced blocks, so the last word is always ours.
"""
from __future__ import annotations

import hashlib
import re
from pathlib import Path

SECTION = re.compile(r"^\[(system|user|assistant)\]\s*$", re.M)


def fence(name: str, text: str) -> str:
    tag = name.upper()
    h = hashlib.sha256(text.encode("utf-8")).hexdigest()[:10]
    return f"<<<{tag} {h}>>>\n{text}\n<<<END {tag} {h}>>>"


def unfence(content: str, name: str) -> str | None:
    """Inverse of fence(): the text inside the first `name` fence in `content`, or None."""
    tag = re.escape(name.upper())
    m = re.search(rf"<<<{tag} ([0-9a-f]{{10}})>>>\n(.*?)\n<<<END {tag} \1>>>", content, re.S)
    return m.group(2) if m else None


def load_template(path: str | Path) -> list[dict]:
    text = Path(path).read_text(encoding="utf-8")
    parts = SECTION.split(text)
    if len(parts) < 3:
        raise ValueError(f"{path}: a template needs at least a [user] section")
    return [{"role": role, "content": body.strip("\n")} for role, body in zip(parts[1::2], parts[2::2])]


def render(template: list[dict] | str | Path, untrusted: dict[str, str] | None = None,
           trusted: dict[str, str] | None = None) -> list[dict]:
    """Messages for one call: untrusted values are fenced, trusted ones inserted as they are."""
    if not isinstance(template, list):
        template = load_template(template)
    values = {k: fence(k, v) for k, v in (untrusted or {}).items()}
    values.update(trusted or {})

    def sub(m):
        return values[m.group(1)] if m.group(1) in values else m.group(0)

    pattern = re.compile(r"\{(\w+)\}")
    return [{"role": m["role"], "content": pattern.sub(sub, m["content"])} for m in template]
