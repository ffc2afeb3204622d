"""Batch exchange deliveries (批量交换交付): a grant's rows delivered to the consuming
department as a package, with its signed receipt (签收回执) and, once the grant ends, its
signed destruction confirmation (销毁确认) — reminded before the deadline and escalated to the
provider and the bureau when it passes.

    building ──build job──► built ──download──► downloaded ──receipt──► received
        └──► failed                  (grant revoked or expired)
    built / downloaded / received ──► destruction_due ──deadline passes──► overdue
    any delivered or due state ──destruction confirmation──► destroyed (data file removed)

``request_delivery`` records the request (the holding department's staff or system, a grant
with the ``batch`` mode, active) and hands the build to a huey job after the commit;
``build`` streams the rows through ``lake.access_batches`` (``packages.build_package``) into
``<var_dir>/exchange/<package_id>/``. Receipts and destruction confirmations are verified
with the signing key the department gave with its request (by default its SM2 recipient
key) over the manifest's SM3 (``package_receipts``); a refused one is recorded and refused.
``remind_due`` is the periodic sweep: ended grants make their packages due, reminders go out
``remind_working_days`` before the deadline, an overdue one is escalated once. Every change
of state emits an event; none carries row values.
"""

from __future__ import annotations

import datetime as dt
import secrets
import shutil
from pathlib import Path
from typing import Any

from huey import crontab
from pydantic_settings import BaseSettings, SettingsConfigDict
from sqlalchemy import event as sa_event
from sqlalchemy import func, or_, select, update
from sqlalchemy.orm import Session
from sqlglot import exp

from longshu import events
from longshu.actor import SYSTEM, Actor
from longshu.config import get_settings
from longshu.db import get_database, utcnow
from longshu.errors import LongshuError
from longshu.jobs import get_huey
from longshu.security import access
from longshu.security.crypto import sm2
from longshu.security.crypto.errors import InvalidKey, UnknownAlgorithm
from longshu.security.crypto.signing import SM2_SM3, PublicKey, key_id_for
from longshu.sharing import package_receipts
from longshu.sharing import permissions as _permissions  # noqa: F401 — declares sharing.*
from longshu.sharing.delivery_errors import (
    DeliveriesPending,
    DeliveryFilesGone,
    DeliveryNotFound,
    DeliveryNotReady,
    DeliveryStateConflict,
    NotDeliveryHolder,
    RecipientKeyInvalid,
    RecordForAnotherPackage,
)
from longshu.sharing.delivery_models import AWAITING_DESTRUCTION, DELIVERED, Delivery
from longshu.sharing.errors import ModeNotGranted
from longshu.sharing.grants import get_grant, lake_grant
from longshu.sharing.models import ShareGrant
from longshu.sharing.package_errors import PackageError, PackageFormatUnknown
from longshu.sharing.packages import FORMATS, MANIFEST, build_package
from longshu.workflow import calendar

REQUESTED = events.define(
    "sharing.delivery_requested", "已申请批量交换数据包", "Batch delivery requested"
)
BUILT = events.define("sharing.delivery_built", "批量交换数据包可下载", "Batch delivery ready")
FAILED = events.define("sharing.delivery_failed", "批量交换数据包生成失败", "Batch delivery failed")
DOWNLOADED = events.define(
    "sharing.delivery_downloaded", "批量交换数据包已下载", "Batch delivery downloaded"
)
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

STALLED = "sharing.delivery_stalled"  # error key of a build given up by the sweep


class ExchangeSettings(BaseSettings):
    """``LONGSHU_SHARING_EXCHANGE_*``: destruction deadlines and reminders."""

    model_config = SettingsConfigDict(
        env_prefix="LONGSHU_SHARING_EXCHANGE_", env_file=".env", extra="ignore"
    )

    destruction_working_days: int = 10  # after the grant ends
    remind_working_days: int = 3  # a reminder this many working days before the deadline
    max_building: int = 3  # packages of one grant being built at once
    stalled_minutes: int = 60  # a build not finished by then is given up (its worker died)


def exchange_settings() -> ExchangeSettings:
    return ExchangeSettings()


def exchange_dir() -> Path:
    """Where packages live: ``<var_dir>/exchange/<package_id>/``."""
    return get_settings().var_dir / "exchange"


