"""Organisations: create, update, deactivate and find the bodies that act on the platform.

Rules in one place: names are unique within a region, a unified social credit code passes its
checksum and belongs to one organisation only, the level follows the region unless given, and
an organisation never sits below itself. Every change emits an ``orgs.*`` event."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import case, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from longshu import events, ids
from longshu.actor import Actor
from longshu.db import utcnow
from longshu.orgs import regions
from longshu.orgs.errors import (
    DuplicateCreditCode,
    DuplicateOrganization,
    HasActiveSubordinates,
    InvalidCreditCode,
    InvalidLevel,
    InvalidOrgKind,
    InvalidOrgName,
    OrganizationInactive,
    OrganizationNotFound,
    ParentCycle,
)
from longshu.orgs.models import LEVEL_ORDER, LEVELS, ORG_KINDS, Organization
from longshu.security import access
from longshu.security.access import STAFF_ROLES
from longshu.security.identity.directory import register_org_names

access.permission("orgs.manage", {"platform_admin"}, "管理机构", "Manage organisations")
access.permission("orgs.read", STAFF_ROLES, "查看机构", "Read organisations")

CREATED = events.define("orgs.created", "机构已创建", "Organisation created")
UPDATED = events.define("orgs.updated", "机构已修改", "Organisation updated")
DEACTIVATED = events.define("orgs.deactivated", "机构已停用", "Organisation deactivated")

EDITABLE = (
    "name",
    "short_name",
    "kind",
    "region_code",
    "level",
    "parent_id",
    "credit_code",
    "contact_name",
    "contact_phone",
    "contact_email",
)
MAX_PAGE = 500
LEVEL_RANK = {level: rank for rank, level in enumerate(LEVEL_ORDER)}


@dataclass
class OrgFilter:
    """What ``list_organizations`` narrows by. ``region_code`` includes the regions below it
    unless ``descendants`` is False; ``active`` None means both."""

    kind: str | None = None
    level: str | None = None
    region_code: str | None = None
    descendants: bool = True
    active: bool | None = True
    parent_id: int | None = None
    name_contains: str | None = None


# --- reading ----------------------------------------------------------------------------------


def get_organization(session: Session, actor: Actor, org_id: int) -> Organization:
    """One organisation (active or not), for staff."""
    access.require(actor, "orgs.read")
    return _load(session, org_id)


def _load(session: Session, org_id: int) -> Organization:
    org = session.get(Organization, org_id)
    if org is None:
        raise OrganizationNotFound(org_id=org_id)
    return org


def list_organizations(
    session: Session,
    actor: Actor,
    where: OrgFilter | None = None,
    limit: int = 100,
    offset: int = 0,
) -> tuple[list[Organization], int]:
    """A page of organisations ordered by level, region and name, and the total matching."""
    access.require(actor, "orgs.read")
    where = where or OrgFilter()
    query = select(Organization)
    if where.kind is not None:
        query = query.where(Organization.kind == _kind(where.kind))
    if where.level is not None:
        query = query.where(Organization.level == _level(where.level))
    if where.region_code is not None:
        if where.descendants:
            codes = regions.descendant_codes(session, where.region_code)
            query = query.where(Organization.region_code.in_(codes))
        else:
            query = query.where(
                Organization.region_code == regions.get_region(session, where.region_code).code
            )
    if where.active is not None:
        query = query.where(Organization.active.is_(where.active))
    if where.parent_id is not None:
        query = query.where(Organization.parent_id == where.parent_id)
    if where.name_contains:
        query = query.where(
            Organization.name.contains(where.name_contains.strip()[:100], autoescape=True)
        )
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    level_rank = case(LEVEL_RANK, value=Organization.level, else_=len(LEVEL_RANK))
    query = query.order_by(level_rank, Organization.region_code, Organization.name)
    page = session.scalars(query.limit(max(1, min(limit, MAX_PAGE))).offset(max(0, offset)))
    return list(page), int(total)


def subordinates(session: Session, org_id: int) -> list[Organization]:
    """Organisations whose parent is ``org_id`` (one level down)."""
    return list(
        session.scalars(
            select(Organization).where(Organization.parent_id == org_id).order_by(Organization.name)
        )
    )


# --- changing ---------------------------------------------------------------------------------


def create_organization(
    session: Session,
    actor: Actor,
    *,
    name: str,
    kind: str,
    region_code: str,
    short_name: str | None = None,
    level: str | None = None,
    parent_id: int | None = None,
    credit_code: str | None = None,
    contact_name: str | None = None,
    contact_phone: str | None = None,
    contact_email: str | None = None,
) -> Organization:
    """Register an organisation. The level is the region's unless given."""
    access.require(actor, "orgs.manage")
    region = regions.get_region(session, region_code)
    org = Organization(
        name=_name(name),
        short_name=_optional(short_name, 60),
        kind=_kind(kind),
        region_code=region.code,
        level=_level(level) if level else region.level,
        credit_code=_credit_code(credit_code),
        contact_name=_optional(contact_name, 60),
        contact_phone=_optional(contact_phone, 40),
        contact_email=_optional(contact_email, 200),
        active=True,
    )
    if parent_id is not None:
        org.parent_id = _load(session, parent_id).id
    _refuse_duplicates(session, org)
    _flush(session, org, new=True)
    events.emit(
        session,
        CREATED,
        actor,
        subject=org,
        kind=org.kind,
        region_code=org.region_code,
        level=org.level,
        parent_id=org.parent_id,
    )
    return org


