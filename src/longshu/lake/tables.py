"""Lake tables and their versions: create a table, write a load as a new version (full
snapshot, append, or upsert by key), accept a version whose schema drifted, verify a
version's SM3 checksum, and find the version a reader should see.

Each load is one Delta commit plus one ``LakeVersion`` row written in the caller's
transaction, with an event the catalog subscribes to. If the transaction does not commit,
the Delta commit is left unrecorded and the next load first restores the table to its last
recorded version — a failed load never becomes a version anyone can read."""

from __future__ import annotations

import uuid
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
from deltalake import CommitProperties, DeltaTable, write_deltalake
from deltalake.exceptions import DeltaError, TableNotFoundError
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from longshu import events
from longshu.actor import Actor
from longshu.db import utcnow
from longshu.lake import checksum, drift, profile
from longshu.lake.errors import (
    ChecksumMismatch,
    DuplicateKeys,
    DuplicateTable,
    InvalidLoad,
    NoVersion,
    TableNotFound,
    UpsertKeyMissing,
    VersionBlocked,
    VersionNotFound,
    VersionPurged,
)
from longshu.lake.models import LOAD_MODES, TABLE_KINDS, LakeTable, LakeVersion
from longshu.lake.storage import Storage, check_table_name, storage
from longshu.security import access
from longshu.security.access import STAFF_ROLES

access.permission(
    "lake.manage", {"platform_admin"}, "管理数据湖", "Manage the lake (tables, retention)"
)
access.permission(
    "lake.load",
    {"platform_admin", "dept_data_admin"},
    "数据入湖",
    "Load data into the lake",
    own_org=True,
    any_org_roles={"platform_admin"},
)
access.permission(
    "lake.accept",
    {"platform_admin", "dept_data_admin"},
    "确认结构变更",
    "Accept a breaking schema change",
    own_org=True,
    any_org_roles={"platform_admin"},
)
access.permission("lake.read", STAFF_ROLES, "查看数据湖版本", "See lake tables and versions")

TABLE_CREATED = events.define("lake.table_created", "数据湖表已建立", "Lake table created")
# titles as the catalog's tests declared this type before the lake existed
VERSION_LOADED = events.define("lake.version_loaded", "版本已加载", "Version loaded")
VERSION_BLOCKED = events.define(
    "lake.version_blocked", "数据版本结构变更待确认", "Lake version blocked by schema drift"
)
DRIFT_ACCEPTED = events.define("lake.drift_accepted", "结构变更已确认", "Schema drift accepted")
VERSION_VERIFIED = events.define(
    "lake.version_verified", "数据版本已校验", "Lake version checksum verified"
)


# --- finding ------------------------------------------------------------------------------


def get_table(session: Session, ref: LakeTable | int | str) -> LakeTable:
    """A table by model, id or name."""
    if isinstance(ref, LakeTable):
        return ref
    if isinstance(ref, int):
        table = session.get(LakeTable, ref)
    else:
        table = session.scalar(select(LakeTable).where(LakeTable.name == str(ref)))
    if table is None:
        raise TableNotFound(table=str(ref)[:80])
    return table


def tables_for_resource(session: Session, resource: int | str) -> list[LakeTable]:
    """The lake tables holding a catalog resource (by resource id or resource code)."""
    column = LakeTable.resource_id if isinstance(resource, int) else LakeTable.resource_code
    return list(session.scalars(select(LakeTable).where(column == resource).order_by(LakeTable.id)))


def get_version(session: Session, table: LakeTable, number: int) -> LakeVersion:
    version = session.scalar(
        select(LakeVersion).where(LakeVersion.table_id == table.id, LakeVersion.number == number)
    )
    if version is None:
        raise VersionNotFound(table=table.name, version=number)
    return version


def readable_version(session: Session, table: LakeTable, number: int | None = None) -> LakeVersion:
    """The version a reader sees: ``number`` if it is ready, else the newest ready one."""
    if number is None:
        version = session.scalar(
            select(LakeVersion)
            .where(LakeVersion.table_id == table.id, LakeVersion.status == "ready")
            .order_by(LakeVersion.number.desc())
            .limit(1)
        )
        if version is None:
            raise NoVersion(table=table.name)
        return version
    version = get_version(session, table, number)
    if version.status == "purged":
        raise VersionPurged(table=table.name, version=number)
    if version.status == "blocked":
        raise VersionBlocked(table=table.name, version=number)
    return version


