"""The end of a batch exchange delivery (批量交换交付): its signed receipt (签收回执) and, once
the grant ends, its signed destruction confirmation (销毁确认), reminded before the deadline
and escalated to the provider and the bureau when it passes (``remind_due``, every 15
minutes). Requesting, building and downloading are in ``deliveries``.

Receipts and destruction confirmations are verified with the signing key the department gave
with its request (by default its SM2 recipient key) over the manifest's SM3
(``package_receipts``); a refused one is recorded and refused. Every change of state emits
an event; none carries row values."""

from __future__ import annotations

import datetime as dt
import shutil
from typing import Any

from huey import crontab
from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from longshu import events
from longshu.actor import SYSTEM, Actor
from longshu.db import get_database, utcnow
from longshu.jobs import get_huey
from longshu.security.crypto.signing import PublicKey
from longshu.sharing import package_receipts
from longshu.sharing import permissions as _permissions  # noqa: F401 — declares sharing.*
from longshu.sharing.deliveries import (
    FAILED,
    STALLED,
    delivery_facts,
    exchange_dir,
    exchange_settings,
    held_delivery,
)
from longshu.sharing.delivery_errors import (
    DeliveryStateConflict,
    RecordForAnotherPackage,
)
from longshu.sharing.delivery_models import AWAITING_DESTRUCTION, DELIVERED, Delivery
from longshu.sharing.models import ShareGrant
from longshu.sharing.package_errors import PackageError
from longshu.sharing.packages import MANIFEST
from longshu.workflow import calendar

RECEIVED = events.define(
    "sharing.delivery_received", "批量交换数据包已签收", "Batch delivery receipt accepted"
)
RECORD_REFUSED = events.define(
    "sharing.delivery_record_refused",
    "批量交换签名记录被拒绝",
    "Batch delivery signed record refused",
)
DESTRUCTION_DUE = events.define(
    "sharing.destruction_due", "批量交换数据包待销毁", "Batch delivery destruction due"
)
DESTRUCTION_REMINDER = events.define(
    "sharing.destruction_reminder", "批量交换数据包销毁提醒", "Batch delivery destruction reminder"
)
DESTRUCTION_OVERDUE = events.define(
    "sharing.destruction_overdue", "批量交换数据包销毁已逾期", "Batch delivery destruction overdue"
)
DESTROYED = events.define(
    "sharing.destruction_confirmed",
    "批量交换数据包已确认销毁",
    "Batch delivery destruction confirmed",
)


# --- signed records ---------------------------------------------------------------------------


def _verified(
    session: Session,
    actor: Actor,
    delivery: Delivery,
    kind: package_receipts.RecordKind,
    *,
    signature: str,
    signed_at: dt.datetime,
    statement: str | None,
    package_id: str | None,
) -> package_receipts.PackageRecord:
    """The verified record, or the refusal recorded (committed, so the rollback of the
    request does not lose it) and raised."""
    assert delivery.manifest is not None
    signer = PublicKey.from_json(delivery.signer_key)
    try:
        if package_id is not None and package_id != delivery.package_id:
            raise RecordForAnotherPackage(named=package_id[:100], delivery=delivery.id)
        try:
            raw = bytes.fromhex(signature)
        except ValueError:
            raw = b""
        check = (
            package_receipts.delivery_receipt
            if kind == "received"
            else package_receipts.destruction_record
        )
        return check(delivery.manifest, signer, raw, signed_at, statement)
    except (PackageError, RecordForAnotherPackage) as error:
        events.emit(
            session, RECORD_REFUSED, actor, subject=delivery,
            **delivery_facts(delivery, record=kind, error=error.key, signer_key_id=signer.key_id),
        )  # fmt: skip
        session.commit()
        error.recorded = True  # type: ignore[misc]
        raise


