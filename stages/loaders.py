"""Source loaders: one generator per native format, each yielding `collected` records (docs/developing.md).

`load(path, fmt, ...)` streams records and applies the input policies (users' view: docs/data.md):
- invalid JSON / UTF-8, wrong types, missing fields: `InputError` naming file, line and field;
- empty or whitespace-only prompt: skipped, counted as `empty_prompt`;
- prompt longer than `max_prompt_chars`: skipped (not truncated: a cut attack prompt is another prompt),
  counted as `too_long`;
- duplicate id with the same prompt: skipped, counted as `duplicate`; same id with a different prompt:
  `InputError` (the source's ids are broken);
- native category unknown to the taxonomy: kept (taxonomy `other` later), counted as `unknown_category`.
JSONL is read line by line; a JSON list/object is decoded once and walked element by element, so each
record is built only while it is yielded and errors carry real line numbers. `.gz` and `.zip` (one data file
inside) are read directly. Each record also gets `native_codes` (every taxonomy code its native metadata
carries, primary first; see taxonomy.native_codes) and `attack_method` (S-Eval attack sets, else null).
Source lists (collect, New-Safety) go through stages.sources (limit/lang/seed/category, cross-source dedup).
"""
from __future__ import annotations

import gzip
import hashlib
import io
import json
import random
import re
import unicodedata
import zipfile
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path

from stages import taxonomy
from stages.io import InputError, iter_jsonl
from stages.text import detect_lang

MAX_PROMPT_CHARS = 16_000
SAFETY_FORMATS = ["safety_prompts", "safetybench_test", "safetybench_dev", "cvalues_comparison", "cvalues_mc",
                  "cvalues_responsibility", "seval", "mseed", "mseed_eval", "newsafety"]
GENERAL_FORMATS = ["alpaca", "sharegpt"]

# ---------------------------------------------------------------- reading

def is_compressed(path) -> bool:
    return str(path).lower().endswith((".gz", ".zip"))


def read_bytes(path: Path) -> bytes:
    """The file's bytes; a .gz is decompressed, a .zip must hold exactly one data file."""
    try:
        if str(path).lower().endswith(".gz"):
            with gzip.open(path, "rb") as f:
                return f.read()
        if str(path).lower().endswith(".zip"):
            with zipfile.ZipFile(path) as z:
                names = [n for n in z.namelist() if not n.endswith("/") and not n.startswith("__MACOSX/")]
                if len(names) != 1:
                    raise InputError(path, f"the zip holds {len(names)} files ({', '.join(names[:5])}); "
                                     "unzip it and point `path` at the one to load")
                try:
                    return z.read(names[0])
                except RuntimeError as e:  # encrypted member
                    raise InputError(path, f"cannot read {names[0]} ({e}); unzip it first "
                                     "and point `path` at the extracted file") from None
        return path.read_bytes()
    except FileNotFoundError:
        raise InputError(path, "file not found") from None
    except (OSError, EOFError, zipfile.BadZipFile) as e:
        raise InputError(path, f"cannot decompress ({e}); check the file or decompress it first") from None


def _iter_jsonl_bytes(path: Path, data: bytes) -> Iterator[tuple[int, object]]:
    """iter_jsonl over bytes already in memory (decompressed inputs)."""
    for lineno, raw in enumerate(io.BytesIO(data), 1):
        try:
            text = raw.decode("utf-8-sig" if lineno == 1 else "utf-8")
        except UnicodeDecodeError as e:
            raise InputError(path, f"invalid UTF-8 at byte {e.start}", line=lineno) from None
        if not text.strip():
            continue
        try:
            yield lineno, json.loads(text)
        except json.JSONDecodeError as e:
            raise InputError(path, f"invalid JSON: {e.msg} (column {e.colno})", line=lineno) from None


def _decode(path: Path) -> str:
    data = read_bytes(path)
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        line = data[: e.start].count(b"\n") + 1
        raise InputError(path, f"invalid UTF-8 at byte {e.start}", line=line) from None


