"""Running quality rules on a table version through ``lake.access``: the outcome of each rule,
a sample of the rows that fail one, and the table's score (质量评分)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import pyarrow as pa
from sqlalchemy.orm import Session

from longshu import lake
from longshu.actor import Actor
from longshu.errors import LongshuError
from longshu.governance.quality.compile import (
    Compiled,
    batches,
    compile_rule,
    ident,
    number,
    statement,
)
from longshu.governance.quality.errors import NotRowLevel, RuleInvalid
from longshu.governance.quality.rules import DIMENSIONS, RuleSpec, check_rule
from longshu.governance.quality.timeliness import timeliness
from longshu.lake import tables
from longshu.lake.policy import Grant, Mask, TableGrant

CONSUMER = "platform:governance"
DEFAULT_TIMEOUT = 600.0


@dataclass(frozen=True)
class RuleOutcome:
    """What one rule found: values checked, values failed, their ratio (1.0 when nothing was
    checked), or the reason it could not run."""

    rule: RuleSpec
    checked: int
    failed: int
    passed_ratio: float
    error: str | None = None

    @classmethod
    def of(cls, rule: RuleSpec, checked: int, failed: int) -> RuleOutcome:
        ratio = 1.0 if checked == 0 else (checked - failed) / checked
        return cls(rule, checked, failed, ratio)

    @classmethod
    def failed_to_run(cls, rule: RuleSpec, error: str) -> RuleOutcome:
        return cls(rule, 0, 0, 1.0, error)


def lake_grant(
    grant_id: str,
    table: str,
    version: int | None,
    *,
    others: Mapping[str, int | None] | None = None,
    masks: Mapping[str, str] | None = None,
    row_filter: str | None = None,
    max_rows: int = 1,
    timeout: float = DEFAULT_TIMEOUT,
) -> tuple[Grant, dict[str, int]]:
    main = TableGrant(
        table=table,
        versions=(version,) if version else None,
        masks={c: Mask(kind=k) for c, k in (masks or {}).items()},
        row_filter=row_filter,
    )
    grants, at = [main], {table: version} if version else {}
    for name, number_ in (others or {}).items():
        if name == table:
            continue
        grants.append(TableGrant(table=name, versions=(number_,) if number_ else None))
        if number_:
            at[name] = number_
    grant = Grant(
        id=grant_id,
        consumer=CONSUMER,
        tables=tuple(grants),
        max_rows=max_rows,
        timeout_seconds=timeout,
    )
    return grant, {k: v for k, v in at.items() if v}


def table_schema(
    session: Session, actor: Actor, table: str, version: int | None, grant_id: str
) -> tuple[dict[str, pa.DataType], int]:
    """The columns of ``table`` at ``version`` as ``lake.access`` shows them, and the version
    number read (reads no rows)."""
    grant, at = lake_grant(grant_id, table, version)
    result = lake.access(session, actor, grant, f"SELECT * FROM {ident(table)} LIMIT 0", at=at)
    return {f.name: f.type for f in result.data.schema}, result.versions[table]


def evaluate(
    session: Session,
    actor: Actor,
    table: str,
    rules: Sequence[RuleSpec],
    *,
    version: int | None = None,
    grant_id: str = "governance:quality",
    today: dt.date | None = None,
    timeout_seconds: float = DEFAULT_TIMEOUT,
) -> tuple[int, list[RuleOutcome]]:
    """Run ``rules`` on ``table`` (at ``version``, else the newest ready one): the table's
    row count and one outcome per rule, in order.

    All SQL rules run as one aggregate statement (more only past the SQL length limit). A rule
    that no longer fits the table (a column removed, say) gets an outcome with ``error`` and
    the others still run; if the statement fails, each rule is run alone so that one bad rule
    does not hide the others' results."""
    today = today or dt.date.today()
    columns, number_read = table_schema(session, actor, table, version, grant_id)
    outcomes: dict[int, RuleOutcome] = {}
    parts: list[Compiled] = []
    for index, rule in enumerate(rules):
        try:
            checked = check_rule(rule, columns)
        except RuleInvalid as exc:
            outcomes[index] = RuleOutcome.failed_to_run(rule, exc.render())
            continue
        if checked.kind == "timeliness":
            loaded = tables.get_version(
                session, tables.get_table(session, table), number_read
            ).created_at
            verdict = timeliness(loaded, checked.params["period"])
            outcomes[index] = RuleOutcome.of(rule, 1, 0 if verdict.fresh else 1)
            continue
        parts.append(compile_rule(index, checked, columns, today))
    rows = None
    for group in batches(table, parts):
        try:
            rows = _run(
                session, actor, table, number_read, group, grant_id, timeout_seconds, outcomes
            )
        except LongshuError as exc:
            if len(group) == 1:
                outcomes[group[0].index] = RuleOutcome.failed_to_run(group[0].rule, exc.render())
                continue
            for part in group:
                try:
                    rows = _run(
                        session,
                        actor,
                        table,
                        number_read,
                        [part],
                        grant_id,
                        timeout_seconds,
                        outcomes,
                    )
                except LongshuError as alone:
                    outcomes[part.index] = RuleOutcome.failed_to_run(part.rule, alone.render())
    if rows is None:
        grant, at = lake_grant(grant_id, table, number_read, timeout=timeout_seconds)
        count = lake.access(session, actor, grant, f"SELECT COUNT(*) FROM {ident(table)}", at=at)
        rows = int(count.data.column(0)[0].as_py())
    return rows, [outcomes[i] for i in range(len(rules))]


