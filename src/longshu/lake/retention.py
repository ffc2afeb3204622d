"""Retention: which old versions of a table may go, and the references that keep them.

A table's rule keeps the newest ``retain_versions`` versions and/or the versions younger
than ``retain_days`` (a table without a rule keeps everything). Whatever the rule says, these
are never removed: the newest version, the newest ready version, versions waiting for drift
acceptance, and every version with an active hold — a grant, a batch delivery, a
registration certificate, a derived table's lineage (a version shared or sold stays
reproducible for as long as anything cites it).

Removal is in two steps: ``apply_retention`` marks versions ``purged`` (events in the
caller's transaction); the Parquet files only those versions used are deleted after that
transaction commits, so a rolled-back purge never loses data (at worst files stay until
the next run)."""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass, field

from sqlalchemy import event, select
from sqlalchemy.orm import Session

from longshu import events
from longshu.actor import Actor
from longshu.db import utcnow
from longshu.errors import InvalidInput
from longshu.lake import tables
from longshu.lake.errors import VersionHeld, VersionPurged
from longshu.lake.models import LakeHold, LakeTable, LakeVersion
from longshu.lake.storage import storage
from longshu.security import access
from longshu.security.access import STAFF_ROLES

log = logging.getLogger("longshu.lake")

access.permission("lake.hold", STAFF_ROLES, "引用保留数据版本", "Hold a lake version")

HOLDER_KINDS = ("grant", "delivery", "certificate", "derived", "product", "legal")

HOLD_PLACED = events.define("lake.hold_placed", "数据版本已被引用保留", "Lake version held")
HOLD_RELEASED = events.define(
    "lake.hold_released", "数据版本引用已解除", "Lake version hold released"
)
RETENTION_SET = events.define("lake.retention_set", "保留规则已设置", "Lake retention rule set")
VERSION_PURGED = events.define(
    "lake.version_purged", "数据版本已按保留规则清除", "Lake version removed by retention"
)


class InvalidHolder(InvalidInput):
    key = "lake.invalid_holder"
    message = "{kind} is not a kind of reference that holds a version."


def hold(
    session: Session,
    actor: Actor,
    table_ref: LakeTable | int | str,
    number: int,
    holder_kind: str,
    holder_id: str | int,
) -> LakeHold:
    """Keep version ``number`` while ``holder_kind``/``holder_id`` cites it (idempotent)."""
    access.require(actor, "lake.hold")
    if holder_kind not in HOLDER_KINDS:
        raise InvalidHolder(kind=holder_kind)
    table = tables.get_table(session, table_ref)
    version = tables.get_version(session, table, number)
    if version.status == "purged":
        raise VersionPurged(table=table.name, version=number)
    existing = session.scalar(
        select(LakeHold).where(
            LakeHold.version_id == version.id,
            LakeHold.holder_kind == holder_kind,
            LakeHold.holder_id == str(holder_id),
            LakeHold.released_at.is_(None),
        )
    )
    if existing is not None:
        return existing
    placed = LakeHold(version_id=version.id, holder_kind=holder_kind, holder_id=str(holder_id))
    session.add(placed)
    session.flush()
    events.emit(
        session,
        HOLD_PLACED,
        actor,
        subject=placed,
        table=table.name,
        version=number,
        holder_kind=holder_kind,
        holder_id=str(holder_id),
    )
    return placed


def release(session: Session, actor: Actor, holder_kind: str, holder_id: str | int) -> int:
    """End every active hold of one holder (a grant revoked, a certificate cancelled)."""
    access.require(actor, "lake.hold")
    active = session.scalars(
        select(LakeHold).where(
            LakeHold.holder_kind == holder_kind,
            LakeHold.holder_id == str(holder_id),
            LakeHold.released_at.is_(None),
        )
    ).all()
    for item in active:
        item.released_at = utcnow()
        events.emit(
            session,
            HOLD_RELEASED,
            actor,
            subject=item,
            table_id=item.version.table_id,
            version=item.version.number,
            holder_kind=holder_kind,
            holder_id=str(holder_id),
        )
    return len(active)


def holders(session: Session, version: LakeVersion) -> list[str]:
    """Who holds a version now (``"grant:12"``, …)."""
    return [
        f"{h.holder_kind}:{h.holder_id}"
        for h in session.scalars(
            select(LakeHold).where(
                LakeHold.version_id == version.id, LakeHold.released_at.is_(None)
            )
        )
    ]


