"""Catalog entries: draft, edit and read them. Every save writes a new revision; every change
emits a ``catalog.*`` event in the same transaction. Review, publication and retirement are in
``lifecycle.py``.

Rules in one place: a department edits only its own entries (``catalog.edit`` is own-org),
an entry under review is locked, an edit of a published entry opens a new revision cycle
(the published snapshot stays visible meanwhile), and a save made from an out-of-date copy is
refused (``ResourceChanged``) instead of silently overwriting someone else's work.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import Session, selectinload
from sqlalchemy.orm.exc import StaleDataError

from longshu import events
from longshu import workflow as wf
from longshu.actor import Actor
from longshu.catalog import codes, permissions  # noqa: F401 — declares the permissions
from longshu.catalog.errors import (
    DraftForOtherDepartment,
    DuplicateResourceCode,
    ElementNotFound,
    InvalidResourceCode,
    ResourceChanged,
    ResourceLocked,
    ResourceNotFound,
    ResourceRetired,
    RevisionNotFound,
    UnknownProvider,
)
from longshu.catalog.models import DataElement, ProviderCode, Resource, ResourceField, Revision
from longshu.catalog.review import RESOURCE_WORKFLOW
from longshu.catalog.revisions import Diff, diff, snapshot
from longshu.catalog.rules import ResourceData, clean
from longshu.catalog.vocab import STATUSES
from longshu.db import utcnow
from longshu.errors import Forbidden
from longshu.orgs.models import Organization
from longshu.security import access

CREATED = events.define("catalog.created", "目录已编制", "Catalog entry created")
UPDATED = events.define("catalog.updated", "目录已修改", "Catalog entry changed")

PROVIDER_KINDS = {"data_provider", "data_authority", "implementer", "data_consumer"}
MAX_PAGE = 500


@dataclass(frozen=True)
class _Owned:
    """A stand-in subject for access checks before an entry exists."""

    owner_org_id: int | None


# --- reading ----------------------------------------------------------------------------------


def load(session: Session, resource_id: int) -> Resource:
    """The entry with its fields (no access check: callers check)."""
    resource = session.get(Resource, resource_id, options=[selectinload(Resource.fields)])
    if resource is None:
        raise ResourceNotFound(resource=resource_id)
    return resource


def get_resource(session: Session, actor: Actor, resource_id: int) -> Resource:
    """The working copy, for the people who work on it (own department, bureau, auditors)."""
    resource = load(session, resource_id)
    require_own(actor, "catalog.work", resource)
    return resource


def can_see_working_copy(actor: Actor, resource: Resource) -> bool:
    return bool(access.decide(actor, "catalog.work", resource))


def can_read_published(actor: Actor, resource: Resource) -> bool:
    """Published entries: everyone sees the open catalog, government staff the sharing one."""
    if not resource.is_published:
        return False
    return resource.is_public or bool(access.decide(actor, "catalog.shared"))


def published_snapshot(
    session: Session, actor: Actor, resource_id: int
) -> tuple[Resource, Revision]:
    """The published revision of an entry, if ``actor`` may read it (else ResourceNotFound,
    so the existence of closed entries is not revealed)."""
    resource = session.get(Resource, resource_id)
    if resource is None or not can_read_published(actor, resource):
        raise ResourceNotFound(resource=resource_id)
    assert resource.published_revision is not None
    return resource, revision(session, resource, resource.published_revision)


def revision(session: Session, resource: Resource, number: int) -> Revision:
    found = session.scalar(
        select(Revision).where(Revision.resource_id == resource.id, Revision.number == number)
    )
    if found is None:
        raise RevisionNotFound(resource=resource.id, number=number)
    return found


def revisions(session: Session, resource: Resource, published_only: bool = False) -> list[Revision]:
    """The entry's revisions, newest first."""
    query = select(Revision).where(Revision.resource_id == resource.id)
    if published_only:
        query = query.where(Revision.published_at.is_not(None))
    return list(session.scalars(query.order_by(Revision.number.desc())))


