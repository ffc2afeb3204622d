"""The one door to raw data: ``lake.access(session, actor, grant, sql)``.

Every read of lake data — a share query, a verification, a batch delivery, a sandbox job, a
portal preview — comes through here. The query is parsed and checked against the grant,
rewritten so that the engine sees only permitted columns (masked) and permitted rows, run
under the grant's row and time limits on DuckDB (locked) or Spark, and recorded as a
``lake.accessed`` event saying who read which versions, which columns, how many rows. A
refused query is recorded as ``lake.access_refused`` with the reason. Neither event holds the
query text (its literals may be personal data): only its SM3 digest."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

import pyarrow as pa
from sqlalchemy import select
from sqlalchemy.orm import Session

from longshu import events
from longshu.actor import Actor
from longshu.lake import masks, tables
from longshu.lake.config import lake_settings
from longshu.lake.engine import Limits, Masker, run_duckdb
from longshu.lake.errors import (
    GrantNotHeld,
    GrantNotValid,
    NoVersion,
    QueryInvalid,
    QueryRefused,
    VersionNotGranted,
)
from longshu.lake.models import LakeTable, LakeVersion
from longshu.lake.policy import Grant, TableGrant
from longshu.lake.rewrite import Relation, internal_names, parse_query, rewrite, table_refs
from longshu.security.crypto import sm3_hex

ACCESSED = events.define("lake.accessed", "数据已按授权读取", "Lake data read under a grant")
REFUSED = events.define("lake.access_refused", "数据读取被拒绝", "Lake read refused")


@dataclass
class Result:
    """What a query returned, and which versions it read."""

    data: pa.Table
    versions: dict[str, int]
    engine: str
    columns: dict[str, list[str]] = field(default_factory=dict)
    masked: dict[str, list[str]] = field(default_factory=dict)

    @property
    def rows(self) -> int:
        return self.data.num_rows

    def to_pylist(self) -> list[dict[str, Any]]:
        return self.data.to_pylist()


@dataclass
class _Source:
    table: LakeTable
    version: LakeVersion
    grant: TableGrant


def access(
    session: Session,
    actor: Actor,
    grant: Grant,
    sql: str,
    *,
    at: dict[str, int] | None = None,
    engine: str | None = None,
) -> Result:
    """Run ``sql`` (DuckDB dialect) as ``actor`` under ``grant``.

    ``at`` asks for particular versions (table name → load number), which the grant must
    cover; otherwise each table is read at the newest ready version the grant covers.
    ``engine`` ("duckdb", "spark") overrides the configured choice. Raises a ``QueryRefused``
    subclass, ``QueryInvalid`` or ``QueryFailed``; emits ``lake.accessed`` or
    ``lake.access_refused`` in the caller's transaction."""
    started = time.perf_counter()
    digest = sm3_hex(sql.encode("utf-8", "replace")) if isinstance(sql, str) else ""
    try:
        _check_grant(actor, grant)
        tree = parse_query(sql, lake_settings().max_query_chars)
        refs = table_refs(tree, grant)
        sources = {
            name: _source(session, grant, name, (at or {}).get(name))
            for name in dict.fromkeys(ref.name for ref in refs)
        }
        internal = internal_names(sources)
        datasets = {
            internal[name]: tables.open_delta(src.table, src.version).to_pyarrow_dataset()
            for name, src in sources.items()
        }
        relations = {
            name: Relation(name, internal[name], datasets[internal[name]].schema, src.grant)
            for name, src in sources.items()
        }
        plan = rewrite(tree, refs, relations)
        maskers: dict[str, Masker] = {
            udf.name: masks.masker(udf.kind, udf.table, grant.consumer) for udf in plan.udfs
        }
        limits = Limits(grant.max_rows, grant.timeout_seconds)
        chosen = _engine(engine, sources)
        if chosen == "spark":
            from longshu.lake.spark import run_spark

            files = {
                internal[name]: (
                    tables.open_delta(src.table, src.version).file_uris(),
                    datasets[internal[name]].schema,
                )
                for name, src in sources.items()
            }
            data = run_spark(plan, files, maskers, limits)
        else:
            data = run_duckdb(plan, datasets, maskers, limits)
    except (QueryRefused, QueryInvalid) as refusal:
        reason = getattr(refusal, "reason", refusal.key)
        _record(session, REFUSED, actor, grant, digest, reason=reason, error=refusal.key)
        raise
    result = Result(
        data=data,
        versions={name: src.version.number for name, src in sources.items()},
        engine=chosen,
        columns=plan.columns,
        masked={k: v for k, v in plan.masked.items() if v},
    )
    _record(
        session,
        ACCESSED,
        actor,
        grant,
        digest,
        purpose=grant.purpose,
        tables=[
            {
                "table": name,
                "table_id": src.table.id,
                "resource_id": src.table.resource_id,
                "version": src.version.number,
                "delta_version": src.version.delta_version,
            }
            for name, src in sources.items()
        ],
        columns=result.columns,
        masked=result.masked,
        rows=result.rows,
        bytes=int(data.nbytes),
        engine=chosen,
        elapsed_ms=round((time.perf_counter() - started) * 1000, 1),
    )
    return result


def _record(
    session: Session, kind: str, actor: Actor, grant: Grant, digest: str, **payload: Any
) -> None:
    """One event about a use of ``grant``; the query appears only as its SM3 digest."""
    events.emit(
        session,
        kind,
        actor,
        subject=("lake_grant", grant.id),
        grant_id=grant.id,
        consumer=grant.consumer,
        query_sm3=digest,
        **payload,
    )


def _check_grant(actor: Actor, grant: Grant) -> None:
    problem = grant.validity_problem()
    if problem:
        raise GrantNotValid(detail=problem)
    held = grant.holder_org_id is None or actor.kind == "system"
    if not held and actor.org_id != grant.holder_org_id:
        raise GrantNotHeld()


def _source(session: Session, grant: Grant, name: str, wanted: int | None) -> _Source:
    covered = grant.table(name)
    assert covered is not None  # table_refs checked it
    table = tables.get_table(session, name)
    if wanted is not None:
        if not covered.covers(wanted):
            raise VersionNotGranted(table=name, version=wanted)
        return _Source(table, tables.readable_version(session, table, wanted), covered)
    if covered.versions is None:
        return _Source(table, tables.readable_version(session, table), covered)
    version = session.scalar(
        select(LakeVersion)
        .where(
            LakeVersion.table_id == table.id,
            LakeVersion.status == "ready",
            LakeVersion.number.in_(covered.versions),
        )
        .order_by(LakeVersion.number.desc())
        .limit(1)
    )
    if version is None:
        raise NoVersion(table=name)
    return _Source(table, version, covered)


def _engine(requested: str | None, sources: dict[str, _Source]) -> str:
    lake = lake_settings()
    choice = requested or lake.engine
    if choice == "auto":
        size = sum(src.version.bytes for src in sources.values())
        return "spark" if size > lake.spark_threshold_bytes else "duckdb"
    return "spark" if choice == "spark" else "duckdb"
