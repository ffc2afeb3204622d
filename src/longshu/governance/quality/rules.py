"""Quality rules (质量规则) as stored and checked: what each kind means and what parameters it
takes. ``check_rule`` is the one gate: a rule that passes it compiles to SQL (compile.py).

| kind | dimension | fails when (NULL values are left to completeness) | params |
|---|---|---|---|
| completeness 完整性 | completeness | the value is NULL (or blank text, unless ``blank_ok``) | ``blank_ok`` |
| uniqueness 唯一性 | uniqueness | the value repeats (each occurrence after the first) | — |
| regex 格式 | validity | the text does not match (RE2; ``full``: whole value, default search) | ``pattern``, ``full`` |
| enum 值域 | validity | the value is not one of ``values`` | ``values`` |
| range 范围 | validity | the value is below ``min`` or above ``max`` (inclusive) | ``min``, ``max`` |
| checksum 校验码 | validity | the value fails ``validator`` (resident_id, credit_code, bank_card, mobile, region_code) | ``validator`` |
| consistency 一致性 | consistency | ``id_birth_date``, ``id_sex``, ``region_parent`` disagree | ``check`` + column |
| referential 参照完整性 | referential | the value is absent from ``table.column`` (at ``version``) | ``table``, ``column``, ``version`` |
| timeliness 及时性 | timeliness | the newest load is older than the declared 更新周期 allows | ``period`` |

Range on a text column (a column of mixed types loads as text): each value is read as a
number (or a date, when the bounds are dates) with TRY_CAST, and a value that cannot be read
counts as a failure — it is exactly the kind of value a range rule exists to find. Range on
boolean, binary or nested columns is refused.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from decimal import Decimal
from typing import Any

import pyarrow as pa

from longshu.catalog.vocab import UPDATE_CYCLES
from longshu.governance.quality.errors import (
    BadRuleParams,
    ColumnRequired,
    RegexSyntax,
    UnknownColumn,
    UnknownParams,
    UnknownPeriod,
    UnknownRuleKind,
    UnknownValidator,
    UnsafeRegex,
    WrongColumnType,
)
from longshu.governance.quality.validators import VALIDATORS
from longshu.lake.policy import TableGrant

DIMENSIONS = {
    "completeness": "completeness",
    "uniqueness": "uniqueness",
    "regex": "validity",
    "enum": "validity",
    "range": "validity",
    "checksum": "validity",
    "consistency": "consistency",
    "referential": "referential",
    "timeliness": "timeliness",
}
KINDS = tuple(DIMENSIONS)
TABLE_LEVEL = frozenset({"timeliness"})
CONSISTENCY_CHECKS = {"id_birth_date": "date_column", "id_sex": "sex_column"}
CONSISTENCY_CHECKS["region_parent"] = "parent_column"
MAX_PATTERN = 500  # errors.QUALITY_MESSAGES says these numbers in words
MAX_ENUM_VALUES = 1000
_PARAMS = {
    "completeness": {"blank_ok"},
    "uniqueness": set(),
    "regex": {"pattern", "full"},
    "enum": {"values"},
    "range": {"min", "max"},
    "checksum": {"validator"},
    "consistency": {"check", *CONSISTENCY_CHECKS.values()},
    "referential": {"table", "column", "version"},
    "timeliness": {"period"},
}


@dataclass(frozen=True)
class RuleSpec:
    """A rule as stored: its kind, the column it checks (None for table-level rules), its
    parameters (JSON-shaped) and, once stored, its id."""

    kind: str
    column: str | None
    params: Mapping[str, Any] = field(default_factory=dict)
    id: int | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "kind": self.kind,
            "column": self.column,
            "params": dict(self.params),
        }

    @property
    def dimension(self) -> str:
        return DIMENSIONS[self.kind]


def check_rule(spec: RuleSpec, columns: Mapping[str, pa.DataType]) -> RuleSpec:
    """The rule, normalised, if it can run on a table with ``columns``; else a ``RuleInvalid``
    subclass saying why (unknown kind, unknown column, bad parameters, unsafe regex …)."""
    if spec.kind not in DIMENSIONS:
        raise UnknownRuleKind(kind=str(spec.kind)[:40], kinds=", ".join(KINDS))
    if not isinstance(spec.params, Mapping):
        raise BadRuleParams(kind=spec.kind, detail="parameters must be an object")
    unknown = sorted(set(map(str, spec.params)) - _PARAMS[spec.kind])
    if unknown:
        raise UnknownParams(kind=spec.kind, names=", ".join(unknown)[:200])
    if spec.kind in TABLE_LEVEL:
        return replace(spec, column=None, params=_timeliness_params(spec.params))
    if not spec.column:
        raise ColumnRequired(kind=spec.kind)
    column_type = _column(columns, spec.column)
    params = _CHECKS[spec.kind](spec, column_type, columns)
    return replace(spec, params=params)


def _column(columns: Mapping[str, pa.DataType], name: str) -> pa.DataType:
    if name not in columns:
        raise UnknownColumn(column=str(name)[:80])
    return columns[name]


def is_text(t: pa.DataType) -> bool:
    return pa.types.is_string(t) or pa.types.is_large_string(t)


def is_number(t: pa.DataType) -> bool:
    return pa.types.is_integer(t) or pa.types.is_floating(t) or pa.types.is_decimal(t)


def is_temporal(t: pa.DataType) -> bool:
    return pa.types.is_date(t) or pa.types.is_timestamp(t)


def is_scalar(t: pa.DataType) -> bool:
    """Types a value rule can read as text: not nested, not binary."""
    return is_text(t) or is_number(t) or is_temporal(t) or pa.types.is_boolean(t)


def _require_scalar(spec: RuleSpec, t: pa.DataType) -> None:
    if not is_scalar(t):
        raise WrongColumnType(kind=spec.kind, column=spec.column, type=str(t))


def _completeness(spec: RuleSpec, t: pa.DataType, _: Mapping) -> dict[str, Any]:
    blank_ok = spec.params.get("blank_ok", False)
    if not isinstance(blank_ok, bool):
        raise BadRuleParams(kind=spec.kind, detail="blank_ok must be true or false")
    return {"blank_ok": blank_ok}


def _uniqueness(spec: RuleSpec, t: pa.DataType, _: Mapping) -> dict[str, Any]:
    _require_scalar(spec, t)
    return {}


def _regex(spec: RuleSpec, t: pa.DataType, _: Mapping) -> dict[str, Any]:
    _require_scalar(spec, t)
    pattern = spec.params.get("pattern")
    full = spec.params.get("full", False)
    if not isinstance(pattern, str) or not pattern:
        raise BadRuleParams(kind=spec.kind, detail="pattern must be a non-empty text")
    if not isinstance(full, bool):
        raise BadRuleParams(kind=spec.kind, detail="full must be true or false")
    check_pattern(pattern)
    return {"pattern": pattern, "full": full}


# Constructs RE2 (DuckDB's regex engine) refuses: they need backtracking.
_NOT_RE2 = [
    (re.compile(r"\\[1-9]|\\k<|\(\?P="), "back-references are not supported"),
    (re.compile(r"\(\?<?[=!]"), "look-ahead and look-behind are not supported"),
    (re.compile(r"\(\?>|[*+?}]\+"), "atomic groups and possessive quantifiers are not supported"),
    (re.compile(r"\(\?\("), "conditional groups are not supported"),
]
_REPEAT = re.compile(r"\{(\d+)(?:,(\d*))?\}")
_UNICODE_CLASS = re.compile(r"\\[pP](\{[A-Za-z_]+\}|[A-Za-z])")
_HEX_ESCAPE = re.compile(r"\\x\{([0-9A-Fa-f]{1,6})\}")


def check_pattern(pattern: str) -> None:
    """Refuse a pattern DuckDB's RE2 would refuse, or one too long to review (500 chars).

    RE2 matches in linear time, so a pattern like ``(a+)+$`` cannot backtrack
    catastrophically; what it cannot do (back-references, look-arounds) is refused here with
    a clear message rather than failing the whole quality pass."""
    if len(pattern) > MAX_PATTERN:
        raise UnsafeRegex(detail="it is longer than 500 characters")
    bare = pattern.replace("\\\\", "")
    for construct, reason in _NOT_RE2:
        if construct.search(bare):
            raise UnsafeRegex(detail=reason)
    for match in _REPEAT.finditer(bare):
        if any(int(n) > 1000 for n in match.groups() if n):
            raise UnsafeRegex(detail="a repeat count over 1000")
    # Python's re checks the rest of the syntax; RE2's \p{Han} classes and \x{4e00} escapes,
    # which it lacks, are rewritten first.
    try:
        python = _HEX_ESCAPE.sub(lambda m: f"\\U{int(m.group(1), 16):08x}", bare)
        re.compile(_UNICODE_CLASS.sub("x", python))
    except re.error as exc:
        raise RegexSyntax(detail=str(exc)[:200]) from exc


def _enum(spec: RuleSpec, t: pa.DataType, _: Mapping) -> dict[str, Any]:
    _require_scalar(spec, t)
    values = spec.params.get("values")
    if not isinstance(values, list | tuple) or not values:
        raise BadRuleParams(kind=spec.kind, detail="values must be a non-empty list")
    if len(values) > MAX_ENUM_VALUES:
        raise BadRuleParams(kind=spec.kind, detail="more than 1000 values")
    if not all(isinstance(v, str | int | float) and not isinstance(v, bool) for v in values):
        raise BadRuleParams(kind=spec.kind, detail="values must be texts or numbers")
    return {"values": list(dict.fromkeys(values))}


def _bound(spec: RuleSpec, value: Any) -> float | int | Decimal | dt.date | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float | Decimal | str):
        raise BadRuleParams(kind=spec.kind, detail="min and max must be numbers or dates")
    if isinstance(value, str):
        try:
            return dt.date.fromisoformat(value)
        except ValueError:
            try:
                return Decimal(value)
            except ArithmeticError:
                raise BadRuleParams(
                    kind=spec.kind, detail="min and max must be numbers or dates"
                ) from None
    if isinstance(value, float) and value != value:
        raise BadRuleParams(kind=spec.kind, detail="min and max must not be NaN")
    return value


def _range(spec: RuleSpec, t: pa.DataType, _: Mapping) -> dict[str, Any]:
    low, high = _bound(spec, spec.params.get("min")), _bound(spec, spec.params.get("max"))
    if low is None and high is None:
        raise BadRuleParams(kind=spec.kind, detail="give min, max or both")
    dates = {isinstance(b, dt.date) for b in (low, high) if b is not None}
    if len(dates) > 1:
        raise BadRuleParams(kind=spec.kind, detail="min and max must both be dates or numbers")
    is_date = dates == {True}
    if is_date and not (is_temporal(t) or is_text(t)):
        raise WrongColumnType(kind=spec.kind, column=spec.column, type=str(t))
    if not is_date and not (is_number(t) or is_text(t)):
        raise WrongColumnType(kind=spec.kind, column=spec.column, type=str(t))
    if low is not None and high is not None and low > high:
        raise BadRuleParams(kind=spec.kind, detail="min is greater than max")

    def out(b: Any) -> Any:
        if isinstance(b, dt.date):
            return b.isoformat()
        return str(b) if isinstance(b, Decimal) else b

    return {"min": out(low), "max": out(high)}


def _checksum(spec: RuleSpec, t: pa.DataType, _: Mapping) -> dict[str, Any]:
    _require_scalar(spec, t)
    validator = spec.params.get("validator")
    if validator not in VALIDATORS:
        raise UnknownValidator(validator=str(validator)[:40], validators=", ".join(VALIDATORS))
    return {"validator": validator}


def _consistency(
    spec: RuleSpec, t: pa.DataType, columns: Mapping[str, pa.DataType]
) -> dict[str, Any]:
    _require_scalar(spec, t)
    check = spec.params.get("check")
    if check not in CONSISTENCY_CHECKS:
        raise BadRuleParams(
            kind=spec.kind, detail="check must be id_birth_date, id_sex or region_parent"
        )
    other_param = CONSISTENCY_CHECKS[check]
    other = spec.params.get(other_param)
    if not isinstance(other, str) or not other:
        raise BadRuleParams(kind=spec.kind, detail=f"{check} needs {other_param}")
    other_type = _column(columns, other)
    if check == "id_birth_date" and not (is_temporal(other_type) or is_text(other_type)):
        raise WrongColumnType(kind=spec.kind, column=other, type=str(other_type))
    if not is_scalar(other_type):
        raise WrongColumnType(kind=spec.kind, column=other, type=str(other_type))
    return {"check": check, other_param: other}


def _referential(spec: RuleSpec, t: pa.DataType, _: Mapping) -> dict[str, Any]:
    _require_scalar(spec, t)
    table, column = spec.params.get("table"), spec.params.get("column")
    version = spec.params.get("version")
    try:
        TableGrant(table=table)  # the lake's own rule for table names
    except ValueError:
        raise BadRuleParams(kind=spec.kind, detail="table must name a lake table") from None
    if not isinstance(column, str) or not column:
        raise BadRuleParams(kind=spec.kind, detail="column must name a column of that table")
    if version is not None and (
        isinstance(version, bool) or not isinstance(version, int) or version < 1
    ):
        raise BadRuleParams(kind=spec.kind, detail="version must be a load number from 1")
    return {"table": table, "column": column, "version": version}


def _timeliness_params(params: Mapping[str, Any]) -> dict[str, Any]:
    period = params.get("period")
    if period not in UPDATE_CYCLES:
        raise UnknownPeriod(period=str(period)[:40], periods=", ".join(UPDATE_CYCLES))
    return {"period": period}


_CHECKS = {
    "completeness": _completeness,
    "uniqueness": _uniqueness,
    "regex": _regex,
    "enum": _enum,
    "range": _range,
    "checksum": _checksum,
    "consistency": _consistency,
    "referential": _referential,
}
