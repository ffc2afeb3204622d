"""Share requests (共享申请) and their review.

A using department asks for one or more resources for one service scenario. Each resource is
an item decided on its own: 无条件共享 resources are granted at once; 有条件共享 ones go to the
providing department's reviewer and, where the resource's grade needs it, on to the data
bureau; refusals carry a reason; deadlines count working days. 不予共享 resources cannot be
asked for.

    pending_provider ──approve──► granted          (or ──forward──► pending_bureau
                     ──refuse───► refused                              ──approve──► granted
    any open state ──withdraw (requester)──► withdrawn                 ──refuse───► refused)
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

from longshu import events, workflow
from longshu.actor import SYSTEM, Actor
from longshu.catalog.models import Resource
from longshu.db import utcnow
from longshu.errors import Forbidden
from longshu.governance import grades
from longshu.lake import tables
from longshu.security import access
from longshu.sharing import grants
from longshu.sharing.errors import (
    FieldsNotInResource,
    ItemNotFound,
    NotRequester,
    RegionFilterUnavailable,
    RequestInvalid,
    ResourceNotShareable,
)
from longshu.sharing.models import MODES, ShareRequest, ShareRequestItem
from longshu.sharing.permissions import BUREAU
from longshu.workflow import State, Transition, Workflow

REVIEWERS = {"dept_reviewer"}

ITEM_WORKFLOW = Workflow(
    name="sharing.request_item",
    title_zh="共享申请",
    title_en="Share request",
    states=[
        State("pending_provider", "待提供部门审核", "Awaiting the provider"),
        State("pending_bureau", "待数据局审核", "Awaiting the data bureau"),
        State("granted", "已授权", "Granted", terminal=True),
        State("refused", "已拒绝", "Refused", terminal=True),
        State("withdrawn", "已撤回", "Withdrawn", terminal=True),
    ],
    transitions=[
        Transition(
            "approve", "pending_provider", "granted", REVIEWERS, "同意", "Approve", own_org=True
        ),
        Transition(
            "forward", "pending_provider", "pending_bureau", REVIEWERS, "同意并报数据局审核",
            "Approve and forward to the bureau", deadline_working_days=5, own_org=True,
        ),
        Transition(
            "bureau_approve", "pending_bureau", "granted", BUREAU, "数据局同意",
            "Approve (bureau)",
        ),
        Transition(
            "refuse", "pending_provider", "refused", REVIEWERS, "拒绝", "Refuse",
            requires_comment=True, own_org=True,
        ),
        Transition(
            "bureau_refuse", "pending_bureau", "refused", BUREAU, "数据局拒绝",
            "Refuse (bureau)", requires_comment=True,
        ),
        Transition(
            "withdraw", "*", "withdrawn", {"data_consumer", "dept_data_admin", "dept_reviewer",
            "chief_data_officer"}, "撤回", "Withdraw",
        ),
    ],
    initial="pending_provider",
    initial_deadline_working_days=5,
)  # fmt: skip

SUBMITTED = events.define("sharing.requested", "共享申请已提交", "Share requested")
DECIDED = events.define("sharing.request_decided", "共享申请已处理", "Share request decided")

REGION_COLUMN = re.compile(r"(^|_)(xzqh|xzqhdm|qhdm|region_code|region)($|_)|行政区划|区划代码")


@dataclass(frozen=True)
class ItemAsked:
    """One resource asked for: fields (empty: all), regions (行政区划 codes; empty: all rows)
    and modes (查询 query, 核验 verify, 批量 batch)."""

    resource_id: int
    fields: Sequence[str] = ()
    regions: Sequence[str] = ()
    modes: Sequence[str] = ("query",)
    extra: dict[str, str] = field(default_factory=dict)


def _text(value: str, name: str, low: int, high: int) -> str:
    text = (value or "").strip()
    if not low <= len(text) <= high:
        raise RequestInvalid(detail=f"{name} needs {low}–{high} characters")
    return text


def region_column(resource: Resource) -> str | None:
    """The resource's field holding 行政区划 codes, by name or label."""
    for item in resource.fields:
        if REGION_COLUMN.search(item.name.lower()) or REGION_COLUMN.search(item.label):
            return item.name
    return None


def submit(
    session: Session,
    actor: Actor,
    *,
    scenario: str,
    purpose: str,
    legal_basis: str,
    items: Sequence[ItemAsked],
    days: int = 365,
    expected_volume: str = "",
) -> ShareRequest:
    """File a request for the actor's department. Items of resources shared without
    conditions are granted at once (by the platform, recorded in the workflow); the others
    wait for their provider. Emits ``sharing.requested``."""
    access.require(actor, "sharing.request")
    if actor.org_id is None:
        raise RequestInvalid(detail="the requester must belong to a department")
    if not items or len(items) > 20:
        raise RequestInvalid(detail="a request holds 1 to 20 resources")
    if not 1 <= days <= 3 * 366:
        raise RequestInvalid(detail="the duration is 1 to 1,098 days")
    request = ShareRequest(
        requester_org_id=actor.org_id,
        requester_id=actor.id,
        scenario=_text(scenario, "scenario", 2, 200),
        purpose=_text(purpose, "purpose", 2, 2000),
        legal_basis=_text(legal_basis, "legal basis", 2, 2000),
        days=days,
        expected_volume=(expected_volume or "").strip()[:200],
    )
    request.items = [_item(session, asked) for asked in items]
    session.add(request)
    session.flush()
    for item in request.items:
        instance = workflow.start(
            session, actor, ITEM_WORKFLOW, item, item.provider_org_id, comment=request.purpose
        )
        item.workflow_instance_id = instance.id
    events.emit(
        session, SUBMITTED, actor, subject=request, scenario=request.scenario,
        requester_org_id=request.requester_org_id,
        items=[{"item": i.id, "resource_id": i.resource_id, "modes": i.modes} for i in request.items],
    )  # fmt: skip
    for item in request.items:
        if item.share_type == "unconditional":
            _decide(session, SYSTEM, item, "approve", "无条件共享，自动授权")
    return request


