"""Console pages of batch exchange: deliveries, receipts, destruction (``/console/sharing``).

``/console/sharing/deliveries``: the department's packages (as consumer and as provider) with
their state and destruction deadlines; ``/console/sharing/deliveries/overdue``: destructions
past their deadline — the provider's own, every department's for the bureau. Downloads and
signed records go through the API (the department's system signs them)."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import Response
from sqlalchemy import select

from longshu.orgs.models import Organization
from longshu.security.context import Ctx, requires
from longshu.sharing import deliveries
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


@router.get("/console/sharing/deliveries")
def my_deliveries(ctx: Ctx = requires("sharing.read")) -> Response:
    """The department's batch deliveries, received and given, with states and deadlines."""
    received = deliveries.list_deliveries(ctx.session, ctx.actor, side="consumer")
    given = deliveries.list_deliveries(ctx.session, ctx.actor, side="provider")
    return render(
        ctx.request,
        "sharing/exchange_deliveries.html",
        {
            "received": received,
            "given": given,
            "labels": STATE_LABELS,
            "orgs": _names(ctx, received + given),
        },
    )


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