class _Doc:
    """A JSON document walked element by element (positions only move forward, so line counting is cheap)."""

    _ws = re.compile(r"[ \t\n\r]*")

    def __init__(self, path: Path):
        self.path, self.text = path, _decode(path)
        self.dec = json.JSONDecoder()
        self._at, self._line = 0, 1

    def line(self, pos: int) -> int:
        if pos < self._at:
            self._at, self._line = 0, 1
        self._line += self.text.count("\n", self._at, pos)
        self._at = pos
        return self._line

    def error(self, pos: int, msg: str):
        line = self.line(pos)
        col = pos - (self.text.rfind("\n", 0, pos) + 1) + 1
        raise InputError(self.path, f"invalid JSON: {msg} (column {col})", line=line)

    def skip(self, pos: int) -> int:
        return self._ws.match(self.text, pos).end()

    def value(self, pos: int):
        try:
            return self.dec.raw_decode(self.text, pos)
        except json.JSONDecodeError as e:
            self.error(e.pos, e.msg)

    def start(self) -> tuple[int, str]:
        pos = self.skip(0)
        if pos >= len(self.text):
            self.error(pos, "empty document")
        return pos, self.text[pos]

    def end(self, pos: int) -> None:
        pos = self.skip(pos)
        if pos < len(self.text):
            self.error(pos, "extra data after the document")

    def array(self, pos: int, out: list) -> Iterator[tuple[int, object]]:
        """Yield (line, element) of the array at pos; out[0] = position after it."""
        pos = self.skip(pos + 1)
        if self.text.startswith("]", pos):
            out[0] = pos + 1
            return
        while True:
            line = self.line(pos)
            obj, pos = self.value(pos)
            yield line, obj
            pos = self.skip(pos)
            c = self.text[pos:pos + 1]
            if c == ",":
                pos = self.skip(pos + 1)
            elif c == "]":
                out[0] = pos + 1
                return
            else:
                self.error(pos, "expected ',' or ']'")


def iter_list(path) -> Iterator[tuple[int, object]]:
    """(line, element) of a file that is a JSON list, or (line, object) of a JSONL file."""
    path = Path(path)
    if is_compressed(path):
        data = read_bytes(path)
        if not data[:4096].lstrip(b"\xef\xbb\xbf \t\r\n").startswith(b"["):
            yield from _iter_jsonl_bytes(path, data)
            return
    else:
        try:
            with open(path, "rb") as f:
                head = f.read(4096).lstrip(b"\xef\xbb\xbf \t\r\n")
        except FileNotFoundError:
            raise InputError(path, "file not found") from None
        if not head.startswith(b"["):
            yield from iter_jsonl(path, bom=True)
            return
    doc = _Doc(path)
    pos, _ = doc.start()
    out = [pos]
    yield from doc.array(pos, out)
    doc.end(out[0])


def iter_grouped(path) -> Iterator[tuple[int, str, object]]:
    """(line, key, element) of a JSON object whose values are lists: {group: [records]}."""
    path = Path(path)
    doc = _Doc(path)
    pos, c = doc.start()
    if c != "{":
        raise InputError(path, "expected a JSON object {group: [records]}", line=doc.line(pos))
    pos = doc.skip(pos + 1)
    if doc.text.startswith("}", pos):
        return doc.end(pos + 1)
    while True:
        if not doc.text.startswith('"', pos):
            doc.error(pos, "expected a property name")
        key, pos = doc.value(pos)
        pos = doc.skip(pos)
        if not doc.text.startswith(":", pos):
            doc.error(pos, "expected ':'")
        pos = doc.skip(pos + 1)
        if not doc.text.startswith("[", pos):
            raise InputError(path, "expected a list of records", line=doc.line(pos), field=key)
        out = [pos]
        for line, obj in doc.array(pos, out):
            yield line, key, obj
        pos = doc.skip(out[0])
        c = doc.text[pos:pos + 1]
        if c == ",":
            pos = doc.skip(pos + 1)
        elif c == "}":
            return doc.end(pos + 1)
        else:
            doc.error(pos, "expected ',' or '}'")


# ---------------------------------------------------------------- field access

def _obj(rec, path, line):
    if not isinstance(rec, dict):
        raise InputError(path, f"expected a JSON object, got {type(rec).__name__}", line=line)
    return rec


def _get(rec: dict, field: str, path, line, types=(str,), required=True):
    """rec[field] type-checked; None when optional and absent/null. Blank strings are allowed here."""
    value = rec.get(field)
    if value is None:
        if required:
            raise InputError(path, "missing required field", line=line, field=field)
        return None
    if not isinstance(value, types) or isinstance(value, bool) and bool not in types:
        names = "/".join(t.__name__ for t in types)
        raise InputError(path, f"expected {names}, got {type(value).__name__}", line=line, field=field)
    return value


def _id(value) -> str | None:
    return None if value is None else str(value)


def _blank_none(text: str | None) -> str | None:
    return text if text is not None and text.strip() else None


# ---------------------------------------------------------------- formats
# Each raw reader yields (line, native_id, prompt, response, native_category, meta).