def list_versions(
    session: Session, actor: Actor, table: LakeTable | int | str
) -> list[LakeVersion]:
    access.require(actor, "lake.read")
    found = get_table(session, table)
    return list(
        session.scalars(
            select(LakeVersion).where(LakeVersion.table_id == found.id).order_by(LakeVersion.number)
        )
    )


def arrow_schema(delta: DeltaTable) -> pa.Schema:
    """A Delta table's schema as a pyarrow schema."""
    return pa.schema(delta.schema().to_arrow())


def open_delta(table: LakeTable, version: LakeVersion | None = None) -> DeltaTable:
    """The Delta table (at ``version``) — for the lake's own modules only."""
    store = storage()
    return DeltaTable(
        store.table_uri(table.name),
        version=None if version is None else version.delta_version,
        storage_options=store.options or None,
    )


# --- creating -----------------------------------------------------------------------------


def create_table(
    session: Session,
    actor: Actor,
    name: str,
    *,
    kind: str = "table",
    title: str = "",
    resource_id: int | None = None,
    resource_code: str | None = None,
    owner_org_id: int | None = None,
    key_columns: list[str] | tuple[str, ...] = (),
    retain_versions: int | None = None,
    retain_days: int | None = None,
) -> LakeTable:
    """Register a lake table; its folder appears with its first version."""
    check_table_name(name)
    if kind not in TABLE_KINDS:
        raise InvalidLoad(detail=f"table kind {kind!r}")
    owner = owner_org_id if owner_org_id is not None else actor.org_id
    table = LakeTable(
        name=name,
        kind=kind,
        title=title[:200],
        resource_id=resource_id,
        resource_code=resource_code,
        owner_org_id=owner,
        key_columns=list(key_columns),
        retain_versions=retain_versions,
        retain_days=retain_days,
        created_by=actor.id,
    )
    access.require(actor, "lake.load", table)
    if session.scalar(select(LakeTable.id).where(LakeTable.name == name)) is not None:
        raise DuplicateTable(name=name)
    session.add(table)
    session.flush()
    events.emit(
        session,
        TABLE_CREATED,
        actor,
        subject=table,
        table=name,
        kind=kind,
        resource_id=resource_id,
        resource_code=resource_code,
        owner_org_id=owner,
    )
    return table


# --- writing ------------------------------------------------------------------------------


def write_version(
    session: Session,
    actor: Actor,
    table_ref: LakeTable | int | str,
    data: pa.Table | pa.RecordBatchReader,
    *,
    mode: str = "snapshot",
    key_columns: list[str] | tuple[str, ...] | None = None,
    load_id: str | None = None,
    source: str = "",
) -> LakeVersion:
    """Write one load as the table's next version.

    ``snapshot`` replaces the content, ``append`` adds rows, ``upsert`` updates rows whose
    key matches and inserts the others (the key is ``key_columns`` or the table's). A
    snapshot that removes or retypes columns is written but ``blocked`` until accepted; an
    append or upsert must fit the table's columns (missing columns become empty, narrower
    numbers are widened). Returns the new version; events: ``lake.version_loaded`` (ready)
    or ``lake.version_blocked``."""
    if mode not in LOAD_MODES:
        raise InvalidLoad(detail=f"load mode {mode!r}")
    table = _lock(session, get_table(session, table_ref))
    access.require(actor, "lake.load", table)
    store = storage()
    uri = store.table_uri(table.name)
    previous = _latest_recorded(session, table)
    delta = _reconciled(store, uri, table, previous)
    incoming = data.schema
    drift.check_columns(incoming)
    old_schema = previous.schema if previous else []
    if previous is not None and mode != "snapshot":
        data = _fit(data, arrow_schema(delta) if delta else None, old_schema)
        incoming = data.schema
    missing = [c["name"] for c in old_schema if c["name"] not in incoming.names]
    load_id = load_id or uuid.uuid4().hex
    commit = CommitProperties(custom_metadata={"longshu.load_id": load_id, "longshu.mode": mode})
    sampler = profile.Sampler()
    rows_written = _write(store, uri, delta, table, data, mode, key_columns, commit, sampler)
    delta = DeltaTable(uri, storage_options=store.options or None)
    known = {e["path"]: e for e in previous.manifest} if previous else {}
    entries = checksum.manifest(store, uri, delta, known)
    rows = sum(e["rows"] or 0 for e in entries)
    if any(e["rows"] is None for e in entries):
        rows = delta.count()
    schema = drift.describe(arrow_schema(delta))
    whole = mode == "snapshot" or previous is None  # the sample saw every row of the version
    profiles = profile.describe(delta, sampler.distinct() if whole else None)
    schema = [c | {"profile": profiles.get(c["name"])} for c in schema]
    change = drift.compare(old_schema, schema) if previous else drift.Drift()
    blocked = change.breaking
    facts = change.as_dict()
    if missing and mode != "snapshot":
        facts["missing"] = missing  # columns this load left empty
    version = LakeVersion(
        table_id=table.id,
        number=(previous.number + 1) if previous else 1,
        delta_version=delta.version(),
        mode=mode,
        status="blocked" if blocked else "ready",
        rows=rows,
        rows_written=rows_written,
        bytes=sum(e["size"] for e in entries),
        files=len(entries),
        checksum=checksum.manifest_checksum(entries),
        checksum_algorithm=checksum.ALGORITHM,
        manifest=entries,
        schema=schema,
        drift=facts,
        load_id=load_id,
        source=source[:2000],
        created_by=actor.id,
    )
    session.add(version)
    session.flush()
    events.emit(
        session,
        VERSION_BLOCKED if blocked else VERSION_LOADED,
        actor,
        subject=version,
        **version_facts(table, version),
    )
    return version


