"""JSON API of the data element registry (一数一源), the three-level counts and the
应编尽编 duty lists. Mounted under the catalog API's prefix by ``api.py``."""

from __future__ import annotations

import datetime as dt

from fastapi import APIRouter, Query
from pydantic import BaseModel, ConfigDict, Field

from longshu.catalog import elements, levels
from longshu.catalog.present import org_names
from longshu.orgs import regions
from longshu.security.context import Ctx, requires

router = APIRouter(tags=["catalog"])


class ElementIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    code: str = Field(max_length=40)
    name: str = Field(max_length=200)
    definition: str = Field(max_length=4000)
    data_type: str = Field(default="string", max_length=40)
    length: int | None = None
    standard: str | None = Field(default=None, max_length=400)
    authority_org_id: int | None = None


class ElementUpdateIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(max_length=200)
    definition: str = Field(max_length=4000)
    data_type: str = Field(default="string", max_length=40)
    length: int | None = None
    standard: str | None = Field(default=None, max_length=400)


class ClaimOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    org_id: int
    basis: str | None
    status: str
    created_at: dt.datetime
    decided_at: dt.datetime | None


class ElementOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    code: str
    name: str
    definition: str
    data_type: str
    length: int | None
    standard: str | None
    authority_org_id: int | None
    authority_name: str | None = None
    claims: list[ClaimOut] = Field(default_factory=list)
    fields_linked: int = 0


class ClaimIn(BaseModel):
    basis: str | None = Field(default=None, max_length=2000)


class ResolveIn(BaseModel):
    org_id: int


class ConflictOut(BaseModel):
    kind: str
    element_id: int
    element_code: str
    element_name: str
    org_ids: list[int]
    resource_id: int | None
    field_name: str | None
    detail: dict[str, list[object]]


class RegionCountOut(BaseModel):
    code: str
    name: str
    level: str
    published: int
    public: int
    in_progress: int
    by_level: dict[str, int]


class LevelsOut(BaseModel):
    levels: dict[str, int]
    regions: list[RegionCountOut]


class DutyIn(BaseModel):
    org_id: int
    name: str = Field(max_length=400)
    note: str | None = Field(default=None, max_length=1000)


class DutyOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    org_id: int
    name: str
    note: str | None
    resource_id: int | None


class DutyLinkIn(BaseModel):
    resource_id: int | None


class CompletenessOut(BaseModel):
    org_id: int
    org_name: str
    region_code: str
    level: str
    expected: int
    fulfilled: int
    published: int
    ratio: float | None
    missing: list[str]


def element_out(ctx: Ctx, element, usage: dict[int, int] | None = None) -> ElementOut:  # type: ignore[no-untyped-def]
    out = ElementOut.model_validate(element)
    if element.authority_org_id:
        out.authority_name = org_names(ctx.session, [element.authority_org_id]).get(
            element.authority_org_id
        )
    out.claims = [ClaimOut.model_validate(c) for c in element.claims]
    out.fields_linked = (usage or {}).get(element.id, 0)
    return out


@router.get("/elements", response_model=list[ElementOut])
def list_elements(
    q: str | None = Query(default=None, max_length=50), ctx: Ctx = requires("catalog.browse")
) -> list[ElementOut]:
    """The data element registry with each element's authoritative source."""
    usage = elements.usage_counts(ctx.session)
    return [element_out(ctx, e, usage) for e in elements.list_elements(ctx.session, ctx.actor, q)]


@router.post("/elements", response_model=ElementOut, status_code=201)
def create_element(body: ElementIn, ctx: Ctx = requires("catalog.elements")) -> ElementOut:
    return element_out(ctx, elements.create_element(ctx.session, ctx.actor, **body.model_dump()))


