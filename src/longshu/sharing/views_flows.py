"""Pages of return flows and duty lists: ``/console/sharing/flows`` (a resource's flow, its
receiving departments and standing grants; configure, apply, disable), ``/console/sharing/
duties`` (the bureau compiles and publishes editions) and the public ``/sharing/duties``
(published editions, with CSV and Excel downloads)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form
from fastapi.responses import RedirectResponse, Response
from sqlalchemy import select

from longshu.catalog.models import Resource
from longshu.errors import LongshuError
from longshu.orgs.models import Organization
from longshu.security import access
from longshu.security.context import Ctx, requires
from longshu.sharing import duties, returnflows
from longshu.sharing.duties import columns
from longshu.sharing.flow_errors import (
    DutyPeriodInvalid,
    FlowInvalid,
    FlowNotFound,
    FlowResourceNotFound,
)
from longshu.web import render
from longshu.web.nav import register_nav

router = APIRouter(include_in_schema=False)

register_nav(
    "sharing-flows", "数据回流", "Return flows", "/console/sharing/flows", "sharing.flows",
    "sharing", order=60,
)  # fmt: skip
register_nav(
    "sharing-duties", "共享责任清单编制", "Duty lists", "/console/sharing/duties",
    "sharing.duties", "sharing", order=70,
)  # fmt: skip
register_nav(
    "sharing-duties-public", "共享责任清单", "Sharing duty lists", "/sharing/duties",
    "sharing.duties_public", "portal", order=60,
)  # fmt: skip


# --- return flows ---------------------------------------------------------------------------------


def _candidates(ctx: Ctx) -> list[Resource]:
    """Province-level resources the actor may configure a flow for."""
    found = ctx.session.scalars(
        select(Resource)
        .where(Resource.level == "province", Resource.status == "published")
        .order_by(Resource.id)
        .limit(500)
    )
    return [r for r in found if access.decide(ctx.actor, "sharing.flows", r)]


def _flows_page(ctx: Ctx, error: LongshuError | None = None) -> Response:
    flows = returnflows.list_flows(ctx.session, ctx.actor)
    names = {
        r.id: r.name
        for r in ctx.session.scalars(
            select(Resource).where(Resource.id.in_([f.resource_id for f in flows] or [0]))
        )
    }
    return render(
        ctx.request,
        "sharing/flows_list.html",
        {"flows": flows, "names": names, "candidates": _candidates(ctx), "error": error},
        status_code=error.status if error else 200,
    )


@router.get("/console/sharing/flows")
def flows_page(ctx: Ctx = requires("sharing.flows")) -> Response:
    return _flows_page(ctx)


def _flow_page(ctx: Ctx, resource_id: int, error: LongshuError | None = None) -> Response:
    resource = ctx.session.get(Resource, resource_id)
    if resource is None:
        raise FlowResourceNotFound(resource=resource_id)
    access.require(ctx.actor, "sharing.flows", resource)
    try:
        flow = returnflows.get_flow(ctx.session, ctx.actor, resource_id)
    except FlowNotFound:
        flow = None
    org_ids = [m.org_id for m in flow.members] if flow else []
    orgs = {
        o.id: o
        for o in ctx.session.scalars(
            select(Organization).where(Organization.id.in_(org_ids or [0]))
        )
    }
    return render(
        ctx.request,
        "sharing/flows_resource.html",
        {
            "resource": resource,
            "flow": flow,
            "orgs": orgs,
            "fields": [f.name for f in resource.fields],
            "error": error,
        },
        status_code=error.status if error else 200,
    )


@router.get("/console/sharing/flows/{resource_id}")
def flow_page(resource_id: int, ctx: Ctx = requires("sharing.flows")) -> Response:
    return _flow_page(ctx, resource_id)


def _back(ctx: Ctx, resource_id: int, work: Any) -> Response:
    try:
        work()
    except LongshuError as exc:
        ctx.session.rollback()
        return _flow_page(ctx, resource_id, error=exc)
    return RedirectResponse(f"/console/sharing/flows/{resource_id}", status_code=303)


def _ids(text: str) -> list[int]:
    parts = [p for p in text.replace("，", ",").replace(" ", ",").split(",") if p]
    if any(not p.isdigit() or len(p) > 12 for p in parts):
        raise FlowInvalid(detail="departments are listed by their numeric ids")
    return [int(p) for p in parts]


@router.post("/console/sharing/flows/{resource_id}")
def configure_from_form(
    resource_id: int,
    fields: Annotated[list[str] | None, Form(max_length=200)] = None,
    modes: Annotated[list[str] | None, Form(max_length=10)] = None,
    levels: Annotated[list[str] | None, Form(max_length=10)] = None,
    receivers: Annotated[str, Form(max_length=10)] = "line",
    receiver_org_ids: Annotated[str, Form(max_length=6000)] = "",
    region_column: Annotated[str, Form(max_length=63)] = "",
    days: Annotated[int, Form(ge=1, le=returnflows.MAX_DAYS)] = returnflows.MAX_DAYS,
    ctx: Ctx = requires("sharing.flows"),
) -> Response:
    return _back(
        ctx, resource_id,
        lambda: returnflows.configure(
            ctx.session, ctx.actor, resource_id, fields=fields or [], modes=modes or [],
            levels=levels or [], receivers=receivers, receiver_org_ids=_ids(receiver_org_ids),
            region_column=region_column or None, days=days,
        ),
    )  # fmt: skip


@router.post("/console/sharing/flows/{resource_id}/apply")
def apply_from_form(resource_id: int, ctx: Ctx = requires("sharing.flows")) -> Response:
    return _back(ctx, resource_id, lambda: returnflows.apply(ctx.session, ctx.actor, resource_id))


@router.post("/console/sharing/flows/{resource_id}/disable")
def disable_from_form(
    resource_id: int,
    reason: Annotated[str, Form(max_length=2000)] = "",
    ctx: Ctx = requires("sharing.flows"),
) -> Response:
    return _back(
        ctx, resource_id,
        lambda: returnflows.disable(ctx.session, ctx.actor, resource_id, reason),
    )  # fmt: skip


# --- duty lists -------------------------------------------------------------------------------------


def _duties_page(ctx: Ctx, error: LongshuError | None = None) -> Response:
    start, end = duties.previous_month()
    return render(
        ctx.request,
        "sharing/duties_console.html",
        {
            "editions": duties.list_editions(ctx.session, ctx.actor),
            "start": start,
            "end": end,
            "error": error,
        },
        status_code=error.status if error else 200,
    )


@router.get("/console/sharing/duties")
def duties_console(ctx: Ctx = requires("sharing.duties")) -> Response:
    return _duties_page(ctx)


@router.post("/console/sharing/duties")
def compile_from_form(
    period_start: Annotated[str, Form(max_length=10)] = "",
    period_end: Annotated[str, Form(max_length=10)] = "",
    ctx: Ctx = requires("sharing.duties"),
) -> Response:
    import datetime as dt

    try:
        try:
            start = dt.date.fromisoformat(period_start) if period_start else None
            end = dt.date.fromisoformat(period_end) if period_end else None
        except ValueError as exc:
            raise DutyPeriodInvalid(detail="dates are YYYY-MM-DD") from exc
        edition = duties.compile_edition(ctx.session, ctx.actor, start, end)
    except LongshuError as exc:
        ctx.session.rollback()
        return _duties_page(ctx, error=exc)
    return RedirectResponse(f"/sharing/duties/{edition.id}", status_code=303)


@router.post("/console/sharing/duties/{edition_id}/publish")
def publish_from_form(edition_id: int, ctx: Ctx = requires("sharing.duties")) -> Response:
    try:
        duties.publish(ctx.session, ctx.actor, edition_id)
    except LongshuError as exc:
        ctx.session.rollback()
        return _duties_page(ctx, error=exc)
    return RedirectResponse(f"/sharing/duties/{edition_id}", status_code=303)


@router.get("/sharing/duties")
def duties_public(ctx: Ctx = requires("sharing.duties_public")) -> Response:
    """Published duty list editions (drafts too for the bureau)."""
    return render(
        ctx.request,
        "sharing/duties_list.html",
        {"editions": duties.list_editions(ctx.session, ctx.actor)},
    )


@router.get("/sharing/duties/{edition_id}")
def duty_edition_page(edition_id: int, ctx: Ctx = requires("sharing.duties_public")) -> Response:
    edition = duties.get_edition(ctx.session, ctx.actor, edition_id)
    return render(
        ctx.request,
        "sharing/duties_edition.html",
        {
            "edition": edition,
            "columns": columns(ctx.request.state.locale),
            "may_publish": edition.status == "draft"
            and bool(access.decide(ctx.actor, "sharing.duties")),
        },
    )