def version_facts(table: LakeTable, version: LakeVersion) -> dict[str, Any]:
    """What the catalog records about a version (the payload of the version events)."""
    return {
        "table": table.name,
        "table_id": table.id,
        "resource_id": table.resource_id,
        "resource_code": table.resource_code,
        "version": version.number,
        "delta_version": version.delta_version,
        "mode": version.mode,
        "status": version.status,
        "rows": version.rows,
        "rows_written": version.rows_written,
        "bytes": version.bytes,
        "files": version.files,
        "checksum": version.checksum,
        "checksum_algorithm": version.checksum_algorithm,
        "schema": version.schema,
        "drift": version.drift,
        "load_id": version.load_id,
        "source": version.source,
    }


def _lock(session: Session, table: LakeTable) -> LakeTable:
    """Serialise loads of one table (row lock on PostgreSQL; SQLite has one writer)."""
    return session.scalars(
        select(LakeTable).where(LakeTable.id == table.id).with_for_update()
    ).one()


def _latest_recorded(session: Session, table: LakeTable) -> LakeVersion | None:
    return session.scalar(
        select(LakeVersion)
        .where(LakeVersion.table_id == table.id)
        .order_by(LakeVersion.number.desc())
        .limit(1)
    )


def _reconciled(
    store: Storage, uri: str, table: LakeTable, previous: LakeVersion | None
) -> DeltaTable | None:
    """The Delta table as its last recorded version left it: a commit that no version
    records (a load whose transaction failed or was killed) is undone first."""
    try:
        delta = DeltaTable(uri, storage_options=store.options or None)
    except TableNotFoundError:
        return None
    if previous is None:
        return None  # unrecorded first load: the next write overwrites it
    if delta.version() != previous.delta_version:
        delta.restore(
            previous.delta_version,
            commit_properties=CommitProperties(custom_metadata={"longshu.reason": "unrecorded"}),
        )
        delta = DeltaTable(uri, storage_options=store.options or None)
    return delta


def _fit(
    data: pa.Table | pa.RecordBatchReader,
    target: pa.Schema | None,
    old_schema: list[dict[str, Any]],
) -> pa.Table | pa.RecordBatchReader:
    """Cast an append/upsert to the table's column types (narrower numbers widen; other
    differences are refused: change types with a snapshot)."""
    if target is None:
        return data
    mismatched = []
    for field in data.schema:
        index = target.get_field_index(field.name)
        if index < 0:
            continue
        wanted = target.field(index).type
        have, want = drift.type_name(field.type), drift.type_name(wanted)
        if (
            have != want
            and (have, want) not in drift.WIDENINGS
            and not (pa.types.is_null(field.type))
        ):
            mismatched.append(f"{field.name} ({have}, table has {want})")
    if mismatched:
        raise InvalidLoad(
            detail="types differ from the table's: "
            + ", ".join(mismatched)
            + "; load a snapshot to change types"
        )
    fields = [
        target.field(target.get_field_index(f.name)) if target.get_field_index(f.name) >= 0 else f
        for f in data.schema
    ]
    schema = pa.schema(fields)
    return data if schema.equals(data.schema) else data.cast(schema)


