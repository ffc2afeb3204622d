"""The data element registry (数据元, 一数一源): each element has a definition and one
authoritative source. Departments claim authority for an element; fields of catalog entries
link to elements; the bureau sees and resolves the conflicts:

- **competing claims**: two departments claim one element, or a department claims an element
  whose authority is already another department;
- **divergent definitions**: a field linked to an element declares another data type, or a
  length longer than the element's.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from sqlalchemy import func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from longshu import events
from longshu.actor import Actor
from longshu.catalog import permissions  # noqa: F401 — declares the catalog permissions
from longshu.catalog.errors import (
    ClaimNotAllowed,
    DuplicateElement,
    ElementNotFound,
    InvalidElement,
    UnknownProvider,
)
from longshu.catalog.models import DataElement, ElementClaim, Resource, ResourceField
from longshu.catalog.vocab import FIELD_TYPES
from longshu.db import utcnow
from longshu.orgs.models import Organization
from longshu.security import access

access.permission(
    "catalog.elements", {"bureau_reviewer", "platform_admin"}, "管理数据元", "Manage data elements"
)
access.permission(
    "catalog.claim", {"dept_data_admin", "dept_reviewer"}, "申报权威来源",
    "Claim authority for a data element", own_org=True,
)  # fmt: skip

ELEMENT_CREATED = events.define(
    "catalog.element_created", "数据元已登记", "Data element registered"
)
ELEMENT_UPDATED = events.define("catalog.element_updated", "数据元已修改", "Data element changed")
ELEMENT_CLAIMED = events.define(
    "catalog.element_claimed", "已申报数据元权威来源", "Authority claimed for a data element"
)
ELEMENT_RESOLVED = events.define(
    "catalog.element_resolved",
    "数据元权威来源已确定",
    "Authoritative source of a data element decided",
)

ELEMENT_CODE = re.compile(r"^[A-Z][A-Z0-9_-]{1,19}$")
# Reason sentences of InvalidElement (translated in catalog.po).
ELEMENT_MESSAGES = {
    "code": "the code has 2 to 20 capital letters, digits, - or _, starting with a letter.",
    "name": "the name has 2 to 100 characters.",
    "definition": "the definition has 2 to 2000 characters.",
    "data_type": "the data type is not one the catalog knows.",
    "length": "the length is a whole number from 1 to 1000000.",
}


def _load(session: Session, element_id: int) -> DataElement:
    element = session.get(DataElement, element_id)
    if element is None:
        raise ElementNotFound(element=element_id)
    return element


def _authority(session: Session, org_id: int | None) -> int | None:
    if org_id is None:
        return None
    org = session.get(Organization, org_id)
    if org is None or not org.active:
        raise UnknownProvider(org=org_id)
    return org.id


def _clean(
    code: str, name: str, definition: str, data_type: str, length: int | None
) -> dict[str, object]:
    code = str(code or "").strip().upper()
    if not ELEMENT_CODE.match(code):
        raise InvalidElement(detail=ELEMENT_MESSAGES["code"])
    name = " ".join(str(name or "").split())
    if not 2 <= len(name) <= 100:
        raise InvalidElement(detail=ELEMENT_MESSAGES["name"])
    definition = str(definition or "").strip()
    if not 2 <= len(definition) <= 2000:
        raise InvalidElement(detail=ELEMENT_MESSAGES["definition"])
    if data_type not in FIELD_TYPES:
        raise InvalidElement(detail=ELEMENT_MESSAGES["data_type"])
    if length is not None and not (isinstance(length, int) and 1 <= length <= 1_000_000):
        raise InvalidElement(detail=ELEMENT_MESSAGES["length"])
    return {
        "code": code,
        "name": name,
        "definition": definition,
        "data_type": data_type,
        "length": length,
    }


def create_element(
    session: Session,
    actor: Actor,
    *,
    code: str,
    name: str,
    definition: str,
    data_type: str = "string",
    length: int | None = None,
    standard: str | None = None,
    authority_org_id: int | None = None,
) -> DataElement:
    """Register a data element (the bureau keeps the registry)."""
    access.require(actor, "catalog.elements")
    values = _clean(code, name, definition, data_type, length)
    element = DataElement(
        **values,
        standard=(standard or "").strip()[:200] or None,
        authority_org_id=_authority(session, authority_org_id),
    )
    clash = session.scalar(
        select(DataElement.id).where(
            or_(DataElement.code == element.code, DataElement.name == element.name)
        )
    )
    if clash is not None:
        raise DuplicateElement(name=f"{element.code} / {element.name}")
    try:
        with session.begin_nested():
            session.add(element)
            session.flush()
    except IntegrityError as exc:
        raise DuplicateElement(name=f"{element.code} / {element.name}") from exc
    events.emit(
        session, ELEMENT_CREATED, actor, subject=element, code=element.code,
        authority_org_id=element.authority_org_id,
    )  # fmt: skip
    return element


def update_element(
    session: Session,
    actor: Actor,
    element_id: int,
    *,
    name: str,
    definition: str,
    data_type: str,
    length: int | None = None,
    standard: str | None = None,
) -> DataElement:
    """Change an element's definition (its code never changes)."""
    access.require(actor, "catalog.elements")
    element = _load(session, element_id)
    values = _clean(element.code, name, definition, data_type, length)
    changed = [k for k, v in values.items() if getattr(element, k) != v]
    standard = (standard or "").strip()[:200] or None
    if standard != element.standard:
        changed.append("standard")
    if not changed:
        return element
    for key, value in values.items():
        setattr(element, key, value)
    element.standard = standard
    element.updated_at = utcnow()
    session.flush()
    events.emit(session, ELEMENT_UPDATED, actor, subject=element, changed=changed)
    return element