def revision_diff(
    session: Session, resource: Resource, number: int, against: int | None = None
) -> Diff:
    """What revision ``number`` changed relative to ``against`` (default: the one before)."""
    after = revision(session, resource, number)
    base = against if against is not None else number - 1
    before = revision(session, resource, base).snapshot if base >= 1 else None
    return diff(before, after.snapshot)


@dataclass
class ResourceFilter:
    """Narrowing of the working list (``list_resources``)."""

    provider_org_id: int | None = None
    region_codes: list[str] | None = None
    level: str | None = None
    status: str | None = None
    domain: str | None = None
    name_contains: str | None = None


def list_resources(
    session: Session,
    actor: Actor,
    where: ResourceFilter | None = None,
    limit: int = 50,
    offset: int = 0,
) -> tuple[list[Resource], int]:
    """Working copies the actor may see (their own department's unless they read every
    department's), newest change first, and the total."""
    access.require(actor, "catalog.work")
    where = where or ResourceFilter()
    query = select(Resource)
    if (
        not actor.roles & {"bureau_reviewer", "platform_admin", "auditor"}
        and actor.kind != "system"
    ):
        query = query.where(Resource.provider_org_id == actor.org_id)
    if where.provider_org_id is not None:
        query = query.where(Resource.provider_org_id == where.provider_org_id)
    if where.region_codes is not None:
        query = query.where(Resource.region_code.in_(where.region_codes))
    if where.level:
        query = query.where(Resource.level == where.level)
    if where.status:
        if where.status not in STATUSES:
            from longshu.catalog.errors import InvalidSearch
            from longshu.catalog.search import SEARCH_MESSAGES

            raise InvalidSearch(
                detail=SEARCH_MESSAGES["value"], name="status", value=where.status[:20]
            )
        query = query.where(Resource.status == where.status)
    if where.domain:
        query = query.where(Resource.domain == where.domain)
    if where.name_contains:
        query = query.where(
            Resource.name.contains(where.name_contains.strip()[:100], autoescape=True)
        )
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    page = session.scalars(
        query.order_by(Resource.updated_at.desc(), Resource.id.desc())
        .limit(max(1, min(limit, MAX_PAGE)))
        .offset(max(0, offset))
    )
    return list(page), int(total)


# --- drafting ---------------------------------------------------------------------------------


def create_resource(
    session: Session,
    actor: Actor,
    data: ResourceData,
    *,
    provider_org_id: int | None = None,
    code: str | None = None,
    sub_category: str = "001",
    note: str | None = None,
) -> Resource:
    """Draft a new entry for ``provider_org_id`` (default: the actor's department). A code
    is given from the provider's region, department code and next sequence number unless one
    is supplied (an existing catalog being imported), which is then checked."""
    provider_id = provider_org_id if provider_org_id is not None else actor.org_id
    if not access.decide(actor, "catalog.edit", _Owned(provider_id)):
        if access.decide(actor, "catalog.edit"):
            raise DraftForOtherDepartment()
        access.require(actor, "catalog.edit")
    provider = _provider(session, provider_id)
    attributes, fields = clean(data)
    _check_elements(session, fields)
    resource = Resource(
        provider_org_id=provider.id,
        region_code=provider.region_code,
        level=provider.level,
        status="draft",
        revision=1,
        **attributes,
    )
    resource.fields = [ResourceField(position=i, **f) for i, f in enumerate(fields)]
    classification = codes.classification_for(
        attributes["base_databases"], attributes["theme_databases"], attributes["domain"],
        _sub(sub_category),
    )  # fmt: skip
    resource.code = (
        _claim_code(session, provider, code)
        if code
        else _next_code(session, provider, classification)
    )
    try:
        with session.begin_nested():
            session.add(resource)
            session.flush()
    except IntegrityError as exc:
        raise DuplicateResourceCode(code=resource.code) from exc
    instance = wf.start(session, actor, RESOURCE_WORKFLOW, resource, org_id=provider.id)
    resource.workflow_instance_id = instance.id
    _write_revision(session, actor, resource, note or "created", ["*"])
    events.emit(
        session, CREATED, actor, subject=resource, code=resource.code,
        provider_org_id=provider.id, region_code=resource.region_code, level=resource.level,
    )  # fmt: skip
    return resource


