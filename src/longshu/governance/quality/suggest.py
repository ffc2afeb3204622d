"""Rules suggested from a column profile and the detectors' findings (规则推荐): a data
manager accepts or drops each one; nothing here is applied on its own."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

import pyarrow as pa

from longshu.governance.quality.errors import RuleInvalid
from longshu.governance.quality.rules import RuleSpec, check_rule, is_number, is_temporal

UNIQUE_SHARE = 0.999  # distinct / non-null values at or above this → a key-like column
UNIQUE_SHARE_APPROX = 0.97  # the same, when distinct was estimated (HyperLogLog error)
ENUM_MAX_VALUES = 20  # at most this many distinct values → a code list (enum)
ENUM_MIN_REPEAT = 5  # … each value seen this many times on average (not just a small table)

# Detector finding types → the checksum validator that checks them.
VALIDATOR_OF = {
    "resident_id": "resident_id",
    "credit_code": "credit_code",
    "bank_card": "bank_card",
    "mobile": "mobile",
    "mobile_phone": "mobile",
    "phone_mobile": "mobile",
    "region_code": "region_code",
}
BIRTH_DATE_NAME = re.compile(r"birth|出生|生日|csrq|csny", re.IGNORECASE)
SEX_NAME = re.compile(r"^(sex|gender|性别|xb)$", re.IGNORECASE)


def suggest_rules(
    columns: Mapping[str, pa.DataType],
    profile: Mapping[str, Mapping[str, Any]],
    findings: Sequence[Mapping[str, Any]] = (),
    *,
    region_table: tuple[str, str] | None = None,
) -> list[RuleSpec]:
    """Rules worth proposing for a table with ``columns``, from its ``profile``
    (``profile_version``) and detector ``findings`` ({"type", "column", …}):

    - no nulls → completeness; distinct ≈ non-null values → uniqueness;
    - few distinct values, each repeated (and not masked) → enum of the values seen;
    - numbers and dates → range between the observed min and max;
    - a resident ID finding → checksum, plus consistency with a birth-date or sex column;
      other checksum-backed findings → checksum with their validator;
    - a region-code finding → referential against ``region_table`` (lake table, column) when
      given, else the region-code validator.

    Every suggestion passes ``check_rule``; none repeats another."""
    found: dict[tuple, RuleSpec] = {}

    def add(kind: str, column: str, /, **params: Any) -> None:
        try:
            rule = check_rule(RuleSpec(kind, column, params), columns)
        except RuleInvalid:
            return  # a suggestion that does not fit the table is simply not made
        key = (rule.kind, rule.column, repr(sorted(rule.params.items())))
        found.setdefault(key, rule)

    for name, facts in profile.items():
        if name not in columns:
            continue
        _from_profile(name, columns[name], facts, add)
    for finding in findings:
        column, kind = finding.get("column"), finding.get("type")
        if column not in columns or kind not in VALIDATOR_OF:
            continue
        if kind == "region_code" and region_table is not None:
            add("referential", column, table=region_table[0], column=region_table[1])
        else:
            add("checksum", column, validator=VALIDATOR_OF[kind])
        if kind == "resident_id":
            for other, t in columns.items():
                if BIRTH_DATE_NAME.search(other) and (is_temporal(t) or pa.types.is_string(t)):
                    add("consistency", column, check="id_birth_date", date_column=other)
                if SEX_NAME.search(other):
                    add("consistency", column, check="id_sex", sex_column=other)
    return list(found.values())


def _from_profile(name: str, t: pa.DataType, facts: Mapping[str, Any], add: Any) -> None:
    rows = int(facts.get("rows") or 0)
    if rows == 0:
        return
    nulls = int(facts.get("nulls") or 0)
    nonnull = rows - nulls
    if nulls == 0:
        add("completeness", name)
    distinct = facts.get("distinct")
    if distinct is None or nonnull < 2:
        return
    share = UNIQUE_SHARE if facts.get("distinct_exact", True) else UNIQUE_SHARE_APPROX
    if distinct >= share * nonnull:
        add("uniqueness", name)
        return  # a key: its values are not a code list, and its range says nothing
    top = facts.get("top") or []
    covered = sum(int(v.get("count", 0)) for v in top)
    if (
        not facts.get("masked")
        and distinct <= ENUM_MAX_VALUES
        and nonnull >= ENUM_MIN_REPEAT * distinct
        and covered == nonnull
        and len(top) == distinct
    ):
        values = [v["value"] for v in top]
        if is_number(t):
            values = [_number(v) for v in values]
        add("enum", name, values=values)
        return
    low, high = facts.get("min"), facts.get("max")
    if low is not None and high is not None and (is_number(t) or is_temporal(t)):
        if pa.types.is_timestamp(t):
            low, high = str(low)[:10], str(high)[:10]
        add(
            "range",
            name,
            min=_number(low) if is_number(t) else low,
            max=_number(high) if is_number(t) else high,
        )


def _number(value: Any) -> int | float:
    text = str(value)
    try:
        return int(text)
    except ValueError:
        return float(text)
