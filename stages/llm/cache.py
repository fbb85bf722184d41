"""Persistent content-addressed cache of model outputs (SQLite, WAL mode, safe for several processes).

Key = sha256 of backend + model + messages + GenConfig.key() + sample index (chat), or backend +
model + text + options (loglik). Value = raw output text and token counts. Only successes are stored.
Location: $MSEED_LLM_CACHE, default `<repo>/.cache/llm/cache.sqlite` (gitignored, outside DVC outs).
Clear it by deleting that file (and its -wal/-shm companions). A file that is not a readable cache
(corrupt, truncated, another format) is an InputError naming it and saying how to rebuild it.
"""
from __future__ import annotations

import hashlib
import json
import os
import sqlite3
import time
from pathlib import Path
from typing import Any, Iterable

from stages.io import InputError

ROOT = Path(__file__).resolve().parents[2]
DEFAULT_PATH = ROOT / ".cache" / "llm" / "cache.sqlite"


def cache_path() -> Path:
    return Path(os.environ.get("MSEED_LLM_CACHE") or DEFAULT_PATH)


def _digest(obj: Any) -> str:
    blob = json.dumps(obj, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()


def chat_key(backend: str, model: str, messages: list[dict], gen_key: dict, sample_index: int) -> str:
    return _digest({"kind": "chat", "backend": backend, "model": model, "messages": messages,
                    "gen": gen_key, "sample": sample_index})


def loglik_key(backend: str, model: str, text: str, options: dict | None = None) -> str:
    return _digest({"kind": "loglik", "backend": backend, "model": model, "text": text,
                    "options": options or {}})


def _corrupt(path: Path, err: Exception) -> InputError:
    return InputError(path, f"the LLM cache is not readable ({type(err).__name__}: {err}); delete it to rebuild it "
                            f"(rm -f '{path}' '{path}-wal' '{path}-shm'; only cached answers are lost, the next run "
                            f"asks the models again) or set MSEED_LLM_CACHE to another file")


def _guarded(method):
    """Turn a corrupt-database error of `method` into an InputError (a locked database is not corruption)."""
    def wrapper(self, *args, **kwargs):
        try:
            return method(self, *args, **kwargs)
        except sqlite3.OperationalError as e:
            if "malformed" in str(e) or "not a database" in str(e):
                raise _corrupt(self.path, e) from None
            raise
        except UnicodeError:
            raise
        except (sqlite3.DatabaseError, ValueError) as e:
            raise _corrupt(self.path, e) from None
    wrapper.__doc__, wrapper.__name__ = method.__doc__, method.__name__
    return wrapper


class Cache:
    """get_many/put_many over one SQLite file. Each put commits, so a crash loses nothing written."""

    @_guarded
    def __init__(self, path: str | os.PathLike | None = None):
        self.path = Path(path) if path else cache_path()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.db = sqlite3.connect(self.path, timeout=60, isolation_level=None, check_same_thread=False)
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=NORMAL")
        self.db.execute("PRAGMA busy_timeout=60000")
        self.db.execute("CREATE TABLE IF NOT EXISTS entries (key TEXT PRIMARY KEY, value TEXT NOT NULL, "
                        "created REAL NOT NULL)")

    @_guarded
    def get_many(self, keys: Iterable[str]) -> dict[str, dict]:
        keys = list(dict.fromkeys(keys))
        out: dict[str, dict] = {}
        for i in range(0, len(keys), 500):  # SQLite parameter limit
            chunk = keys[i:i + 500]
            marks = ",".join("?" * len(chunk))
            for k, v in self.db.execute(f"SELECT key, value FROM entries WHERE key IN ({marks})", chunk):
                out[k] = json.loads(v)
        return out

    def get(self, key: str) -> dict | None:
        return self.get_many([key]).get(key)

    @_guarded
    def put_many(self, items: Iterable[tuple[str, dict]]) -> None:
        now = time.time()
        rows = [(k, json.dumps(v, ensure_ascii=False), now) for k, v in items]
        if not rows:
            return
        self.db.execute("BEGIN IMMEDIATE")
        try:
            self.db.executemany("INSERT OR REPLACE INTO entries (key, value, created) VALUES (?, ?, ?)", rows)
            self.db.execute("COMMIT")
        except BaseException:
            self.db.execute("ROLLBACK")
            raise

    def __len__(self) -> int:
        return self.db.execute("SELECT COUNT(*) FROM entries").fetchone()[0]

    def close(self) -> None:
        self.db.close()
