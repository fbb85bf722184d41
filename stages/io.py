"""File helpers shared by all stages: atomic writes, line-precise JSON/JSONL reading, and the two every
stage's `run(params, inputs, outputs)` uses: `clear_outputs` at its start and `write_metrics` at its end."""
from __future__ import annotations

import contextlib
import glob
import json
import os
import shutil
import re
import tempfile
from pathlib import Path
from typing import Any, Iterable, Iterator


class InputError(Exception):
    """Bad input data. The message names the file, the line/record and the field."""

    def __init__(self, path, message: str, line: int | None = None, field: str | None = None):
        self.path, self.line, self.field, self.reason = str(path), line, field, message
        where = self.path + (f":{line}" if line is not None else "")
        what = f"field '{field}': " if field else ""
        super().__init__(f"{where}: {what}{message}")


class StageError(RuntimeError):
    """The stage ran but its result is unusable (stages.cli reports it and exits 2)."""


def check_error_budget(stage: str, errors: int, calls: int, max_rate: float, what: str, role: str,
                       stats: dict) -> float:
    """Share of failed model calls; StageError (nothing is written) when it exceeds `max_rate`."""
    rate = errors / calls if calls else 0.0
    if rate > max_rate:
        raise StageError(f"{stage}: {errors} of {calls} {what} failed ({rate:.1%}), above "
                         f"{stage}.max_error_rate={max_rate:.1%}; nothing written. "
                         f"Check the {role} role (stats: {stats})")
    return rate


def _remove_stale_temps(path: Path) -> None:
    """Delete temp files of `path` left by a killed writer (their pid, in the name, is gone)."""
    for tmp in path.parent.glob(f".{glob.escape(path.name)}.*.tmp"):
        pid = tmp.name[len(path.name) + 2:].split(".", 1)[0]
        if pid.isdigit() and not _alive(int(pid)):
            with contextlib.suppress(FileNotFoundError):
                tmp.unlink()


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike):
    """Yield a temporary path next to `path`; rename it over `path` only on success."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    _remove_stale_temps(path)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.{os.getpid()}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(tmp, 0o666 & ~umask)  # mkstemp makes 0600; outputs get the usual permissions
    try:
        yield Path(tmp)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


@contextlib.contextmanager
def atomic_open(path: str | os.PathLike, mode: str = "w"):
    """Open a file for writing that appears at `path` only if the block succeeds."""
    with atomic_path(path) as tmp:
        kw = {} if "b" in mode else {"encoding": "utf-8"}
        with open(tmp, mode, **kw) as f:
            yield f


def write_jsonl(path, rows: Iterable[dict]) -> int:
    n = 0
    with atomic_open(path) as f:
        for row in rows:
            f.write(json.dumps(row, ensure_ascii=False) + "\n")
            n += 1
    return n


def write_json(path, obj: Any, indent: int | None = 2) -> None:
    with atomic_open(path) as f:  # json.dumps: the C encoder when indent is None (json.dump never uses it)
        f.write(json.dumps(obj, ensure_ascii=False, indent=indent) + "\n")


def clear_outputs(outputs) -> None:
    """Delete a stage's declared outputs (files or folders: the values of a dict, or paths) at its start,
    so no stale output survives a failed run."""
    for p in (outputs.values() if isinstance(outputs, dict) else outputs):
        p = Path(p)
        if p.is_dir() and not p.is_symlink():
            shutil.rmtree(p, ignore_errors=True)
        else:
            p.unlink(missing_ok=True)


def write_metrics(path, metrics: dict) -> dict:
    """Write a stage's metrics JSON (atomically, indent 2) and return them."""
    write_json(path, metrics)
    return metrics


_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F][0-9a-fA-F]{2}")


def _lone_surrogate(value, where: str = "") -> tuple[str, str] | None:
    """(field path, offending escape) of the first string holding a lone UTF-16 surrogate, else None."""
    if isinstance(value, str):
        try:
            value.encode("utf-8")
        except UnicodeEncodeError as e:
            return where, f"\\u{ord(value[e.start]):04x}"
        return None
    items = value.items() if isinstance(value, dict) else enumerate(value) if isinstance(value, list) else ()
    for k, v in items:
        if isinstance(k, str) and _lone_surrogate(k, where):
            return _lone_surrogate(k, where)
        found = _lone_surrogate(v, f"{where}.{k}" if where else str(k))
        if found:
            return found
    return None


