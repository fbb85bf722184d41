"""Record schemas at every dataset boundary, checked with Great Expectations.

The records are defined once in `records.py` (fields, types, allowed values; `fields.py` has the classes).
Validation of a dataset: presence and type of every field per row (Python), then the GE suite the record
derives (GE 1.x, run on pandas chunks of CHUNK rows). Unique columns are also checked across chunks.

- `validate_file(path, schema)` / `validate_rows(rows, schema, source)` raise `ValidationError` whose
  message names the file, every failed expectation (type, column, count) and example values with line/row.
- `validated_writer(path, schema)`: write JSONL through a temp file, validate it, then rename.
- `cli`: `mseed validate FILE --schema NAME`.
"""
from __future__ import annotations

import contextlib
import json
import logging
from collections.abc import Iterable, Iterator
from functools import lru_cache
from pathlib import Path

import click

from stages.schemas.fields import TYPES, Field, Record  # noqa: F401  (re-exported)
from stages.schemas.records import RECORDS

CHUNK = 50_000      # rows per GE validation (bounded memory on 200k+ row files)
EXAMPLES = 3        # example values shown per failed expectation
SCHEMAS = sorted(RECORDS)


class ValidationError(Exception):
    """A dataset failed its schema; the message lists every failed check with examples."""

    def __init__(self, source, schema: str, failures: list[dict], rows: int):
        self.source, self.schema, self.failures, self.rows = str(source), schema, failures, rows
        lines = [f"{self.source}: {len(failures)} check(s) of schema '{schema}' failed ({rows} rows):"]
        for f in failures:
            col = f" column '{f['column']}'" if f.get("column") else ""
            ex = ", ".join(f"{where} {_short(v)}" for where, v in f["examples"])
            lines.append(f"  - {f['expectation']}{col}: {f['count']} unexpected" + (f"; e.g. {ex}" if ex else ""))
        super().__init__("\n".join(lines))


class _Missing:
    def __repr__(self):
        return "<missing>"


MISSING = _Missing()


def _short(value, limit: int = 60) -> str:
    if value is MISSING:
        return repr(value)
    text = json.dumps(value, ensure_ascii=False) if not isinstance(value, str) else repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def record(schema: str) -> Record:
    if schema not in RECORDS:
        raise ValueError(f"unknown schema '{schema}' (known: {', '.join(SCHEMAS)})")
    return RECORDS[schema]


class _GE:
    """One ephemeral GE context per process; suites are built once."""

    def __init__(self):
        import great_expectations as gx
        from great_expectations.data_context.types.base import ProgressBarsConfig

        logging.getLogger("great_expectations").setLevel(logging.ERROR)
        self.gx = gx
        self.ctx = gx.get_context(mode="ephemeral")
        self.ctx.variables.progress_bars = ProgressBarsConfig(globally=False)
        asset = self.ctx.data_sources.add_pandas("mseed").add_dataframe_asset("rows")
        self.batch_def = asset.add_batch_definition_whole_dataframe("all")
        self.suites = {}

    def suite(self, schema: str):
        if schema not in self.suites:
            suite = self.gx.ExpectationSuite(name=schema)
            for kind, kwargs in record(schema).expectations():
                cls = getattr(self.gx.expectations, "".join(p.title() for p in kind.split("_")))
                suite.add_expectation(cls(**kwargs))
            self.suites[schema] = self.ctx.suites.add(suite)
        return self.suites[schema]

    def validate(self, df, schema: str):
        batch = self.batch_def.get_batch(batch_parameters={"dataframe": df})
        fmt = {"result_format": "COMPLETE", "partial_unexpected_count": EXAMPLES, "unexpected_index_column_names": []}
        return batch.validate(self.suite(schema), result_format=fmt)


@lru_cache(maxsize=1)
def _ge() -> _GE:
    return _GE()


