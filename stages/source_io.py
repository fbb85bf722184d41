"""Reading source files: JSONL or a JSON list/object walked element by element with real line numbers;
`.gz` and `.zip` (one data file inside) read directly. Errors are `InputError` naming file and line."""
from __future__ import annotations

import gzip
import io
import json
import re
import zipfile
from collections.abc import Iterator
from pathlib import Path

from stages.io import InputError, iter_jsonl


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


def text_id(value) -> str | None:
    """A native id as text (ids may be numbers in the source)."""
    return None if value is None else str(value)
