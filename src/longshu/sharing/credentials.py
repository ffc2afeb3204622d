"""Application credentials (应用凭证) of the systems that call the sharing API for a department.

A department's data manager (``sharing.credentials``; the platform administrator for any
department) registers each of its systems — a department's business system, or a city
platform calling the province — as an application credential holding a consuming role only,
registers or rotates its SM2 public key for signed requests (``security/identity/signed.py``),
issues bearer tokens for it (the secret is shown once) and disables it: from that moment every
call with its tokens or signatures is refused.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from longshu import events
from longshu.actor import Actor
from longshu.db import utcnow
from longshu.orgs.models import Organization
from longshu.security import access
from longshu.security.crypto import sm2
from longshu.security.crypto.errors import InvalidKey
from longshu.security.crypto.signing import SM2_SM3, key_id_for
from longshu.security.identity import service as identity
from longshu.security.identity.models import ApiToken, AppCredential, AppSigningKey
from longshu.security.identity.signed import live_key
from longshu.sharing.credential_errors import (
    CredentialDisabled,
    CredentialKeyInvalid,
    CredentialNameInvalid,
    CredentialNotFound,
    CredentialOrgMissing,
    CredentialOverlapInvalid,
    CredentialRoleNotAllowed,
)

# What a consuming system needs: request, read and use grants. Never a reviewer's or an
# administrator's role — a system's key must not approve its own department's requests.
CONSUMER_ROLES = frozenset({"data_consumer"})
DEFAULT_SCOPES = ("sharing.*",)

CREATED = events.define(
    "sharing.credential_created", "创建共享应用凭证", "Sharing application credential created"
)
KEY_SET = events.define(
    "sharing.credential_key_set", "登记应用签名公钥", "Application signing key registered"
)
DISABLED = events.define(
    "sharing.credential_disabled", "停用共享应用凭证", "Sharing application credential disabled"
)


@dataclass(frozen=True)
class _OrgOf:
    """A subject for the access decision: "this department's credentials"."""

    org_id: int | None


def create(
    session: Session,
    actor: Actor,
    name: str,
    org_id: int | None = None,
    roles: Iterable[str] = ("data_consumer",),
) -> AppCredential:
    """Register a system of ``org_id`` (by default the actor's own department)."""
    org_id = org_id if org_id is not None else actor.org_id
    access.require(actor, "sharing.credentials", _OrgOf(org_id))
    name = name.strip()
    if not 1 <= len(name) <= 100:
        raise CredentialNameInvalid()
    if org_id is None or session.get(Organization, org_id) is None:
        raise CredentialOrgMissing()
    wanted = sorted(dict.fromkeys(roles))
    if not wanted or not set(wanted) <= CONSUMER_ROLES:
        raise CredentialRoleNotAllowed(allowed=", ".join(sorted(CONSUMER_ROLES)))
    app = AppCredential(name=name, org_id=org_id, roles=wanted, created_by=actor.id)
    session.add(app)
    session.flush()
    events.emit(session, CREATED, actor, subject=app, org_id=org_id, roles=wanted)
    return app


def get(session: Session, actor: Actor, app_id: int) -> AppCredential:
    """A credential of the actor's department (any, for the platform administrator)."""
    app = session.get(AppCredential, app_id)
    if app is None:
        raise CredentialNotFound(app=app_id)
    access.require(actor, "sharing.credentials", app)
    return app


def list_credentials(
    session: Session, actor: Actor, org_id: int | None = None
) -> list[AppCredential]:
    """The department's credentials; the platform administrator sees every department's, or
    one department's with ``org_id``."""
    access.require(actor, "sharing.credentials")
    if not actor.roles & access.PERMISSIONS["sharing.credentials"].any_org_roles:
        if actor.org_id is None:
            return []
        org_id = actor.org_id
    query = select(AppCredential).order_by(AppCredential.id)
    if org_id is not None:
        query = query.where(AppCredential.org_id == org_id)
    return list(session.scalars(query))


MAX_OVERLAP_HOURS = 168  # a week to roll a new key out to every instance of a system


def set_key(
    session: Session, actor: Actor, app_id: int, public_key_hex: str, overlap_hours: int = 0
) -> AppSigningKey:
    """Register the system's SM2 public key (65 bytes, 04 ‖ x ‖ y, in hex), checked to be a
    point on the curve. The key registered before is retired at once (rotation), or after
    ``overlap_hours`` (up to ``MAX_OVERLAP_HOURS``): until then both sign, so a system with
    several instances can roll the new key out without a moment of refused calls."""
    if not 0 <= overlap_hours <= MAX_OVERLAP_HOURS:
        raise CredentialOverlapInvalid(limit=MAX_OVERLAP_HOURS)
    app = _live(session, actor, app_id)
    text = public_key_hex.strip().lower()
    try:
        raw = bytes.fromhex(text) if len(text) == 130 else b""
        sm2.decode_point(raw)
    except (ValueError, InvalidKey):
        raise CredentialKeyInvalid() from None
    now = utcnow()
    previous = live_key(session, app.id)
    if previous is not None:
        previous.retired_at = now + dt.timedelta(hours=overlap_hours)
    key = AppSigningKey(
        app_id=app.id, public_key=text, key_id=key_id_for(SM2_SM3, raw), created_by=actor.id,
        created_at=now,
    )  # fmt: skip
    session.add(key)
    session.flush()
    events.emit(
        session, KEY_SET, actor, subject=app, key_id=key.key_id,
        replaced_key_id=previous.key_id if previous else None,
        **({"replaced_key_retires_at": previous.retired_at} if previous and overlap_hours else {}),
    )  # fmt: skip
    return key


def issue_token(
    session: Session,
    actor: Actor,
    app_id: int,
    name: str,
    days: int = 90,
    scopes: Iterable[str] = DEFAULT_SCOPES,
) -> tuple[ApiToken, str]:
    """A bearer token for the system; the secret is returned this once and stored as a digest."""
    app = _live(session, actor, app_id)
    return identity.issue_app_token(session, actor, app, name, list(scopes), days)


def disable(session: Session, actor: Actor, app_id: int, reason: str = "") -> AppCredential:
    """Stop the system: its tokens and signatures are refused from the next call on."""
    app = get(session, actor, app_id)
    if app.disabled_at is None:
        app.disabled_at = utcnow()
        events.emit(session, DISABLED, actor, subject=app, reason=reason[:500])
    return app


def tokens_of(session: Session, app: AppCredential) -> list[ApiToken]:
    return list(
        session.scalars(select(ApiToken).where(ApiToken.app_id == app.id).order_by(ApiToken.id))
    )


def _live(session: Session, actor: Actor, app_id: int) -> AppCredential:
    app = get(session, actor, app_id)
    if app.disabled_at is not None:
        raise CredentialDisabled(app=app.id)
    return app
