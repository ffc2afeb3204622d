"""Return flows (数据回流) and duty lists (共享责任清单) over HTTP (``/api/v1/sharing``).
Routes only translate; the rules are in ``returnflows`` and ``duties``."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Annotated, Literal

from fastapi import APIRouter
from fastapi.responses import Response
from pydantic import BaseModel, Field

from longshu.security.context import Ctx, requires
from longshu.sharing import duties, returnflows
from longshu.sharing.flow_models import DutyEdition, DutyEntry, ReturnFlow

router = APIRouter(prefix="/api/v1/sharing", tags=["sharing"])

Code = Annotated[str, Field(max_length=64)]
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


# --- return flows ---------------------------------------------------------------------------------


class FlowIn(BaseModel):
    fields: list[Code] = Field(default_factory=list, max_length=200)
    modes: list[Literal["query", "verify", "batch"]] = Field(default=["query"], max_length=3)
    levels: list[Literal["city", "county"]] = Field(default=["city", "county"], max_length=2)
    receivers: Literal["line", "list"] = "line"
    receiver_org_ids: list[int] = Field(default_factory=list, max_length=500)
    region_column: Code | None = None
    days: int = Field(default=returnflows.MAX_DAYS, ge=1, le=returnflows.MAX_DAYS)


class MemberOut(BaseModel):
    org_id: int
    region_code: str
    grant_id: int | None
    status: str


class FlowOut(BaseModel):
    resource_id: int
    provider_org_id: int
    enabled: bool
    fields: list[str]
    modes: list[str]
    levels: list[str]
    receivers: str
    receiver_org_ids: list[int]
    region_column: str
    days: int
    applied_at: dt.datetime | None
    members: list[MemberOut]


def _flow_out(flow: ReturnFlow) -> FlowOut:
    return FlowOut(
        resource_id=flow.resource_id, provider_org_id=flow.provider_org_id, enabled=flow.enabled,
        fields=flow.fields, modes=flow.modes, levels=flow.levels, receivers=flow.receivers,
        receiver_org_ids=flow.receiver_org_ids, region_column=flow.region_column, days=flow.days,
        applied_at=flow.applied_at,
        members=[
            MemberOut(org_id=m.org_id, region_code=m.region_code, grant_id=m.grant_id,
                      status=m.status)
            for m in flow.members
        ],
    )  # fmt: skip


class AppliedOut(BaseModel):
    created: list[int]
    kept: list[int]
    replaced: list[int]
    revoked: list[int]
    skipped: list[int]


class ReasonIn(BaseModel):
    reason: str = Field(max_length=2000)


@router.get("/flows", response_model=list[FlowOut])
def list_flows(ctx: Ctx = requires("sharing.flows")) -> list[FlowOut]:
    """The return flows of the actor's department (all of them for the bureau)."""
    return [_flow_out(f) for f in returnflows.list_flows(ctx.session, ctx.actor)]


@router.get("/flows/{resource_id}", response_model=FlowOut)
def get_flow(resource_id: int, ctx: Ctx = requires("sharing.flows")) -> FlowOut:
    return _flow_out(returnflows.get_flow(ctx.session, ctx.actor, resource_id))


@router.put("/flows/{resource_id}", response_model=FlowOut)
def configure_flow(resource_id: int, body: FlowIn, ctx: Ctx = requires("sharing.flows")) -> FlowOut:
    """Create or change (and enable) a resource's return flow; ``apply`` grants."""
    flow = returnflows.configure(
        ctx.session, ctx.actor, resource_id, fields=body.fields, modes=body.modes,
        levels=body.levels, receivers=body.receivers, receiver_org_ids=body.receiver_org_ids,
        region_column=body.region_column, days=body.days,
    )  # fmt: skip
    return _flow_out(flow)


@router.post("/flows/{resource_id}/apply", response_model=AppliedOut)
def apply_flow(resource_id: int, ctx: Ctx = requires("sharing.flows")) -> AppliedOut:
    """Make the standing grants match the flow (idempotent)."""
    done = returnflows.apply(ctx.session, ctx.actor, resource_id)
    return AppliedOut(**done.__dict__)