def check_unicode(value, path, line: int | None, text: str) -> None:
    """InputError when a JSON value decoded from `text` holds a lone surrogate escape (not valid Unicode)."""
    if _SURROGATE_ESCAPE.search(text):
        found = _lone_surrogate(value)
        if found:
            raise InputError(path, f"lone UTF-16 surrogate escape {found[1]} (not a valid character); remove it or "
                                   f"pair it (e.g. \\ud83d\\ude00)", line=line, field=found[0] or None)


def _whole_document_hint(path: Path) -> str:
    """For a JSONL parse error: what the file is when it is one JSON document instead ('' if not)."""
    try:
        if path.stat().st_size > 256 << 20:
            return ""
        doc = json.loads(path.read_bytes().decode("utf-8-sig"))
    except (OSError, ValueError):
        return ""
    kind = {dict: "object", list: "list"}.get(type(doc), type(doc).__name__)
    return (f"; the file is one JSON {kind} spread over several lines, not JSON Lines: write one record "
            f"(a JSON object) per line" + (" or a JSON list of records" if kind == "object" else ""))


def iter_jsonl(path, name=None, bom: bool = False) -> Iterator[tuple[int, Any]]:
    """(line number, value) of a JSONL file, streamed; blank lines are skipped. `name`: the path shown
    in errors (e.g. the final name of a temp file); `bom`: allow a UTF-8 byte-order mark on line 1."""
    path = Path(path)
    name = path if name is None else name
    if not path.is_file():
        raise InputError(name, "file not found")
    with open(path, "rb") as f:
        for lineno, raw in enumerate(f, 1):
            try:
                text = raw.decode("utf-8-sig" if bom and lineno == 1 else "utf-8")
            except UnicodeDecodeError as e:
                raise InputError(name, f"invalid UTF-8 at byte {e.start}", line=lineno) from None
            if not text.strip():
                continue
            try:
                value = json.loads(text)
            except json.JSONDecodeError as e:
                raise InputError(name, f"invalid JSON: {e.msg} (column {e.colno})"
                                 + _whole_document_hint(path), line=lineno) from None
            check_unicode(value, name, lineno, text)
            yield lineno, value


def iter_records(path) -> Iterator[tuple[int, dict]]:
    """(line number, record) of a JSONL file whose every non-blank line must be a JSON object."""
    for lineno, obj in iter_jsonl(path):
        if not isinstance(obj, dict):
            raise InputError(path, f"expected a JSON object, got {type(obj).__name__}", line=lineno)
        yield lineno, obj


def read_jsonl(path) -> Iterator[dict]:
    """Stream the records of a JSONL file (see iter_records)."""
    for _, obj in iter_records(path):
        yield obj


def read_json(path) -> Any:
    """Load a whole JSON document; errors name the file and line."""
    path = Path(path)
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise InputError(path, "file not found") from None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as e:
        line = data[: e.start].count(b"\n") + 1
        raise InputError(path, f"invalid UTF-8 at byte {e.start}", line=line) from None
    try:
        value = json.loads(text)
    except json.JSONDecodeError as e:
        raise InputError(path, f"invalid JSON: {e.msg} (column {e.colno})", line=e.lineno) from None
    m = _SURROGATE_ESCAPE.search(text)
    if m:
        check_unicode(value, path, text[:m.start()].count("\n") + 1, text)
    return value


@contextlib.contextmanager
def atomic_dir(path: str | os.PathLike):
    """Yield a temporary directory next to `path`; it replaces `path` only if the block succeeds."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent))
    os.chmod(tmp, 0o755)
    try:
        yield tmp
        old = None
        if path.exists():
            old = Path(tempfile.mkdtemp(prefix=f".{path.name}.", suffix=".old", dir=path.parent))
            os.replace(path, old / "x")
        os.replace(tmp, path)
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