@router.get("/elements/conflicts", response_model=list[ConflictOut])
def element_conflicts(ctx: Ctx = requires("catalog.work")) -> list[ConflictOut]:
    """What the bureau must resolve: competing authority claims, divergent field definitions."""
    return [
        ConflictOut(
            kind=c.kind,
            element_id=c.element.id,
            element_code=c.element.code,
            element_name=c.element.name,
            org_ids=c.org_ids,
            resource_id=c.resource_id,
            field_name=c.field_name,
            detail=c.detail,  # type: ignore[arg-type]
        )
        for c in elements.conflicts(ctx.session, ctx.actor)
    ]


@router.get("/elements/{element_id}", response_model=ElementOut)
def get_element(element_id: int, ctx: Ctx = requires("catalog.browse")) -> ElementOut:
    element = elements.get_element(ctx.session, ctx.actor, element_id)
    return element_out(ctx, element, elements.usage_counts(ctx.session))


@router.put("/elements/{element_id}", response_model=ElementOut)
def update_element(
    element_id: int, body: ElementUpdateIn, ctx: Ctx = requires("catalog.elements")
) -> ElementOut:
    element = elements.update_element(ctx.session, ctx.actor, element_id, **body.model_dump())
    return element_out(ctx, element)


@router.post("/elements/{element_id}/claims", response_model=ClaimOut, status_code=201)
def claim_element(element_id: int, body: ClaimIn, ctx: Ctx = requires("catalog.claim")) -> ClaimOut:
    """The caller's department claims to be the element's authoritative source."""
    return ClaimOut.model_validate(elements.claim(ctx.session, ctx.actor, element_id, body.basis))


@router.post("/elements/{element_id}/resolve", response_model=ElementOut)
def resolve_element(
    element_id: int, body: ResolveIn, ctx: Ctx = requires("catalog.elements")
) -> ElementOut:
    """The bureau decides the element's authoritative source."""
    return element_out(ctx, elements.resolve(ctx.session, ctx.actor, element_id, body.org_id))


@router.get("/levels", response_model=LevelsOut)
def level_view(
    root: str = Query(default=regions.PROVINCE_CODE, max_length=12),
    ctx: Ctx = requires("catalog.report"),
) -> LevelsOut:
    """Published entries per level, and per region below ``root`` (each with its counties)."""
    return LevelsOut(
        levels=levels.level_counts(ctx.session, ctx.actor),
        regions=[
            RegionCountOut(**vars(r)) for r in levels.region_counts(ctx.session, ctx.actor, root)
        ],
    )


@router.get("/completeness", response_model=list[CompletenessOut])
def completeness(
    region: str | None = Query(default=None, max_length=12), ctx: Ctx = requires("catalog.report")
) -> list[CompletenessOut]:
    """应编尽编: each department's published resources against its duty list."""
    return [
        CompletenessOut(**{**vars(r), "ratio": r.ratio})
        for r in levels.completeness(ctx.session, ctx.actor, region)
    ]


@router.get("/duties", response_model=list[DutyOut])
def list_duties(org: int | None = None, ctx: Ctx = requires("catalog.report")) -> list[DutyOut]:
    return [DutyOut.model_validate(d) for d in levels.duty_items(ctx.session, ctx.actor, org)]


@router.post("/duties", response_model=DutyOut, status_code=201)
def add_duty(body: DutyIn, ctx: Ctx = requires("catalog.duties")) -> DutyOut:
    return DutyOut.model_validate(
        levels.add_duty(ctx.session, ctx.actor, body.org_id, body.name, body.note)
    )


@router.put("/duties/{item_id}/resource", response_model=DutyOut)
def link_duty(item_id: int, body: DutyLinkIn, ctx: Ctx = requires("catalog.duties")) -> DutyOut:
    return DutyOut.model_validate(
        levels.link_duty(ctx.session, ctx.actor, item_id, body.resource_id)
    )


@router.delete("/duties/{item_id}", status_code=204)
def remove_duty(item_id: int, ctx: Ctx = requires("catalog.duties")) -> None:
    levels.remove_duty(ctx.session, ctx.actor, item_id)
