"""Console pages of sharing (``/console/sharing``): the request form, my requests, the review
queues (the provider's reviewer and the data bureau) and an item's page with its decision
forms. The grants' pages are in ``views_grants``.

Routes only parse forms, call the services (``requests``, ``grants``, ``query``) and render;
the few queries here are for display (what may be asked for, the bureau's queue, names)."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy import select
from starlette.datastructures import FormData

from longshu import workflow
from longshu.catalog.models import Resource
from longshu.catalog.vocab import SHARE_TYPES
from longshu.db import utcnow
from longshu.errors import Forbidden, InvalidInput, LongshuError
from longshu.governance import grades
from longshu.lake.models import LakeTable
from longshu.orgs.models import Organization
from longshu.security import access
from longshu.security.context import Ctx, requires
from longshu.security.identity.models import User
from longshu.sharing import grants, requests
from longshu.sharing.errors import ResourceNotShareable
from longshu.sharing.models import (
    MODES,
    ShareGrant,
    ShareRequest,
    ShareRequestItem,
)
from longshu.sharing.permissions import BUREAU
from longshu.sharing.requests import ITEM_WORKFLOW
from longshu.web import render
from longshu.web.nav import register_nav
from longshu.workflow.models import WorkflowInstance

router = APIRouter(include_in_schema=False)

register_nav(
    "sharing-new", "申请共享数据", "Request data", "/console/sharing/requests/new",
    "sharing.request", "sharing", order=10,
)  # fmt: skip
register_nav(
    "sharing-requests", "我的共享申请", "My share requests", "/console/sharing/requests",
    "sharing.read", "sharing", order=20,
)  # fmt: skip
register_nav(
    "sharing-reviews", "共享审核", "Share reviews", "/console/sharing/reviews",
    "sharing.review", "sharing", order=30,
)  # fmt: skip
register_nav(
    "sharing-grants", "共享授权", "Share grants", "/console/sharing/grants",
    "sharing.read", "sharing", order=40,
)  # fmt: skip

OPEN_STATES = ("pending_provider", "pending_bureau")
SHAREABLE = ("conditional", "unconditional")
REGION_SPLIT = re.compile(r"[\s,，、;；]+")


# --- errors of the console's forms (one class per condition, translated) ---------------------


class TextLength(InvalidInput):
    key = "sharing_console.text_length"
    message = "Write {low} to {high} characters."


class DaysInvalid(InvalidInput):
    key = "sharing_console.days_invalid"
    message = "Enter a whole number of days from 1 to 1,098."


class NothingChosen(InvalidInput):
    key = "sharing_console.nothing_chosen"
    message = "Choose at least one resource (at most 20)."


class FieldsMissing(InvalidInput):
    key = "sharing_console.fields_missing"
    message = "Choose at least one field."


class ModesMissing(InvalidInput):
    key = "sharing_console.modes_missing"
    message = "Choose at least one way of use: query, verify or batch."


class RegionsMalformed(InvalidInput):
    key = "sharing_console.regions_malformed"
    message = "Regions are 6-digit administrative division codes, separated by commas or spaces."


class RegionsUnavailable(InvalidInput):
    key = "sharing_console.regions_unavailable"
    message = "This resource has no region code field: leave the regions empty."


class ReasonMissing(InvalidInput):
    key = "sharing_console.reason_missing"
    message = "Give a reason of 2 to 2,000 characters."


# --- helpers for display ---------------------------------------------------------------------


async def form_data(request: Request) -> FormData:
    """The posted form (the CSRF check has read it already; Starlette keeps it)."""
    return await request.form()


def org_names(session: Any, ids: set[int]) -> dict[int, str]:
    if not ids:
        return {}
    rows = session.execute(
        select(Organization.id, Organization.name).where(Organization.id.in_(ids))
    )
    return {i: n for i, n in rows}


def resources_by_id(session: Any, ids: set[int]) -> dict[int, Resource]:
    if not ids:
        return {}
    return {r.id: r for r in session.scalars(select(Resource).where(Resource.id.in_(ids)))}


def _instances(session: Any, ids: list[int | None]) -> dict[int, WorkflowInstance]:
    wanted = [i for i in ids if i is not None]
    if not wanted:
        return {}
    found = session.scalars(select(WorkflowInstance).where(WorkflowInstance.id.in_(wanted)))
    return {i.id: i for i in found}


def _overdue(instance: WorkflowInstance | None, now: dt.datetime) -> bool:
    return bool(instance and instance.is_open and instance.due_at and instance.due_at < now)


def _offerable_query() -> Any:
    """Resources one may ask for: published, not 不予共享, with data in the lake."""
    with_table = select(LakeTable.resource_id).where(LakeTable.resource_id.is_not(None))
    return select(Resource).where(
        Resource.status == "published",
        Resource.share_type.in_(SHAREABLE),
        Resource.id.in_(with_table),
    )


def offerable(session: Any, q: str, limit: int = 20) -> list[Resource]:
    """Published, shareable resources with data whose name holds ``q`` (or whose code is it)."""
    query = _offerable_query()
    text = q.strip()[:100]
    if text:
        query = query.where(Resource.name.contains(text, autoescape=True) | (Resource.code == text))
    return list(session.scalars(query.order_by(Resource.name, Resource.id).limit(limit)))


def _offerable_by_id(session: Any, ids: list[int]) -> dict[int, Resource]:
    if not ids:
        return {}
    found = session.scalars(_offerable_query().where(Resource.id.in_(ids)))
    return {r.id: r for r in found}


def _may_review(actor: Any) -> bool:
    return bool(access.decide(actor, "sharing.review"))


def is_bureau(actor: Any) -> bool:
    return bool(actor.roles & BUREAU) and _may_review(actor)


# --- the request form ------------------------------------------------------------------------


@dataclass
class ItemForm:
    """One resource on the request form, as the user left it."""

    resource: Resource
    fields: list[str]
    regions: str = ""
    modes: list[str] = field(default_factory=lambda: ["query"])
    region_column: str | None = None
    errors: list[LongshuError] = field(default_factory=list)


@dataclass
class RequestForm:
    scenario: str = ""
    purpose: str = ""
    legal_basis: str = ""
    days: str = "365"
    expected_volume: str = ""
    q: str = ""
    items: list[ItemForm] = field(default_factory=list)
    errors: dict[str, LongshuError] = field(default_factory=dict)


def _new_item(resource: Resource) -> ItemForm:
    return ItemForm(
        resource=resource,
        fields=[f.name for f in resource.fields],
        region_column=requests.region_column(resource),
    )


def _read_form(session: Any, data: FormData) -> tuple[RequestForm, list[int]]:
    """The request form as posted; returns it and the resource ids no longer offerable."""
    form = RequestForm(
        # one character over the limit is kept, so the length check names the field
        scenario=str(data.get("scenario") or "")[:201],
        purpose=str(data.get("purpose") or "")[:2001],
        legal_basis=str(data.get("legal_basis") or "")[:2001],
        days=str(data.get("days") or "")[:10],
        expected_volume=str(data.get("expected_volume") or "")[:200],
        q=str(data.get("q") or "")[:100],
    )
    ids: list[int] = []
    for raw in data.getlist("resource")[:20]:
        if isinstance(raw, str) and raw.isdigit() and int(raw) not in ids:
            ids.append(int(raw))
    found = _offerable_by_id(session, ids)
    for rid in ids:
        if rid not in found:
            continue
        resource = found[rid]
        names = {f.name for f in resource.fields}
        form.items.append(
            ItemForm(
                resource=resource,
                fields=[f for f in data.getlist(f"fields_{rid}") if f in names],
                regions=str(data.get(f"regions_{rid}") or "")[:1400],
                modes=[m for m in data.getlist(f"modes_{rid}") if m in MODES],
                region_column=requests.region_column(resource),
            )
        )
    return form, [rid for rid in ids if rid not in found]


def _regions(text: str) -> list[str]:
    return [r for r in REGION_SPLIT.split(text.strip()) if r]


def _check_form(form: RequestForm) -> bool:
    """Field by field checks, so each error shows next to its input. True when clean."""
    for name, low, high in (("scenario", 2, 200), ("purpose", 2, 2000), ("legal_basis", 2, 2000)):
        if not low <= len(getattr(form, name).strip()) <= high:
            form.errors[name] = TextLength(low=low, high=high)
    if not (form.days.strip().isdigit() and 1 <= int(form.days.strip()) <= 1098):
        form.errors["days"] = DaysInvalid()
    if not form.items:
        form.errors["items"] = NothingChosen()
    for item in form.items:
        if not item.fields:
            item.errors.append(FieldsMissing())
        if not item.modes:
            item.errors.append(ModesMissing())
        regions = _regions(item.regions)
        if any(not (r.isdigit() and len(r) == 6) for r in regions) or len(regions) > 200:
            item.errors.append(RegionsMalformed())
        elif regions and item.region_column is None:
            item.errors.append(RegionsUnavailable())
    return not form.errors and not any(i.errors for i in form.items)


def _form_page(
    ctx: Ctx, form: RequestForm, error: LongshuError | None = None, status: int = 200
) -> Response:
    chosen = {i.resource.id for i in form.items}
    matches = offerable(ctx.session, form.q) if form.q else []
    found = [r for r in matches if r.id not in chosen]
    shown = {r.provider_org_id for r in found} | {i.resource.provider_org_id for i in form.items}
    bad = bool(form.errors or any(i.errors for i in form.items))
    return render(
        ctx.request,
        "sharing/request_form.html",
        {
            "form": form,
            "found": found,
            "searched": bool(form.q),
            "all_chosen": bool(matches) and not found,
            "orgs": org_names(ctx.session, shown),
            "share_types": SHARE_TYPES,
            "modes": MODES,
            "error": error,
        },
        status_code=error.status if error else (422 if bad and status == 200 else status),
    )


@router.get("/console/sharing/requests/new")
def request_form(q: str = "", ctx: Ctx = requires("sharing.request")) -> Response:
    """The request form; ``?q=`` searches what may be asked for, ``?resource=`` pre-selects."""
    form = RequestForm(q=q[:100])
    ids = [int(r) for r in (ctx.request.query_params.getlist("resource"))[:20] if r.isdigit()]
    for r in _offerable_by_id(ctx.session, ids).values():
        form.items.append(_new_item(r))
    return _form_page(ctx, form)


@router.post("/console/sharing/requests/new")
def request_from_form(
    data: FormData = Depends(form_data),
    ctx: Ctx = requires("sharing.request"),
) -> Response:
    """One form, several buttons (``do``): search the catalogue, add or remove a resource,
    or file the request. Every input is kept on each round trip; nothing needs a script."""
    form, gone = _read_form(ctx.session, data)
    action = str(data.get("do") or "submit")[:20]
    if action.startswith("add:") and action[4:].isdigit():
        rid = int(action[4:])
        if all(i.resource.id != rid for i in form.items) and len(form.items) < 20:
            found = _offerable_by_id(ctx.session, [rid])
            if rid in found:
                form.items.append(_new_item(found[rid]))
        return _form_page(ctx, form)
    if action.startswith("remove:") and action[7:].isdigit():
        form.items = [i for i in form.items if i.resource.id != int(action[7:])]
        return _form_page(ctx, form)
    if action != "submit":
        return _form_page(ctx, form)
    if gone:
        return _form_page(ctx, form, ResourceNotShareable(resource=gone[0]))
    if not _check_form(form):
        return _form_page(ctx, form)
    try:
        filed = requests.submit(
            ctx.session, ctx.actor, scenario=form.scenario, purpose=form.purpose,
            legal_basis=form.legal_basis, days=int(form.days), expected_volume=form.expected_volume,
            items=[
                requests.ItemAsked(
                    i.resource.id, tuple(i.fields), tuple(_regions(i.regions)), tuple(i.modes)
                )
                for i in form.items
            ],
        )  # fmt: skip
    except LongshuError as exc:
        ctx.session.rollback()  # the loaded resources reload on their next use
        return _form_page(ctx, form, exc)
    return RedirectResponse(f"/console/sharing/requests?filed={filed.id}", status_code=303)


# --- my requests, the review queues, an item's page -----------------------------------------


@dataclass
class ItemRow:
    item: ShareRequestItem
    resource: Resource | None
    instance: WorkflowInstance | None
    overdue: bool


def _rows(session: Any, items: list[ShareRequestItem]) -> list[ItemRow]:
    now = utcnow()
    found = resources_by_id(session, {i.resource_id for i in items})
    instances = _instances(session, [i.workflow_instance_id for i in items])
    rows = []
    for item in items:
        instance = instances.get(item.workflow_instance_id or -1)
        rows.append(ItemRow(item, found.get(item.resource_id), instance, _overdue(instance, now)))
    return rows


def _names_for(session: Any, rows: list[ItemRow]) -> dict[int, str]:
    ids = {r.item.provider_org_id for r in rows} | {r.item.request.requester_org_id for r in rows}
    return org_names(session, ids)


@router.get("/console/sharing")
def sharing_home(ctx: Ctx = requires("sharing.read")) -> Response:
    return RedirectResponse("/console/sharing/requests", status_code=303)


@router.get("/console/sharing/requests")
def my_requests(filed: str = "", state: str = "", ctx: Ctx = requires("sharing.read")) -> Response:
    """The items the actor's department asked for, newest first."""
    chosen = state if state in {s.code for s in ITEM_WORKFLOW.states} else None
    rows = _rows(ctx.session, requests.list_items(ctx.session, ctx.actor, state=chosen))
    return render(
        ctx.request,
        "sharing/my_requests.html",
        {
            "rows": rows,
            "orgs": _names_for(ctx.session, rows),
            "workflow": ITEM_WORKFLOW,
            "state": chosen or "",
            "filed": int(filed) if filed.isdigit() else None,
            "open_states": OPEN_STATES,
            "may_request": bool(access.decide(ctx.actor, "sharing.request")),
        },
    )


