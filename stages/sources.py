"""Source lists (params `collect.sources`, `collect.general`, `eval.newsafety.sources`): one contract for all.

Each entry: name (unique, no '/'), format (a stages.loaders format), path (.gz/.zip read directly), and
optional limit (int: at most that many records, a seeded uniform sample), lang (zh|en: force the language),
seed (the sample's seed; default the section's seed), category (a taxonomy code added to every record's
`native_codes`, first) with category_mode (add: default, native codes kept | replace: the only code).

`SourceSet(entries, where, seed).records()` streams the records of every source in order, dropping a
prompt already seen (normalised: loaders.norm_prompt) in this or an earlier source. Per source counts are
in `stats[name]`; cross-source duplicates in `pairs[(dropped_from, kept_in)]` (`summary()` for metrics).
"""
from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Iterator

from stages import loaders, taxonomy
from stages.io import InputError

KEYS = {"name", "format", "path", "limit", "lang", "seed", "category", "category_mode", "keyword_fallback"}
SKIPS = ("empty_prompt", "too_long", "duplicate", "duplicate_prompt", "cross_source_duplicate")


def source_summary(stats: Counter) -> dict:
    """Metrics of one source: rows loaded, kept, per language, skips, unknown categories, attack methods."""
    out = {k: stats[k] for k in ("rows", "kept", "zh", "en", *SKIPS, "unknown_category")}
    if "available" in stats:
        out["available"] = stats["available"]
    for prefix, key in (("unknown:", "unknown_categories"), ("attack:", "attack_methods")):
        found = Counter({k[len(prefix):]: v for k, v in stats.items() if k.startswith(prefix)})
        if found:
            out[key] = dict(found.most_common(30))
    return out


def check(entries, where: str) -> list[dict]:
    """The entries, validated: InputError('params.yaml', '<where>[i]: ...') naming the field and the fix."""
    if entries is None:
        return []
    if not isinstance(entries, list):
        raise InputError("params.yaml", f"{where}: expected a list of sources")
    names = set()
    for i, src in enumerate(entries):
        at = f"{where}[{i}]"
        if not isinstance(src, dict):
            raise InputError("params.yaml", f"{at}: expected a mapping with name, format, path")
        for field in ("name", "format", "path"):
            if not src.get(field):
                raise InputError("params.yaml", f"{at}: missing '{field}'", field=field)
        if "/" in str(src["name"]) or src["name"] in names:
            raise InputError("params.yaml", f"{at}: source names must be unique and contain no '/'", field="name")
        names.add(src["name"])
        if src["format"] not in loaders.READERS:
            raise InputError("params.yaml", f"{at}: unknown format '{src['format']}' "
                             f"(known: {', '.join(loaders.FORMATS)})", field="format")
        unknown = sorted(set(src) - KEYS)
        if unknown:
            raise InputError("params.yaml", f"{at}: unknown key(s) {unknown} (known: {', '.join(sorted(KEYS))})")
        limit = src.get("limit")
        if limit is not None and (isinstance(limit, bool) or not isinstance(limit, int) or limit < 0):
            raise InputError("params.yaml", f"{at}: limit must be a whole number >= 0 or null", field="limit")
        if src.get("lang") not in (None, "zh", "en"):
            raise InputError("params.yaml", f"{at}: lang must be zh, en or null", field="lang")
        if src.get("category") and src["category"] not in taxonomy.CODES:
            raise InputError("params.yaml", f"{at}: unknown category {src['category']!r} "
                             f"(one of {', '.join(taxonomy.CODES)})", field="category")
        if src.get("category_mode", "add") not in loaders.CATEGORY_MODES:
            raise InputError("params.yaml", f"{at}: category_mode must be add or replace", field="category_mode")
    return list(entries)


class SourceSet:
    def __init__(self, entries, where: str, seed: int = 0, kind: str | None = None,
                 max_prompt_chars: int = loaders.MAX_PROMPT_CHARS):
        self.entries = check(entries, where)
        self.seed, self.kind, self.max_chars = seed, kind, max_prompt_chars
        self.stats: dict[str, Counter] = {}
        self.pairs: Counter = Counter()
        self._seen: dict[bytes, str] = {}

    def load(self, src: dict) -> Iterator[dict]:
        """The records of one source (its own limit/lang/seed/category), without cross-source dedup."""
        stats = self.stats.setdefault(src["name"], Counter())
        return loaders.load(src["path"], src["format"], source=src["name"], kind=self.kind, limit=src.get("limit"),
                            max_prompt_chars=self.max_chars, lang=src.get("lang"), stats=stats,
                            seed=src.get("seed", self.seed), category=src.get("category"),
                            category_mode=src.get("category_mode", "add"))

    def records(self, sources: list[dict] | None = None) -> Iterator[tuple[dict, dict]]:
        """(source entry, record) of every source, each normalised prompt once (the first source keeps it)."""
        for src in self.entries if sources is None else sources:
            name = src["name"]
            for rec in self.load(src):
                key = hashlib.sha1(loaders.norm_prompt(rec["prompt"]).encode("utf-8")).digest()[:10]
                first = self._seen.get(key)
                if first is not None:
                    if first == name:
                        self.stats[name]["duplicate_prompt"] += 1
                    else:
                        self.pairs[(name, first)] += 1
                        self.stats[name]["cross_source_duplicate"] += 1
                    continue
                self._seen[key] = name
                self.stats[name]["kept"] += 1
                yield src, rec

    def summary(self) -> dict:
        """Cross-source duplicates: total and {"<dropped source> <- <kept source>": n}."""
        return {"total": sum(self.pairs.values()),
                "pairs": {f"{a} <- {b}": n for (a, b), n in sorted(self.pairs.items())}}
