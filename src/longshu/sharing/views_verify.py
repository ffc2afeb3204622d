"""Console page of verification (核验) for the providing department: ``/console/sharing/
verify`` lists its published resources that have a lake table — each one's setup (or what the
latest scan proposes), its ready and latest index — with forms to set up and to build.

Routes parse the forms and call ``verify_service``; the query here is for display (which
resources to list)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import APIRouter, Form
from fastapi.responses import RedirectResponse, Response
from sqlalchemy import select

from longshu.catalog.models import Resource
from longshu.errors import Forbidden, LongshuError
from longshu.security.context import Ctx, requires
from longshu.sharing import verify_service
from longshu.sharing.verify_api_errors import VerifyResourceNotFound
from longshu.sharing.verify_keys import KINDS
from longshu.sharing.verify_models import VerifyIndexRecord, VerifySetup
from longshu.sharing.views import is_bureau
from longshu.web import render
from longshu.web.nav import register_nav

router = APIRouter(include_in_schema=False)

register_nav(
    "sharing-verify", "核验服务", "Verification", "/console/sharing/verify", "sharing.review",
    "sharing", order=50,
)  # fmt: skip

PAGE = "/console/sharing/verify"
Field = Annotated[str, Form(max_length=128)]


@dataclass
class VerifyRow:
    resource: Resource
    setup: VerifySetup | None
    proposal: dict[str, Any] | None
    ready: VerifyIndexRecord | None
    latest: VerifyIndexRecord | None


def _rows(ctx: Ctx) -> list[VerifyRow]:
    query = select(Resource).where(Resource.status == "published").order_by(Resource.id)
    if not is_bureau(ctx.actor):
        query = query.where(Resource.provider_org_id == ctx.actor.org_id)
    rows = []
    for resource in ctx.session.scalars(query.limit(200)):
        try:  # the service's own checks: a lake table, and the actor may review the resource
            setup, proposal = verify_service.setup_and_proposal(ctx.session, ctx.actor, resource.id)
        except (VerifyResourceNotFound, Forbidden):
            continue
        records = verify_service.indexes(ctx.session, ctx.actor, resource.id)
        ready = next((r for r in records if r.status == "ready"), None)
        rows.append(VerifyRow(resource, setup, proposal, ready, records[0] if records else None))
    return rows


def _page(ctx: Ctx, error: LongshuError | None = None, failed_for: int | None = None) -> Response:
    return render(
        ctx.request,
        "sharing/verify.html",
        {"rows": _rows(ctx), "kinds": KINDS, "error": error, "failed_for": failed_for},
        status_code=error.status if error else 200,
    )


@router.get(PAGE)
def verify_page(ctx: Ctx = requires("sharing.review")) -> Response:
    return _page(ctx)


@router.post(PAGE + "/{resource_id}/setup")
def setup_from_form(
    resource_id: int,
    kind: Field = "",
    key_column: Field = "",
    attribute_column: Field = "",
    region_column: Field = "",
    ctx: Ctx = requires("sharing.review"),
) -> Response:
    """Set up (or change) the resource's verification; blank fields take the proposal."""
    try:
        verify_service.configure(
            ctx.session, ctx.actor, resource_id, kind=kind or None,
            key_column=key_column or None, attribute_column=attribute_column or None,
            region_column=region_column or None,
        )  # fmt: skip
    except LongshuError as exc:
        ctx.session.rollback()
        return _page(ctx, error=exc, failed_for=resource_id)
    return RedirectResponse(PAGE, status_code=303)


@router.post(PAGE + "/{resource_id}/build")
def build_from_form(resource_id: int, ctx: Ctx = requires("sharing.review")) -> Response:
    """Build the index of the table's newest version now (a failure is shown on the page)."""
    try:
        verify_service.build(ctx.session, ctx.actor, resource_id)
    except LongshuError as exc:
        ctx.session.rollback()
        return _page(ctx, error=exc, failed_for=resource_id)
    return RedirectResponse(PAGE, status_code=303)