def _run(
    session: Session,
    actor: Actor,
    table: str,
    version: int,
    group: list[Compiled],
    grant_id: str,
    timeout: float,
    outcomes: dict[int, RuleOutcome],
) -> int:
    others = {name: v for part in group for name, v in part.tables.items()}
    grant, at = lake_grant(grant_id, table, version, others=others, timeout=timeout)
    result = lake.access(session, actor, grant, statement(table, group), at=at)
    row = result.to_pylist()[0]
    for part in group:
        checked = int(row[f"c{part.index}"] or 0)
        failed = int(row[f"f{part.index}"] or 0)
        outcomes[part.index] = RuleOutcome.of(part.rule, checked, failed)
    return int(row["rows"])


def failing_rows(
    session: Session,
    actor: Actor,
    table: str,
    rule: RuleSpec,
    *,
    version: int | None = None,
    limit: int = 20,
    masks: Mapping[str, str] | None = None,
    grant_id: str = "governance:quality",
    today: dt.date | None = None,
) -> pa.Table:
    """Up to ``limit`` rows of ``table`` that fail ``rule``, every column as the lake shows it
    under ``masks`` (column → lake mask kind): the failure test runs on raw values as the
    grant's row filter, inside the lake, and only masked values come out.

    Uniqueness and referential failures depend on other rows, so they take two reads: first
    the DuckDB hashes (not the values) of failing values, then the rows with those hashes."""
    today = today or dt.date.today()
    columns, number_read = table_schema(session, actor, table, version, grant_id)
    checked = check_rule(rule, columns)
    if checked.kind == "timeliness":
        raise NotRowLevel(kind=checked.kind)
    part = compile_rule(0, checked, columns, today)
    condition = part.row_condition
    if condition is None:
        condition = _hash_condition(session, actor, table, number_read, part, limit, grant_id)
    grant, at = lake_grant(
        grant_id, table, number_read, masks=masks, row_filter=condition, max_rows=limit
    )
    sql = f"SELECT * FROM {ident(table)} LIMIT {int(limit)}"
    return lake.access(session, actor, grant, sql, at=at).data


def _hash_condition(
    session: Session,
    actor: Actor,
    table: str,
    version: int,
    part: Compiled,
    limit: int,
    grant_id: str,
) -> str:
    """``HASH(col) IN (…)`` for up to ``limit`` values failing a uniqueness or referential
    rule (hashes leave the engine, never the values)."""
    assert part.rule.column is not None
    col = ident(part.rule.column)
    if part.rule.kind == "uniqueness":
        sql = (
            f"SELECT HASH({col}) AS h FROM {ident(table)} WHERE {col} IS NOT NULL "
            f"GROUP BY {col} HAVING COUNT(*) > 1 LIMIT {int(limit)}"
        )
    else:
        key = ident(f"_k{part.index}")
        sql = (
            f'SELECT DISTINCT HASH({col}) AS h FROM {ident(table)} AS "_t" {part.join} '
            f"WHERE {col} IS NOT NULL AND {ident(f'_r{part.index}')}.{key} IS NULL "
            f"LIMIT {int(limit)}"
        )
    grant, at = lake_grant(grant_id, table, version, others=part.tables, max_rows=limit)
    hashes = [r["h"] for r in lake.access(session, actor, grant, sql, at=at).to_pylist()]
    if not hashes:
        return "FALSE"
    return f"HASH({col}) IN ({', '.join(number(h) for h in hashes)})"


def score(outcomes: Sequence[RuleOutcome], weights: Mapping[str, Decimal] | None = None) -> Decimal:
    """The quality score, 0–100 with two decimals: the passed ratios of the rules that ran
    are averaged per dimension (completeness, uniqueness, validity, consistency, referential,
    timeliness), and the dimensions averaged with ``weights`` (dimension → weight, default 1
    each; dimensions without rules do not count). Rules that could not run are left out; with
    nothing to score the score is 100."""
    per_dimension: dict[str, list[Decimal]] = {}
    for outcome in outcomes:
        if outcome.error is None:
            dimension = DIMENSIONS[outcome.rule.kind]
            per_dimension.setdefault(dimension, []).append(Decimal(repr(outcome.passed_ratio)))
    if not per_dimension:
        return Decimal("100.00")
    total = weight_sum = Decimal(0)
    for dimension, ratios in per_dimension.items():
        weight = Decimal((weights or {}).get(dimension, 1))
        total += weight * sum(ratios, Decimal(0)) / len(ratios)
        weight_sum += weight
    if weight_sum <= 0:
        return Decimal("100.00")
    return (total / weight_sum * 100).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def outcome_dict(outcome: RuleOutcome) -> dict[str, Any]:
    """An outcome as JSON-shaped data (for storing per-version results)."""
    return {
        "rule": outcome.rule.as_dict(),
        "checked": outcome.checked,
        "failed": outcome.failed,
        "passed_ratio": outcome.passed_ratio,
        "error": outcome.error,
    }
