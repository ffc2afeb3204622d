"""Column names and types shared by the connectors: names made into lake identifiers, and
text values typed (integers, exact decimals, dates, timestamps, text) by looking at every
value of a column, so that the second pass can never meet a value it cannot convert."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal
from typing import Any

import pyarrow as pa

_NOT_WORD = re.compile(r"[^\w]+")
_INT = re.compile(r"^[+-]?(0|[1-9]\d{0,14})$")  # no leading zeros (codes stay text), ≤ 15 digits
_DEC = re.compile(r"^[+-]?(0|[1-9]\d*)\.(\d+)$")
_DATE = re.compile(r"^(\d{4})[-/](\d{1,2})[-/](\d{1,2})$")
_STAMP = re.compile(r"^(\d{4})[-/](\d{1,2})[-/](\d{1,2})[ T](\d{1,2}):(\d{2})(?::(\d{2}))?$")
NULLS = {""}


def column_names(raw: list[Any]) -> list[str]:
    """Header values → unique lake column names (any script; other characters become '_')."""
    names: list[str] = []
    seen: set[str] = set()
    for i, value in enumerate(raw, start=1):
        name = _NOT_WORD.sub("_", str(value if value is not None else "").strip()).strip("_")
        name = name[:60] or f"col_{i}"
        if name[0].isdigit():
            name = f"c_{name}"[:60]
        base, n = name, 2
        while name.casefold() in seen:
            name = f"{base}_{n}"
            n += 1
        seen.add(name.casefold())
        names.append(name)
    return names


class TextColumn:
    """Watches every text value of one column and settles on the narrowest type that holds
    them all: int64 → decimal128 → text, date → timestamp → text."""

    def __init__(self) -> None:
        self.kind: str | None = None  # None until a non-empty value is seen
        self.scale = 0
        self.digits = 0

    def see(self, value: str) -> None:
        if value in NULLS or self.kind == "string":
            return
        kind = self._kind(value)
        if self.kind is None or self.kind == kind:
            self.kind = kind
        elif {self.kind, kind} == {"int", "decimal"}:
            self.kind = "decimal"
        elif {self.kind, kind} == {"date", "timestamp"}:
            self.kind = "timestamp"
        else:
            self.kind = "string"
        if self.kind == "decimal":
            m = _DEC.match(value)
            scale = len(m.group(2)) if m else 0
            whole = len(value.lstrip("+-").split(".")[0])
            self.scale = max(self.scale, scale)
            self.digits = max(self.digits, whole)
            if self.digits + self.scale > 38:
                self.kind = "string"

    @staticmethod
    def _kind(value: str) -> str:
        if _INT.match(value):
            return "int"
        if _DEC.match(value):
            return "decimal"
        if _DATE.match(value) and _date(value) is not None:
            return "date"
        if _STAMP.match(value) and _stamp(value) is not None:
            return "timestamp"
        return "string"

    def arrow_type(self) -> pa.DataType:
        return {
            "int": pa.int64(),
            "decimal": pa.decimal128(max(self.digits + self.scale, 1), self.scale),
            "date": pa.date32(),
            "timestamp": pa.timestamp("s"),
        }.get(self.kind or "string", pa.string())

    def convert(self, values: list[str]) -> pa.Array:
        kind = self.kind or "string"
        typ = self.arrow_type()
        if kind == "string":
            return pa.array([None if v in NULLS else v for v in values], pa.string())
        parse = {"int": int, "decimal": Decimal, "date": _date, "timestamp": _stamp}[kind]
        return pa.array([None if v in NULLS else parse(v) for v in values], typ)


def _date(value: str) -> dt.date | None:
    m = _DATE.match(value)
    try:
        return dt.date(int(m.group(1)), int(m.group(2)), int(m.group(3))) if m else None
    except ValueError:
        return None


def _stamp(value: str) -> dt.datetime | None:
    m = _STAMP.match(value)
    if not m:
        return None
    try:
        y, mo, d, h, mi, s = (int(g or 0) for g in m.groups())
        return dt.datetime(y, mo, d, h, mi, s)
    except ValueError:
        return None


def value_column(values: list[Any]) -> pa.Array:
    """Python values (from JSON or a spreadsheet) → one Arrow array: ints, floats, bools,
    dates and timestamps keep their type; mixed columns become text."""
    kinds = {_py_kind(v) for v in values if v is not None and v != ""}
    if kinds <= {"int"}:
        kind = "int" if kinds else "string"
    elif kinds <= {"int", "float"}:
        kind = "float"
    elif kinds <= {"date", "timestamp"}:
        kind = "timestamp" if "timestamp" in kinds else "date"
    elif len(kinds) == 1:
        kind = next(iter(kinds))
    else:
        kind = "string"
    if kind == "string":
        return pa.array([None if v is None or v == "" else _text(v) for v in values], pa.string())
    typ = {
        "int": pa.int64(),
        "float": pa.float64(),
        "bool": pa.bool_(),
        "date": pa.date32(),
        "timestamp": pa.timestamp("us"),
    }[kind]
    clean = [None if v is None or v == "" else v for v in values]
    if kind == "float":
        clean = [None if v is None else float(v) for v in clean]
    return pa.array(clean, typ)


def _py_kind(value: Any) -> str:
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int):
        return "int" if -(2**63) <= value < 2**63 else "string"
    if isinstance(value, float):
        return "float"
    if isinstance(value, dt.datetime):
        return "timestamp"
    if isinstance(value, dt.date):
        return "date"
    return "string"


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)
