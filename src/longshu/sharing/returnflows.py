"""Return flows (数据回流): a province-level resource's rows offered back to the city and
county departments, each under a standing grant limited to its own region.

The resource's department (or the bureau) configures a flow: fields, modes, which levels
receive (city and/or county), which departments (``line``: every active department at those
levels whose parent chain leads to the resource's department — its line of business; or
``list``: named departments), and the region column. ``apply`` makes the grants match the
configuration: each receiving department gets an ordinary ``ShareGrant`` through a share
request "数据回流" of its own, granted by the platform (the move is in the workflow), with
rows limited to its region — a city department every 行政区划 code of its city (the city and
the districts and counties under it), a county department its county's code. Applying twice
changes nothing; a department that joins the line later gets its grant on the next apply; a
changed configuration replaces the grants it changes; ``disable`` revokes every standing
grant with a reason. A standing grant revoked by hand (``grants.revoke``) keeps that
department out until the flow is configured again."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from longshu import events, workflow
from longshu.actor import SYSTEM, Actor
from longshu.catalog.models import Resource
from longshu.db import utcnow
from longshu.governance import grades
from longshu.lake import tables
from longshu.orgs import regions
from longshu.orgs.models import Organization
from longshu.security import access
from longshu.sharing import grants, requests
from longshu.sharing.errors import ResourceNotShareable
from longshu.sharing.flow_errors import (
    FlowBusy,
    FlowDisabled,
    FlowInvalid,
    FlowNoRegionColumn,
    FlowNotFound,
    FlowNotProvincial,
    FlowResourceNotFound,
    FlowUnknownReceiver,
)
from longshu.sharing.flow_models import (
    RECEIVER_KINDS,
    RECEIVING_LEVELS,
    ReturnFlow,
    ReturnFlowMember,
)
from longshu.sharing.models import MODES, ShareGrant, ShareRequest, ShareRequestItem

CONFIGURED = events.define("sharing.flow_configured", "数据回流已配置", "Return flow configured")
APPLIED = events.define("sharing.flow_applied", "数据回流已执行", "Return flow applied")
DISABLED = events.define("sharing.flow_disabled", "数据回流已停用", "Return flow disabled")

SCENARIO = "数据回流"
LEGAL_BASIS = "省级数据回流：按提供部门（或数据主管部门）的回流配置，向市县部门常态化授权"
MAX_RECEIVERS = 500
MAX_DAYS = 3660


@dataclass
class Receiver:
    """A receiving department and the 行政区划 codes of its rows."""

    org: Organization
    region_code: str
    codes: list[str]


@dataclass
class Applied:
    """What an apply did, by organisation id."""

    created: list[int] = field(default_factory=list)
    kept: list[int] = field(default_factory=list)
    replaced: list[int] = field(default_factory=list)
    revoked: list[int] = field(default_factory=list)
    skipped: list[int] = field(default_factory=list)  # standing grant revoked by hand


# --- configuration ----------------------------------------------------------------------------


def _resource(session: Session, resource_id: int) -> Resource:
    resource = session.get(Resource, resource_id)
    if resource is None:
        raise FlowResourceNotFound(resource=resource_id)
    return resource


def _shareable_table(session: Session, resource: Resource) -> str:
    """The lake table of a resource that may be shared (published, not 不予共享, loaded)."""
    if resource.share_type == "none" or resource.status != "published":
        raise ResourceNotShareable(resource=resource.id)
    found = tables.tables_for_resource(session, resource.id)
    if not found:
        raise ResourceNotShareable(resource=resource.id)
    return found[0].name


def get_flow(session: Session, actor: Actor, resource_id: int, *, lock: bool = False) -> ReturnFlow:
    """The flow of a resource, for its department or the bureau. ``lock`` takes the row for
    update (PostgreSQL), so that two applies or a disable and an apply run one after the
    other; on SQLite callers hold the write lock from the start (``sqlite_immediate``)."""
    query = select(ReturnFlow).where(ReturnFlow.resource_id == resource_id)
    flow = session.scalar(query.with_for_update() if lock else query)
    if flow is None:
        raise FlowNotFound(resource=resource_id)
    access.require(actor, "sharing.flows", flow)
    return flow


def list_flows(session: Session, actor: Actor) -> list[ReturnFlow]:
    """The flows the actor may configure: its department's, or all of them for the bureau."""
    access.require(actor, "sharing.flows")
    found = session.scalars(select(ReturnFlow).order_by(ReturnFlow.id))
    return [f for f in found if access.decide(actor, "sharing.flows", f)]


