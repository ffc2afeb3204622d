"""Quality rules compiled to SQL: every rule of a table becomes two aggregates (values
checked, values failed) of ONE statement, so a table is read once for all its rules.

    SELECT COUNT(*) AS "rows", <checked_0> AS "c0", <failed_0> AS "f0", …
    FROM (SELECT <columns read>, <prepared_i> AS "_p_i" FROM "<table>") AS "_t"
    LEFT JOIN (SELECT DISTINCT CAST("<col>" AS VARCHAR) AS "_k_j" FROM "<ref table>") AS "_r_j"
      ON CAST("<col>" AS VARCHAR) = "_r_j"."_k_j"                       -- referential rules
    …

A checksum validator's normalised value is "prepared" once per row in the inner projection
(validators.py) instead of being recomputed by each of its checks. Referential rules join the
distinct values of the referenced column (so the row count is kept). Each rule also has a
*row condition* — the same failure test over the table's own columns — that ``failing_rows``
hands the lake as a row filter; uniqueness and referential rules need another row, so they
have none and are sampled in two steps (run.py).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import pyarrow as pa
from sqlglot import exp

from longshu.governance.quality.rules import RuleSpec, is_number, is_temporal, is_text
from longshu.governance.quality.validators import (
    VALIDATORS,
    WS,
    date_ymd,
    id_birth_valid,
    id_birth_ymd,
    id_odd,
    lit,
    resident_id_core,
)

# A statement stays well under lake.access's 20,000-character limit; rules beyond it go
# into a further statement.
MAX_STATEMENT_CHARS = 16_000
# ASCII() of the empty string (0) and of every character Python's str.isspace() accepts.
BLANK_START = (0, *(c for c in range(0x3001) if chr(c).isspace()))
SOURCE = '"_src"'  # the statement's materialized copy of the columns read
ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
MALE = ("1", "m", "male", "男")
FEMALE = ("2", "f", "female", "女")


def ident(name: str) -> str:
    """A quoted SQL identifier (any script, quotes escaped)."""
    return exp.to_identifier(name, quoted=True).sql(dialect="duckdb")


def number(value: object) -> str:
    return exp.Literal.number(str(value)).sql(dialect="duckdb")


@dataclass
class Compiled:
    """One rule as SQL. ``prepared`` is an expression over the table's columns computed in
    the inner projection; ``checked``/``failed`` are aggregates of the outer query; ``join`` a
    LEFT JOIN clause; ``row_condition`` the failure test for a row filter (None: none exists);
    ``tables`` the other lake tables read (name → version or None)."""

    index: int
    rule: RuleSpec
    checked: str
    failed: str
    columns: set[str]
    prepared: str | None = None
    join: str | None = None
    row_condition: str | None = None
    tables: dict[str, int | None] = field(default_factory=dict)
    side: str | None = None  # a subquery of its own giving c<i>, f<i> (uniqueness)


def compile_rule(
    index: int,
    rule: RuleSpec,
    columns: Mapping[str, pa.DataType],
    today: dt.date,
) -> Compiled:
    """A checked rule (``check_rule``) as SQL pieces, its names suffixed with ``index``."""
    assert rule.column is not None
    col = ident(rule.column)
    ctype = columns[rule.column]
    text = col if is_text(ctype) else f"CAST({col} AS VARCHAR)"
    prep = ident(f"_p{index}")
    p = rule.params

    def per_value(fail: str, prepared: str | None = None, inline: str | None = None) -> Compiled:
        """A rule over each non-null value: checked = non-null values."""
        condition = f"{col} IS NOT NULL AND {fail}"
        row = condition if inline is None else f"{col} IS NOT NULL AND {inline}"
        return Compiled(
            index,
            rule,
            checked=f"COUNT({col})",
            failed=_sum(condition),
            columns={rule.column},
            prepared=prepared,
            row_condition=row,
        )

    kind = rule.kind
    if kind == "completeness":
        fail = f"{col} IS NULL"
        if is_text(ctype) and not p.get("blank_ok"):
            # Only text starting with white space (or empty) can be blank: the regex runs on
            # those alone (CASE evaluates a branch only for the rows that reach it).
            starts = ", ".join(str(c) for c in BLANK_START)
            fail = (
                f"(CASE WHEN {col} IS NULL THEN TRUE WHEN ASCII({col}) IN ({starts}) "
                f"THEN REGEXP_FULL_MATCH({col}, {lit(WS + '*')}) ELSE FALSE END)"
            )
        return Compiled(index, rule, "COUNT(*)", _sum(fail), {rule.column}, row_condition=fail)
    if kind == "uniqueness":
        # A grouped count beside the main aggregate: DuckDB runs GROUP BY in parallel, while
        # COUNT(DISTINCT) inside a wide ungrouped aggregate was twice as slow (10M rows).
        groups = (
            f"(SELECT COUNT(*) AS n FROM {SOURCE} WHERE {col} IS NOT NULL "
            f"GROUP BY {col}) AS {ident(f'_g{index}')}"
        )
        side = (
            f"(SELECT COALESCE(SUM(n), 0) AS {ident(f'c{index}')}, "
            f"COALESCE(SUM(n - 1), 0) AS {ident(f'f{index}')} FROM {groups}) AS {ident(f'_u{index}')}"
        )
        return Compiled(
            index,
            rule,
            f"COUNT({col})",
            f"COUNT({col}) - COUNT(DISTINCT {col})",
            {rule.column},
            side=side,
        )
    if kind == "regex":
        function = "REGEXP_FULL_MATCH" if p["full"] else "REGEXP_MATCHES"
        return per_value(f"NOT {function}({text}, {lit(p['pattern'])})")
    if kind == "enum":
        values = p["values"]
        if is_number(ctype) and all(isinstance(v, int | float) for v in values):
            members = ", ".join(number(v) for v in values)
            return per_value(f"NOT {col} IN ({members})")
        members = ", ".join(lit(str(v)) for v in values)
        return per_value(f"NOT {text} IN ({members})")
    if kind == "range":
        return per_value(_out_of_range(col, ctype, p))
    if kind == "checksum":
        validator = VALIDATORS[p["validator"]]
        core = validator.core(text)
        return per_value(
            validator.fails(prep, today),
            prepared=core,
            inline=validator.fails(f"({core})", today),
        )
    if kind == "consistency":
        return _consistency(index, rule, columns, today)
    if kind == "referential":
        return _referential(index, rule, columns)
    raise ValueError(f"rule kind {kind} has no SQL")  # timeliness is not a SQL rule


def _sum(condition: str) -> str:
    return f"SUM(CASE WHEN {condition} THEN 1 ELSE 0 END)"


def _out_of_range(col: str, ctype: pa.DataType, p: Mapping) -> str:
    low, high = p.get("min"), p.get("max")
    dates = any(isinstance(b, str) and ISO_DATE.fullmatch(b) for b in (low, high))

    def bound(b: object) -> str:
        return f"DATE {lit(str(b))}" if dates else number(b)

    if is_text(ctype):
        # Mixed-type columns load as text: a value that does not read as a number (or date)
        # is out of range by definition.
        value = f"TRY_CAST({col} AS {'DATE' if dates else 'DOUBLE'})"
        tests = [f"{value} IS NULL"]
    else:
        value = f"CAST({col} AS DATE)" if dates and pa.types.is_timestamp(ctype) else col
        tests = []
    if low is not None:
        tests.append(f"{value} < {bound(low)}")
    if high is not None:
        tests.append(f"{value} > {bound(high)}")
    return f"({' OR '.join(tests)})"


def _date_of(col: str, ctype: pa.DataType) -> str:
    """A date column's value as DATE: dates as they are, text as ISO or 8-digit yyyymmdd."""
    if pa.types.is_date(ctype):
        return col
    if is_temporal(ctype):
        return f"CAST({col} AS DATE)"
    compact = (
        f"TRY_CAST(SUBSTRING({col}, 1, 4) || '-' || SUBSTRING({col}, 5, 2) || '-' || "
        f"SUBSTRING({col}, 7, 2) AS DATE)"
    )
    return (
        f"CASE WHEN REGEXP_FULL_MATCH({col}, '[0-9]{{8}}') THEN {compact} "
        f"ELSE TRY_CAST(TRIM({col}) AS DATE) END"
    )