def set_retention(
    session: Session,
    actor: Actor,
    table_ref: LakeTable | int | str,
    *,
    versions: int | None,
    days: int | None,
) -> LakeTable:
    """Set a table's rule (None: no rule of that kind)."""
    table = tables.get_table(session, table_ref)
    access.require(actor, "lake.load", table)
    for value in (versions, days):
        if value is not None and value < 1:
            raise InvalidInput(detail="a retention rule keeps at least 1 version or day")
    table.retain_versions, table.retain_days = versions, days
    events.emit(session, RETENTION_SET, actor, subject=table, versions=versions, days=days)
    return table


@dataclass
class RetentionReport:
    table: str
    purged: list[int] = field(default_factory=list)
    held: list[int] = field(default_factory=list)  # would have gone, but are referenced
    files_to_delete: list[str] = field(default_factory=list)
    bytes_freed: int = 0


def purgeable(
    session: Session, table: LakeTable, now: dt.datetime | None = None
) -> list[LakeVersion]:
    """Versions the rule lets go (held ones included: ``apply_retention`` keeps those)."""
    if table.retain_versions is None and table.retain_days is None:
        return []
    now = now or utcnow()
    live = list(
        session.scalars(
            select(LakeVersion)
            .where(LakeVersion.table_id == table.id, LakeVersion.status != "purged")
            .order_by(LakeVersion.number.desc())
        )
    )
    newest_ready = next((v for v in live if v.status == "ready"), None)
    out = []
    for rank, version in enumerate(live):
        if rank == 0 or version is newest_ready or version.status == "blocked":
            continue
        if table.retain_versions is not None and rank < table.retain_versions:
            continue
        if table.retain_days is not None and version.created_at > now - dt.timedelta(
            days=table.retain_days
        ):
            continue
        out.append(version)
    return sorted(out, key=lambda v: v.number)


def apply_retention(
    session: Session,
    actor: Actor,
    table_ref: LakeTable | int | str,
    now: dt.datetime | None = None,
) -> RetentionReport:
    """Mark the versions the rule lets go as purged; their files go after commit."""
    table = tables.get_table(session, table_ref)
    access.require(actor, "lake.manage", table)
    report = RetentionReport(table=table.name)
    doomed = []
    for version in purgeable(session, table, now):
        if holders(session, version):
            report.held.append(version.number)
        else:
            doomed.append(version)
    if not doomed:
        return report
    kept_paths = {
        e["path"]
        for v in session.scalars(
            select(LakeVersion).where(
                LakeVersion.table_id == table.id, LakeVersion.status != "purged"
            )
        )
        if v not in doomed
        for e in v.manifest
    }
    sizes = {e["path"]: e["size"] for v in doomed for e in v.manifest}
    paths = sorted(set(sizes) - kept_paths)
    for version in doomed:
        version.status = "purged"
        version.purged_at = utcnow()
        unique = [e for e in version.manifest if e["path"] in paths]
        events.emit(
            session,
            VERSION_PURGED,
            actor,
            subject=version,
            table=table.name,
            table_id=table.id,
            resource_id=table.resource_id,
            version=version.number,
            files=len(unique),
            bytes=sum(e["size"] for e in unique),
        )
        report.purged.append(version.number)
    report.files_to_delete = paths
    report.bytes_freed = sum(sizes[p] for p in paths)
    _delete_after_commit(session, table.name, paths)
    return report


def refuse_if_held(session: Session, table: LakeTable, version: LakeVersion) -> None:
    """For operations that would remove one version on purpose (a data correction)."""
    who = holders(session, version)
    if who:
        raise VersionHeld(table=table.name, version=version.number, holders=", ".join(who))


def _delete_after_commit(session: Session, table_name: str, paths: list[str]) -> None:
    if not paths:
        return
    store = storage()
    uri = store.table_uri(table_name)
    cancelled = []

    def forget(_session: Session, _transaction: object) -> None:
        cancelled.append(True)  # the purge was rolled back: its files stay

    def delete(_session: Session) -> None:
        if cancelled:
            return
        for path in paths:
            try:
                store.delete(f"{uri}/{path}")
            except FileNotFoundError:
                continue
            except OSError:
                log.exception("could not delete a purged lake file", extra={"path": path})

    event.listen(session, "after_soft_rollback", forget, once=True)
    event.listen(session, "after_commit", delete, once=True)
