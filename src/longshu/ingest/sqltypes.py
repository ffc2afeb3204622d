"""Database types → Arrow types for ``sqlsource``: PostgreSQL's declared column types, SQLite's
values (it stores any value in any column), and the watermark as the column's type."""

from __future__ import annotations

import datetime as dt
import json
import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

import pyarrow as pa

from longshu.ingest.errors import InvalidOption

_PG_INT = {20, 21, 23, 26}  # int8, int2, int4, oid


@dataclass
class Column:
    """One output column: the Arrow type it becomes and how a database value gets there."""

    name: str  # as the database names it
    arrow: pa.DataType
    kind: str  # int, float, bool, decimal, date, timestamp, string, binary


def pg_column(name: str, oid: int, precision: int | None, scale: int | None) -> Column:
    if oid in _PG_INT:
        return Column(name, pa.int64(), "int")
    if oid in (700, 701):
        return Column(name, pa.float64(), "float")
    if oid == 16:
        return Column(name, pa.bool_(), "bool")
    if oid == 1700:
        if precision is None:  # unconstrained numeric: exact up to 38 digits, 10 after the point
            return Column(name, pa.decimal128(38, 10), "decimal")
        scale = scale or 0
        digits = precision - scale if scale < 0 else precision
        if digits <= 38:
            return Column(name, pa.decimal128(digits, max(scale, 0)), "decimal")
        return Column(name, pa.string(), "string")
    if oid == 1082:
        return Column(name, pa.date32(), "date")
    if oid in (1114, 1184):
        return Column(name, pa.timestamp("us", tz="UTC"), "timestamp")
    if oid == 17:
        return Column(name, pa.binary(), "binary")
    return Column(name, pa.string(), "string")


class ValueKinds:
    """SQLite: the narrowest type that holds every value seen of one column."""

    def __init__(self, name: str, declared: tuple[int, int] | None) -> None:
        self.name = name
        self.declared = declared  # DECIMAL(p, s) of a table's column
        self.kinds: set[str] = set()

    def see(self, value: Any) -> None:
        if value is None:
            return
        if isinstance(value, bool | int):
            self.kinds.add("int")
        elif isinstance(value, float):
            self.kinds.add("float")
        elif isinstance(value, bytes):
            self.kinds.add("binary")
        elif "string" not in self.kinds:
            self.kinds.add(_text_kind(str(value)))

    def column(self) -> Column:
        k = self.kinds
        if self.declared and k <= {"int", "float"}:
            p, s = self.declared
            return Column(self.name, pa.decimal128(p, s), "decimal")
        if k <= {"int"} and k:
            return Column(self.name, pa.int64(), "int")
        if k <= {"int", "float"} and k:
            return Column(self.name, pa.float64(), "float")
        if k == {"date"}:
            return Column(self.name, pa.date32(), "date")
        if k and k <= {"date", "timestamp"}:
            return Column(self.name, pa.timestamp("us", tz="UTC"), "timestamp")
        if k == {"binary"}:
            return Column(self.name, pa.binary(), "binary")
        return Column(self.name, pa.string(), "string")


_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_ISO_STAMP = re.compile(
    r"^\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}(:\d{2}(\.\d{1,6})?)?(Z|[+-]\d{2}:?\d{2})?$"
)


def _text_kind(value: str) -> str:
    try:
        if _ISO_DATE.match(value):
            dt.date.fromisoformat(value)
            return "date"
        if _ISO_STAMP.match(value):
            dt.datetime.fromisoformat(value)
            return "timestamp"
    except ValueError:
        pass
    return "string"


def converter(column: Column, local: dt.tzinfo) -> Any:
    """A function from a database value to what ``pa.array`` takes for the column's type."""
    kind = column.kind

    def stamp(v: Any) -> Any:
        if v is None:
            return None
        if isinstance(v, str):
            v = dt.datetime.fromisoformat(v)
        elif isinstance(v, dt.date) and not isinstance(v, dt.datetime):
            v = dt.datetime(v.year, v.month, v.day)
        return v.replace(tzinfo=local) if v.tzinfo is None else v

    if kind == "timestamp":
        return stamp
    if kind == "date":
        return lambda v: dt.date.fromisoformat(v) if isinstance(v, str) else v
    if kind == "decimal":
        return lambda v: Decimal(repr(v)) if isinstance(v, float) else v
    if kind == "string":
        return lambda v: v if v is None or isinstance(v, str) else _text(v)
    return None  # ints, floats, booleans, bytes: as the driver gives them


def _text(value: Any) -> str:
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False, default=str)
    if isinstance(value, bytes):
        return value.hex()
    if isinstance(value, dt.date | dt.time):
        return value.isoformat()
    return str(value)


def watermark_text(value: Any) -> str | None:
    """How the newest watermark is handed back (``IngestSource.watermark`` keeps text)."""
    if value is None:
        return None
    if isinstance(value, dt.datetime) and value.tzinfo is not None:
        return value.astimezone(dt.UTC).isoformat()
    if isinstance(value, dt.date | dt.time):
        return value.isoformat()
    return str(value)


def since_value(since: Any, column: Column | None) -> Any:
    """The caller's ``since`` (often the text kept from the last pull) as the column's type."""
    if not isinstance(since, str) or column is None:
        return since
    try:
        if column.kind == "int":
            return int(since)
        if column.kind in ("float", "decimal"):
            return Decimal(since)
        if column.kind == "date":
            return dt.date.fromisoformat(since)
        if column.kind == "timestamp":
            value = dt.datetime.fromisoformat(since)
            return value if value.tzinfo else value.replace(tzinfo=dt.UTC)
    except (ValueError, InvalidOperation):
        raise InvalidOption(
            option="since", detail=f"a value of the watermark column's type ({column.arrow})"
        ) from None
    return since


def sqlite_since(since: Any) -> Any:
    """SQLite orders integers before all text: a numeric ``since`` must be bound as a number."""
    if isinstance(since, str):
        if re.fullmatch(r"[+-]?\d{1,18}", since):
            return int(since)
        if re.fullmatch(r"[+-]?\d+\.\d*", since):
            return float(since)
    if isinstance(since, dt.datetime):
        return since.isoformat(sep=" ")
    return since


def later(a: Any, b: Any) -> bool:
    try:
        return a > b
    except TypeError:  # SQLite: mixed types in one column order as SQLite does
        order = (int, float, str, bytes)
        rank = {t: i for i, t in enumerate(order)}
        return rank.get(type(a), 9) > rank.get(type(b), 9)