# --- keys -------------------------------------------------------------------------------------


def parse_keys(recipient_hex: str, signer: dict[str, Any] | None = None) -> tuple[bytes, PublicKey]:
    """The recipient's SM2 encryption key (a point of the curve) and the key that will sign
    receipts and destruction confirmations (``PublicKey`` JSON; default: the recipient key as
    an SM2-SM3 signing key). ``RecipientKeyInvalid`` for anything else."""
    try:
        recipient = bytes.fromhex(recipient_hex)
        sm2.decode_point(recipient)
        signer_key = (
            PublicKey.from_json(signer) if signer is not None else PublicKey(SM2_SM3, recipient)
        )
    except (ValueError, TypeError, InvalidKey, UnknownAlgorithm):
        raise RecipientKeyInvalid() from None
    return recipient, signer_key


# --- requesting and building ------------------------------------------------------------------


def _facts(delivery: Delivery, **extra: Any) -> dict[str, Any]:
    return {
        "delivery_id": delivery.id,
        "package_id": delivery.package_id,
        "grant_id": delivery.grant_id,
        "consumer_org_id": delivery.consumer_org_id,
        "provider_org_id": delivery.provider_org_id,
        **extra,
    }


def _require_holder(actor: Actor, grant: ShareGrant, delivery_id: Any = None) -> None:
    if actor.org_id is None or actor.org_id != grant.consumer_org_id:
        raise NotDeliveryHolder(delivery=delivery_id if delivery_id is not None else "-")


def request_delivery(
    session: Session,
    actor: Actor,
    grant_id: int,
    *,
    fmt: str,
    recipient_key: str,
    signer_key: dict[str, Any] | None = None,
) -> Delivery:
    """The holding department asks for a package of grant ``grant_id``'s rows, encrypted to
    ``recipient_key``. Refuses another department, a grant without the ``batch`` mode, an
    ended grant, an unknown format, a bad key, or a grant with ``max_building`` packages still
    being built (429). The build runs as a job after the commit."""
    grant = get_grant(session, actor, grant_id)
    _require_holder(actor, grant)
    if "batch" not in grant.modes:
        raise ModeNotGranted(grant=grant.id, mode="batch")
    lake_grant(grant)  # GrantInactive for a revoked or expired grant
    if fmt not in FORMATS:
        raise PackageFormatUnknown(format=str(fmt)[:20])
    recipient, signer = parse_keys(recipient_key, signer_key)
    building = session.scalar(
        select(func.count())
        .select_from(Delivery)
        .where(Delivery.grant_id == grant.id, Delivery.state == "building")
    )
    limit = exchange_settings().max_building
    if building and building >= limit:
        raise DeliveriesPending(grant=grant.id, count=building)
    delivery = Delivery(
        package_id=f"pkg-{grant.id}-{secrets.token_hex(8)}",
        grant_id=grant.id,
        consumer_org_id=grant.consumer_org_id,
        provider_org_id=grant.provider_org_id,
        requested_by=actor.id,
        requester={
            "kind": actor.kind,
            "id": actor.id,
            "name": actor.name,
            "org_id": actor.org_id,
            "roles": sorted(actor.roles),
        },
        format=fmt,
        recipient_key=recipient.hex(),
        recipient_key_id=key_id_for(SM2_SM3, recipient),
        signer_key=signer.as_json(),
        state="building",
    )
    session.add(delivery)
    session.flush()
    events.emit(
        session, REQUESTED, actor, subject=delivery,
        **_facts(delivery, format=fmt, recipient_key_id=delivery.recipient_key_id,
                 signer_key_id=signer.key_id),
    )  # fmt: skip
    build_after_commit(session, delivery.id)
    return delivery


def _requester(delivery: Delivery) -> Actor:
    record = delivery.requester or {}
    return Actor(
        kind=record.get("kind", "user"),
        id=record.get("id"),
        name=record.get("name", "exchange"),
        org_id=record.get("org_id"),
        roles=frozenset(record.get("roles", [])),
        mfa=True,
    )


def _select_all(grant: ShareGrant) -> str:
    """Every granted field of the grant's table, in the grant's order."""
    query = exp.select(*[exp.column(f, quoted=True) for f in grant.fields]).from_(
        exp.to_table(grant.table_name)
    )
    return query.sql(dialect="duckdb")