def _safety_prompts(path):
    """Safety-Prompts: {scenario: [{prompt, response, type}]} (typical and instruction-attack files)."""
    for line, scenario, rec in iter_grouped(path):
        rec = _obj(rec, path, line)
        ntype = _get(rec, "type", path, line, required=False) or scenario
        yield (line, None, _get(rec, "prompt", path, line), _get(rec, "response", path, line, required=False),
               ntype, {"scenario": scenario})


def _options(rec, path, line):
    opts = _get(rec, "options", path, line, types=(list,))
    if not all(isinstance(o, str) for o in opts):
        raise InputError(path, "expected a list of strings", line=line, field="options")
    return opts


def _safetybench_test(path):
    """SafetyBench test: JSON list of {id, question, options, category}."""
    for line, rec in iter_list(path):
        rec = _obj(rec, path, line)
        yield (line, _id(_get(rec, "id", path, line, types=(int, str))), _get(rec, "question", path, line), None,
               _get(rec, "category", path, line), {"options": _options(rec, path, line)})


def _safetybench_dev(path):
    """SafetyBench dev (few-shot): {category: [{question, options, answer}]}."""
    for line, category, rec in iter_grouped(path):
        rec = _obj(rec, path, line)
        yield (line, None, _get(rec, "question", path, line), None, category,
               {"options": _options(rec, path, line), "answer": _get(rec, "answer", path, line, types=(int,))})


def _cvalues_comparison(path):
    """CValues-Comparison: JSONL {prompt, pos_resp, neg_resp, pos_type, neg_type}; response = pos_resp."""
    for line, rec in iter_list(path):
        rec = _obj(rec, path, line)
        meta = {"neg_resp": _get(rec, "neg_resp", path, line, required=False),
                "pos_type": _get(rec, "pos_type", path, line, required=False),
                "neg_type": _get(rec, "neg_type", path, line, required=False)}
        yield (line, None, _get(rec, "prompt", path, line), _get(rec, "pos_resp", path, line),
               meta["pos_type"], meta)


def _cvalues_mc(path):
    """CValues responsibility MC: JSONL {prompt, label, meta_info}; the prompt is meta_info.question when present,
    response = the better reply (pos_resp); the MC prompt and label stay in meta."""
    for line, rec in iter_list(path):
        rec = _obj(rec, path, line)
        mc = _get(rec, "prompt", path, line)
        info = _get(rec, "meta_info", path, line, types=(dict,), required=False) or {}
        question = _get(info, "question", path, line, required=False)
        meta = {"label": _get(rec, "label", path, line), "mc_prompt": mc,
                "neg_resp": _get(info, "neg_resp", path, line, required=False)}
        meta.update({k: info[k] for k in ("difficulty_level", "domain_zh") if k in info})
        yield (line, None, question if question is not None else mc,
               _get(info, "pos_resp", path, line, required=False),
               _get(info, "domain_en", path, line, required=False), meta)


def _cvalues_responsibility(path):
    """CValues responsibility prompts: JSONL {id_, prompt, domain_en, domain_zh}."""
    for line, rec in iter_list(path):
        rec = _obj(rec, path, line)
        yield (line, _id(_get(rec, "id_", path, line, types=(int, str))), _get(rec, "prompt", path, line), None,
               _get(rec, "domain_en", path, line, required=False),
               {"domain_zh": _get(rec, "domain_zh", path, line, required=False)})


def attack_method(ext) -> str | None:
    """The attack method an S-Eval `ext` names: {"model": "attack", "category": m} (public attack sets) or
    {"attack_method": m}; "unknown" for an attack row naming none; None for base-risk rows."""
    if not isinstance(ext, dict):
        return None
    method = ext.get("attack_method") or (ext.get("category") if ext.get("model") == "attack" else None)
    if isinstance(method, str) and method.strip():
        return method.strip()
    return "unknown" if ext.get("model") == "attack" else None


def _seval(path):
    """S-Eval base and attack sets: JSONL {traceid, risk_type, prompt, ext (JSON string)}; attack rows name
    their attack method in ext (meta.attack_method)."""
    for line, rec in iter_list(path):
        rec = _obj(rec, path, line)
        ext = rec.get("ext")
        if isinstance(ext, str):
            try:
                ext = json.loads(ext)
            except json.JSONDecodeError:
                pass
        yield (line, _id(_get(rec, "traceid", path, line, types=(str, int))), _get(rec, "prompt", path, line),
               None, _get(rec, "risk_type", path, line, required=False),
               {"ext": ext, "attack_method": attack_method(ext)})