def _move(
    session: Session, delivery: Delivery, allowed: tuple[str, ...], *also: Any, **values: Any
) -> bool:
    """Change the row only if it is still in one of ``allowed`` states (and meets ``also``):
    two uploads at once (or a replay) find one winner."""
    result = session.execute(
        update(Delivery)
        .where(Delivery.id == delivery.id, Delivery.state.in_(allowed), *also)
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    session.refresh(delivery)
    return result.rowcount == 1  # type: ignore[attr-defined]


def accept_receipt(
    session: Session,
    actor: Actor,
    delivery_id: int,
    *,
    signature: str,
    signed_at: dt.datetime,
    statement: str | None = None,
    package_id: str | None = None,
) -> Delivery:
    """签收回执: the consumer's signature (hex) over ``package_receipts.record_message(manifest,
    "received", signed_at, statement)``. Once per delivery; a forged or misdirected receipt is
    refused and recorded (``sharing.delivery_record_refused``)."""
    delivery = held_delivery(session, actor, delivery_id)
    receivable = ("built", "downloaded", *AWAITING_DESTRUCTION)
    if delivery.received_at is not None or delivery.state not in receivable:
        raise DeliveryStateConflict(delivery=delivery.id, state=delivery.state, record="receipt")
    record = _verified(
        session, actor, delivery, "received", signature=signature, signed_at=signed_at,
        statement=statement, package_id=package_id,
    )  # fmt: skip
    # Received, unless the grant ended first: then the receipt is kept and it stays due.
    state = "received" if delivery.state in ("built", "downloaded") else delivery.state
    if not _move(
        session, delivery, (delivery.state,), Delivery.received_at.is_(None),
        state=state, received_at=utcnow(), receipt=record.as_json(),
    ):  # fmt: skip
        raise DeliveryStateConflict(delivery=delivery.id, state=delivery.state, record="receipt")
    events.emit(
        session, RECEIVED, actor, subject=delivery,
        **delivery_facts(delivery, manifest_sm3=delivery.manifest_sm3, signer_key_id=record.key_id,
                 signed_at=record.as_json()["signed_at"]),
    )  # fmt: skip
    return delivery


def confirm_destruction(
    session: Session,
    actor: Actor,
    delivery_id: int,
    *,
    signature: str,
    signed_at: dt.datetime,
    statement: str | None = None,
    package_id: str | None = None,
) -> Delivery:
    """销毁确认: the consumer's signature over ``record_message(manifest, "destroyed", …)``.
    Accepted once, while the package is delivered or due (also before the grant ends); then the
    data file is removed (the manifest and the records stay)."""
    delivery = held_delivery(session, actor, delivery_id)
    if delivery.state not in (*DELIVERED, *AWAITING_DESTRUCTION):
        raise DeliveryStateConflict(
            delivery=delivery.id, state=delivery.state, record="destruction confirmation"
        )
    record = _verified(
        session, actor, delivery, "destroyed", signature=signature, signed_at=signed_at,
        statement=statement, package_id=package_id,
    )  # fmt: skip
    was = delivery.state
    now = utcnow()
    if not _move(
        session, delivery, (*DELIVERED, *AWAITING_DESTRUCTION),
        state="destroyed", destroyed_at=now, destruction=record.as_json(),
    ):  # fmt: skip
        raise DeliveryStateConflict(
            delivery=delivery.id, state=delivery.state, record="destruction confirmation"
        )
    late = was == "overdue" or (delivery.due_at is not None and now > delivery.due_at)
    # The confirmation is signed and verified: the platform's copy goes now. (Should the commit
    # fail after this, the file is gone but the state is not: the department uploads again.)
    removed = remove_files(delivery)
    delivery.files_removed_at = utcnow()
    events.emit(
        session, DESTROYED, actor, subject=delivery,
        **delivery_facts(delivery, previous=was, late=late, manifest_sm3=delivery.manifest_sm3,
                 signer_key_id=record.key_id, signed_at=record.as_json()["signed_at"],
                 removed_files=removed),
    )  # fmt: skip
    return delivery


def remove_files(delivery: Delivery) -> list[str]:
    """Delete the package's data file(s); the manifest stays beside them (and in the database).
    Returns the names removed."""
    folder = exchange_dir() / delivery.package_id
    if not folder.is_dir():
        return []
    removed = []
    for child in sorted(folder.iterdir()):
        if child.name == MANIFEST:
            continue
        if child.is_dir():
            shutil.rmtree(child, ignore_errors=True)
        else:
            child.unlink(missing_ok=True)
        removed.append(child.name)
    return removed


# --- the periodic sweep -----------------------------------------------------------------------


def _ended_at(grant: ShareGrant, now: dt.datetime) -> dt.datetime:
    if grant.status == "revoked" and grant.revoked_at is not None:
        return grant.revoked_at
    return min(grant.valid_until, now)


def mark_due(
    session: Session, now: dt.datetime, actor: Actor = SYSTEM, *, grant_id: int | None = None
) -> int:
    """Every delivered package of a grant that has ended (revoked, expired, or past its
    validity) — of ``grant_id`` only, if given — becomes ``destruction_due``, with a deadline
    ``destruction_working_days`` working days after the end. Returns how many."""
    days = exchange_settings().destruction_working_days
    query = (
        select(Delivery, ShareGrant)
        .join(ShareGrant, ShareGrant.id == Delivery.grant_id)
        .where(
            Delivery.state.in_(DELIVERED),
            or_(ShareGrant.status != "active", ShareGrant.valid_until <= now),
        )
        .order_by(Delivery.id)
    )
    if grant_id is not None:
        query = query.where(Delivery.grant_id == grant_id)
    rows = session.execute(query).all()
    marked = 0
    for delivery, grant in rows:
        ended = _ended_at(grant, now)
        due = calendar.add_working_days(ended, days)
        if not _move(
            session, delivery, DELIVERED,
            state="destruction_due", grant_ended_at=ended, due_at=due,
        ):  # fmt: skip
            continue  # another sweep, or the consumer, got there first
        marked += 1
        events.emit(
            session, DESTRUCTION_DUE, actor, subject=delivery,
            **delivery_facts(delivery, grant_status="revoked" if grant.status == "revoked" else "expired",
                     due_at=due, working_days=days),
        )  # fmt: skip
    return marked


@events.subscribe("sharing.grant_revoked", "sharing.grant_expired", name="sharing.deliveries_due")
def grant_ended(session: Session, event: events.Event) -> None:
    """A revoked or expired grant makes its delivered packages due at once (the sweep would
    find them within 15 minutes anyway)."""
    if event.subject_type == "sharing_grant" and event.subject_id:
        mark_due(session, utcnow(), grant_id=int(event.subject_id))


def fail_stalled(session: Session, now: dt.datetime) -> int:
    """Builds still ``building`` ``stalled_minutes`` after the request (their worker died or
    never ran) become ``failed`` (``sharing.delivery_stalled``), freeing the grant's
    ``max_building`` places; whatever they left in the exchange folder is removed."""
    cutoff = now - dt.timedelta(minutes=exchange_settings().stalled_minutes)
    stalled = session.scalars(
        select(Delivery).where(Delivery.state == "building", Delivery.created_at < cutoff)
    ).all()
    failed = 0
    for delivery in stalled:
        if not _move(session, delivery, ("building",), state="failed", error=STALLED):
            continue
        shutil.rmtree(exchange_dir() / delivery.package_id, ignore_errors=True)
        failed += 1
        events.emit(
            session, FAILED, SYSTEM, subject=delivery, **delivery_facts(delivery, error=STALLED)
        )
    return failed


def remind_due(session: Session, now: dt.datetime | None = None) -> dict[str, int]:
    """The periodic sweep (every 15 minutes in the worker): give up stalled builds, mark
    packages of ended grants due,
    remind once ``remind_working_days`` before a deadline (``sharing.destruction_reminder``),
    and escalate once when a deadline has passed (``sharing.destruction_overdue``: the state
    becomes ``overdue``, which the provider and the bureau see). Running it again, or twice at
    once, emits nothing new. The caller commits."""
    now = now or utcnow()
    settings = exchange_settings()
    stalled = fail_stalled(session, now)
    marked = mark_due(session, now)
    reminded = escalated = 0
    due = session.scalars(
        select(Delivery).where(Delivery.state == "destruction_due").order_by(Delivery.id)
    ).all()
    for delivery in due:
        assert delivery.due_at is not None
        if delivery.due_at < now:
            if _move(session, delivery, ("destruction_due",), state="overdue", escalated_at=now):
                escalated += 1
                events.emit(
                    session, DESTRUCTION_OVERDUE, SYSTEM, subject=delivery,
                    **delivery_facts(delivery, due_at=delivery.due_at,
                             working_days_late=max(
                                 0, calendar.working_days_between(delivery.due_at, now))),
                )  # fmt: skip
            continue
        left = calendar.working_days_between(now, delivery.due_at)
        if delivery.reminded_at is None and left <= settings.remind_working_days:
            result = session.execute(
                update(Delivery)
                .where(Delivery.id == delivery.id, Delivery.reminded_at.is_(None))
                .values(reminded_at=now)
                .execution_options(synchronize_session=False)
            )
            session.refresh(delivery)
            if result.rowcount == 1:  # type: ignore[attr-defined]
                reminded += 1
                events.emit(
                    session, DESTRUCTION_REMINDER, SYSTEM, subject=delivery,
                    **delivery_facts(delivery, due_at=delivery.due_at, working_days_left=left),
                )  # fmt: skip
    result = {"due": marked, "reminded": reminded, "escalated": escalated}
    return result | ({"stalled": stalled} if stalled else {})


@get_huey().periodic_task(crontab(minute="*/15"))
def remind_destructions() -> dict[str, int]:
    """Every 15 minutes: ``remind_due`` (``sharing.tasks`` imports this module for the
    worker)."""
    with get_database().session() as session:
        return remind_due(session)
