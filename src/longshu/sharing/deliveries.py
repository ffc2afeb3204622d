"""Batch exchange deliveries (批量交换交付): a grant's rows delivered to the consuming
department as a package. Its signed receipt (签收回执) and, once the grant ends, its signed
destruction confirmation (销毁确认) with reminders and escalation are in ``destruction``.

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

import secrets
from pathlib import Path
from typing import Any

from pydantic_settings import BaseSettings, SettingsConfigDict
from sqlalchemy import event as sa_event
from sqlalchemy import func, or_, select, update
from sqlalchemy.orm import Session
from sqlglot import exp

from longshu import events
from longshu.actor import Actor
from longshu.config import get_settings
from longshu.db import get_database, utcnow
from longshu.errors import LongshuError
from longshu.jobs import get_huey
from longshu.security import access
from longshu.security.crypto import sm2
from longshu.security.crypto.errors import InvalidKey, UnknownAlgorithm
from longshu.security.crypto.signing import SM2_SM3, PublicKey, key_id_for
from longshu.sharing import permissions as _permissions  # noqa: F401 — declares sharing.*
from longshu.sharing.delivery_errors import (
    DeliveriesPending,
    DeliveryFilesGone,
    DeliveryNotFound,
    DeliveryNotReady,
    NotDeliveryHolder,
    RecipientKeyInvalid,
)
from longshu.sharing.delivery_models import DELIVERED, Delivery
from longshu.sharing.errors import ModeNotGranted
from longshu.sharing.grants import get_grant, lake_grant
from longshu.sharing.models import ShareGrant
from longshu.sharing.package_errors import PackageFormatUnknown
from longshu.sharing.packages import FORMATS, MANIFEST, build_package

REQUESTED = events.define(
    "sharing.delivery_requested", "已申请批量交换数据包", "Batch delivery requested"
)
BUILT = events.define("sharing.delivery_built", "批量交换数据包可下载", "Batch delivery ready")
FAILED = events.define("sharing.delivery_failed", "批量交换数据包生成失败", "Batch delivery failed")
DOWNLOADED = events.define(
    "sharing.delivery_downloaded", "批量交换数据包已下载", "Batch delivery downloaded"
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


def delivery_facts(delivery: Delivery, **extra: Any) -> dict[str, Any]:
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
        **delivery_facts(delivery, format=fmt, recipient_key_id=delivery.recipient_key_id,
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
        events.emit(
            session, FAILED, actor, subject=delivery, **delivery_facts(delivery, error=error.key)
        )
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
        **delivery_facts(delivery, rows=facts.rows, format=delivery.format,
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


def held_delivery(session: Session, actor: Actor, delivery_id: int) -> Delivery:
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
    delivery = held_delivery(session, actor, delivery_id)
    if delivery.manifest is None:
        raise DeliveryNotReady(delivery=delivery.id, state=delivery.state)
    return delivery.manifest


def download(session: Session, actor: Actor, delivery_id: int) -> Path:
    """The encrypted data file, for the consumer, while the package is delivered and the
    grant is active; the first download moves ``built`` to ``downloaded``. Every download
    emits ``sharing.delivery_downloaded``."""
    delivery = held_delivery(session, actor, delivery_id)
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
        **delivery_facts(delivery, downloads=delivery.downloads, bytes=delivery.files[0]["bytes"]),
    )  # fmt: skip
    return path
