"""MSEED: the JSON list release and the text evaluation release ('prompt - subclass - category' lines)."""
from __future__ import annotations

import re

from stages import taxonomy
from stages.io import InputError
from stages.schemas import native as N
from stages.source_io import iter_list, read_bytes


def mseed(path):
    """MSEED: JSON list {prompt, subclass, category}; native_category = "category/subclass"."""
    for line, rec in iter_list(path):
        rec = N.MSEED.check(rec, path, line)
        cat, sub = rec.get("category"), rec.get("subclass")
        native = "/".join(x for x in (cat, sub) if x) or None
        yield line, None, rec["prompt"], None, native, {"category": cat, "subclass": sub}


_MSEED_HEADER = "提示词 - 小类别 - 大类别"
_DASH = re.compile(r"\s+-\s+")


def split_line(text: str) -> tuple[str, str | None, str | None]:
    """'prompt - subclass - category' (some lines lack the category). Prompts may contain ' - ', so the
    last parts are taken as subclass/category only when the taxonomy knows them."""
    parts = _DASH.split(text)
    if len(parts) >= 3 and taxonomy.is_known("mseed", parts[-1]) and taxonomy.is_known("mseed", parts[-2]):
        return " - ".join(parts[:-2]), parts[-2], parts[-1]
    if len(parts) >= 2 and taxonomy.is_known("mseed", parts[-1]):
        return " - ".join(parts[:-1]), parts[-1], None
    if len(parts) >= 3:  # unknown names: still split, counted as unknown_category
        return " - ".join(parts[:-2]), parts[-2], parts[-1]
    if len(parts) == 2:
        return parts[0], parts[1], None
    return text, None, None


def mseed_eval(path):
    """MSEED evaluation release: text, header '提示词 - 小类别 - 大类别', then 'prompt - subclass - category'
    per line (CRLF; the category part may be missing); native_category = "category/subclass"."""
    data = read_bytes(path)
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        raise InputError(path, f"invalid UTF-8 at byte {e.start}", line=data[: e.start].count(b"\n") + 1) from None
    first = True
    for line, raw in enumerate(text.splitlines(), 1):
        raw = raw.strip()
        if not raw:
            continue
        if first and _DASH.sub(" - ", raw) == _MSEED_HEADER:
            first = False
            continue
        first = False
        prompt, sub, cat = split_line(raw)
        native = "/".join(x for x in (cat, sub) if x) or None
        yield line, None, prompt, None, native, {"category": cat, "subclass": sub}