def _mseed(path):
    """MSEED: JSON list {prompt, subclass, category}; native_category = "category/subclass"."""
    for line, rec in iter_list(path):
        rec = _obj(rec, path, line)
        cat = _get(rec, "category", path, line, required=False)
        sub = _get(rec, "subclass", path, line, required=False)
        native = "/".join(x for x in (cat, sub) if x) or None
        yield line, None, _get(rec, "prompt", path, line), None, native, {"category": cat, "subclass": sub}


def _newsafety(path):
    """Project-written New-Safety sets: JSONL {id, prompt, category (one of the 14 codes), lang?}."""
    for line, rec in iter_list(path):
        rec = _obj(rec, path, line)
        yield (line, _id(_get(rec, "id", path, line, types=(str, int))), _get(rec, "prompt", path, line), None,
               _get(rec, "category", path, line), {})


_MSEED_HEADER = "提示词 - 小类别 - 大类别"
_DASH = re.compile(r"\s+-\s+")


def _split_mseed_line(text: str) -> tuple[str, str | None, str | None]:
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


def _mseed_eval(path):
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
        prompt, sub, cat = _split_mseed_line(raw)
        native = "/".join(x for x in (cat, sub) if x) or None
        yield line, None, prompt, None, native, {"category": cat, "subclass": sub}


def _alpaca(path):
    """Alpaca: JSON list (or JSONL) {instruction, input, output}; prompt = instruction + input."""
    for line, rec in iter_list(path):
        rec = _obj(rec, path, line)
        instr = _get(rec, "instruction", path, line)
        extra = _get(rec, "input", path, line, required=False)
        prompt = f"{instr}\n\n{extra}" if extra and extra.strip() else instr
        yield (line, _id(_get(rec, "id", path, line, types=(str, int), required=False)), prompt,
               _get(rec, "output", path, line, required=False), None, {})


_HUMAN, _BOT = {"human", "user"}, {"gpt", "assistant", "chatgpt", "bing", "bard"}


def _sharegpt(path):
    """ShareGPT: JSONL or JSON list {id?, conversations: [{from, value}]} (or messages: [{role, content}]);
    prompt = first human turn, response = the reply after it; the whole conversation stays in meta."""
    for line, rec in iter_list(path):
        rec = _obj(rec, path, line)
        key = "conversations" if "conversations" in rec or "messages" not in rec else "messages"
        turns = _get(rec, key, path, line, types=(list,))
        prompt = response = None
        for i, turn in enumerate(turns):
            if not isinstance(turn, dict):
                raise InputError(path, f"turn {i}: expected an object", line=line, field=key)
            who = turn.get("from", turn.get("role"))
            text = turn.get("value", turn.get("content"))
            if not isinstance(who, str) or not isinstance(text, str):
                raise InputError(path, f"turn {i}: expected string from/value", line=line, field=key)
            if prompt is None and who.lower() in _HUMAN:
                prompt = text
            elif prompt is not None and who.lower() in _BOT:
                response = text
                break
        if prompt is None:
            raise InputError(path, "no human turn", line=line, field=key)
        yield (line, _id(_get(rec, "id", path, line, types=(str, int), required=False)), prompt, response, None,
               {"conversations": turns})


READERS: dict[str, Callable] = {
    "safety_prompts": _safety_prompts, "safetybench_test": _safetybench_test, "safetybench_dev": _safetybench_dev,
    "cvalues_comparison": _cvalues_comparison, "cvalues_mc": _cvalues_mc,
    "cvalues_responsibility": _cvalues_responsibility, "seval": _seval, "mseed": _mseed, "mseed_eval": _mseed_eval,
    "newsafety": _newsafety,
    "alpaca": _alpaca, "sharegpt": _sharegpt,
}
FORMATS = list(READERS)


# ---------------------------------------------------------------- records and policies

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


def _loader(fmt: str):
    def fn(path, source: str | None = None, **kw) -> Iterator[dict]:
        return load(path, fmt, source=source or fmt, **kw)

    fn.__name__ = f"load_{fmt}"
    fn.__doc__ = f"{READERS[fmt].__doc__}\nStreams `collected` records; options as in `load`."
    return fn


load_safety_prompts = _loader("safety_prompts")
load_safetybench_test = _loader("safetybench_test")
load_safetybench_dev = _loader("safetybench_dev")
load_cvalues_comparison = _loader("cvalues_comparison")
load_cvalues_mc = _loader("cvalues_mc")
load_cvalues_responsibility = _loader("cvalues_responsibility")
load_seval = _loader("seval")
load_mseed = _loader("mseed")
load_newsafety = _loader("newsafety")


load_mseed_eval = _loader("mseed_eval")
load_alpaca = _loader("alpaca")
load_sharegpt = _loader("sharegpt")