def update_organization(
    session: Session, actor: Actor, org_id: int, **changes: Any
) -> Organization:
    """Change some of an active organisation's fields (``EDITABLE``). A region change
    re-derives the level unless a level is given too. Emits ``orgs.updated`` naming the fields
    that really changed (never their values); nothing changed, nothing emitted."""
    access.require(actor, "orgs.manage")
    org = _load(session, org_id)
    unknown = set(changes) - set(EDITABLE)
    if unknown:
        raise TypeError(f"not editable: {sorted(unknown)}")
    if not org.active:
        raise OrganizationInactive(org_id=org_id)
    wanted: dict[str, Any] = {}
    if "name" in changes:
        wanted["name"] = _name(changes["name"])
    if "short_name" in changes:
        wanted["short_name"] = _optional(changes["short_name"], 60)
    if "kind" in changes:
        wanted["kind"] = _kind(changes["kind"])
    if changes.get("region_code") is not None:
        region = regions.get_region(session, changes["region_code"])
        wanted["region_code"] = region.code
        if not changes.get("level"):
            wanted["level"] = region.level
    if changes.get("level"):
        wanted["level"] = _level(changes["level"])
    if "parent_id" in changes:
        wanted["parent_id"] = _parent_for(session, org, changes["parent_id"])
    if "credit_code" in changes:
        wanted["credit_code"] = _credit_code(changes["credit_code"])
    for field_name, size in (("contact_name", 60), ("contact_phone", 40), ("contact_email", 200)):
        if field_name in changes:
            wanted[field_name] = _optional(changes[field_name], size)
    changed = sorted(f for f, v in wanted.items() if getattr(org, f) != v)
    if not changed:
        return org
    for f in changed:
        setattr(org, f, wanted[f])
    _refuse_duplicates(session, org)
    _flush(session, org, new=False)
    events.emit(session, UPDATED, actor, subject=org, fields=changed)
    return org


def deactivate_organization(
    session: Session, actor: Actor, org_id: int, reason: str | None = None
) -> Organization:
    """Stop an organisation acting on the platform (its history stays). Refused when it is
    already inactive or still has active subordinates."""
    access.require(actor, "orgs.manage")
    org = _load(session, org_id)
    if not org.active:
        raise OrganizationInactive(org_id=org_id)
    active_children = session.scalar(
        select(func.count(Organization.id)).where(
            Organization.parent_id == org.id, Organization.active.is_(True)
        )
    )
    if active_children:
        raise HasActiveSubordinates(org_id=org_id, count=active_children)
    org.active = False
    org.deactivated_at = utcnow()
    session.flush()
    events.emit(session, DEACTIVATED, actor, subject=org, reason=_optional(reason, 200) or None)
    return org


# --- rules ------------------------------------------------------------------------------------


def _name(value: object) -> str:
    name = " ".join(str(value or "").split())
    if not 2 <= len(name) <= 200:
        raise InvalidOrgName()
    return name


def _optional(value: object, size: int) -> str | None:
    text = " ".join(str(value).split()) if value is not None else ""
    return text[:size] or None


def _kind(value: str) -> str:
    if value not in ORG_KINDS:
        raise InvalidOrgKind(kind=str(value)[:40])
    return value


def _level(value: str) -> str:
    if value not in LEVELS:
        raise InvalidLevel(level=str(value)[:40])
    return value


def _credit_code(value: str | None) -> str | None:
    if value is None or not str(value).strip():
        return None
    verdict = ids.check_credit_code(value)
    if not verdict:
        raise InvalidCreditCode(verdict)
    return ids.normalise_credit_code(value)


def _parent_for(session: Session, org: Organization, parent_id: int | None) -> int | None:
    if parent_id is None:
        return None
    parent = _load(session, parent_id)
    ancestor: Organization | None = parent
    seen: set[int] = set()
    while ancestor is not None and ancestor.id not in seen:
        if ancestor.id == org.id:
            raise ParentCycle(org_id=org.id, parent_id=parent_id)
        seen.add(ancestor.id)
        ancestor = session.get(Organization, ancestor.parent_id) if ancestor.parent_id else None
    return parent.id


def _refuse_duplicates(session: Session, org: Organization) -> None:
    with session.no_autoflush:
        same_name = select(Organization.id).where(
            Organization.region_code == org.region_code, Organization.name == org.name
        )
        if org.id is not None:
            same_name = same_name.where(Organization.id != org.id)
        if session.scalar(same_name.limit(1)) is not None:
            raise DuplicateOrganization(name=org.name, region_code=org.region_code)
        if org.credit_code:
            same_code = select(Organization.id).where(Organization.credit_code == org.credit_code)
            if org.id is not None:
                same_code = same_code.where(Organization.id != org.id)
            if session.scalar(same_code.limit(1)) is not None:
                raise DuplicateCreditCode(credit_code=org.credit_code)


def _flush(session: Session, org: Organization, new: bool) -> None:
    """Write now; a concurrent writer that won the same name or code becomes a Conflict. A new
    row is written in a savepoint so the session stays usable; after a failed update the
    caller's transaction must be rolled back (routes do that on any error)."""
    try:
        if new:
            with session.begin_nested():
                session.add(org)
                session.flush()
        else:
            session.flush()
    except IntegrityError as exc:
        text = str(exc.orig).lower()
        if "credit_code" in text:
            raise DuplicateCreditCode(credit_code=org.credit_code) from exc
        raise DuplicateOrganization(name=org.name, region_code=org.region_code) from exc


def _active_names(session: Session) -> dict[int, str]:
    rows = session.execute(
        select(Organization.id, Organization.name)
        .where(Organization.active.is_(True))
        .order_by(Organization.region_code, Organization.name)
    )
    return {org_id: name for org_id, name in rows}


register_org_names(_active_names)  # identity pages name organisations through this