@router.get("/console/sharing/reviews")
def review_queue(ctx: Ctx = requires("sharing.review")) -> Response:
    """The provider's reviewer: its department's items awaiting it. The bureau: every item
    awaiting the bureau. Overdue items first."""
    provider = _rows(
        ctx.session,
        requests.list_items(ctx.session, ctx.actor, side="provider", state="pending_provider")
        if ctx.actor.org_id is not None and "dept_reviewer" in ctx.actor.roles
        else [],
    )
    bureau: list[ItemRow] = []
    if is_bureau(ctx.actor):
        waiting = requests.list_items(ctx.session, ctx.actor, side="bureau", state="pending_bureau")
        bureau = _rows(ctx.session, waiting)
    for queue in (provider, bureau):
        queue.sort(
            key=lambda r: (
                not r.overdue,
                r.instance.due_at if r.instance and r.instance.due_at else utcnow(),
                r.item.id,
            )
        )
    return render(
        ctx.request,
        "sharing/reviews.html",
        {
            "provider": provider,
            "bureau": bureau,
            "is_bureau": is_bureau(ctx.actor),
            "orgs": _names_for(ctx.session, provider + bureau),
            "workflow": ITEM_WORKFLOW,
        },
    )


def _visible_item(ctx: Ctx, item_id: int) -> ShareRequestItem:
    """An item its requesting department, its provider or the bureau may see."""
    item = requests.get_item(ctx.session, item_id)
    sides = (item.request.requester_org_id, item.provider_org_id)
    own = ctx.actor.org_id is not None and ctx.actor.org_id in sides
    bureau = bool(ctx.actor.roles & BUREAU) and access.decide(ctx.actor, "sharing.review", item)
    if not (own or bureau):
        raise Forbidden()
    return item