def list_elements(
    session: Session, actor: Actor, q: str | None = None, limit: int = 200
) -> list[DataElement]:
    """The registry, by code; ``q`` narrows by code or name."""
    access.require(actor, "catalog.browse")
    query = select(DataElement).order_by(DataElement.code)
    if q:
        text = q.strip()[:50]
        query = query.where(
            or_(
                DataElement.code.contains(text.upper(), autoescape=True),
                DataElement.name.contains(text, autoescape=True),
            )
        )
    return list(session.scalars(query.limit(max(1, min(limit, 1000)))))


def get_element(session: Session, actor: Actor, element_id: int) -> DataElement:
    access.require(actor, "catalog.browse")
    return _load(session, element_id)


def claim(
    session: Session, actor: Actor, element_id: int, basis: str | None = None
) -> ElementClaim:
    """The actor's department claims to be the authoritative source of the element, citing
    its legal basis. A second claim by the same department is refused."""
    element = _load(session, element_id)
    org_id = actor.org_id
    access.require(actor, "catalog.claim", _Org(org_id))
    if org_id is None:
        raise UnknownProvider(org="-")
    existing = session.scalar(
        select(ElementClaim).where(
            ElementClaim.element_id == element.id, ElementClaim.org_id == org_id
        )
    )
    if existing is not None and existing.status != "rejected":
        raise ClaimNotAllowed(org=org_id, element=element.code)
    record = existing or ElementClaim(element_id=element.id, org_id=org_id)
    record.status = "pending"
    record.basis = (basis or "").strip()[:2000] or None
    record.decided_at = None
    session.add(record)
    session.flush()
    events.emit(session, ELEMENT_CLAIMED, actor, subject=element, org_id=org_id, claim=record.id)
    return record


@dataclass(frozen=True)
class _Org:
    owner_org_id: int | None