class _Checker:
    """Accumulates failures over chunks: Python type checks, cross-chunk uniqueness, GE expectations."""

    def __init__(self, schema: str, source, where: str):
        self.schema, self.source, self.where = schema, source, where
        self.fields = record(schema).fields
        self.columns = sorted({kw["column"] for _, kw in record(schema).expectations()})
        self.unique = [name for name, f in self.fields.items() if f.unique]
        self.seen = {c: {} for c in self.unique}
        self.failures: dict[tuple, dict] = {}
        self.rows = 0
        self.chunk: list[dict] = []
        self.nums: list[int] = []

    def _fail(self, expectation: str, column: str | None, num: int | None, value, count: int = 1):
        f = self.failures.setdefault((expectation, column),
                                     {"expectation": expectation, "column": column, "count": 0, "examples": []})
        f["count"] += count
        if num is not None and len(f["examples"]) < EXAMPLES:
            f["examples"].append((f"{self.where} {num}:", value))

    def add(self, row, num: int):
        self.rows += 1
        if not isinstance(row, dict):
            self._fail("expect_row_to_be_object", None, num, row)
            return
        for name, field in self.fields.items():
            if name not in row:
                self._fail("expect_field_to_exist", name, num, MISSING)
            elif not field.matches(row[name]):
                self._fail(f"expect_field_type_{'|'.join(field.types)}", name, num, row[name])
        chunk_start = self.nums[0] if self.nums else num
        for col in self.unique:
            value = row.get(col)
            if isinstance(value, (str, int)) and not isinstance(value, bool):
                first = self.seen[col].setdefault(value, num)
                if first < chunk_start:  # duplicate of an earlier chunk's row (GE checks within a chunk)
                    self._fail("expect_column_values_to_be_unique", col, num, value)
        self.chunk.append({c: row.get(c) for c in self.columns})
        self.nums.append(num)
        if len(self.chunk) >= CHUNK:
            self.flush()

    def flush(self):
        if not self.chunk:
            return
        import pandas as pd

        df = pd.DataFrame(self.chunk, columns=self.columns)
        result = _ge().validate(df, self.schema)
        for r in result.results:
            if r.success:
                continue
            cfg, res = r.expectation_config, r.result or {}
            column = cfg.kwargs.get("column")
            if column is not None and column not in df.columns:
                self._fail(cfg.type, column, None, None)
                continue
            idx = res.get("partial_unexpected_index_list") or []
            vals = res.get("partial_unexpected_list") or []
            count = res.get("unexpected_count") or max(len(idx), 1)
            if r.exception_info and r.exception_info.get("raised_exception"):
                self._fail(cfg.type, column, None, None, count=0)
                self.failures[(cfg.type, column)]["examples"].append(
                    ("error:", r.exception_info.get("exception_message")))
                continue
            self._fail(cfg.type, column, None, None, count=count)
            ex = self.failures[(cfg.type, column)]["examples"]
            for i, v in zip(idx, vals):
                if len(ex) < EXAMPLES:
                    ex.append((f"{self.where} {self.nums[i]}:", v))
        self.chunk, self.nums = [], []

    def finish(self) -> int:
        self.flush()
        if self.failures:
            raise ValidationError(self.source, self.schema, list(self.failures.values()), self.rows)
        return self.rows


def _is_json_list(path: Path) -> bool:
    with open(path, "rb") as f:
        return f.read(4096).lstrip(b"\xef\xbb\xbf \t\r\n").startswith(b"[")


def _iter_file(path: Path, name) -> Iterator[tuple[int, object]]:
    """(record number, record) of a JSON list file, or (line number, record) of a JSONL file."""
    from stages.io import InputError, iter_jsonl, read_json

    if _is_json_list(path):
        try:
            data = read_json(path)
        except InputError as e:
            raise InputError(name, e.reason, line=e.line) from None
        yield from enumerate(data, 1)
        return
    yield from iter_jsonl(path, name)


def validate_file(path, schema: str, name=None) -> int:
    """Validate a JSONL or JSON-list file; returns the row count. `name`: the path shown in errors
    (e.g. the final name of a temp file). Examples cite line numbers (JSONL) or record numbers (list)."""
    from stages.io import InputError

    path = Path(path)
    name = name or path
    if not path.is_file():
        raise InputError(name, "file not found")
    checker = _Checker(schema, name, "record" if _is_json_list(path) else "line")
    for num, row in _iter_file(path, name):
        checker.add(row, num)
    return checker.finish()


def validate_rows(rows: Iterable[dict], schema: str, source="<rows>") -> int:
    """Validate in-memory/streamed records; examples name the 1-based row number."""
    checker = _Checker(schema, source, "row")
    for num, row in enumerate(rows, 1):
        checker.add(row, num)
    return checker.finish()


class _Writer:
    def __init__(self, f):
        self.f, self.count = f, 0

    def write(self, row: dict) -> None:
        self.f.write(json.dumps(row, ensure_ascii=False) + "\n")
        self.count += 1


@contextlib.contextmanager
def validated_writer(path, schema: str):
    """Yield a writer (`.write(row)`, `.count`); the JSONL file appears at `path` only if the block
    succeeds and the whole file passes `schema`. On any failure nothing is left behind."""
    from stages.io import atomic_path

    with atomic_path(path) as tmp:
        with open(tmp, "w", encoding="utf-8") as f:
            writer = _Writer(f)
            yield writer
        validate_file(tmp, schema, name=path)


@click.command("validate")
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@click.option("--schema", "schema", required=True, type=click.Choice(SCHEMAS), help="Record schema (suite) name.")
def cli(file, schema):
    """Validate FILE (JSONL or JSON list) against a record schema's Great Expectations suite.

    Exit status 0 when valid; 2 with every failed check, its column and example values otherwise.
    """
    n = validate_file(file, schema)
    click.echo(f"ok: {file}: {n} rows match schema '{schema}'")
