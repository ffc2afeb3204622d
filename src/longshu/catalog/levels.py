"""Three levels (省市县三级) and 应编尽编: the province's view aggregates city and county
catalogs; counts per level and per city; each department's completeness against the duty
list (责任清单) of resources it is expected to catalog."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from longshu import events
from longshu.actor import Actor
from longshu.catalog import permissions  # noqa: F401 — declares the catalog permissions
from longshu.catalog.errors import (
    DuplicateDutyItem,
    DutyItemNotFound,
    InvalidResource,
    UnknownProvider,
)
from longshu.catalog.models import DutyItem, Resource
from longshu.catalog.rules import RULE_MESSAGES
from longshu.orgs import regions
from longshu.orgs.models import LEVEL_ORDER, Organization, Region
from longshu.security import access

access.permission(
    "catalog.report",
    {"platform_admin", "bureau_reviewer", "chief_data_officer", "dept_data_admin",
     "dept_reviewer", "auditor", "assessor"},
    "查看目录统计", "Read catalog reports",
)  # fmt: skip
access.permission(
    "catalog.duties", {"bureau_reviewer", "platform_admin"}, "管理目录责任清单",
    "Manage catalog duty lists",
)  # fmt: skip

DUTY_ADDED = events.define("catalog.duty_added", "责任清单已增加条目", "Duty list item added")
DUTY_REMOVED = events.define("catalog.duty_removed", "责任清单已删除条目", "Duty list item removed")


@dataclass
class RegionCount:
    """Entries of one region and everything below it."""

    code: str
    name: str
    level: str
    published: int = 0
    public: int = 0
    in_progress: int = 0  # drafts and entries under review
    by_level: dict[str, int] = field(default_factory=dict)


def _published_filter():  # type: ignore[no-untyped-def]
    return (Resource.published_revision.is_not(None)) & (Resource.retired_at.is_(None))


def level_counts(session: Session, actor: Actor) -> dict[str, int]:
    """Published entries per level of government (省级, 市级, 县级)."""
    access.require(actor, "catalog.report")
    rows = session.execute(
        select(Resource.level, func.count()).where(_published_filter()).group_by(Resource.level)
    )
    counts = dict.fromkeys(LEVEL_ORDER, 0)
    counts.update({level: count for level, count in rows})
    return counts


def region_counts(
    session: Session, actor: Actor, root: str = regions.PROVINCE_CODE
) -> list[RegionCount]:
    """``root`` itself and each region directly below it, each with everything under it
    (the province's row counts the whole province; a city's row its counties too)."""
    access.require(actor, "catalog.report")
    tree = regions.region_tree(session, root)
    rows = session.execute(
        select(
            Resource.region_code,
            Resource.level,
            (Resource.published_revision.is_not(None) & Resource.retired_at.is_(None)),
            Resource.open_type,
            Resource.status,
            func.count(),
        ).group_by(
            Resource.region_code, Resource.level, Resource.published_revision.is_not(None),
            Resource.retired_at.is_(None), Resource.open_type, Resource.status,
        )
    ).all()  # fmt: skip

    def tally(node: regions.RegionNode) -> RegionCount:
        codes = _codes_under(node)
        out = RegionCount(node.region.code, node.region.name, node.region.level)
        for code, level, published, open_type, status, count in rows:
            if code not in codes:
                continue
            if published:
                out.published += count
                out.by_level[level] = out.by_level.get(level, 0) + count
                if open_type != "none":
                    out.public += count
            if status in ("draft", "pending", "approved"):
                out.in_progress += count
        return out

    return [tally(tree), *(tally(child) for child in tree.children)]


def _codes_under(node: regions.RegionNode) -> set[str]:
    codes = {node.region.code}
    stack = list(node.children)
    while stack:
        child = stack.pop()
        codes.add(child.region.code)
        stack.extend(child.children)
    return codes


# --- duty lists (应编尽编) --------------------------------------------------------------------


def add_duty(
    session: Session, actor: Actor, org_id: int, name: str, note: str | None = None
) -> DutyItem:
    """Expect ``org_id`` to catalog a resource called ``name``."""
    access.require(actor, "catalog.duties")
    org = session.get(Organization, org_id)
    if org is None or not org.active:
        raise UnknownProvider(org=org_id)
    clean = " ".join(str(name or "").split())
    if not 2 <= len(clean) <= 200:
        raise InvalidResource("name", RULE_MESSAGES["length"], low=2, high=200)
    if session.scalar(select(DutyItem.id).where(DutyItem.org_id == org.id, DutyItem.name == clean)):
        raise DuplicateDutyItem(org=org.id, name=clean)
    item = DutyItem(org_id=org.id, name=clean, note=(note or "").strip()[:500] or None)
    try:
        with session.begin_nested():
            session.add(item)
            session.flush()
    except IntegrityError as exc:
        raise DuplicateDutyItem(org=org.id, name=clean) from exc
    events.emit(session, DUTY_ADDED, actor, subject=item, org_id=org.id)
    return item


def remove_duty(session: Session, actor: Actor, item_id: int) -> None:
    access.require(actor, "catalog.duties")
    item = session.get(DutyItem, item_id)
    if item is None:
        raise DutyItemNotFound(item=item_id)
    events.emit(session, DUTY_REMOVED, actor, subject=item, org_id=item.org_id)
    session.delete(item)
    session.flush()


def link_duty(session: Session, actor: Actor, item_id: int, resource_id: int | None) -> DutyItem:
    """Say which entry fulfils a duty item whose name differs from the entry's."""
    access.require(actor, "catalog.duties")
    item = session.get(DutyItem, item_id)
    if item is None:
        raise DutyItemNotFound(item=item_id)
    if resource_id is not None:
        resource = session.get(Resource, resource_id)
        if resource is None or resource.provider_org_id != item.org_id:
            from longshu.catalog.errors import ResourceNotFound

            raise ResourceNotFound(resource=resource_id)
    item.resource_id = resource_id
    session.flush()
    return item


