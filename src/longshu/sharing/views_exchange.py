"""Console pages of batch exchange: deliveries, receipts, destruction (``/console/sharing``).

``/console/sharing/deliveries``: the department's packages (as consumer and as provider) with
their state and destruction deadlines; ``/console/sharing/deliveries/overdue``: destructions
past their deadline — the provider's own, every department's for the bureau. Downloads and
signed records normally go through the API (the department's system signs them); the page
also takes a request for a package and a signed record pasted from the department's signing
tool (forms with the CSRF token)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Annotated, Literal

from fastapi import APIRouter, Form
from fastapi.responses import RedirectResponse, Response
from sqlalchemy import select

from longshu.errors import LongshuError
from longshu.orgs.models import Organization
from longshu.security.context import Ctx, requires
from longshu.sharing import deliveries, destruction, grants
from longshu.sharing.delivery_errors import SigningTimeInvalid
from longshu.sharing.delivery_models import Delivery
from longshu.web import render
from longshu.web.i18n import N_
from longshu.web.nav import register_nav

router = APIRouter(include_in_schema=False)

register_nav(
    "sharing-deliveries", "批量交换", "Batch deliveries", "/console/sharing/deliveries",
    "sharing.read", "sharing", order=40,
)  # fmt: skip
register_nav(
    "sharing-deliveries-overdue", "逾期未销毁", "Overdue destructions",
    "/console/sharing/deliveries/overdue", "sharing.read", "sharing", order=45,
)  # fmt: skip

STATE_LABELS = {
    "building": N_("Building"),
    "failed": N_("Failed"),
    "built": N_("Ready to download"),
    "downloaded": N_("Downloaded"),
    "received": N_("Receipt signed"),
    "destruction_due": N_("Destruction due"),
    "overdue": N_("Destruction overdue"),
    "destroyed": N_("Destroyed"),
}


def _names(ctx: Ctx, found: list[Delivery]) -> dict[int, str]:
    ids = {d.consumer_org_id for d in found} | {d.provider_org_id for d in found}
    if not ids:
        return {}
    rows = ctx.session.execute(
        select(Organization.id, Organization.short_name, Organization.name).where(
            Organization.id.in_(ids)
        )
    )
    return {i: short or name for i, short, name in rows}


def _deliveries_page(ctx: Ctx, error: LongshuError | None = None) -> Response:
    received = deliveries.list_deliveries(ctx.session, ctx.actor, side="consumer")
    given = deliveries.list_deliveries(ctx.session, ctx.actor, side="provider")
    batch_grants = [
        g
        for g in grants.grants_of(ctx.session, ctx.actor, status="active")
        if g.consumer_org_id == ctx.actor.org_id and "batch" in g.modes
    ]
    return render(
        ctx.request,
        "sharing/exchange_deliveries.html",
        {
            "received": received,
            "given": given,
            "batch_grants": batch_grants,
            "labels": STATE_LABELS,
            "orgs": _names(ctx, received + given),
            "error": error,
        },
        status_code=error.status if error else 200,
    )


@router.get("/console/sharing/deliveries")
def my_deliveries(ctx: Ctx = requires("sharing.read")) -> Response:
    """The department's batch deliveries, received and given, with states and deadlines."""
    return _deliveries_page(ctx)


def _back(ctx: Ctx, work: Callable[[], object]) -> Response:
    try:
        work()
    except LongshuError as exc:
        ctx.session.rollback()
        return _deliveries_page(ctx, error=exc)
    return RedirectResponse("/console/sharing/deliveries", status_code=303)


@router.post("/console/sharing/deliveries")
def request_from_form(
    grant_id: Annotated[int, Form()],
    recipient_public_key: Annotated[str, Form(max_length=260)],
    format: Annotated[Literal["parquet", "csv"], Form()] = "parquet",
    ctx: Ctx = requires("sharing.use"),
) -> Response:
    """Ask for a package of a grant held with the batch mode (built by a job)."""
    return _back(
        ctx,
        lambda: deliveries.request_delivery(
            ctx.session, ctx.actor, grant_id, fmt=format,
            recipient_key=recipient_public_key.strip(),
        ),
    )  # fmt: skip


def _signed_at(text: str) -> dt.datetime:
    try:
        moment = dt.datetime.fromisoformat(text.strip())
    except ValueError:
        raise SigningTimeInvalid() from None
    if moment.tzinfo is None:
        raise SigningTimeInvalid()
    return moment


@router.post("/console/sharing/deliveries/{delivery_id}/records")
def record_from_form(
    delivery_id: int,
    kind: Annotated[Literal["received", "destroyed"], Form()],
    signed_at: Annotated[str, Form(max_length=40)],
    signature: Annotated[str, Form(max_length=260)],
    statement: Annotated[str, Form(max_length=500)] = "",
    ctx: Ctx = requires("sharing.use"),
) -> Response:
    """A signed receipt or destruction confirmation pasted from the department's signing tool."""
    upload = destruction.accept_receipt if kind == "received" else destruction.confirm_destruction

    def work() -> object:
        return upload(
            ctx.session, ctx.actor, delivery_id, signature=signature.strip(),
            signed_at=_signed_at(signed_at), statement=statement or None,
        )  # fmt: skip

    return _back(ctx, work)


@router.get("/console/sharing/deliveries/overdue")
def overdue_destructions(ctx: Ctx = requires("sharing.read")) -> Response:
    """Packages whose destruction confirmation is overdue: the provider's own (and the
    consumer's own), every department's for the bureau."""
    side = "all" if deliveries.sees_all(ctx.actor) else "both"
    found = deliveries.list_deliveries(ctx.session, ctx.actor, side=side, state="overdue")
    return render(
        ctx.request,
        "sharing/exchange_overdue.html",
        {
            "overdue": found,
            "bureau": side == "all",
            "labels": STATE_LABELS,
            "orgs": _names(ctx, found),
        },
    )
