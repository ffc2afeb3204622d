"""JSON API of sharing (``/api/v1/sharing``): file a share request, review its items, list and
revoke grants, and query within a grant. Routes only translate; the rules are in the services."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field

from longshu.security.context import Ctx, requires
from longshu.sharing import grants, requests
from longshu.sharing.models import ShareGrant, ShareRequestItem
from longshu.sharing.query import Condition, QuerySpec, run_query

router = APIRouter(prefix="/api/v1/sharing", tags=["sharing"])

Code = Annotated[str, Field(max_length=64)]


class ItemIn(BaseModel):
    resource_id: int
    fields: list[Code] = Field(default_factory=list, max_length=200)
    regions: list[Annotated[str, Field(max_length=6)]] = Field(default_factory=list, max_length=200)
    modes: list[Literal["query", "verify", "batch"]] = Field(default=["query"], max_length=3)


class RequestIn(BaseModel):
    scenario: str = Field(max_length=200)
    purpose: str = Field(max_length=2000)
    legal_basis: str = Field(max_length=2000)
    days: int = Field(default=365, ge=1, le=1098)
    expected_volume: str = Field(default="", max_length=200)
    items: list[ItemIn] = Field(min_length=1, max_length=20)


class ItemOut(BaseModel):
    id: int
    request_id: int
    resource_id: int
    provider_org_id: int
    requester_org_id: int
    table: str
    fields: list[str]
    regions: list[str]
    modes: list[str]
    share_type: str
    grade: str | None
    state: str
    reason: str | None
    decided_at: dt.datetime | None


def _item_out(item: ShareRequestItem) -> ItemOut:
    return ItemOut(
        id=item.id, request_id=item.request_id, resource_id=item.resource_id,
        provider_org_id=item.provider_org_id, requester_org_id=item.request.requester_org_id,
        table=item.table_name, fields=item.fields, regions=item.regions, modes=item.modes,
        share_type=item.share_type, grade=item.grade, state=item.state, reason=item.reason,
        decided_at=item.decided_at,
    )  # fmt: skip


@router.post("/requests", response_model=list[ItemOut], status_code=201)
def file_request(body: RequestIn, ctx: Ctx = requires("sharing.request")) -> list[ItemOut]:
    """File a share request; returns its items (those shared without conditions granted)."""
    request = requests.submit(
        ctx.session, ctx.actor, scenario=body.scenario, purpose=body.purpose,
        legal_basis=body.legal_basis, days=body.days, expected_volume=body.expected_volume,
        items=[
            requests.ItemAsked(i.resource_id, tuple(i.fields), tuple(i.regions), tuple(i.modes))
            for i in body.items
        ],
    )  # fmt: skip
    return [_item_out(i) for i in request.items]


@router.get("/items", response_model=list[ItemOut])
def list_items(
    side: Literal["provider", "requester"] = "requester",
    state: str | None = Query(default=None, max_length=20),
    ctx: Ctx = requires("sharing.read"),
) -> list[ItemOut]:
    """Items the actor's department asked for, or (``side=provider``) must decide on."""
    found = requests.list_items(ctx.session, ctx.actor, side=side, state=state)
    return [_item_out(i) for i in found]


class DecisionIn(BaseModel):
    comment: str | None = Field(default=None, max_length=2000)


@router.post("/items/{item_id}/approve", response_model=ItemOut)
def approve_item(item_id: int, body: DecisionIn, ctx: Ctx = requires("sharing.review")) -> ItemOut:
    requests.approve(ctx.session, ctx.actor, item_id, body.comment)
    return _item_out(requests.get_item(ctx.session, item_id))


@router.post("/items/{item_id}/refuse", response_model=ItemOut)
def refuse_item(item_id: int, body: DecisionIn, ctx: Ctx = requires("sharing.review")) -> ItemOut:
    requests.refuse(ctx.session, ctx.actor, item_id, body.comment or "")
    return _item_out(requests.get_item(ctx.session, item_id))


@router.post("/items/{item_id}/withdraw", response_model=ItemOut)
def withdraw_item(
    item_id: int, body: DecisionIn, ctx: Ctx = requires("sharing.request")
) -> ItemOut:
    requests.withdraw(ctx.session, ctx.actor, item_id, body.comment)
    return _item_out(requests.get_item(ctx.session, item_id))


class GrantOut(BaseModel):
    id: int
    consumer_org_id: int
    provider_org_id: int
    resource_id: int
    table: str
    fields: list[str]
    masked: dict[str, str]
    regions: list[str]
    modes: list[str]
    rate_per_minute: int
    daily_quota: int
    valid_from: dt.datetime
    valid_until: dt.datetime
    status: str


def _grant_out(grant: ShareGrant) -> GrantOut:
    return GrantOut(
        id=grant.id, consumer_org_id=grant.consumer_org_id,
        provider_org_id=grant.provider_org_id, resource_id=grant.resource_id,
        table=grant.table_name, fields=grant.fields, masked=grant.masks, regions=grant.regions,
        modes=grant.modes, rate_per_minute=grant.rate_per_minute, daily_quota=grant.daily_quota,
        valid_from=grant.valid_from, valid_until=grant.valid_until, status=grant.status,
    )  # fmt: skip


@router.get("/grants", response_model=list[GrantOut])
def list_grants(
    status: str | None = Query(default=None, max_length=10), ctx: Ctx = requires("sharing.read")
) -> list[GrantOut]:
    """Grants the actor's department holds or gave."""
    return [_grant_out(g) for g in grants.grants_of(ctx.session, ctx.actor, status=status)]


class RevokeIn(BaseModel):
    reason: str = Field(max_length=2000)


@router.post("/grants/{grant_id}/revoke", response_model=GrantOut)
def revoke_grant(grant_id: int, body: RevokeIn, ctx: Ctx = requires("sharing.revoke")) -> GrantOut:
    return _grant_out(grants.revoke(ctx.session, ctx.actor, grant_id, body.reason))


class ConditionIn(BaseModel):
    field: Code
    op: Literal["=", "!=", "<", "<=", ">", ">=", "in", "prefix"]
    value: str | int | float | list[str | int | float]


class QueryIn(BaseModel):
    fields: list[Code] = Field(default_factory=list, max_length=200)
    where: list[ConditionIn] = Field(default_factory=list, max_length=20)
    order_by: list[tuple[Code, bool]] = Field(default_factory=list, max_length=5)
    limit: int = Field(default=100, ge=1, le=1000)
    offset: int = Field(default=0, ge=0, le=10_000_000)
    version: int | None = Field(default=None, ge=1)


@router.post("/grants/{grant_id}/query")
def query_grant(grant_id: int, body: QueryIn, ctx: Ctx = requires("sharing.use")) -> dict[str, Any]:
    """Select, filter, sort and page within the grant (查询). Masks and region rows apply."""
    spec = QuerySpec(
        fields=tuple(body.fields),
        where=tuple(Condition(c.field, c.op, c.value) for c in body.where),
        order_by=tuple(body.order_by),
        limit=body.limit,
        offset=body.offset,
        version=body.version,
    )
    rows, facts = run_query(ctx.session, ctx.actor, grant_id, spec)
    return {"rows": rows, **facts}