def _item_page(ctx: Ctx, item_id: int, error: LongshuError | None = None, **kept: str) -> Response:
    item = _visible_item(ctx, item_id)
    request: ShareRequest = item.request
    instance = workflow.get_instance(ctx.session, item.workflow_instance_id)
    resource = ctx.session.get(Resource, item.resource_id)
    labels = {f.name: f.label for f in resource.fields} if resource else {}
    in_force = grades.grade_in_force(ctx.session, item.resource_id)
    moves = {t.name for t in workflow.available_transitions(ctx.actor, instance)}
    requester = ctx.session.get(User, request.requester_id) if request.requester_id else None
    return render(
        ctx.request,
        "sharing/item.html",
        {
            "item": item,
            "req": request,
            "resource": resource,
            "labels": labels,
            "instance": instance,
            "state": ITEM_WORKFLOW.state(item.state),
            "workflow": ITEM_WORKFLOW,
            "overdue": _overdue(instance, utcnow()),
            "grade_in_force": in_force.grade if in_force else None,
            "needs_bureau": requests.needs_bureau(ctx.session, item)
            if item.state in OPEN_STATES
            else None,
            "masks": grants.masks_for(
                ctx.session, item.resource_id, item.table_name, list(item.fields)
            ),
            "orgs": org_names(ctx.session, {request.requester_org_id, item.provider_org_id}),
            "requester": requester.display_name if requester else None,
            "may_decide": bool(moves & {"approve", "forward", "bureau_approve"}),
            "may_refuse": bool(moves & {"refuse", "bureau_refuse"}),
            "may_withdraw": "withdraw" in moves
            and ctx.actor.org_id == request.requester_org_id
            and access.decide(ctx.actor, "sharing.request"),
            "history": workflow.history(ctx.session, instance),
            "grant": ctx.session.scalar(select(ShareGrant).where(ShareGrant.item_id == item.id)),
            "share_types": SHARE_TYPES,
            "error": error,
            "kept": kept,
        },
        status_code=error.status if error else 200,
    )


