"""Prompt templates (files under prompts/) and fencing of untrusted text.

A template file has `[system]` and `[user]` sections. `{name}` placeholders are replaced by the
caller's values; values passed as untrusted are wrapped in fences that all carry one per-render tag:

    <<<PROMPT 1a2b3c4d5e6f7a8b>>>\\n<text>\\n<<<END PROMPT 1a2b3c4d5e6f7a8b>>>

The tag is a hash of every untrusted value of the render (`render_tag`), so no value can contain it:
text inside a fence can neither close its own fence nor forge another fence of the same render
(that would need a fixed point of SHA-256). Templates put their instructions after the fenced blocks,
so the last word is always ours.

Readers never search a prompt for "some fence": `render` returns `Message` dicts that also carry the
untrusted values themselves (`message.untrusted`, a Python attribute: not sent, not part of cache keys),
and the rules backend reads those (`fenced_values`). `unfence` is for text only (a server, a test): it
takes the render's tag from the first fence marker (untrusted text only ever comes after it) and
accepts the fences only when the tag matches their contents; anything else is None.
"""
from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path

SECTION = re.compile(r"^\[(system|user|assistant)\]\s*$", re.M)
TAG_LEN = 16
_OPEN = re.compile(rf"<<<([A-Z0-9_]+) ([0-9a-f]{{{TAG_LEN}}})>>>\n")


class Message(dict):
    """A chat message ({role, content}) from `render`; `.untrusted` holds the {NAME: text} fenced into it."""

    untrusted: dict


def render_tag(untrusted: dict[str, str]) -> str:
    """The fence tag of one render: a hash of all its untrusted (name, value) pairs."""
    blob = json.dumps(sorted((k.upper(), v) for k, v in untrusted.items()), ensure_ascii=False)
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()[:TAG_LEN]


def fence(name: str, text: str, tag: str | None = None) -> str:
    """`text` fenced as `name`; `tag` defaults to the tag of a render with this one value."""
    name = name.upper()
    tag = tag or render_tag({name: text})
    return f"<<<{name} {tag}>>>\n{text}\n<<<END {name} {tag}>>>"


def unfence_all(content: str) -> dict[str, str] | None:
    """{NAME: text} of the render that produced `content` (see module doc), or None when there is none
    or the fences do not verify (forged, edited, or cut)."""
    first = _OPEN.search(content)
    if not first:
        return None
    tag = first.group(2)
    values: dict[str, str] = {}
    pos = 0
    while m := re.compile(rf"<<<([A-Z0-9_]+) {tag}>>>\n").search(content, pos):
        name = m.group(1)
        end = content.find(f"\n<<<END {name} {tag}>>>", m.end())
        if end < 0 or name in values:
            return None
        values[name] = content[m.end():end]
        pos = end + len(f"\n<<<END {name} {tag}>>>")
    return values if render_tag(values) == tag else None


def unfence(content: str, name: str) -> str | None:
    """The text of the `name` fence of the render that produced `content`, or None (see unfence_all)."""
    return (unfence_all(content) or {}).get(name.upper())


def fenced_values(conv: list[dict]) -> dict[str, str] | None:
    """The untrusted values `render` put into a conversation (None when no message came from render)."""
    found = [m.untrusted for m in conv if isinstance(m, Message) and hasattr(m, "untrusted")]
    if not found:
        return None
    out: dict[str, str] = {}
    for d in found:
        out.update(d)
    return out


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
    untrusted = {k: v for k, v in (untrusted or {}).items()}
    tag = render_tag(untrusted)
    values = {k: fence(k, v, tag) for k, v in untrusted.items()}
    values.update(trusted or {})
    pattern = re.compile(r"\{(\w+)\}")
    out = []
    for m in template:
        used = {k.upper(): untrusted[k] for k in pattern.findall(m["content"]) if k in untrusted}
        msg = Message(role=m["role"], content=pattern.sub(
            lambda x: values[x.group(1)] if x.group(1) in values else x.group(0), m["content"]))
        msg.untrusted = used
        out.append(msg)
    return out
