"""Quality rules compiled to SQL: every rule of a table becomes two counts (values
checked, values failed) of ONE statement, so a table is read once for all its rules.

    WITH "_src" AS MATERIALIZED (SELECT <columns read> FROM "<table>")
    SELECT * FROM (
      SELECT COUNT(*) AS "rows", COUNT("<col>") AS "c0", SUM(CASE WHEN "_f0" …) AS "f0", …
      FROM (SELECT "_t".*, <row condition of rule 0> AS "_f0", …
            FROM (SELECT *, <stage 2> FROM (SELECT *, <stage 1> FROM
                   (SELECT <columns read>, <prepared> AS "_p…" FROM "_src"))) AS "_t"
            LEFT JOIN (SELECT DISTINCT CAST("<col>" AS VARCHAR) AS "_k3" FROM "<ref table>")
              AS "_r3" ON CAST("<col>" AS VARCHAR) = "_r3"."_k3")        -- referential rules
      AS "_r") AS "_m"
    CROSS JOIN (SELECT SUM(n) AS "c1", SUM(n - 1) AS "f1" FROM
                (SELECT COUNT(*) AS n FROM "_src" … GROUP BY "<col>")) AS "_u1"  -- uniqueness

A checksum validator's normalised value is "prepared" once per row (validators.py); the
resident-ID checks then read staged integer parts of it. Each rule also has a *row
condition* — the same failure test over the table's own columns — that ``failing_rows``
hands the lake as a row filter; uniqueness and referential rules need other rows, so they
have none and are sampled in two steps (run.py).

Why this shape (measured on 10M rows, bench/governance/quality_vs_peers.py): the
materialized copy lets every DuckDB thread work on the rules (the lake's Arrow scan feeds one);
conditions as columns, and staged parts, are computed once per row where DuckDB's
common-subexpression pass would not reliably share them; uniqueness as a grouped count runs
in parallel where COUNT(DISTINCT) in a wide aggregate did not.
"""

from __future__ import annotations

import datetime as dt
import hashlib
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
    id_stages,
    lit,
    resident_id_core,
    staged_birth_valid,
    staged_birth_ymd,
    staged_odd,
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


def prepared_name(expression: str) -> str:
    """The column name of a prepared expression: the same text, the same name."""
    return "_p" + hashlib.sha1(expression.encode("utf-8")).hexdigest()[:10]


def number(value: object) -> str:
    return exp.Literal.number(str(value)).sql(dialect="duckdb")