def resolve(session: Session, actor: Actor, element_id: int, org_id: int) -> DataElement:
    """The bureau decides the element's authoritative source: that department's claim is
    accepted (one is recorded if it had none), every other claim rejected."""
    access.require(actor, "catalog.elements")
    element = _load(session, element_id)
    element.authority_org_id = _authority(session, org_id)
    now = utcnow()
    claims = session.scalars(select(ElementClaim).where(ElementClaim.element_id == element.id))
    found = False
    for record in claims:
        record.status = "accepted" if record.org_id == org_id else "rejected"
        record.decided_at = now
        found = found or record.org_id == org_id
    if not found:
        session.add(
            ElementClaim(element_id=element.id, org_id=org_id, status="accepted", decided_at=now)
        )
    element.updated_at = now
    session.flush()
    events.emit(session, ELEMENT_RESOLVED, actor, subject=element, authority_org_id=org_id)
    return element


@dataclass
class ElementConflict:
    """Something for the bureau to resolve about one element."""

    kind: str  # "competing_claims" | "divergent_field"
    element: DataElement
    org_ids: list[int] = field(default_factory=list)
    resource_id: int | None = None
    field_name: str | None = None
    detail: dict[str, object] = field(default_factory=dict)


def conflicts(session: Session, actor: Actor) -> list[ElementConflict]:
    """Every open conflict: competing authority claims and fields diverging from their
    element's definition."""
    access.require(actor, "catalog.work")
    found: list[ElementConflict] = []
    open_claims = session.execute(
        select(ElementClaim.element_id, ElementClaim.org_id).where(
            ElementClaim.status.in_(("pending", "accepted"))
        )
    ).all()
    claimants: dict[int, set[int]] = {}
    for element_id, org_id in open_claims:
        claimants.setdefault(element_id, set()).add(org_id)
    elements = {
        e.id: e
        for e in session.scalars(
            select(DataElement).where(
                or_(DataElement.id.in_(claimants), DataElement.id.in_(_linked_ids(session)))
            )
        )
    }
    for element_id, orgs in sorted(claimants.items()):
        element = elements[element_id]
        contenders = orgs | ({element.authority_org_id} if element.authority_org_id else set())
        if len(contenders) > 1:
            found.append(ElementConflict("competing_claims", element, sorted(contenders)))
    rows = session.execute(
        select(ResourceField, Resource.provider_org_id)
        .join(Resource, Resource.id == ResourceField.resource_id)
        .where(ResourceField.element_id.is_not(None), Resource.status != "retired")
        .order_by(ResourceField.resource_id, ResourceField.position)
    )
    for item, provider in rows:
        element = elements[item.element_id]
        detail: dict[str, object] = {}
        if item.data_type != element.data_type:
            detail["data_type"] = [element.data_type, item.data_type]
        if element.length and item.length and item.length > element.length:
            detail["length"] = [element.length, item.length]
        if detail:
            found.append(
                ElementConflict(
                    "divergent_field", element, [provider], item.resource_id, item.name, detail
                )
            )
    return found


def _linked_ids(session: Session) -> list[int]:
    return list(
        session.scalars(
            select(ResourceField.element_id).where(ResourceField.element_id.is_not(None)).distinct()
        )
    )


def authoritative_resources(session: Session, element: DataElement) -> list[Resource]:
    """Published entries of the authority that carry the element (where to get it from)."""
    if element.authority_org_id is None:
        return []
    # ids first: PostgreSQL cannot DISTINCT over the entry's JSON columns
    carrying = select(ResourceField.resource_id).where(ResourceField.element_id == element.id)
    return list(
        session.scalars(
            select(Resource)
            .where(
                Resource.id.in_(carrying),
                Resource.provider_org_id == element.authority_org_id,
                Resource.published_revision.is_not(None),
                Resource.retired_at.is_(None),
            )
            .order_by(Resource.name)
        )
    )


def usage_counts(session: Session) -> dict[int, int]:
    """How many fields link to each element."""
    rows = session.execute(
        select(ResourceField.element_id, func.count())
        .where(ResourceField.element_id.is_not(None))
        .group_by(ResourceField.element_id)
    )
    return {element_id: count for element_id, count in rows}
