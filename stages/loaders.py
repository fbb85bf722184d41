"""Source loaders: native records (read by stages/formats) turned into `collected` records (docs/developing.md).

`load(path, fmt, ...)` streams records and applies the input policies (users' view: docs/data.md):
- invalid JSON / UTF-8, wrong types, missing fields: `InputError` naming file, line and field;
- empty or whitespace-only prompt: skipped, counted as `empty_prompt`;
- prompt longer than `max_prompt_chars`: skipped (not truncated: a cut attack prompt is another prompt),
  counted as `too_long`;
- duplicate id with the same prompt: skipped, counted as `duplicate`; same id with a different prompt:
  `InputError` (the source's ids are broken);
- native category unknown to the taxonomy: kept (taxonomy `other` later), counted as `unknown_category`.
The readers are in stages/formats (one module per source family; native records defined in
stages/schemas/native.py), file reading in stages/source_io.py (JSONL line by line, a JSON list/object walked
element by element with real line numbers, `.gz`/`.zip` read directly). Each record also gets `native_codes` (every taxonomy code its native metadata
carries, primary first; see taxonomy.native_codes) and `attack_method` (S-Eval attack sets, else null).
Source lists (collect, New-Safety) go through stages.sources (limit/lang/seed/category, cross-source dedup).
"""
from __future__ import annotations

import hashlib
import random
import re
import unicodedata
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

from stages import taxonomy
from stages.formats import FORMATS, GENERAL_FORMATS, READERS, SAFETY_FORMATS  # noqa: F401  (re-exported)
from stages.io import InputError
from stages.text import detect_lang

MAX_PROMPT_CHARS = 16_000

# ---------------------------------------------------------------- records and policies

def _blank_none(text: str | None) -> str | None:
    return text if text is not None and text.strip() else None


def make_id(source: str, native_id: str | None, prompt: str) -> str:
    if native_id is not None:
        return f"{source}/{native_id}"
    return f"{source}/h{hashlib.sha1(prompt.encode('utf-8')).hexdigest()[:12]}"


def norm_prompt(prompt: str) -> str:
    """The duplicate/decontamination key of a prompt: NFKC, whitespace runs collapsed, ends stripped."""
    return re.sub(r"\s+", " ", unicodedata.normalize("NFKC", prompt)).strip()


_FILE_LANG = re.compile(r"(?:^|[_\-.])(zh|en)(?=[_\-.]|$)", re.IGNORECASE)


def file_lang(path, fmt: str) -> str | None:
    """The language an S-Eval file name states (S-Eval_attack_en_small.jsonl -> en): S-Eval ships one file per
    language and some English attack prompts are mostly CJK (instruction_encryption), so the name wins."""
    if fmt != "seval":
        return None
    m = _FILE_LANG.search(Path(path).name)
    return m.group(1).lower() if m else None


CATEGORY_MODES = ("add", "replace")


def load(path, fmt: str, source: str | None = None, kind: str | None = None, limit: int | None = None,
         max_prompt_chars: int = MAX_PROMPT_CHARS, lang: str | None = None,
         stats: Counter | None = None, seed: int | None = None, category: str | None = None,
         category_mode: str = "add") -> Iterator[dict]:
    """Stream `collected` records of one source file. `stats` (a Counter) receives rows, per-language
    counts and the skip counters; `lang` forces a language instead of detecting it (S-Eval: the file name's
    language when it has one). `limit`: at most that many records, the first ones, or with `seed` a seeded
    uniform sample (kept in file order). `category`: a taxonomy code the source adds to every record's
    `native_codes` (first), or with category_mode "replace" the only code."""
    if fmt not in READERS:
        raise ValueError(f"unknown format '{fmt}' (known: {', '.join(FORMATS)})")
    if category_mode not in CATEGORY_MODES:
        raise ValueError(f"unknown category_mode '{category_mode}' (known: {', '.join(CATEGORY_MODES)})")
    path, source = Path(path), source or fmt
    kind = kind or ("general" if fmt in GENERAL_FORMATS else "safety")
    stats = stats if stats is not None else Counter()
    if limit is not None and limit <= 0:
        return
    records = _records(path, fmt, source, kind, max_prompt_chars, lang or file_lang(path, fmt), stats,
                       category, category_mode)
    if limit is not None and seed is not None:
        records = _sample(records, int(limit), seed, stats)
    n = 0
    for rec in records:
        if limit is not None and n >= limit:
            return
        stats["rows"] += 1
        stats[rec["lang"]] += 1
        _count_unknown(rec, stats)
        if rec["attack_method"] is not None:
            stats[f"attack:{rec['attack_method']}"] += 1
        yield rec
        n += 1


def _sample(records: Iterator[dict], k: int, seed, stats: Counter) -> list[dict]:
    """Reservoir sample of k records in their original order (memory: k records)."""
    rng = random.Random(f"{seed}")
    keep: list[tuple[int, dict]] = []
    i = -1
    for i, rec in enumerate(records):
        if len(keep) < k:
            keep.append((i, rec))
        else:
            j = rng.randrange(i + 1)
            if j < k:
                keep[j] = (i, rec)
    stats["available"] = i + 1
    return [rec for _, rec in sorted(keep, key=lambda x: x[0])]


def _count_unknown(rec: dict, stats: Counter) -> None:
    native, method = rec["native_category"], rec["attack_method"]
    if native is not None and taxonomy.family(rec["format"]) is not None and not taxonomy.is_known(rec["format"], native):
        stats["unknown_category"] += 1
        stats[f"unknown:{native}"] += 1
    if method is not None and taxonomy.attack_codes(method) is None:
        stats["unknown_category"] += 1
        stats[f"unknown:attack:{method}"] += 1


def _records(path, fmt, source, kind, max_prompt_chars, lang, stats, category, category_mode):
    seen: dict[str, bytes] = {}
    for line, native_id, prompt, response, native_cat, meta in READERS[fmt](path):
        if not prompt.strip():
            stats["empty_prompt"] += 1
            continue
        if len(prompt) > max_prompt_chars:
            stats["too_long"] += 1
            continue
        rid = make_id(source, native_id, prompt)
        digest = hashlib.sha1(prompt.encode("utf-8")).digest()[:8]
        if rid in seen:
            if seen[rid] != digest:
                raise InputError(path, f"duplicate id '{native_id}' with a different prompt", line=line, field="id")
            stats["duplicate"] += 1
            continue
        seen[rid] = digest
        method = meta.get("attack_method") if fmt == "seval" else None
        codes = taxonomy.native_codes(fmt, native_cat, method)
        if category:
            codes = [category] if category_mode == "replace" else list(dict.fromkeys([category, *codes]))
        yield {"id": rid, "source": source, "format": fmt, "native_id": native_id,
               "lang": lang or detect_lang(prompt), "kind": kind, "prompt": prompt,
               "response": _blank_none(response), "native_category": native_cat, "native_codes": codes,
               "attack_method": method, "meta": meta}