def configure(
    session: Session,
    actor: Actor,
    resource_id: int,
    *,
    fields: Sequence[str] = (),
    modes: Sequence[str] = ("query",),
    levels: Sequence[str] = RECEIVING_LEVELS,
    receivers: str = "line",
    receiver_org_ids: Sequence[int] = (),
    region_column: str | None = None,
    days: int = MAX_DAYS,
) -> ReturnFlow:
    """Create or change (and enable) a resource's flow. Nothing is granted until ``apply``.
    Emits ``sharing.flow_configured``."""
    resource = _resource(session, resource_id)
    access.require(actor, "sharing.flows", resource)
    if resource.level != "province":
        raise FlowNotProvincial(resource=resource.id)
    _shareable_table(session, resource)
    names = [f.name for f in resource.fields]
    column = region_column or requests.region_column(resource)
    if not column or column not in names:
        raise FlowNoRegionColumn(resource=resource.id, column=column or "")
    chosen = list(dict.fromkeys(fields)) or names
    unknown = sorted(set(chosen) - set(names))
    if unknown:
        raise FlowInvalid(detail=f"no fields named {', '.join(unknown[:10])}")
    chosen_modes = sorted(set(modes))
    if not chosen_modes or set(chosen_modes) - set(MODES):
        raise FlowInvalid(detail=f"modes are {', '.join(MODES)}")
    chosen_levels = [lv for lv in RECEIVING_LEVELS if lv in set(levels)]
    if not chosen_levels or set(levels) - set(RECEIVING_LEVELS):
        raise FlowInvalid(detail="levels are city and/or county")
    if receivers not in RECEIVER_KINDS:
        raise FlowInvalid(detail="receivers are line or list")
    listed = sorted({int(i) for i in receiver_org_ids})
    if receivers == "list" and not 1 <= len(listed) <= MAX_RECEIVERS:
        raise FlowInvalid(detail=f"a list names 1 to {MAX_RECEIVERS} departments")
    if receivers == "line" and listed:
        raise FlowInvalid(detail="a line of business takes no list of departments")
    for org_id in listed:
        org = session.get(Organization, org_id)
        if org is None or not org.active or org.level not in chosen_levels:
            raise FlowUnknownReceiver(org=org_id)
    if not 1 <= days <= MAX_DAYS:
        raise FlowInvalid(detail=f"standing grants last 1 to {MAX_DAYS} days")
    query = select(ReturnFlow).where(ReturnFlow.resource_id == resource.id)
    flow = session.scalar(query.with_for_update())
    new = flow is None
    if flow is None:
        flow = ReturnFlow(resource_id=resource.id, provider_org_id=resource.provider_org_id)
    flow.enabled = True
    flow.fields, flow.modes, flow.levels = chosen, chosen_modes, chosen_levels
    flow.receivers, flow.receiver_org_ids = receivers, listed
    flow.region_column, flow.days = column, days
    flow.updated_by, flow.updated_at = actor.id, utcnow()
    if new:
        try:
            with session.begin_nested():
                session.add(flow)
                session.flush()
        except IntegrityError as exc:  # configured at the same moment by someone else
            raise FlowBusy(resource=resource.id) from exc
    for member in flow.members:  # configuring again lets hand-revoked departments back in
        if member.status == "withdrawn":
            member.status = "revoked"
    session.flush()
    events.emit(
        session, CONFIGURED, actor, subject=flow, resource_id=resource.id,
        provider_org_id=flow.provider_org_id, fields=chosen, modes=chosen_modes,
        levels=chosen_levels, receivers=receivers, receiver_org_ids=listed,
        region_column=column, days=days,
    )  # fmt: skip
    return flow


