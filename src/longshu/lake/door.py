"""The one door to raw data: ``lake.access(session, actor, grant, sql)``.

Every read of lake data — a share query, a verification, a batch delivery, a sandbox job, a
portal preview — comes through here. The query is parsed and checked against the grant,
rewritten so that the engine sees only permitted columns (masked) and permitted rows, run
under the grant's row and time limits on DuckDB (locked) or Spark, and recorded as a
``lake.accessed`` event saying who read which versions, which columns, how many rows. A
refused query is recorded as ``lake.access_refused`` with the reason. Neither event holds the
query text (its literals may be personal data): only its SM3 digest.

``lake.access_batches`` is the same door as a stream of Arrow record batches (DuckDB only, a
connection of its own, the grant's stream caps), for results too large to hold at once, such
as a batch package of a grant's whole table; see docs/lake.md "The streaming door"."""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pyarrow as pa
import pyarrow.dataset as pads
from sqlalchemy import select
from sqlalchemy.orm import Session
from sqlglot import exp

from longshu import events
from longshu.actor import Actor
from longshu.lake import masks, tables
from longshu.lake.config import lake_settings
from longshu.lake.engine import (
    BATCH_ROWS,
    DuckStream,
    Limits,
    Masker,
    StreamSource,
    run_duckdb,
)
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
from longshu.lake.rewrite import (
    Plan,
    Relation,
    check_condition,
    internal_names,
    parse_query,
    rewrite,
    table_refs,
)
from longshu.security.crypto import sm3_hex

ACCESSED = events.define("lake.accessed", "数据已按授权读取", "Lake data read under a grant")
REFUSED = events.define("lake.access_refused", "数据读取被拒绝", "Lake read refused")
MAX_BATCH_ROWS = 1_048_576  # rows in one streamed batch, at most


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


@dataclass
class _Prepared:
    """A query checked against its grant and rewritten: what either engine runs."""

    sources: dict[str, _Source]
    internal: dict[str, str]
    datasets: dict[str, pads.Dataset]
    plan: Plan
    maskers: dict[str, Masker]

    @property
    def versions(self) -> dict[str, int]:
        return {name: src.version.number for name, src in self.sources.items()}

    @property
    def masked(self) -> dict[str, list[str]]:
        return {k: v for k, v in self.plan.masked.items() if v}

    def tables_read(self) -> list[dict[str, Any]]:
        return [
            {
                "table": name,
                "table_id": src.table.id,
                "resource_id": src.table.resource_id,
                "version": src.version.number,
                "delta_version": src.version.delta_version,
            }
            for name, src in self.sources.items()
        ]


def _prepare(
    session: Session, actor: Actor, grant: Grant, sql: str, at: dict[str, int] | None
) -> _Prepared:
    """Check ``sql`` against ``grant`` and rewrite it (columns, masks, row filters); raises
    the door's refusals. Shared by ``access`` and ``access_batches``."""
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
    return _Prepared(sources, internal, datasets, plan, maskers)


def _digest(sql: str) -> str:
    return sm3_hex(sql.encode("utf-8", "replace")) if isinstance(sql, str) else ""


def _refused(
    session: Session, actor: Actor, grant: Grant, digest: str, refusal: Exception, **extra: Any
) -> None:
    reason = getattr(refusal, "reason", getattr(refusal, "key", "refused"))
    key = getattr(refusal, "key", "refused")
    _record(session, REFUSED, actor, grant, digest, reason=reason, error=key, **extra)


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
    digest = _digest(sql)
    try:
        prepared = _prepare(session, actor, grant, sql, at)
        plan, internal = prepared.plan, prepared.internal
        limits = Limits(grant.max_rows, grant.timeout_seconds)
        chosen = _engine(engine, prepared.sources)
        if chosen == "spark":
            from longshu.lake.spark import run_spark

            files = {
                internal[name]: (
                    tables.open_delta(src.table, src.version).file_uris(),
                    prepared.datasets[internal[name]].schema,
                )
                for name, src in prepared.sources.items()
            }
            data = run_spark(plan, files, prepared.maskers, limits)
        else:
            data = run_duckdb(plan, prepared.datasets, prepared.maskers, limits)
    except (QueryRefused, QueryInvalid) as refusal:
        _refused(session, actor, grant, digest, refusal)
        raise
    result = Result(
        data=data,
        versions=prepared.versions,
        engine=chosen,
        columns=plan.columns,
        masked=prepared.masked,
    )
    _record(
        session,
        ACCESSED,
        actor,
        grant,
        digest,
        purpose=grant.purpose,
        tables=prepared.tables_read(),
        columns=result.columns,
        masked=result.masked,
        rows=result.rows,
        bytes=int(data.nbytes),
        engine=chosen,
        elapsed_ms=round((time.perf_counter() - started) * 1000, 1),
    )
    return result