def _write(
    store: Storage,
    uri: str,
    delta: DeltaTable | None,
    table: LakeTable,
    data: pa.Table | pa.RecordBatchReader,
    mode: str,
    key_columns: list[str] | tuple[str, ...] | None,
    commit: CommitProperties,
    sampler: profile.Sampler | None = None,
) -> int:
    try:
        if delta is not None and mode == "upsert":
            return _upsert(delta, table, data, key_columns, commit)
        replace = delta is None or mode == "snapshot"
        counted = _Counter(data, sampler)
        write_deltalake(
            uri,
            counted.reader(),
            mode="overwrite" if replace else "append",
            schema_mode="overwrite" if replace else "merge",
            storage_options=store.options or None,
            commit_properties=commit,
        )
        return counted.rows
    except DeltaError as exc:
        raise InvalidLoad(detail=str(exc)[:300]) from exc


def _upsert(
    delta: DeltaTable,
    table: LakeTable,
    data: pa.Table | pa.RecordBatchReader,
    key_columns: list[str] | tuple[str, ...] | None,
    commit: CommitProperties,
) -> int:
    keys = list(key_columns or table.key_columns or [])
    source = data if isinstance(data, pa.Table) else data.read_all()
    missing = [k for k in keys if k not in source.column_names] if keys else ["?"]
    if missing:
        raise UpsertKeyMissing(columns=", ".join(missing))
    counts = source.group_by(keys).aggregate([([], "count_all")])
    repeated = pc.sum(pc.greater(counts.column("count_all"), 1)).as_py() or 0
    if repeated:
        raise DuplicateKeys(count=repeated, columns=", ".join(keys))
    predicate = " AND ".join(f't."{k}" = s."{k}"' for k in keys)
    (
        delta.merge(
            source,
            predicate=predicate,
            source_alias="s",
            target_alias="t",
            merge_schema=True,
            commit_properties=commit,
        )
        .when_matched_update_all()
        .when_not_matched_insert_all()
        .execute()
    )
    return source.num_rows


class _Counter:
    """Count (and sample, for the profile) rows as they stream into the writer."""

    def __init__(
        self, data: pa.Table | pa.RecordBatchReader, sampler: profile.Sampler | None = None
    ) -> None:
        self.data = data
        self.rows = 0
        self.sampler = sampler

    def reader(self) -> pa.RecordBatchReader:
        source = self.data.to_reader() if isinstance(self.data, pa.Table) else self.data

        def batches():  # type: ignore[no-untyped-def]
            for batch in source:
                self.rows += batch.num_rows
                if self.sampler is not None:
                    self.sampler.see(batch)
                yield batch

        return pa.RecordBatchReader.from_batches(source.schema, batches())


# --- accepting and verifying --------------------------------------------------------------


def accept_version(
    session: Session, actor: Actor, table_ref: LakeTable | int | str, number: int
) -> LakeVersion:
    """A data manager accepts a version whose schema broke with the previous one."""
    table = get_table(session, table_ref)
    access.require(actor, "lake.accept", table)
    version = get_version(session, table, number)
    if version.status != "blocked":
        return version
    version.status = "ready"
    version.accepted_at = utcnow()
    version.accepted_by = actor.id
    events.emit(
        session,
        DRIFT_ACCEPTED,
        actor,
        subject=version,
        table=table.name,
        version=number,
        drift=version.drift,
    )
    events.emit(session, VERSION_LOADED, actor, subject=version, **version_facts(table, version))
    return version


def verify_version(
    session: Session, actor: Actor, table_ref: LakeTable | int | str, number: int
) -> LakeVersion:
    """Recompute a version's SM3 checksum from its files; ``ChecksumMismatch`` names the
    files that are missing or changed."""
    access.require(actor, "lake.read")
    table = get_table(session, table_ref)
    version = get_version(session, table, number)
    if version.status == "purged":
        raise VersionPurged(table=table.name, version=number)
    store = storage()
    bad = checksum.differences(store, store.table_uri(table.name), version.manifest)
    ok = not bad and checksum.manifest_checksum(version.manifest) == version.checksum
    events.emit(
        session,
        VERSION_VERIFIED,
        actor,
        subject=version,
        table=table.name,
        version=number,
        ok=ok,
        files_bad=len(bad),
    )
    if not ok:
        raise ChecksumMismatch(
            table=table.name, version=number, detail=", ".join(bad[:5]) or "manifest"
        )
    return version


def version_count(session: Session, table: LakeTable) -> int:
    return (
        session.scalar(
            select(func.count()).select_from(LakeVersion).where(LakeVersion.table_id == table.id)
        )
        or 0
    )
