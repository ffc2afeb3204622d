"""JSON API of regions (public reference data) and organisations (staff directory)."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Query

from longshu.orgs import regions, service
from longshu.orgs.models import ORG_KINDS, Organization, Region
from longshu.orgs.schemas import (
    DeactivateIn,
    OrganizationIn,
    OrganizationOut,
    OrganizationPage,
    OrganizationPatch,
    RegionDetailOut,
    RegionNodeOut,
    RegionOut,
    TermOut,
)
from longshu.orgs.service import OrgFilter
from longshu.security.context import Ctx, requires

router = APIRouter(prefix="/api/v1", tags=["orgs"])


def organization_out(org: Organization) -> OrganizationOut:
    return OrganizationOut.model_validate(
        {
            **{c: getattr(org, c) for c in OrganizationOut.model_fields if c != "region_name"},
            "region_name": org.region.name,
        }
    )


def _node(node: regions.RegionNode) -> RegionNodeOut:
    out = RegionNodeOut.model_validate(node.region, from_attributes=True)
    out.children = [_node(child) for child in node.children]
    return out


@router.get("/regions", response_model=list[RegionOut])
def list_regions(
    level: Literal["province", "city", "county"] | None = None,
    parent: str | None = Query(default=None, max_length=12),
    ctx: Ctx = requires("public.read"),
) -> list[Region]:
    """Gansu's regions in the published order; ``parent`` gives one region's children."""
    return regions.list_regions(ctx.session, level=level, parent_code=parent)


@router.get("/regions/tree", response_model=RegionNodeOut)
def region_tree(
    root: str = Query(default=regions.PROVINCE_CODE, max_length=12),
    ctx: Ctx = requires("public.read"),
) -> RegionNodeOut:
    """A region with everything below it, nested."""
    return _node(regions.region_tree(ctx.session, root))


@router.get("/regions/{code}", response_model=RegionDetailOut)
def get_region(code: str, ctx: Ctx = requires("public.read")) -> RegionDetailOut:
    """One region, the path down to it and its children."""
    region = regions.get_region(ctx.session, code)
    out = RegionOut.model_validate(region).model_dump()
    return RegionDetailOut(
        **out,
        path=[RegionOut.model_validate(r) for r in regions.region_path(ctx.session, region.code)],
        children=[
            RegionOut.model_validate(r)
            for r in regions.list_regions(ctx.session, parent_code=region.code)
        ],
    )


@router.get("/orgs/kinds", response_model=list[TermOut])
def list_kinds(ctx: Ctx = requires("public.read")) -> list[TermOut]:
    """The organisation kinds with their titles."""
    return [
        TermOut(code=t.code, title_zh=t.title_zh, title_en=t.title_en) for t in ORG_KINDS.values()
    ]


@router.get("/orgs", response_model=OrganizationPage)
def list_organizations(
    kind: str | None = Query(default=None, max_length=40),
    level: str | None = Query(default=None, max_length=40),
    region: str | None = Query(default=None, max_length=12),
    descendants: bool = True,
    active: Literal["true", "false", "all"] = "true",
    q: str | None = Query(default=None, max_length=100),
    limit: int = Query(default=100, ge=1, le=service.MAX_PAGE),
    offset: int = Query(default=0, ge=0),
    ctx: Ctx = requires("orgs.read"),
) -> OrganizationPage:
    """Organisations by kind, level, region (with the regions below it unless
    ``descendants=false``), activity and a name fragment."""
    where = OrgFilter(
        kind=kind,
        level=level,
        region_code=region,
        descendants=descendants,
        active=None if active == "all" else active == "true",
        name_contains=q,
    )
    page, total = service.list_organizations(ctx.session, ctx.actor, where, limit, offset)
    return OrganizationPage(
        items=[organization_out(o) for o in page], total=total, limit=limit, offset=offset
    )


@router.get("/orgs/{org_id}", response_model=OrganizationOut)
def get_organization(org_id: int, ctx: Ctx = requires("orgs.read")) -> OrganizationOut:
    return organization_out(service.get_organization(ctx.session, ctx.actor, org_id))


@router.post("/orgs", response_model=OrganizationOut, status_code=201)
def create_organization(
    body: OrganizationIn, ctx: Ctx = requires("orgs.manage")
) -> OrganizationOut:
    org = service.create_organization(ctx.session, ctx.actor, **body.model_dump())
    return organization_out(org)


@router.patch("/orgs/{org_id}", response_model=OrganizationOut)
def update_organization(
    org_id: int, body: OrganizationPatch, ctx: Ctx = requires("orgs.manage")
) -> OrganizationOut:
    changes = body.model_dump(exclude_unset=True)
    return organization_out(service.update_organization(ctx.session, ctx.actor, org_id, **changes))


@router.post("/orgs/{org_id}/deactivate", response_model=OrganizationOut)
def deactivate_organization(
    org_id: int, body: DeactivateIn | None = None, ctx: Ctx = requires("orgs.manage")
) -> OrganizationOut:
    reason = body.reason if body else None
    return organization_out(service.deactivate_organization(ctx.session, ctx.actor, org_id, reason))
