"""Share grants (共享授权): what an approved request item lets the using department read.

A grant carries its scope (resource, fields, regions, purpose, modes), its limits (calls a
minute, rows a day) and its validity; masks come from the resource's grade (governance) for
every sensitive field asked for. ``lake_grant`` turns it into the object ``lake.access``
enforces, so every use — query, verification, batch — goes through the one door under it."""

from __future__ import annotations

import datetime as dt
from contextlib import suppress

from sqlalchemy import select
from sqlalchemy.orm import Session

from longshu import events
from longshu.actor import SYSTEM, Actor
from longshu.catalog.models import Resource
from longshu.db import utcnow
from longshu.errors import Forbidden
from longshu.governance import grades, scans
from longshu.lake.errors import NoVersion
from longshu.lake.policy import Grant, Mask, TableGrant, rows_where
from longshu.security import access
from longshu.sharing.errors import GrantInactive, GrantNotFound, RequestInvalid
from longshu.sharing.models import ShareGrant, ShareRequestItem
from longshu.sharing.permissions import BUREAU

GRANTED = events.define("sharing.granted", "共享授权已生效", "Share grant issued")
REVOKED = events.define("sharing.grant_revoked", "共享授权已撤销", "Share grant revoked")
EXPIRED = events.define("sharing.grant_expired", "共享授权已到期", "Share grant expired")
TIGHTENED = events.define(
    "sharing.grant_masks_tightened", "共享授权脱敏范围已扩大", "Share grant masks widened"
)


def masks_for(
    session: Session, resource_id: int, table_name: str, fields: list[str]
) -> dict[str, str]:
    """The mask of each sensitive field asked for: the confirmed grade's, else the latest
    scan's defaults (a field nobody graded yet is still masked if it looks sensitive). A table
    not scanned yet (its new version's pipeline has not run, or runs elsewhere) is scanned on
    its sample now: a grant is never issued unmasked for want of a scan."""
    controls = grades.controls(session, resource_id)
    if controls:
        found = controls["masks"]
    else:
        if scans.latest_scan(session, table_name) is None:
            with suppress(NoVersion):  # nothing loaded yet: nothing to read or mask
                scans.scan_version(session, SYSTEM, table_name)

        found = scans.sensitive_columns(session, table_name)
    return {column: kind for column, kind in found.items() if column in fields}


def create_for(session: Session, actor: Actor, item: ShareRequestItem) -> ShareGrant:
    """The grant of a granted item, valid from now for the days the request asked."""
    from longshu.sharing.requests import region_column

    resource = session.get(Resource, item.resource_id)
    now = utcnow()
    grant = ShareGrant(
        item_id=item.id,
        consumer_org_id=item.request.requester_org_id,
        provider_org_id=item.provider_org_id,
        resource_id=item.resource_id,
        table_name=item.table_name,
        fields=list(item.fields),
        masks=masks_for(session, item.resource_id, item.table_name, list(item.fields)),
        region_column=region_column(resource) if resource and item.regions else None,
        regions=list(item.regions),
        modes=list(item.modes),
        purpose=item.request.purpose,
        valid_from=now,
        valid_until=now + dt.timedelta(days=item.request.days),
    )
    session.add(grant)
    session.flush()
    events.emit(
        session, GRANTED, actor, subject=grant, consumer_org_id=grant.consumer_org_id,
        provider_org_id=grant.provider_org_id, resource_id=grant.resource_id,
        table=grant.table_name, fields=grant.fields, masked=sorted(grant.masks),
        modes=grant.modes, valid_until=grant.valid_until,
    )  # fmt: skip
    return grant


def get_grant(session: Session, actor: Actor, grant_id: int) -> ShareGrant:
    """A grant its consumer, its provider or the bureau may see."""
    grant = session.get(ShareGrant, grant_id)
    if grant is None:
        raise GrantNotFound(grant=grant_id)
    if actor.kind != "system" and actor.org_id not in (
        grant.consumer_org_id,
        grant.provider_org_id,
    ):
        access.require(actor, "sharing.review", grant)  # the bureau sees them all
    return grant


# A batch package (lake.access_batches) may hold the grant's whole table: the daily row
# quota limits queries, not packages. These are the stream's caps for every share grant.
PACKAGE_MAX_ROWS = 100_000_000
PACKAGE_SECONDS = 4 * 3600.0


