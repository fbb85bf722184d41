"""The 14-category safety taxonomy (paper Table 4-1) and mappings into it; the data is in taxonomy.yaml.

- `CATEGORIES`: code -> {zh, en, definition, keywords}, in the paper's order.
- `map_native(source_format, native_category)`: codes for a source's own category (primary first).
- `native_codes(source_format, native_category, attack_method)`: all codes a record's native metadata carries
  (an attack method's codes first, e.g. S-Eval attack rows: IA, then their risk type's codes).
- `normalize_label(text)`: one free-form intent label -> code, or None when nothing matches.
"""
from __future__ import annotations

import re
import unicodedata
from functools import lru_cache
from pathlib import Path

import yaml

TAXONOMY_FILE = Path(__file__).with_name("taxonomy.yaml")
OTHER = "other"


def _load() -> dict:
    with open(TAXONOMY_FILE, encoding="utf-8") as f:
        return yaml.safe_load(f)


def _check(data: dict) -> None:
    codes = set(data["categories"])
    for fam, table in data["native"].items():
        for native, mapped in table.items():
            bad = [c for c in (mapped or []) if c not in codes]
            if bad:
                raise ValueError(f"{TAXONOMY_FILE}: native.{fam}.{native}: unknown code(s) {bad}")
    for code in data["synonyms"]:
        if code not in codes:
            raise ValueError(f"{TAXONOMY_FILE}: synonyms: unknown code {code!r}")


_DATA = _load()
_check(_DATA)
CATEGORIES: dict[str, dict] = _DATA["categories"]
CODES: list[str] = list(CATEGORIES)
ALL_LABELS: list[str] = CODES + [OTHER]


def _key(text: str) -> str:
    """Normalised lookup key: NFKC, lower case, spaces/underscores/hyphens removed, outer punctuation stripped."""
    text = unicodedata.normalize("NFKC", str(text)).lower()
    text = re.sub(r"[\s_\-]+", "", text)
    return text.strip(" .,;:!?'\"`*#()[]{}<>。，、；：！？“”‘’（）【】《》")


@lru_cache(maxsize=None)
def _native_tables() -> dict[str, dict[str, list[str]]]:
    tables = {}
    for family, table in _DATA["native"].items():
        tables[family] = {_key(k): list(v or []) for k, v in table.items()}
    return tables


def family(source_format: str) -> str | None:
    """The mapping table a source format uses (e.g. safetybench_dev -> safetybench), or None."""
    fmt = _key(source_format or "")
    for name, fam in _DATA["formats"].items():
        if _key(name) == fmt:
            return fam
    return None


def is_known(source_format: str, native_category: str | None) -> bool:
    """True when the native category has an entry (possibly empty) in the source's table."""
    return _lookup(source_format, native_category) is not None


def _lookup(source_format: str, native_category: str | None) -> list[str] | None:
    fam = family(source_format)
    if fam is None or native_category is None or not str(native_category).strip():
        return None
    table = _native_tables()[fam]
    key = _key(native_category)
    if key in table:
        return table[key]
    # "category/subclass" (MSEED): most specific part first.
    parts = [p for p in re.split(r"[/|>]", str(native_category)) if p.strip()]
    for part in reversed(parts):
        if _key(part) in table:
            hit = table[_key(part)]
            if hit or part == parts[0]:
                return hit
    return None


def map_native(source_format: str, native_category: str | None) -> list[str]:
    """Taxonomy codes for a source's native category, primary first; [] when unknown or risk-neutral."""
    return list(_lookup(source_format, native_category) or [])


def attack_codes(attack_method: str | None) -> list[str] | None:
    """Codes of an S-Eval attack method (table `seval_attack`); None when the method is unknown."""
    if attack_method is None or not str(attack_method).strip():
        return None
    hit = _native_tables()["seval_attack"].get(_key(attack_method))
    return None if hit is None else list(hit)


def native_codes(source_format: str, native_category: str | None, attack_method: str | None = None) -> list[str]:
    """Every code the native metadata gives, primary first: attack method codes, then the category's codes.
    An attack row whose method is unknown still gets IA (it comes from an attack set)."""
    codes = [] if attack_method is None else (attack_codes(attack_method) or ["IA"])
    return list(dict.fromkeys(codes + map_native(source_format, native_category)))


@lru_cache(maxsize=None)
def _synonyms() -> tuple[dict[str, str], list[tuple[str, str]]]:
    exact: dict[str, str] = {}
    for code, words in _DATA["synonyms"].items():
        for w in [code, CATEGORIES[code]["zh"], CATEGORIES[code]["en"], *words]:
            k = _key(w)
            if k in exact and exact[k] != code:
                raise ValueError(f"{TAXONOMY_FILE}: synonym '{w}' is listed under {exact[k]} and {code}")
            exact[k] = code
    # Longest first, so "数据隐私" (DP) wins over "隐私" (PP) inside "个人数据隐私泄露".
    cjk = sorted(((k, c) for k, c in exact.items() if len(k) >= 2 and not k.isascii()), key=lambda kc: -len(kc[0]))
    latin = []
    for code, words in _DATA["synonyms"].items():
        for w in [CATEGORIES[code]["en"], *words]:
            if _key(w).isascii() and len(_key(w)) >= 3:
                latin.append((re.compile(r"\b" + r"\s+".join(map(re.escape, _spaced(w).split())) + r"\b"), code))
    latin.sort(key=lambda pc: -len(pc[0].pattern))
    return exact, cjk, latin


def _spaced(text: str) -> str:
    return re.sub(r"[\s_\-]+", " ", unicodedata.normalize("NFKC", str(text)).lower()).strip()


def normalize_label(text: str | None) -> str | None:
    """Map one free-form label (zh or en) to a taxonomy code; None when no synonym matches."""
    if text is None:
        return None
    key = _key(text)
    if not key:
        return None
    exact, cjk, latin = _synonyms()
    if key in exact:
        return exact[key]
    for syn, code in cjk:  # Chinese synonyms: substring match
        if syn in key:
            return code
    spaced = _spaced(text)
    for pattern, code in latin:  # Latin synonyms: whole words only ("off" never matches "coffee")
        if pattern.search(spaced):
            return code
    return None


def name(code: str, lang: str = "en") -> str:
    return CATEGORIES[code][lang] if code in CATEGORIES else OTHER