@router.post("/flows/{resource_id}/disable", response_model=FlowOut)
def disable_flow(resource_id: int, body: ReasonIn, ctx: Ctx = requires("sharing.flows")) -> FlowOut:
    """Stop the flow; every standing grant is revoked with the reason."""
    return _flow_out(returnflows.disable(ctx.session, ctx.actor, resource_id, body.reason))


# --- duty lists ---------------------------------------------------------------------------------------


class EditionOut(BaseModel):
    id: int
    title: str
    period_start: dt.date
    period_end: dt.date
    number: int
    status: str
    compiled_at: dt.datetime
    published_at: dt.datetime | None


class EntryOut(BaseModel):
    org_id: int
    org_name: str
    region_code: str
    level: str
    resources_unconditional: int
    resources_conditional: int
    duty_items: int
    duty_items_fulfilled: int
    grants_active: int
    requests_received: int
    auto_granted: int
    approved: int
    refused: int
    pending: int
    withdrawn: int
    overdue: int
    median_days: Decimal | None
    p90_days: Decimal | None
    on_time_ratio: Decimal | None
    never_requested: int
    details: dict[str, list[str]]


class EditionFullOut(EditionOut):
    entries: list[EntryOut]


def _edition_out(edition: DutyEdition) -> EditionOut:
    return EditionOut.model_validate(edition, from_attributes=True)


def _entry_out(entry: DutyEntry) -> EntryOut:
    return EntryOut.model_validate(entry, from_attributes=True)


class CompileIn(BaseModel):
    period_start: dt.date | None = None
    period_end: dt.date | None = None


@router.get("/duties", response_model=list[EditionOut])
def list_duty_editions(ctx: Ctx = requires("sharing.duties_public")) -> list[EditionOut]:
    """Published duty list editions, newest first (drafts too for the bureau). Public."""
    return [_edition_out(e) for e in duties.list_editions(ctx.session, ctx.actor)]


@router.get("/duties/{edition_id}", response_model=EditionFullOut)
def get_duty_edition(
    edition_id: int, ctx: Ctx = requires("sharing.duties_public")
) -> EditionFullOut:
    edition = duties.get_edition(ctx.session, ctx.actor, edition_id)
    return EditionFullOut(
        **_edition_out(edition).model_dump(), entries=[_entry_out(e) for e in edition.entries]
    )


def _attachment(name: str) -> dict[str, str]:
    return {"Content-Disposition": f'attachment; filename="{name}"'}


@router.get("/duties/{edition_id}/export.csv", response_class=Response)
def export_duty_csv(edition_id: int, ctx: Ctx = requires("sharing.duties_public")) -> Response:
    edition = duties.get_edition(ctx.session, ctx.actor, edition_id)
    return Response(
        duties.export_csv(edition, ctx.request.state.locale), media_type="text/csv; charset=utf-8",
        headers=_attachment(f"duty-list-{edition.id}.csv"),
    )  # fmt: skip


@router.get("/duties/{edition_id}/export.xlsx", response_class=Response)
def export_duty_xlsx(edition_id: int, ctx: Ctx = requires("sharing.duties_public")) -> Response:
    edition = duties.get_edition(ctx.session, ctx.actor, edition_id)
    return Response(
        duties.export_xlsx(edition, ctx.request.state.locale), media_type=XLSX,
        headers=_attachment(f"duty-list-{edition.id}.xlsx"),
    )  # fmt: skip


@router.post("/duties", response_model=EditionOut, status_code=201)
def compile_duty_edition(body: CompileIn, ctx: Ctx = requires("sharing.duties")) -> EditionOut:
    """Compile a draft edition for [period_start, period_end) (default: last month)."""
    edition = duties.compile_edition(ctx.session, ctx.actor, body.period_start, body.period_end)
    return _edition_out(edition)


@router.post("/duties/{edition_id}/publish", response_model=EditionOut)
def publish_duty_edition(edition_id: int, ctx: Ctx = requires("sharing.duties")) -> EditionOut:
    return _edition_out(duties.publish(ctx.session, ctx.actor, edition_id))