def lake_grant(grant: ShareGrant, now: dt.datetime | None = None) -> Grant:
    """The policy ``lake.access`` enforces for this grant. Refuses a grant that is revoked
    or past its validity (and marks an expired one). A query reads at most the daily quota
    (and 100,000 rows); a stream (batch packages) up to ``PACKAGE_MAX_ROWS`` rows in
    ``PACKAGE_SECONDS``."""
    now = now or utcnow()
    if grant.status == "active" and grant.valid_until <= now:
        grant.status = "expired"
    if grant.status != "active":
        raise GrantInactive(grant=grant.id, status=grant.status)
    row_filter = (
        rows_where(grant.region_column, list(grant.regions))
        if grant.region_column and grant.regions
        else None
    )
    return Grant(
        id=f"sharing:{grant.id}",
        consumer=f"org:{grant.consumer_org_id}",
        holder_org_id=grant.consumer_org_id,
        purpose=grant.purpose[:500],
        tables=(
            TableGrant(
                table=grant.table_name,
                columns=tuple(grant.fields),
                masks={c: Mask(kind=k) for c, k in grant.masks.items()},  # type: ignore[arg-type]
                row_filter=row_filter,
            ),
        ),
        max_rows=max(1, min(grant.daily_quota, 100_000)),
        max_stream_rows=PACKAGE_MAX_ROWS,
        stream_timeout_seconds=PACKAGE_SECONDS,
        valid_from=grant.valid_from,
        valid_until=grant.valid_until,
    )


def revoke(session: Session, actor: Actor, grant_id: int, reason: str) -> ShareGrant:
    """The provider (or the bureau) revokes a grant, with a reason; it stops at once."""
    grant = get_grant(session, actor, grant_id)
    access.require(actor, "sharing.revoke", grant)
    text = (reason or "").strip()
    if not 2 <= len(text) <= 2000:
        raise RequestInvalid(detail="a revocation needs a reason of 2–2,000 characters")
    if grant.status != "active":
        raise GrantInactive(grant=grant.id, status=grant.status)
    grant.status = "revoked"
    grant.revoked_at = utcnow()
    grant.revoke_reason = text
    events.emit(
        session, REVOKED, actor, subject=grant, consumer_org_id=grant.consumer_org_id,
        resource_id=grant.resource_id, reason=text,
    )  # fmt: skip
    return grant


def expire_due(session: Session, actor: Actor, now: dt.datetime | None = None) -> int:
    """Mark every active grant past its validity expired (a periodic task); returns how many."""
    now = now or utcnow()
    due = session.scalars(
        select(ShareGrant).where(ShareGrant.status == "active", ShareGrant.valid_until <= now)
    ).all()
    for grant in due:
        grant.status = "expired"
        events.emit(
            session, EXPIRED, actor, subject=grant, consumer_org_id=grant.consumer_org_id,
            resource_id=grant.resource_id,
        )  # fmt: skip
    return len(due)


def grants_of(
    session: Session,
    actor: Actor,
    *,
    status: str | None = None,
    every_department: bool = False,
    limit: int | None = None,
) -> list[ShareGrant]:
    """The grants the actor's department holds (as consumer) or gave (as provider); with
    ``every_department``, every grant (the bureau's staff only)."""
    query = select(ShareGrant)
    if every_department:
        if not actor.roles & BUREAU:
            raise Forbidden()
    else:
        query = query.where(
            (ShareGrant.consumer_org_id == actor.org_id)
            | (ShareGrant.provider_org_id == actor.org_id)
        )
    if status:
        query = query.where(ShareGrant.status == status)
    return list(session.scalars(query.order_by(ShareGrant.id.desc()).limit(limit)))


@events.subscribe("governance.scanned", name="sharing.grant_masks")
def tighten_masks(session: Session, event: events.Event) -> None:
    """A new scan found a sensitive field a live grant shows in clear (a grant issued before
    the table was loaded or scanned): mask it from now on. Masks are only ever added here;
    loosening one is a decision for the provider."""
    table = event.payload.get("table")
    if not isinstance(table, str):
        return
    found = scans.sensitive_columns(session, table)
    live = session.scalars(
        select(ShareGrant).where(ShareGrant.table_name == table, ShareGrant.status == "active")
    )
    for grant in live:
        added = {c: k for c, k in found.items() if c in grant.fields and c not in grant.masks}
        if added:
            grant.masks = {**grant.masks, **added}
            events.emit(
                session, TIGHTENED, SYSTEM, subject=grant, table=table, masked=sorted(added),
                consumer_org_id=grant.consumer_org_id,
            )  # fmt: skip