def build(session: Session, delivery_id: int) -> Delivery | None:
    """Build the package of a delivery that is still ``building``, reading as the staff member
    who asked (the door admits only the holding department). A refusal (grant ended, row limit,
    a column CSV cannot carry …) leaves the delivery ``failed`` with the error's key; the caller
    commits either way. Returns None when there is nothing to build."""
    delivery = session.get(Delivery, delivery_id)
    if delivery is None or delivery.state != "building":
        return None
    grant = session.get(ShareGrant, delivery.grant_id)
    assert grant is not None
    actor = _requester(delivery)
    try:
        facts = build_package(
            session, actor, lake_grant(grant), _select_all(grant),
            consumer_public_key=bytes.fromhex(delivery.recipient_key),
            out_dir=exchange_dir(), fmt=delivery.format,  # type: ignore[arg-type]
            package_id=delivery.package_id,
        )  # fmt: skip
    except LongshuError as error:
        delivery.state = "failed"
        delivery.error = error.key
        events.emit(session, FAILED, actor, subject=delivery, **_facts(delivery, error=error.key))
        return delivery
    delivery.state = "built"
    delivery.built_at = utcnow()
    delivery.manifest = facts.manifest
    delivery.manifest_sm3 = facts.manifest_sm3
    delivery.rows = facts.rows
    delivery.files = [
        {"name": facts.data_path.name, "bytes": facts.ciphertext_bytes,
         "sm3": facts.manifest["ciphertext"]["sm3"]},
        {"name": MANIFEST, "bytes": (facts.path / MANIFEST).stat().st_size},
    ]  # fmt: skip
    events.emit(
        session, BUILT, actor, subject=delivery,
        **_facts(delivery, rows=facts.rows, format=delivery.format,
                 ciphertext_bytes=facts.ciphertext_bytes, manifest_sm3=facts.manifest_sm3),
    )  # fmt: skip
    return delivery


huey = get_huey()


@huey.task()
def build_task(delivery_id: int) -> str | None:
    """The worker's side of ``request_delivery``."""
    with get_database().session() as session:
        delivery = build(session, delivery_id)
        return delivery.state if delivery else None


_PENDING = "longshu_exchange_builds"


def build_after_commit(session: Session, delivery_id: int) -> None:
    """Hand the build to the worker once the outermost transaction commits (a worker that
    started earlier would not see the row); a rollback forgets it."""
    session.info.setdefault(_PENDING, []).append(delivery_id)


@sa_event.listens_for(Session, "after_commit")
def _committed(session: Session) -> None:
    if not session.in_nested_transaction() and session.info.get(_PENDING):
        session.info["longshu_exchange_committed"] = True


@sa_event.listens_for(Session, "after_transaction_end")
def _release(session: Session, transaction: Any) -> None:
    if transaction.parent is not None or transaction.nested:
        return
    pending = session.info.pop(_PENDING, None)
    if pending and session.info.pop("longshu_exchange_committed", False):
        for delivery_id in pending:
            build_task(delivery_id)


@sa_event.listens_for(Session, "after_rollback")
def _rolled_back(session: Session) -> None:
    if not session.in_nested_transaction():
        session.info.pop(_PENDING, None)
        session.info.pop("longshu_exchange_committed", None)


# --- reading ----------------------------------------------------------------------------------


def get_delivery(session: Session, actor: Actor, delivery_id: int) -> Delivery:
    """A delivery its consumer, its provider or the bureau may see."""
    delivery = session.get(Delivery, delivery_id)
    if delivery is None:
        raise DeliveryNotFound(delivery=delivery_id)
    party = actor.org_id in (delivery.consumer_org_id, delivery.provider_org_id)
    if (
        actor.kind != "system"
        and not party
        and not access.decide(actor, "sharing.review", delivery)
    ):
        raise DeliveryNotFound(delivery=delivery_id)  # others do not learn it exists
    return delivery


def sees_all(actor: Actor) -> bool:
    """The bureau (``sharing.review`` over any department) sees every department's deliveries."""
    return bool(access.decide(actor, "sharing.review", _ANY_PROVIDER))


class _AnyProvider:
    owner_org_id = -1  # no real department: only roles that act for every department pass


_ANY_PROVIDER = _AnyProvider()