def _item(session: Session, asked: ItemAsked) -> ShareRequestItem:
    resource = session.get(Resource, asked.resource_id)
    if resource is None or resource.share_type == "none" or resource.status != "published":
        raise ResourceNotShareable(resource=asked.resource_id)
    lake_tables = tables.tables_for_resource(session, resource.id)
    if not lake_tables:
        raise ResourceNotShareable(resource=asked.resource_id)
    names = [f.name for f in resource.fields]
    unknown = sorted(set(asked.fields) - set(names))
    if unknown:
        raise FieldsNotInResource(resource=resource.id, fields=", ".join(unknown[:10]))
    modes = sorted(set(asked.modes))
    if not modes or set(modes) - set(MODES):
        raise RequestInvalid(detail=f"modes are {', '.join(MODES)}")
    regions = sorted({str(r).strip() for r in asked.regions})
    if regions and region_column(resource) is None:
        raise RegionFilterUnavailable(resource=resource.id)
    if any(not (r.isdigit() and len(r) == 6) for r in regions):
        raise RequestInvalid(detail="regions are 6-digit 行政区划 codes")
    in_force = grades.grade_in_force(session, resource.id)
    return ShareRequestItem(
        resource_id=resource.id,
        provider_org_id=resource.provider_org_id,
        table_name=lake_tables[0].name,
        fields=list(asked.fields) or names,
        regions=regions,
        modes=modes,
        share_type=resource.share_type,
        grade=in_force.grade if in_force else None,
    )


def get_item(session: Session, item_id: int) -> ShareRequestItem:
    item = session.get(ShareRequestItem, item_id)
    if item is None:
        raise ItemNotFound(item=item_id)
    return item


def needs_bureau(session: Session, item: ShareRequestItem) -> bool:
    """Whether the bureau must approve too: the grade's policy says so, or no grade is
    confirmed yet (then the bureau decides, to be safe)."""
    controls = grades.controls(session, item.resource_id)
    return controls is None or "bureau_reviewer" in controls["policy"]["approvers"]


def approve(session: Session, actor: Actor, item_id: int, comment: str | None = None) -> str:
    """The provider (or, for the second step, the bureau) approves. Returns the item's new
    state; an item granted gets its grant."""
    item = get_item(session, item_id)
    if item.state == "pending_provider":
        move = "forward" if needs_bureau(session, item) else "approve"
    else:
        move = "bureau_approve"
    return _decide(session, actor, item, move, comment)


def refuse(session: Session, actor: Actor, item_id: int, reason: str) -> str:
    item = get_item(session, item_id)
    move = "refuse" if item.state == "pending_provider" else "bureau_refuse"
    return _decide(session, actor, item, move, reason)


def withdraw(session: Session, actor: Actor, item_id: int, reason: str | None = None) -> str:
    item = get_item(session, item_id)
    if actor.org_id != item.request.requester_org_id:
        raise NotRequester()
    return _decide(session, actor, item, "withdraw", reason)


def _decide(
    session: Session, actor: Actor, item: ShareRequestItem, move: str, comment: str | None
) -> str:
    workflow.move(session, actor, item.workflow_instance_id, move, comment)
    instance = workflow.get_instance(session, item.workflow_instance_id)
    item.state = instance.state
    if instance.closed_at is not None:
        item.decided_at = utcnow()
        item.reason = comment
    grant = grants.create_for(session, actor, item) if item.state == "granted" else None
    events.emit(
        session, DECIDED, actor, subject=item, move=move, state=item.state,
        resource_id=item.resource_id, provider_org_id=item.provider_org_id,
        requester_org_id=item.request.requester_org_id, grant_id=grant.id if grant else None,
    )  # fmt: skip
    return item.state


def list_items(
    session: Session, actor: Actor, *, side: str = "requester", state: str | None = None
) -> list[ShareRequestItem]:
    """Items the actor's department asked for, or (``side="provider"``) must decide on; the
    bureau's staff (``side="bureau"``) see every department's."""
    access.require(actor, "sharing.read")
    query = select(ShareRequestItem).join(ShareRequest)
    if side == "bureau":
        if not actor.roles & BUREAU:
            raise Forbidden()
    elif side == "provider":
        query = query.where(ShareRequestItem.provider_org_id == actor.org_id)
    else:
        query = query.where(ShareRequest.requester_org_id == actor.org_id)
    if state:
        query = query.where(ShareRequestItem.state == state)
    return list(session.scalars(query.order_by(ShareRequestItem.id.desc()).limit(200)))
