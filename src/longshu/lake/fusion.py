"""Fusion (融合): a derived lake table built by one SELECT that joins pinned versions of
several lake tables, with lineage from each derived version to the versions it read.

    fuse(session, actor, "scenic_conditions",
         {"v": ("scenic_visitors", 2), "w": ("weather_warnings", None)},
         "SELECT v.rq, v.jqmc, ... FROM v LEFT JOIN w ON ...", keys=["rq", "jqmc"])

The query names its sources by alias. It is checked as ``lake.access`` checks a query (one
SELECT, allowed functions only, no files, no settings — ``rewrite.parse_query``), every table
it names must be one of the aliases, and it runs on the same locked DuckDB connection
(``engine.locked_connection``) over the pinned versions' Arrow datasets. The result is
written as a snapshot version of the derived table (``tables.write_version``: checksum,
schema, drift, ``lake.version_loaded``); each source version gets a ``lake_lineage`` row and
a retention hold (``derived``, ``<table>:<version>``) so it outlives nothing it explains.
``lake.fused`` carries the lineage up to the catalog, which shows it on the resource page."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, aliased

from longshu import events
from longshu.actor import Actor
from longshu.lake import retention, tables
from longshu.lake.config import lake_settings
from longshu.lake.engine import BATCH_ROWS, Watchdog, locked_connection, public_detail
from longshu.lake.errors import (
    FusionKeysRepeat,
    FusionSourceUnknown,
    NotDerived,
    QueryFailed,
    QueryTimeout,
    TableNotGranted,
)
from longshu.lake.models import LakeLineage, LakeTable, LakeVersion
from longshu.lake.policy import Grant, TableGrant
from longshu.lake.rewrite import Relation, internal_names, parse_query, rewrite, table_refs
from longshu.lake.storage import check_table_name
from longshu.security import access

access.permission(
    "lake.fuse", {"platform_admin"}, "数据融合", "Build derived tables from several lake tables"
)
FUSED = events.define("lake.fused", "数据已融合", "Derived lake table built by fusion")
OUTPUT = "__ls_fused"
DEFAULT_TIMEOUT = 600.0


@dataclass(frozen=True)
class Source:
    """One source of a derived version, as lineage reports it."""

    alias: str
    table: LakeTable
    version: LakeVersion

    def as_dict(self) -> dict[str, Any]:
        return {
            "alias": self.alias,
            "table": self.table.name,
            "table_id": self.table.id,
            "title": self.table.title,
            "version": self.version.number,
            "rows": self.version.rows,
            "checksum": self.version.checksum,
            "resource_id": self.table.resource_id,
            "resource_code": self.table.resource_code,
        }


def fuse(
    session: Session,
    actor: Actor,
    name: str,
    sources: dict[str, tuple[LakeTable | int | str, int | None]],
    sql: str,
    keys: list[str] | tuple[str, ...],
    *,
    title: str = "",
    resource_id: int | None = None,
    resource_code: str | None = None,
    owner_org_id: int | None = None,
    load_id: str | None = None,
    timeout_seconds: float = DEFAULT_TIMEOUT,
) -> LakeVersion:
    """Run ``sql`` over the source versions (alias → (table, load number or None for the
    newest ready one)) and write the result as the next version of derived table ``name``
    (created, kind ``derived``, if missing). ``keys`` must identify each result row.
    Needs ``lake.fuse``. Events: ``lake.version_loaded`` (from the write) and ``lake.fused``."""
    access.require(actor, "lake.fuse")
    check_table_name(name)
    pinned = _pin(session, sources)
    keys = list(keys)
    tree = parse_query(sql, lake_settings().max_query_chars)
    grant = Grant(
        id=f"fusion:{name}",
        consumer="fusion",
        tables=tuple(TableGrant(table=alias) for alias in pinned),
        max_rows=100_000_000,
    )
    try:
        refs = table_refs(tree, grant)
    except TableNotGranted as exc:
        raise FusionSourceUnknown(
            name=exc.params.get("table", "?"), sources=", ".join(pinned)
        ) from None
    internal = internal_names(pinned)
    datasets = {
        internal[alias]: tables.open_delta(src.table, src.version).to_pyarrow_dataset()
        for alias, src in pinned.items()
    }
    relations = {
        alias: Relation(alias, internal[alias], datasets[internal[alias]].schema, grant.tables[i])
        for i, alias in enumerate(pinned)
    }
    plan = rewrite(tree, refs, relations)
    derived = _derived_table(
        session, actor, name, keys, title, resource_id, resource_code, owner_org_id
    )
    con = locked_connection()
    watchdog = Watchdog(timeout_seconds, con.interrupt)
    try:
        for internal_name, dataset in datasets.items():
            con.register(internal_name, dataset)
        watchdog.start()
        try:
            con.sql(f"CREATE TEMP TABLE {OUTPUT} AS {plan.sql('duckdb')}")
            _check_keys(con, keys)
            reader = con.sql(f"SELECT * FROM {OUTPUT}").to_arrow_reader(BATCH_ROWS)
        except Exception as exc:  # duckdb's own errors: translated below
            _engine_error(exc, watchdog, timeout_seconds, plan)
            raise
        version = tables.write_version(
            session,
            actor,
            derived,
            reader,
            mode="snapshot",
            key_columns=keys,
            load_id=load_id or uuid.uuid4().hex,
            source="fusion:"
            + ", ".join(f"{a}={s.table.name}@{s.version.number}" for a, s in pinned.items()),
        )
    finally:
        watchdog.finish()
        con.close()
    for alias, src in pinned.items():
        session.add(
            LakeLineage(version_id=version.id, source_version_id=src.version.id, alias=alias)
        )
        retention.hold(
            session, actor, src.table, src.version.number, "derived", f"{name}:{version.number}"
        )
    session.flush()
    events.emit(
        session,
        FUSED,
        actor,
        subject=version,
        table=derived.name,
        table_id=derived.id,
        title=derived.title,
        resource_id=derived.resource_id,
        resource_code=derived.resource_code,
        version=version.number,
        rows=version.rows,
        checksum=version.checksum,
        keys=keys,
        sql=sql,
        sources=[src.as_dict() for src in pinned.values()],
    )
    return version


def lineage(
    session: Session, actor: Actor, table_ref: LakeTable | int | str, number: int
) -> list[dict[str, Any]]:
    """The source versions a derived version was built from (empty for a loaded version)."""
    access.require(actor, "lake.read")
    table = tables.get_table(session, table_ref)
    version = tables.get_version(session, table, number)
    source = aliased(LakeVersion)
    rows = session.execute(
        select(LakeLineage.alias, source, LakeTable)
        .join(source, LakeLineage.source_version_id == source.id)
        .join(LakeTable, source.table_id == LakeTable.id)
        .where(LakeLineage.version_id == version.id)
        .order_by(LakeLineage.alias)
    ).all()
    return [Source(alias, t, v).as_dict() | {"status": v.status} for alias, v, t in rows]


def _pin(
    session: Session, sources: dict[str, tuple[LakeTable | int | str, int | None]]
) -> dict[str, Source]:
    if not sources:
        raise FusionSourceUnknown(name="—", sources="—")
    pinned = {}
    for alias, (ref, number) in sources.items():
        check_table_name(alias)
        table = tables.get_table(session, ref)
        pinned[alias] = Source(alias, table, tables.readable_version(session, table, number))
    return pinned


def _derived_table(
    session: Session,
    actor: Actor,
    name: str,
    keys: list[str],
    title: str,
    resource_id: int | None,
    resource_code: str | None,
    owner_org_id: int | None,
) -> LakeTable:
    existing = session.scalar(select(LakeTable).where(LakeTable.name == name))
    if existing is None:
        return tables.create_table(
            session,
            actor,
            name,
            kind="derived",
            title=title,
            resource_id=resource_id,
            resource_code=resource_code,
            owner_org_id=owner_org_id,
            key_columns=keys,
        )
    if existing.kind != "derived":
        raise NotDerived(table=name)
    return existing


def _check_keys(con: Any, keys: list[str]) -> None:
    if not keys:
        return
    columns = ", ".join('"' + k.replace('"', '""') + '"' for k in keys)
    repeated = con.sql(
        f"SELECT count(*) FROM (SELECT 1 FROM {OUTPUT} GROUP BY {columns} HAVING count(*) > 1)"
    ).fetchall()[0][0]
    if repeated:
        raise FusionKeysRepeat(count=repeated, columns=", ".join(keys))


def _engine_error(exc: Exception, watchdog: Watchdog, seconds: float, plan: Any) -> None:
    """Raise the typed error for a DuckDB failure (or return to re-raise ours)."""
    import duckdb

    if not isinstance(exc, duckdb.Error):
        return
    if watchdog.fired.is_set():
        raise QueryTimeout(seconds=f"{seconds:g}") from exc
    raise QueryFailed(detail=public_detail(str(exc), plan)) from exc
