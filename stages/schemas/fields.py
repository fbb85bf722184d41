"""Field and record definitions: the one place a record's fields, types and allowed values are written.

A `Record` is a name, a description and `Field`s in order. It is used two ways:
- `record.check(rec, path, line)`: one input record, the first problem as `InputError`
  (`<file>:<line>: field '<f>': what is wrong`); an absent field reads as null here.
- `stages.schemas.validate_file(path, name)`: a whole dataset; presence and types are checked per row in
  Python (a DataFrame cannot tell a missing key from null, nor hold nested types), the values through the
  Great Expectations suite `record.expectations()` derives (enum -> in_set, nonblank -> regex, ...).

Types: "str", "int", "number", "bool", "dict", "list", "any", joined with "|"; "|null" makes a field optional.
"""
from __future__ import annotations

from stages.io import InputError

TYPES = {
    "str": lambda v: isinstance(v, str),
    "null": lambda v: v is None,
    "bool": lambda v: isinstance(v, bool),
    "int": lambda v: isinstance(v, int) and not isinstance(v, bool),
    "number": lambda v: isinstance(v, (int, float)) and not isinstance(v, bool),
    "dict": lambda v: isinstance(v, dict),
    "list": lambda v: isinstance(v, list),
    "any": lambda v: True,
}


class Field:
    """One field. `nonblank`: a string with a non-space character; `enum`: the allowed values;
    `unique`: no two rows share it (datasets only); `between`: (min, max), None = open; `length`:
    (min, max) string length; `items`: the type every list element has."""

    def __init__(self, types: str = "str", *, nonblank: bool = False, enum=None, unique: bool = False,
                 between: tuple | None = None, length: tuple | None = None, items: str | None = None):
        self.types = types.split("|")
        bad = [t for t in self.types + ([items] if items else []) if t not in TYPES]
        if bad:
            raise ValueError(f"unknown field type(s) {bad} (known: {', '.join(TYPES)})")
        self.nullable = "null" in self.types
        self.nonblank, self.unique, self.between, self.length, self.items = nonblank, unique, between, length, items
        self.enum = list(enum) if enum is not None else None

    def matches(self, value) -> bool:
        return any(TYPES[t](value) for t in self.types)

    def check(self, rec: dict, name: str, path, line):
        """rec[name] when it fits this field; InputError naming file, line and field otherwise."""
        value = rec.get(name)
        if value is None:
            if not self.nullable:
                raise InputError(path, "missing required field", line=line, field=name)
            return None
        if not self.matches(value):
            names = "/".join(t for t in self.types if t != "null")
            names += " or null" if self.nullable else ""
            raise InputError(path, f"expected {names}, got {type(value).__name__}", line=line, field=name)
        if self.nonblank and isinstance(value, str) and not value.strip():
            raise InputError(path, "empty or whitespace-only value", line=line, field=name)
        if self.enum is not None and value not in self.enum:
            raise InputError(path, f"expected one of {', '.join(map(str, self.enum))}, got {value!r}",
                             line=line, field=name)
        if self.items and not all(TYPES[self.items](v) for v in value):
            what = "strings" if self.items == "str" else f"{self.items} values"
            raise InputError(path, f"expected a list of {what}", line=line, field=name)
        return value

    def expectations(self, column: str) -> list[tuple[str, dict]]:
        """The GE expectations (type, kwargs) of this field's values."""
        out = []
        col = {"column": column}
        if self.unique:
            out.append(("expect_column_values_to_be_unique", col))
        if self.length:
            out.append(("expect_column_value_lengths_to_be_between",
                        {**col, "min_value": self.length[0], "max_value": self.length[1]}))
        if self.nonblank:
            out.append(("expect_column_values_to_match_regex", {**col, "regex": r"\S"}))
        if self.enum is not None:
            out.append(("expect_column_values_to_be_in_set", {**col, "value_set": self.enum}))
        if self.between:
            out.append(("expect_column_values_to_be_between",
                        {**col, "min_value": self.between[0], "max_value": self.between[1]}))
        return out


class Record:
    """A named record: ordered fields. `extend` adds fields (a later boundary), `pick` keeps some."""

    def __init__(self, name: str, description: str, **fields: Field):
        self.name, self.description, self.fields = name, description, dict(fields)

    def extend(self, name: str, description: str, **fields: Field) -> Record:
        return Record(name, description, **{**self.fields, **fields})

    def pick(self, *names: str, name: str | None = None) -> Record:
        return Record(name or self.name, self.description, **{n: self.fields[n] for n in names})

    def check(self, rec, path, line: int | None = None) -> dict:
        """`rec` when it is a JSON object whose fields fit (first problem as InputError)."""
        if not isinstance(rec, dict):
            raise InputError(path, f"expected a JSON object, got {type(rec).__name__}", line=line)
        for name, field in self.fields.items():
            field.check(rec, name, path, line)
        return rec

    def expectations(self) -> list[tuple[str, dict]]:
        return [e for name, f in self.fields.items() for e in f.expectations(name)]