@router.get("/console/sharing/items/{item_id}")
def item_page(item_id: int, ctx: Ctx = requires("sharing.read")) -> Response:
    return _item_page(ctx, item_id)


def _decide(ctx: Ctx, item_id: int, work: Any, **kept: str) -> Response:
    _visible_item(ctx, item_id)
    try:
        work()
    except LongshuError as exc:
        ctx.session.rollback()
        return _item_page(ctx, item_id, error=exc, **kept)
    return RedirectResponse(f"/console/sharing/items/{item_id}", status_code=303)


@router.post("/console/sharing/items/{item_id}/approve")
def approve_from_form(
    item_id: int,
    comment: Annotated[str, Form(max_length=2000)] = "",
    ctx: Ctx = requires("sharing.review"),
) -> Response:
    return _decide(
        ctx, item_id, lambda: requests.approve(ctx.session, ctx.actor, item_id, comment or None)
    )


@router.post("/console/sharing/items/{item_id}/refuse")
def refuse_from_form(
    item_id: int,
    reason: Annotated[str, Form(max_length=2000)] = "",
    ctx: Ctx = requires("sharing.review"),
) -> Response:
    """Refusal needs a reason (checked here to say so plainly; the workflow also refuses a
    refusal without one)."""

    def refuse() -> None:
        item = requests.get_item(ctx.session, item_id)
        instance = workflow.get_instance(ctx.session, item.workflow_instance_id)
        allowed = {t.name for t in workflow.available_transitions(ctx.actor, instance)}
        if allowed & {"refuse", "bureau_refuse"} and not 2 <= len(reason.strip()) <= 2000:
            raise ReasonMissing()
        requests.refuse(ctx.session, ctx.actor, item_id, reason.strip())

    return _decide(ctx, item_id, refuse, reason=reason)


@router.post("/console/sharing/items/{item_id}/withdraw")
def withdraw_from_form(
    item_id: int,
    reason: Annotated[str, Form(max_length=2000)] = "",
    ctx: Ctx = requires("sharing.request"),
) -> Response:
    return _decide(
        ctx, item_id,
        lambda: requests.withdraw(ctx.session, ctx.actor, item_id, reason.strip() or None),
    )  # fmt: skip


# --- grants and each grant's API page --------------------------------------------------------