# --- receivers ----------------------------------------------------------------------------------


def _line_of(session: Session, provider_org_id: int) -> list[Organization]:
    """Active organisations whose parent chain leads to ``provider_org_id``."""
    everyone = list(session.scalars(select(Organization)))
    parent = {o.id: o.parent_id for o in everyone}
    found = []
    for org in everyone:
        seen: set[int] = set()
        up = org.parent_id
        while up is not None and up not in seen:
            if up == provider_org_id:
                found.append(org)
                break
            seen.add(up)
            up = parent.get(up)
    return found


def _region_for(session: Session, org: Organization) -> str | None:
    """The region whose rows a department gets: its city for a city department (even one
    seated in a district), its county for a county department."""
    for region in reversed(regions.region_path(session, org.region_code)):
        if region.level == org.level:
            return region.code
    return None


def receivers_of(session: Session, flow: ReturnFlow) -> list[Receiver]:
    """The departments the flow sends to now, with the codes of their rows."""
    if flow.receivers == "line":
        candidates = _line_of(session, flow.provider_org_id)
    else:
        candidates = [o for i in flow.receiver_org_ids if (o := session.get(Organization, int(i)))]
    found = []
    for org in sorted(candidates, key=lambda o: o.id):
        if not org.active or org.level not in flow.levels or org.id == flow.provider_org_id:
            continue
        code = _region_for(session, org)
        if code is None:
            continue
        found.append(Receiver(org, code, sorted(regions.descendant_codes(session, code))))
    return found


# --- applying -------------------------------------------------------------------------------------


def _revoke(session: Session, actor: Actor, grant_id: int | None, reason: str) -> None:
    """Revoke a standing grant (the flow's rule, already permitted by ``sharing.flows``)."""
    grant = session.get(ShareGrant, grant_id) if grant_id else None
    if grant is None or grant.status != "active":
        return
    grant.status, grant.revoked_at, grant.revoke_reason = "revoked", utcnow(), reason
    events.emit(
        session, grants.REVOKED, actor, subject=grant, consumer_org_id=grant.consumer_org_id,
        resource_id=grant.resource_id, reason=reason,
    )  # fmt: skip


def _matches(grant: ShareGrant | None, flow: ReturnFlow, table: str, codes: list[str]) -> bool:
    return (
        grant is not None
        and grant.status == "active"
        and grant.valid_until > utcnow()
        and grant.table_name == table
        and list(grant.fields) == list(flow.fields)
        and list(grant.modes) == list(flow.modes)
        and grant.region_column == flow.region_column
        and list(grant.regions) == codes
    )


def _grant(
    session: Session,
    actor: Actor,
    flow: ReturnFlow,
    resource: Resource,
    table: str,
    member: ReturnFlowMember,
    receiver: Receiver,
) -> ShareGrant:
    """A new standing grant: an item of the department's "数据回流" request, started in the
    request workflow by the actor and granted by the platform."""
    request = session.get(ShareRequest, member.request_id) if member.request_id else None
    if request is None:
        request = ShareRequest(
            requester_org_id=receiver.org.id, requester_id=None, scenario=SCENARIO,
            purpose=f"{SCENARIO}：{resource.name}"[:2000], legal_basis=LEGAL_BASIS,
            days=flow.days, expected_volume="",
        )  # fmt: skip
        session.add(request)
        session.flush()
        member.request_id = request.id
    request.days = flow.days
    in_force = grades.grade_in_force(session, resource.id)
    item = ShareRequestItem(
        request=request, resource_id=resource.id, provider_org_id=flow.provider_org_id,
        table_name=table, fields=list(flow.fields), regions=list(receiver.codes),
        modes=list(flow.modes), share_type=resource.share_type,
        grade=in_force.grade if in_force else None,
    )  # fmt: skip
    session.add(item)
    session.flush()
    instance = workflow.start(
        session, actor, requests.ITEM_WORKFLOW, item, flow.provider_org_id, comment=SCENARIO
    )
    item.workflow_instance_id = instance.id
    requests._decide(session, SYSTEM, item, "approve", "数据回流：按回流配置由平台授权")
    grant = session.scalars(select(ShareGrant).where(ShareGrant.item_id == item.id)).one()
    grant.region_column = flow.region_column  # the flow's column, which may not be the guess
    return grant