def access_batches(
    session: Session,
    actor: Actor,
    grant: Grant,
    sql: str,
    *,
    at: dict[str, int] | None = None,
    batch_rows: int = BATCH_ROWS,
    ordered: bool = True,
) -> Stream:
    """``access`` as a stream: the same checks, rewrite, masks, row filters and refusal
    events, but the result comes as Arrow record batches of at most ``batch_rows`` rows,
    pulled one at a time from a DuckDB connection of the stream's own (locked like every
    other), so memory does not grow with the result. Always DuckDB: a configured Spark
    engine does not apply to streams.

    Limits: the grant's ``stream_rows`` (``max_stream_rows``, else ``max_rows``) and
    ``stream_seconds`` (``stream_timeout_seconds``, else ``timeout_seconds``) from opening
    to the last batch. Use it as a context manager (or exhaust it): ``lake.accessed`` (with
    ``streamed: true`` and the rows actually delivered) is emitted once, in the caller's
    session, when the stream ends or is closed; a refusal while streaming (rows, time) emits
    ``lake.access_refused`` with the rows delivered until then instead.

    ``ordered=False`` (a whole export, such as a package): rows without an ``ORDER BY`` may
    come in any order, which keeps DuckDB's memory down on large results."""
    if not 1 <= batch_rows <= MAX_BATCH_ROWS:
        raise ValueError(f"batch_rows must be 1..{MAX_BATCH_ROWS}")
    started = time.perf_counter()
    digest = _digest(sql)
    try:
        prepared = _prepare(session, actor, grant, sql, at)
        sources = {
            prepared.internal[name]: StreamSource(
                prepared.datasets[prepared.internal[name]],
                _columns_read(src.grant, prepared.datasets[prepared.internal[name]].schema),
                batch_rows,
            )
            for name, src in prepared.sources.items()
        }
        engine_stream = DuckStream(
            prepared.plan,
            sources,
            prepared.maskers,
            Limits(grant.stream_rows, grant.stream_seconds),
            batch_rows,
            ordered,
        )
    except (QueryRefused, QueryInvalid) as refusal:
        _refused(session, actor, grant, digest, refusal, streamed=True, rows_delivered=0)
        raise
    return Stream(session, actor, grant, digest, prepared, engine_stream, started)


def _columns_read(grant: TableGrant, schema: pa.Schema) -> list[str]:
    """The columns of a table a rewritten query can reach: those the grant permits and those
    its row filter names (a superset of what the rewrite's subquery uses)."""
    if grant.columns is None:
        return list(schema.names)
    wanted = {c.lower() for c in grant.columns}
    if grant.row_filter:
        condition = check_condition(grant.row_filter)
        wanted |= {col.name.lower() for col in condition.find_all(exp.Column)}
    return [name for name in schema.names if name.lower() in wanted]


class Stream:
    """What ``access_batches`` returns: iterate it for ``pa.RecordBatch``es; ``schema``,
    ``versions``, ``columns``, ``masked`` and ``engine`` are known before the first batch,
    ``rows`` and ``bytes`` count what was delivered so far."""

    engine = "duckdb"

    def __init__(
        self,
        session: Session,
        actor: Actor,
        grant: Grant,
        digest: str,
        prepared: _Prepared,
        engine_stream: DuckStream,
        started: float,
    ) -> None:
        self._session, self._actor, self._grant, self._digest = session, actor, grant, digest
        self._prepared = prepared
        self._stream = engine_stream
        self._started = started
        self._ended = False
        self.schema: pa.Schema = engine_stream.schema
        self.versions = prepared.versions
        self.columns = prepared.plan.columns
        self.masked = prepared.masked
        self.row_limit = grant.stream_rows

    @property
    def rows(self) -> int:
        return self._stream.rows

    @property
    def bytes(self) -> int:
        return self._stream.bytes

    @property
    def ended(self) -> bool:
        return self._ended

    def __enter__(self) -> Stream:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __iter__(self) -> Iterator[pa.RecordBatch]:
        return self

    def __next__(self) -> pa.RecordBatch:
        if self._ended:
            raise StopIteration
        try:
            return next(self._stream)
        except StopIteration:
            self._end(complete=True)
            raise
        except (QueryRefused, QueryInvalid) as refusal:
            self._ended = True
            _refused(
                self._session, self._actor, self._grant, self._digest, refusal,
                streamed=True, rows_delivered=self.rows,
            )  # fmt: skip
            raise
        except BaseException as error:
            self._end(complete=False, error=getattr(error, "key", type(error).__name__))
            raise

    def read_all(self) -> pa.Table:
        """The rest of the stream as one table (for small results and tests)."""
        with self:
            return pa.Table.from_batches(list(self), schema=self.schema)

    def close(self) -> None:
        """Stop reading: the connection is closed and, unless the stream already ended,
        ``lake.accessed`` records the rows delivered so far (``complete: false``)."""
        self._end(complete=False)

    def _end(self, *, complete: bool, error: str | None = None) -> None:
        self._stream.close()
        if self._ended:
            return
        self._ended = True
        extra = {"error": error} if error else {}
        _record(
            self._session,
            ACCESSED,
            self._actor,
            self._grant,
            self._digest,
            purpose=self._grant.purpose,
            tables=self._prepared.tables_read(),
            columns=self.columns,
            masked=self.masked,
            rows=self.rows,
            bytes=int(self.bytes),
            engine=self.engine,
            streamed=True,
            complete=complete,
            elapsed_ms=round((time.perf_counter() - self._started) * 1000, 1),
            **extra,
        )


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
