"""Column names and types shared by the connectors.

Names: header values made into lake identifiers (any script; other characters become '_').
Types of text columns (CSV): every value of a column is looked at, batch by batch and
vectorised, and the column settles on the narrowest type that holds them all — int64 →
decimal128 → text, date → timestamp → text — so converting can never meet a value it cannot
convert. Codes with leading zeros (身份证号, postcodes, 0931…) and numbers over 15 digits stay
text, and so does every column whose name says it holds codes (``holds_codes``: 行政区划代码
620102 is compared, never added up) or that the load names in ``text_columns``. Timestamps without a zone stay wall-clock times (timestamp without time zone)."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from longshu.ingest.errors import InvalidOption

_NOT_WORD = re.compile(r"[^\w]+")
# Names of code columns: English words, Chinese words, and the pinyin initials of GB/T data
# element names (xzqhdm 行政区划代码, tyshxydm 统一社会信用代码, yzbm 邮政编码, zjhm 证件号码).
_CODE_NAME = re.compile(
    r"(code|codes|zip|postcode|phone|mobile|dm|bm|bh|hm|代码|编码|编号|号码|号|区划|邮编|电话|手机)$",
    re.IGNORECASE,
)
INT_PATTERN = r"^[+-]?(0|[1-9]\d{0,14})$"  # no leading zeros (codes stay text), ≤ 15 digits
NUMBER_PATTERN = r"^[+-]?(0|[1-9]\d*)(\.\d+)?$"
_INT = re.compile(INT_PATTERN)
_DEC = re.compile(r"^[+-]?(0|[1-9]\d*)\.(\d+)$")
_DATE = re.compile(r"^(\d{4})[-/](\d{1,2})[-/](\d{1,2})$")
_STAMP = re.compile(r"^(\d{4})[-/](\d{1,2})[-/](\d{1,2})[ T](\d{1,2}):(\d{2})(?::(\d{2}))?$")
# strptime formats tried when Arrow's ISO-8601 cast refuses a value (slashes, 1-digit parts)
DATE_FORMATS = ("%Y/%m/%d", "%Y-%m-%d")
# Arrow scalars made once: a Python literal in a compute call is converted on every call
_EMPTY = pa.scalar("", pa.string())
_NULL_TEXT = pa.scalar(None, pa.string())
_ZERO = pa.scalar(0, pa.int32())
_ONE = pa.scalar(1, pa.int32())
_TEN = pa.scalar(10, pa.int32())
_DASH = pa.scalar("-", pa.string())
STAMP_FORMATS = ("%Y/%m/%d %H:%M:%S", "%Y/%m/%d %H:%M", "%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M")


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


def holds_codes(name: str, text_columns: frozenset[str] = frozenset()) -> bool:
    """Whether a column keeps its values as text whatever they look like."""
    return name in text_columns or bool(_CODE_NAME.search(name))


def text_columns_option(options: dict[str, Any]) -> frozenset[str]:
    """The load's ``text_columns`` option: column names that stay text."""
    given = options.get("text_columns") or []
    if isinstance(given, str):
        given = [part.strip() for part in given.split(",") if part.strip()]
    if not isinstance(given, list | tuple) or not all(isinstance(n, str) for n in given):
        raise InvalidOption(option="text_columns", detail="a list of column names")
    return frozenset(given)


def value_kind(value: str) -> str:
    """What one text value reads as: int, decimal, date, timestamp or string."""
    if _INT.match(value):
        return "int"
    if _DEC.match(value):
        return "decimal"
    if _DATE.match(value) and _date(value) is not None:
        return "date"
    if _STAMP.match(value) and _stamp(value) is not None:
        return "timestamp"
    return "string"