def update_resource(
    session: Session,
    actor: Actor,
    resource_id: int,
    data: ResourceData,
    *,
    expected_version: int | None = None,
    note: str | None = None,
) -> Resource:
    """Save a department's edit as a new revision. Editing a published entry starts its next
    revision cycle (the published snapshot stays public until the change is published).
    Nothing changed: nothing written. ``expected_version`` is the ``version`` the editor
    loaded; if the entry moved on since, the save is refused with ``ResourceChanged``."""
    resource = load(session, resource_id)
    require_own(actor, "catalog.edit", resource)
    _check_version(resource, expected_version)
    attributes, fields = clean(data)
    _check_elements(session, fields)
    before = snapshot(resource)
    after = {**before, **attributes, "fields": fields}
    change = diff(before, after)
    if not change:
        return resource
    _editable(session, actor, resource)
    for key, value in attributes.items():
        if getattr(resource, key) != value:
            setattr(resource, key, value)
    if change.fields:
        _replace_fields(session, resource, fields)
    resource.revision += 1
    resource.updated_at = utcnow()
    _flush(session, resource_id)
    _write_revision(session, actor, resource, note, change.changed)
    events.emit(
        session, UPDATED, actor, subject=resource, revision=resource.revision,
        changed=change.changed,
    )  # fmt: skip
    return resource


def _check_version(resource: Resource, expected: int | None) -> None:
    if expected is not None and expected != resource.version:
        raise ResourceChanged(resource=resource.id, revision=resource.revision)


def _editable(session: Session, actor: Actor, resource: Resource) -> None:
    """Open the entry for editing: drafts are; a published entry moves back to draft."""
    if resource.status == "draft":
        return
    if resource.status == "published":
        from longshu.catalog.lifecycle import move

        move(session, actor, resource, "revise")
        return
    if resource.status == "retired":
        raise ResourceRetired(resource=resource.id)
    state = STATUSES[resource.status]
    raise ResourceLocked(resource=resource.id, state=state.title_en)


def _replace_fields(session: Session, resource: Resource, fields: list[dict[str, Any]]) -> None:
    resource.fields.clear()
    session.flush()  # old rows go first: field names are unique per resource
    resource.fields.extend(ResourceField(position=i, **f) for i, f in enumerate(fields))


def flush_entry(session: Session, resource_id: int) -> None:
    """Write the working copy; a concurrent save of the same entry (its version moved on
    between our read and our write) is reported, not overwritten. After this error the
    caller's transaction must be rolled back (routes do that on any error)."""
    try:
        session.flush()
    except StaleDataError as exc:
        raise ResourceChanged(resource=resource_id, revision="?") from exc
    except OperationalError as exc:  # SQLite: a writer that read before another's commit
        if "database is locked" in str(exc):
            raise ResourceChanged(resource=resource_id, revision="?") from exc
        raise


_flush = flush_entry


def _write_revision(
    session: Session, actor: Actor, resource: Resource, note: str | None, changed: list[str]
) -> Revision:
    record = Revision(
        resource_id=resource.id,
        number=resource.revision,
        actor_kind=actor.kind,
        actor_id=actor.id,
        actor_org_id=actor.org_id,
        note=(note or "")[:500] or None,
        changed=changed,
        snapshot=snapshot(resource),
    )
    session.add(record)
    return record