def _consistency(
    index: int, rule: RuleSpec, columns: Mapping[str, pa.DataType], today: dt.date
) -> Compiled:
    del today
    assert rule.column is not None
    col, ctype, p = ident(rule.column), columns[rule.column], rule.params
    text = col if is_text(ctype) else f"CAST({col} AS VARCHAR)"
    check = p["check"]
    if check == "region_parent":
        other = p["parent_column"]
        parent = ident(other)
        ptext = parent if is_text(columns[other]) else f"CAST({parent} AS VARCHAR)"
        both = f"{col} IS NOT NULL AND {parent} IS NOT NULL"
        ok = (
            f"REGEXP_FULL_MATCH({text}, '[0-9]{{6}}') AND {ptext} <> {text} AND "
            f"({ptext} = SUBSTRING({text}, 1, 4) || '00' OR "
            f"{ptext} = SUBSTRING({text}, 1, 2) || '0000')"
        )
        fail = f"{both} AND NOT ({ok})"
        return Compiled(
            index, rule, _sum(both), _sum(fail), {rule.column, other}, row_condition=fail
        )
    # id_birth_date and id_sex read the ID number's core once (prepared).
    core = resident_id_core(text)
    other = p["date_column"] if check == "id_birth_date" else p["sex_column"]
    o, otype = ident(other), columns[other]

    def condition(c: str) -> tuple[str, str]:
        if check == "id_birth_date":
            checked = f"{col} IS NOT NULL AND {o} IS NOT NULL AND {id_birth_valid(c)}"
            value = _date_of(o, otype)
            return checked, (
                f"{checked} AND ({value} IS NULL OR {date_ymd(value)} <> {id_birth_ymd(c)})"
            )
        checked = f"{col} IS NOT NULL AND {o} IS NOT NULL AND {c} IS NOT NULL"
        text_sex = o if is_text(otype) else f"CAST({o} AS VARCHAR)"
        # Values already in a listed form skip LOWER(TRIM(…)), a third of this rule's cost.
        listed = ", ".join(lit(v) for v in (*MALE, *FEMALE, "M", "F", "Male", "Female"))
        sex = (
            f"(CASE WHEN {text_sex} IN ({listed}) THEN LOWER({text_sex}) "
            f"ELSE LOWER(TRIM({text_sex})) END)"
        )
        odd = id_odd(c)
        male = f"{sex} IN ({', '.join(lit(v) for v in MALE)})"
        female = f"{sex} IN ({', '.join(lit(v) for v in FEMALE)})"
        return checked, f"{checked} AND NOT (({male} AND {odd}) OR ({female} AND NOT {odd}))"

    checked, fail = condition(ident(f"_p{index}"))
    _, inline = condition(f"({core})")
    return Compiled(
        index,
        rule,
        _sum(checked),
        _sum(fail),
        {rule.column, other},
        prepared=core,
        row_condition=inline,
    )