@dataclass
class Completeness:
    """One department against its duty list."""

    org_id: int
    org_name: str
    region_code: str
    level: str
    expected: int
    fulfilled: int
    published: int  # all its published entries, listed or not
    missing: list[str]

    @property
    def ratio(self) -> float | None:
        return round(self.fulfilled / self.expected, 4) if self.expected else None


def completeness(
    session: Session, actor: Actor, region_code: str | None = None
) -> list[Completeness]:
    """Each department with a duty list (in ``region_code`` and below): how many expected
    resources it has published. An item is fulfilled by the entry it is linked to, or by a
    published entry of the department with exactly its name."""
    access.require(actor, "catalog.report")
    query = select(DutyItem, Organization).join(Organization, Organization.id == DutyItem.org_id)
    if region_code:
        query = query.where(
            Organization.region_code.in_(regions.descendant_codes(session, region_code))
        )
    items = session.execute(
        query.order_by(Organization.region_code, Organization.name, DutyItem.name)
    ).all()
    org_ids = {org.id for _item, org in items}
    published = session.execute(
        select(Resource.id, Resource.provider_org_id, Resource.name).where(
            _published_filter(), Resource.provider_org_id.in_(org_ids)
        )
    ).all()
    names = {(org_id, name) for _rid, org_id, name in published}
    ids = {rid for rid, _org, _name in published}
    counts: dict[int, int] = {}
    for _rid, org_id, _name in published:
        counts[org_id] = counts.get(org_id, 0) + 1
    report: dict[int, Completeness] = {}
    for item, org in items:
        row = report.setdefault(
            org.id,
            Completeness(
                org.id, org.name, org.region_code, org.level, 0, 0, counts.get(org.id, 0), []
            ),
        )
        row.expected += 1
        if (item.resource_id in ids) or (org.id, item.name) in names:
            row.fulfilled += 1
        else:
            row.missing.append(item.name)
    return list(report.values())


def duty_items(session: Session, actor: Actor, org_id: int | None = None) -> list[DutyItem]:
    access.require(actor, "catalog.report")
    query = select(DutyItem).order_by(DutyItem.org_id, DutyItem.name)
    if org_id is not None:
        query = query.where(DutyItem.org_id == org_id)
    return list(session.scalars(query))


def region_name(session: Session, code: str) -> str:
    region = session.get(Region, code)
    return region.name if region else code