class TextColumn:
    """Watches every value of one text column (Arrow string batches, "" is empty) and
    settles on the narrowest type that holds them all."""

    def __init__(self, codes: bool = False) -> None:
        # None until a non-empty value is seen; a code column is text from the start
        self.kind: str | None = "string" if codes else None
        self.scale = 0
        self.digits = 0
        self.iso = True  # every date/time value is ISO-8601 (Arrow's fast cast reads it)

    def see(self, values: pa.Array) -> None:
        if self.kind == "string":
            return
        empty = pc.equal(values, _EMPTY)
        present = values.filter(pc.invert(empty)) if empty.true_count else values
        if len(present) == 0:
            return
        kind = self._batch_kind(present)
        if self.kind is None or self.kind == kind:
            self.kind = kind
        elif {self.kind, kind} == {"int", "decimal"}:
            self.kind = "decimal"
        elif {self.kind, kind} == {"date", "timestamp"}:
            self.kind = "timestamp"
        else:
            self.kind = "string"
        if self.kind == "decimal" and self.digits + self.scale > 38:
            self.kind = "string"

    def _batch_kind(self, present: pa.Array) -> str:
        first = value_kind(present[0].as_py())
        if first in ("int", "decimal"):
            return self._number_kind(present)
        if first in ("date", "timestamp"):
            return self._time_kind(present)
        return "string"

    def _number_kind(self, present: pa.Array) -> str:
        lengths = pc.binary_length(present)
        longest = pc.max(lengths).as_py()
        if self.kind != "decimal" and longest <= 15:  # fast path: Arrow's cast, zero rule
            try:
                pc.cast(present, pa.int64())
            except pa.ArrowInvalid:
                pass
            else:
                zero = pc.and_(pc.starts_with(present, "0"), pc.greater(lengths, _ONE))
                if not zero.true_count:
                    self.digits = max(self.digits, longest)
                    return "int"
        if pc.match_substring_regex(present, NUMBER_PATTERN).false_count:
            return "string"
        dot = pc.find_substring(present, ".")
        if pc.max(dot).as_py() < 0:  # whole numbers only
            if not pc.match_substring_regex(present, INT_PATTERN).false_count:
                self.digits = max(self.digits, longest)
                return "int"
            return "string"  # over 15 digits: an identifier, not a quantity
        signed = pc.cast(pc.starts_with(present, "-"), pa.int32()) + pc.cast(
            pc.starts_with(present, "+"), pa.int32()
        )
        whole = pc.subtract(pc.if_else(pc.less(dot, _ZERO), lengths, dot), signed)
        scale = pc.if_else(pc.less(dot, _ZERO), _ZERO, pc.subtract(pc.subtract(lengths, dot), _ONE))
        self.digits = max(self.digits, pc.max(whole).as_py())
        self.scale = max(self.scale, pc.max(scale).as_py())
        return "decimal"

    def _time_kind(self, present: pa.Array) -> str:
        try:
            pc.cast(present, pa.timestamp("s"))
        except pa.ArrowInvalid:
            parsed = _strptime(present, STAMP_FORMATS + DATE_FORMATS)
            if parsed.null_count:
                return "string"
            self.iso = False
        else:
            dash = pc.equal(pc.utf8_slice_codeunits(present, 4, 5), _DASH)
            if dash.false_count:
                return "string"  # Arrow's cast also reads a few forms we do not (e.g. offsets)
        short = not pc.greater(pc.binary_length(present), _TEN).true_count
        return "date" if short else "timestamp"

    def arrow_type(self) -> pa.DataType:
        return {
            "int": pa.int64(),
            # 18 or 38 digits, so later loads of the same column keep its type
            "decimal": pa.decimal128(18 if self.digits + self.scale <= 18 else 38, self.scale),
            "date": pa.date32(),
            "timestamp": pa.timestamp("s"),
        }.get(self.kind or "string", pa.string())

    def convert(self, values: pa.Array) -> pa.Array:
        """The batch's values in the settled type ("" becomes null)."""
        kind = self.kind or "string"
        empty = pc.equal(values, _EMPTY)
        nulled = pc.if_else(empty, _NULL_TEXT, values)
        if kind == "string":
            return nulled if empty.true_count else values
        if kind in ("int", "decimal"):
            return pc.cast(nulled, self.arrow_type())
        if self.iso:
            stamps = pc.cast(nulled, pa.timestamp("s"))
        else:
            stamps = _strptime(nulled, STAMP_FORMATS + DATE_FORMATS)
        return stamps.cast(pa.date32()) if kind == "date" else stamps


def _strptime(values: pa.Array, formats: tuple[str, ...]) -> pa.Array:
    """Each value parsed by the first format that reads it (null when none does)."""
    parsed = [pc.strptime(values, format=f, unit="s", error_is_null=True) for f in formats]
    return pc.coalesce(*parsed)


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


def value_column(values: list[Any], codes: bool = False) -> pa.Array:
    """Python values (from JSON or a spreadsheet) → one Arrow array: ints, floats, bools,
    dates and timestamps keep their type; mixed columns and code columns become text."""
    kinds = {"string"} if codes else {_py_kind(v) for v in values if v is not None and v != ""}
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
    if isinstance(value, float) and value.is_integer():  # a spreadsheet's number as a code
        return str(int(value))
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)