def _check_elements(session: Session, fields: list[dict[str, Any]]) -> None:
    wanted = {f["element_id"] for f in fields if f["element_id"] is not None}
    if not wanted:
        return
    found = set(session.scalars(select(DataElement.id).where(DataElement.id.in_(wanted))))
    missing = sorted(wanted - found)
    if missing:
        raise ElementNotFound(element=missing[0])


# --- providers and codes ----------------------------------------------------------------------


def _provider(session: Session, org_id: int | None) -> Organization:
    org = session.get(Organization, org_id) if org_id is not None else None
    if org is None or not org.active or org.kind not in PROVIDER_KINDS:
        raise UnknownProvider(org=org_id if org_id is not None else "-")
    return org


def _sub(value: str) -> str:
    text = str(value or "001").strip()
    if not (len(text) == 3 and text.isdigit() and text != "000"):
        raise InvalidResourceCode(text, "classification")
    return text


def provider_code(
    session: Session, provider: Organization, wanted: str | None = None
) -> ProviderCode:
    """The provider's department code, given on first use: the next free number in its
    region, or ``wanted`` (from an imported code) when that number is still free."""
    existing = session.get(ProviderCode, provider.id)
    if existing is not None:
        return existing
    for _attempt in range(5):
        taken = set(
            session.scalars(
                select(ProviderCode.code).where(ProviderCode.region_code == provider.region_code)
            )
        )
        if wanted is not None:
            if wanted in taken:
                raise InvalidResourceCode(wanted, "department")
            code = wanted
        else:
            code = next(f"{n:03d}" for n in range(1, 1000) if f"{n:03d}" not in taken)
        record = ProviderCode(org_id=provider.id, region_code=provider.region_code, code=code)
        try:
            with session.begin_nested():
                session.add(record)
                session.flush()
            return record
        except IntegrityError:
            continue  # another writer took that number: look again
    raise DuplicateResourceCode(code=f"{provider.region_code}-???")


def _next_code(
    session: Session, provider: Organization, classification: tuple[str, str, str]
) -> str:
    record = provider_code(session, provider)
    table = ProviderCode.__table__
    while True:
        sequence = (
            session.execute(
                update(table)
                .where(table.c.org_id == provider.id)
                .values(next_sequence=table.c.next_sequence + 1)
                .returning(table.c.next_sequence)
            ).scalar_one()
            - 1
        )
        session.expire(record)
        if sequence > 99999:
            raise DuplicateResourceCode(code=f"{provider.region_code}-{record.code}-99999")
        code = str(codes.make(classification, provider.region_code, record.code, sequence))
        if session.scalar(select(Resource.id).where(Resource.code == code)) is None:
            return code


def _claim_code(session: Session, provider: Organization, value: str) -> str:
    """Check a supplied code against the provider and reserve its sequence number."""
    verdict = codes.parse(value)
    if not verdict:
        raise InvalidResourceCode(str(value), verdict.reason or "format")
    code = verdict.code
    assert code is not None
    if code.region_code != provider.region_code:
        raise InvalidResourceCode(str(code), "region")
    record = provider_code(session, provider, wanted=code.department)
    if record.code != code.department:
        raise InvalidResourceCode(str(code), "department")
    text = str(code)
    if session.scalar(select(Resource.id).where(Resource.code == text)) is not None:
        raise DuplicateResourceCode(code=text)
    if record.next_sequence <= code.sequence:
        record.next_sequence = code.sequence + 1
    return text


def require_own(actor: Actor, permission: str, resource: Any) -> None:
    """``access.require`` for an entry, with the catalog's own message for another department."""
    verdict = access.decide(actor, permission, resource)
    if verdict.allowed:
        return
    if verdict.reason == "other_org":
        from longshu.catalog.errors import OtherDepartment

        raise OtherDepartment(resource=getattr(resource, "id", None) or "-")
    access.require(actor, permission, resource)
    raise Forbidden()
