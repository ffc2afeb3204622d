"""The query API (查询): a grant's holder selects, filters, sorts and pages rows within the
grant. The query is built from a structured request (never from the caller's SQL), runs
through ``lake.access`` under the grant (fields, masks, region rows, validity), and counts
against the grant's daily row quota (China's calendar day) and its calls a minute
(``ratelimit.admit``).

The day's ``GrantUsage`` row is made by an upsert (``INSERT … ON CONFLICT DO NOTHING``) and
counted by ``UPDATE … SET rows = rows + n``: two processes making the first call of a day on
one grant both succeed, and no count is lost to a read-modify-write race."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session
from sqlglot import exp

from longshu import lake
from longshu.actor import Actor
from longshu.db import SHANGHAI, insert_ignore, utcnow
from longshu.sharing import ratelimit
from longshu.sharing.errors import (
    ModeNotGranted,
    QueryInvalid,
    QuotaExceeded,
)
from longshu.sharing.grants import get_grant, lake_grant
from longshu.sharing.models import GrantUsage, ShareGrant
from longshu.sharing.verify_api_errors import Throttled

MAX_LIMIT = 1000
OPERATORS = {
    "=": exp.EQ,
    "!=": exp.NEQ,
    "<": exp.LT,
    "<=": exp.LTE,
    ">": exp.GT,
    ">=": exp.GTE,
}


@dataclass(frozen=True)
class Condition:
    field: str
    op: str
    value: Any


@dataclass(frozen=True)
class QuerySpec:
    """What the holder asks for: fields (default all the grant's), conditions (ANDed),
    ordering (field, descending), a page (limit ≤ 1,000, offset) and a version (default the
    newest the grant covers)."""

    fields: tuple[str, ...] = ()
    where: tuple[Condition, ...] = ()
    order_by: tuple[tuple[str, bool], ...] = ()
    limit: int = 100
    offset: int = 0
    version: int | None = None
    extra: dict[str, Any] = field(default_factory=dict)


def _literal(value: Any) -> exp.Expression:
    if isinstance(value, bool) or value is None:
        raise QueryInvalid(detail="values are text or numbers")
    if isinstance(value, int | float):
        return exp.Literal.number(value)
    if isinstance(value, str) and len(value) <= 200:
        return exp.Literal.string(value)
    raise QueryInvalid(detail="values are text (at most 200 characters) or numbers")


def build_sql(grant: ShareGrant, spec: QuerySpec) -> str:
    """The SELECT for ``spec`` over the grant's table, with every name checked against the
    grant's fields and every value a literal."""
    allowed = list(grant.fields)
    wanted = list(spec.fields) or allowed
    named = set(wanted) | {c.field for c in spec.where} | {f for f, _ in spec.order_by}
    unknown = sorted(named - set(allowed))
    if unknown:
        raise QueryInvalid(detail=f"fields outside the grant: {', '.join(unknown[:10])}")
    if not 1 <= spec.limit <= MAX_LIMIT or not 0 <= spec.offset <= 10_000_000:
        raise QueryInvalid(detail=f"limit is 1–{MAX_LIMIT}, offset 0–10,000,000")
    if len(spec.where) > 20 or len(spec.order_by) > 5:
        raise QueryInvalid(detail="at most 20 conditions and 5 sort fields")
    query = exp.select(*[exp.column(f, quoted=True) for f in wanted]).from_(
        exp.to_table(grant.table_name)
    )
    for condition in spec.where:
        column = exp.column(condition.field, quoted=True)
        if condition.op in OPERATORS:
            query = query.where(
                OPERATORS[condition.op](this=column, expression=_literal(condition.value))
            )
        elif (
            condition.op == "in"
            and isinstance(condition.value, list)
            and 0 < len(condition.value) <= 100
        ):
            query = query.where(column.isin(*[_literal(v) for v in condition.value]))
        elif (
            condition.op == "prefix"
            and isinstance(condition.value, str)
            and condition.value.isalnum()
        ):
            query = query.where(exp.func("starts_with", column, _literal(condition.value)))
        else:
            raise QueryInvalid(
                detail=f"operator {str(condition.op)[:10]} is not one of =, !=, <, <=, >, >=, in, prefix"
            )
    for name, descending in spec.order_by:
        query = query.order_by(exp.Ordered(this=exp.column(name, quoted=True), desc=descending))
    return query.limit(spec.limit).offset(spec.offset).sql(dialect="duckdb")


def _today() -> dt.date:
    return utcnow().astimezone(SHANGHAI).date()


def ensure_usage_row(session: Session, grant_id: int, day: dt.date) -> None:
    """The grant's usage row of ``day`` exists afterwards, whoever made it (upsert)."""
    insert_ignore(
        session, GrantUsage, {"grant_id": grant_id, "day": day, "calls": 0, "rows": 0, "checks": 0}
    )


def usage_of(session: Session, grant_id: int, day: dt.date | None = None) -> GrantUsage | None:
    """The grant's usage of ``day`` (today, China time) if any was counted; read only."""
    return session.scalar(
        select(GrantUsage).where(
            GrantUsage.grant_id == grant_id, GrantUsage.day == (day or _today())
        )
    )


def usage_today(session: Session, grant_id: int) -> GrantUsage:
    """The grant's usage of today (China time), made if missing (safe when concurrent)."""
    day = _today()
    ensure_usage_row(session, grant_id, day)
    usage = session.scalar(
        select(GrantUsage)
        .where(GrantUsage.grant_id == grant_id, GrantUsage.day == day)
        .execution_options(populate_existing=True)
    )
    assert usage is not None
    return usage


def add_usage(
    session: Session, grant_id: int, *, calls: int = 0, rows: int = 0, checks: int = 0
) -> None:
    """Add to the grant's usage of today in one UPDATE (no lost counts under concurrency)."""
    day = _today()
    ensure_usage_row(session, grant_id, day)
    session.execute(
        update(GrantUsage)
        .where(GrantUsage.grant_id == grant_id, GrantUsage.day == day)
        .values(
            calls=GrantUsage.calls + calls,
            rows=GrantUsage.rows + rows,
            checks=GrantUsage.checks + checks,
        )
        .execution_options(synchronize_session=False)
    )


def run_query(
    session: Session, actor: Actor, grant_id: int, spec: QuerySpec
) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """Rows for ``spec`` within grant ``grant_id`` (the holder's department only), and what
    was read (version, masked fields, rows left today). Refuses a grant without the query
    mode, a call over the grant's rate (``RateLimited``, 429) and a page that would pass the
    daily row quota."""
    grant = get_grant(session, actor, grant_id)
    if "query" not in grant.modes:
        raise ModeNotGranted(grant=grant.id, mode="query")
    policy = lake_grant(grant)
    try:
        ratelimit.admit(actor, grant.id, grant.rate_per_minute, mode="query")
    except Throttled as error:
        ratelimit.record_refusal(session, error)  # commits the refusal's event, if any
        raise
    used = usage_today(session, grant.id).rows
    if used + spec.limit > grant.daily_quota:
        raise QuotaExceeded(grant=grant.id, quota=grant.daily_quota)
    at = {grant.table_name: spec.version} if spec.version else None
    result = lake.access(session, actor, policy, build_sql(grant, spec), at=at)
    add_usage(session, grant.id, calls=1, rows=result.rows)
    rows = [
        {
            k: v if isinstance(v, int | float | str | bool) or v is None else str(v)
            for k, v in r.items()
        }
        for r in result.to_pylist()
    ]
    return rows, {
        "grant": grant.id,
        "table": grant.table_name,
        "version": result.versions.get(grant.table_name),
        "masked": result.masked.get(grant.table_name, []),
        "count": result.rows,
        "rows_left_today": max(0, grant.daily_quota - used - result.rows),
    }