def _held(session: Session, actor: Actor, delivery_id: int) -> Delivery:
    delivery = get_delivery(session, actor, delivery_id)
    if actor.org_id is None or actor.org_id != delivery.consumer_org_id:
        raise NotDeliveryHolder(delivery=delivery_id)
    return delivery


def list_deliveries(
    session: Session,
    actor: Actor,
    *,
    side: str = "consumer",
    state: str | None = None,
    limit: int = 200,
) -> list[Delivery]:
    """Deliveries of the actor's department as consumer (``side="consumer"``) or provider
    (``"provider"``); ``"all"`` is every department's, for the bureau (others get their own
    department's, either side)."""
    query = select(Delivery)
    if side == "all" and sees_all(actor):
        pass
    elif side == "provider":
        query = query.where(Delivery.provider_org_id == actor.org_id)
    elif side == "consumer":
        query = query.where(Delivery.consumer_org_id == actor.org_id)
    else:
        query = query.where(
            or_(
                Delivery.consumer_org_id == actor.org_id,
                Delivery.provider_org_id == actor.org_id,
            )
        )
    if state:
        query = query.where(Delivery.state == state)
    return list(session.scalars(query.order_by(Delivery.id.desc()).limit(limit)))


def manifest_of(session: Session, actor: Actor, delivery_id: int) -> dict[str, Any]:
    """The signed manifest (kept after destruction); the consumer only."""
    delivery = _held(session, actor, delivery_id)
    if delivery.manifest is None:
        raise DeliveryNotReady(delivery=delivery.id, state=delivery.state)
    return delivery.manifest


def download(session: Session, actor: Actor, delivery_id: int) -> Path:
    """The encrypted data file, for the consumer, while the package is delivered and the
    grant is active; the first download moves ``built`` to ``downloaded``. Every download
    emits ``sharing.delivery_downloaded``."""
    delivery = _held(session, actor, delivery_id)
    if delivery.state == "destroyed":
        raise DeliveryFilesGone(delivery=delivery.id)
    if delivery.state not in DELIVERED:
        raise DeliveryNotReady(delivery=delivery.id, state=delivery.state)
    grant = session.get(ShareGrant, delivery.grant_id)
    assert grant is not None
    lake_grant(grant)  # an ended grant allows no further copies
    path = exchange_dir() / delivery.package_id / delivery.files[0]["name"]
    if not path.is_file():
        raise DeliveryFilesGone(delivery=delivery.id)
    now = utcnow()
    session.execute(
        update(Delivery)
        .where(Delivery.id == delivery.id, Delivery.state == "built")
        .values(state="downloaded", downloaded_at=now)
    )
    session.execute(
        update(Delivery).where(Delivery.id == delivery.id).values(downloads=Delivery.downloads + 1)
    )
    session.refresh(delivery)
    events.emit(
        session, DOWNLOADED, actor, subject=delivery,
        **_facts(delivery, downloads=delivery.downloads, bytes=delivery.files[0]["bytes"]),
    )  # fmt: skip
    return path


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
            **_facts(delivery, record=kind, error=error.key, signer_key_id=signer.key_id),
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
    delivery = _held(session, actor, delivery_id)
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
        **_facts(delivery, manifest_sm3=delivery.manifest_sm3, signer_key_id=record.key_id,
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
    delivery = _held(session, actor, delivery_id)
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
        **_facts(delivery, previous=was, late=late, manifest_sm3=delivery.manifest_sm3,
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
            **_facts(delivery, grant_status="revoked" if grant.status == "revoked" else "expired",
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
        events.emit(session, FAILED, SYSTEM, subject=delivery, **_facts(delivery, error=STALLED))
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
                    **_facts(delivery, due_at=delivery.due_at,
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
                    **_facts(delivery, due_at=delivery.due_at, working_days_left=left),
                )  # fmt: skip
    result = {"due": marked, "reminded": reminded, "escalated": escalated}
    return result | ({"stalled": stalled} if stalled else {})


@huey.periodic_task(crontab(minute="*/15"))
def remind_destructions() -> dict[str, int]:
    """Every 15 minutes: ``remind_due`` (needs ``longshu.sharing.deliveries`` among the
    worker's ``TASK_MODULES``)."""
    with get_database().session() as session:
        return remind_due(session)