def apply(session: Session, actor: Actor, resource_id: int) -> Applied:
    """Make the standing grants match the flow: grant new receivers, keep matching grants,
    replace changed ones, revoke those of departments no longer receiving. Idempotent.
    Emits ``sharing.flow_applied`` (and ``sharing.granted`` / ``sharing.grant_revoked``)."""
    flow = get_flow(session, actor, resource_id, lock=True)
    if not flow.enabled:
        raise FlowDisabled(resource=resource_id)
    resource = _resource(session, resource_id)
    table = _shareable_table(session, resource)
    wanted = {r.org.id: r for r in receivers_of(session, flow)}
    members = {m.org_id: m for m in flow.members}
    done = Applied()
    now = utcnow()
    for org_id, member in members.items():
        if org_id not in wanted and member.status == "active":
            _revoke(session, actor, member.grant_id, "数据回流范围调整，该部门不再接收")
            member.status, member.reason, member.updated_at = "revoked", "no longer receives", now
            done.revoked.append(org_id)
    for org_id, receiver in wanted.items():
        member = members.get(org_id)
        current = session.get(ShareGrant, member.grant_id) if member and member.grant_id else None
        if member is not None and member.status == "active" and current is not None:
            if current.status == "revoked":  # revoked by hand: stays out
                member.status, member.reason, member.updated_at = "withdrawn", "revoked", now
            if member.status == "withdrawn":
                done.skipped.append(org_id)
                continue
        elif member is not None and member.status == "withdrawn":
            done.skipped.append(org_id)
            continue
        if member is not None and member.status == "active":
            if _matches(current, flow, table, receiver.codes):
                done.kept.append(org_id)
                continue
            _revoke(session, actor, member.grant_id, "数据回流配置已变更，按新配置重新授权")
            done.replaced.append(org_id)
        else:
            done.created.append(org_id)
        if member is None:
            member = ReturnFlowMember(flow=flow, org_id=org_id, region_code="", request_id=0)
            session.add(member)
        grant = _grant(session, actor, flow, resource, table, member, receiver)
        member.grant_id, member.region_code = grant.id, receiver.region_code
        member.status, member.reason, member.updated_at = "active", None, now
    flow.applied_at = now
    session.flush()
    events.emit(
        session, APPLIED, actor, subject=flow, resource_id=flow.resource_id,
        created=done.created, kept=done.kept, replaced=done.replaced, revoked=done.revoked,
        skipped=done.skipped,
    )  # fmt: skip
    return done


def disable(session: Session, actor: Actor, resource_id: int, reason: str) -> ReturnFlow:
    """Stop the flow and revoke every standing grant with the reason given.
    Emits ``sharing.flow_disabled``."""
    flow = get_flow(session, actor, resource_id, lock=True)
    text = (reason or "").strip()
    if not 2 <= len(text) <= 2000:
        raise FlowInvalid(detail="disabling needs a reason of 2–2,000 characters")
    if not flow.enabled:
        raise FlowDisabled(resource=resource_id)
    revoked = []
    now = utcnow()
    for member in flow.members:
        if member.status == "active":
            _revoke(session, actor, member.grant_id, f"数据回流已停用：{text}")
            member.status, member.reason, member.updated_at = "revoked", text, now
            revoked.append(member.org_id)
    flow.enabled, flow.updated_by, flow.updated_at = False, actor.id, now
    session.flush()
    events.emit(
        session, DISABLED, actor, subject=flow, resource_id=flow.resource_id, revoked=revoked,
        reason=text,
    )  # fmt: skip
    return flow


def flow_request_ids(session: Session) -> set[int]:
    """Ids of the share requests return flows made (duty lists leave them out of requests)."""
    return {i for i in session.scalars(select(ReturnFlowMember.request_id)) if i}