def _referential(index: int, rule: RuleSpec, columns: Mapping[str, pa.DataType]) -> Compiled:
    assert rule.column is not None
    col, p = ident(rule.column), rule.params
    text = col if is_text(columns[rule.column]) else f"CAST({col} AS VARCHAR)"
    key, alias = ident(f"_k{index}"), ident(f"_r{index}")
    join = (
        f"LEFT JOIN (SELECT DISTINCT CAST({ident(p['column'])} AS VARCHAR) AS {key} "
        f"FROM {ident(p['table'])}) AS {alias} ON {text} = {alias}.{key}"
    )
    return Compiled(
        index,
        rule,
        checked=f"COUNT({col})",
        failed=_sum(f"{col} IS NOT NULL AND {alias}.{key} IS NULL"),
        columns={rule.column},
        join=join,
        tables={p["table"]: p.get("version")},
    )


def statement(table: str, parts: Sequence[Compiled]) -> str:
    """One aggregate statement for ``parts`` over ``table`` (see the module docstring).

    The columns the rules read are first copied into a MATERIALIZED CTE: lake.access hands
    DuckDB an Arrow dataset, whose scan runs on one thread, while the scan of a materialized
    CTE runs on all of them — the rules' expressions then use every thread, and a uniqueness
    rule's grouped count reads the copy instead of the dataset again."""
    sides = [part.side for part in parts if part.side]
    main_parts = [part for part in parts if not part.side]
    needed = sorted({c for part in parts for c in part.columns})
    inner = [ident(c) for c in needed]
    # Rules sharing a prepared value (three rules on one ID column) compute it once.
    first: dict[str, str] = {}
    for part in main_parts:
        if part.prepared and part.prepared not in first:
            first[part.prepared] = ident(f"_p{part.index}")
            inner.append(f"{part.prepared} AS {first[part.prepared]}")
    outer = ['COUNT(*) AS "rows"']
    for part in main_parts:
        checked, failed = part.checked, part.failed
        if part.prepared:
            mine, shared = ident(f"_p{part.index}"), first[part.prepared]
            checked, failed = checked.replace(mine, shared), failed.replace(mine, shared)
        outer.append(f"{checked} AS {ident(f'c{part.index}')}")
        outer.append(f"{failed} AS {ident(f'f{part.index}')}")
    columns = ", ".join(ident(c) for c in needed) or "1 AS one"
    copy = f"WITH {SOURCE} AS MATERIALIZED (SELECT {columns} FROM {ident(table)}) "
    source = f'(SELECT {", ".join(inner) or "1 AS one"} FROM {SOURCE}) AS "_t"'
    joins = " ".join(part.join for part in main_parts if part.join)
    main = f"SELECT {', '.join(outer)} FROM {source} {joins}".strip()
    if not sides:
        return copy + main
    crossed = " ".join(f"CROSS JOIN {side}" for side in sides)
    return f'{copy}SELECT * FROM ({main}) AS "_m" {crossed}'


def batches(table: str, parts: Sequence[Compiled]) -> list[list[Compiled]]:
    """``parts`` split into as few statements as fit the length limit (usually one)."""
    groups: list[list[Compiled]] = []
    for part in parts:
        if groups and len(statement(table, [*groups[-1], part])) <= MAX_STATEMENT_CHARS:
            groups[-1].append(part)
        else:
            groups.append([part])
    return groups