@dataclass
class Compiled:
    """One rule as SQL. ``prepared`` are named expressions over the table's columns computed
    in the inner projection (named by their text, so rules sharing one compute it once), and
    ``stages`` further levels over those; ``checked``/``failed`` are aggregates of the outer
    query (their row conditions become columns of one projection); ``join`` a
    LEFT JOIN clause; ``row_condition`` the failure test for a row filter (None: none exists);
    ``tables`` the other lake tables read (name → version or None)."""

    index: int
    rule: RuleSpec
    checked: str
    failed: str
    columns: set[str]
    prepared: dict[str, str] = field(default_factory=dict)  # column name → expression
    stages: list[dict[str, str]] = field(default_factory=list)  # further projection levels
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
    p = rule.params

    def per_value(
        fail: str,
        prepared: dict[str, str] | None = None,
        inline: str | None = None,
        stages: list[dict[str, str]] | None = None,
    ) -> Compiled:
        """A rule over each non-null value: checked = non-null values."""
        condition = f"{col} IS NOT NULL AND {fail}"
        row = condition if inline is None else f"{col} IS NOT NULL AND {inline}"
        return Compiled(
            index,
            rule,
            checked=f"COUNT({col})",
            failed=_sum(condition),
            columns={rule.column},
            prepared=prepared or {},
            stages=stages or [],
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
        name = prepared_name(core)
        inline = validator.fails(f"({core})", today)
        if validator.stages is not None and validator.staged_fails is not None:
            return per_value(
                validator.staged_fails(name, today),
                prepared={name: core},
                inline=inline,
                stages=validator.stages(name),
            )
        return per_value(validator.fails(ident(name), today), prepared={name: core}, inline=inline)
    if kind == "consistency":
        return _consistency(index, rule, columns, today)
    if kind == "referential":
        return _referential(index, rule, columns)
    raise ValueError(f"rule kind {kind} has no SQL")  # timeliness is not a SQL rule


_SUM_HEAD, _SUM_TAIL = "SUM(CASE WHEN ", " THEN 1 ELSE 0 END)"


def _sum(condition: str) -> str:
    return f"{_SUM_HEAD}{condition}{_SUM_TAIL}"


def _condition_of(aggregate: str) -> str | None:
    """The row condition of an aggregate ``_sum`` made, else None."""
    if aggregate.startswith(_SUM_HEAD) and aggregate.endswith(_SUM_TAIL):
        return aggregate[len(_SUM_HEAD) : -len(_SUM_TAIL)]
    return None


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
    # id_birth_date and id_sex read the ID number's core once (prepared, then staged).
    core = resident_id_core(text)
    name = prepared_name(core)
    other = p["date_column"] if check == "id_birth_date" else p["sex_column"]
    o, otype = ident(other), columns[other]

    def condition(c: str, valid: str, ymd: str, odd: str) -> tuple[str, str]:
        if check == "id_birth_date":
            checked = f"{col} IS NOT NULL AND {o} IS NOT NULL AND {valid}"
            value = _date_of(o, otype)
            return checked, f"{checked} AND ({value} IS NULL OR {date_ymd(value)} <> {ymd})"
        checked = f"{col} IS NOT NULL AND {o} IS NOT NULL AND {c} IS NOT NULL"
        text_sex = o if is_text(otype) else f"CAST({o} AS VARCHAR)"
        # Values already in a listed form skip LOWER(TRIM(…)), a third of this rule's cost.
        listed = ", ".join(lit(v) for v in (*MALE, *FEMALE, "M", "F", "Male", "Female"))
        sex = (
            f"(CASE WHEN {text_sex} IN ({listed}) THEN LOWER({text_sex}) "
            f"ELSE LOWER(TRIM({text_sex})) END)"
        )
        male = f"{sex} IN ({', '.join(lit(v) for v in MALE)})"
        female = f"{sex} IN ({', '.join(lit(v) for v in FEMALE)})"
        return checked, f"{checked} AND NOT (({male} AND {odd}) OR ({female} AND NOT {odd}))"

    checked, fail = condition(
        ident(name), staged_birth_valid(name), staged_birth_ymd(name), staged_odd(name)
    )
    c = f"({core})"
    _, inline = condition(c, id_birth_valid(c), id_birth_ymd(c), id_odd(c))
    return Compiled(
        index,
        rule,
        _sum(checked),
        _sum(fail),
        {rule.column, other},
        prepared={name: core},
        stages=id_stages(name),
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
    # Rules sharing a prepared value (three rules on one ID column) compute it once: it is
    # named by its text. Staged parts of it follow as further projection levels.
    prepared: dict[str, str] = {}
    levels: list[dict[str, str]] = []
    for part in main_parts:
        prepared.update(part.prepared)
        for depth, stage in enumerate(part.stages):
            if depth == len(levels):
                levels.append({})
            levels[depth].update(stage)
    inner = [ident(c) for c in needed] + [f"{e} AS {ident(n)}" for n, e in prepared.items()]
    source = f"(SELECT {', '.join(inner) or '1 AS one'} FROM {SOURCE})"
    for stage in levels:
        added = ", ".join(f"{e} AS {ident(n)}" for n, e in stage.items())
        source = f"(SELECT *, {added} FROM {source})"
    source += ' AS "_t"'
    # Each rule's row conditions become boolean columns of one projection (computed once per
    # row, sub-expressions shared), which the aggregate only counts: a condition written
    # inside two SUMs would be evaluated twice.
    flags, outer = [], ['COUNT(*) AS "rows"']
    for part in main_parts:
        for prefix, aggregate in (("c", part.checked), ("f", part.failed)):
            condition = _condition_of(aggregate)
            if condition is not None:
                flag = ident(f"_{prefix}{part.index}")
                flags.append(f"({condition}) AS {flag}")
                aggregate = _sum(flag)
            outer.append(f"{aggregate} AS {ident(f'{prefix}{part.index}')}")
    columns = ", ".join(ident(c) for c in needed) or "1 AS one"
    copy = f"WITH {SOURCE} AS MATERIALIZED (SELECT {columns} FROM {ident(table)}) "
    joins = " ".join(part.join for part in main_parts if part.join)
    rows = f'(SELECT "_t".*{"".join(", " + f for f in flags)} FROM {source} {joins}) AS "_r"'
    main = f"SELECT {', '.join(outer)} FROM {rows}"
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
