"""Console pages of the organisations domain: the directory with a region filter."""

from __future__ import annotations

from fastapi import APIRouter, Query
from fastapi.responses import Response

from longshu.errors import LongshuError
from longshu.orgs import regions, service
from longshu.orgs.models import LEVELS, ORG_KINDS
from longshu.orgs.service import OrgFilter
from longshu.security.context import Ctx, requires
from longshu.web import render
from longshu.web.nav import register_nav

router = APIRouter(include_in_schema=False)

register_nav("orgs", "机构目录", "Organisations", "/console/orgs", "orgs.read", "admin", order=20)

PAGE_SIZE = 50


@router.get("/console/orgs")
def organisation_directory(
    region: str | None = Query(default=None, max_length=12),
    kind: str | None = Query(default=None, max_length=40),
    q: str | None = Query(default=None, max_length=100),
    inactive: bool = False,
    page: int = Query(default=1, ge=1, le=10_000),
    ctx: Ctx = requires("orgs.read"),
) -> Response:
    """The directory: every organisation of a region and the regions below it."""
    where = OrgFilter(
        region_code=region or None,
        kind=kind or None,
        name_contains=q or None,
        active=None if inactive else True,
    )
    error: LongshuError | None = None
    try:
        orgs, total = service.list_organizations(
            ctx.session, ctx.actor, where, PAGE_SIZE, (page - 1) * PAGE_SIZE
        )
    except LongshuError as exc:  # a bad filter shows the message above an empty list
        error, orgs, total = exc, [], 0
    try:
        tree = regions.region_tree(ctx.session)
    except LongshuError:  # regions not loaded yet: the filter offers no regions
        tree = None
    return render(
        ctx.request,
        "orgs/list.html",
        {
            "orgs": orgs,
            "total": total,
            "page": page,
            "pages": max(1, -(-total // PAGE_SIZE)),
            "tree": tree,
            "kinds": ORG_KINDS,
            "levels": LEVELS,
            "selected": {
                "region": region or "",
                "kind": kind or "",
                "q": q or "",
                "inactive": inactive,
            },
            "error": error,
        },
        status_code=error.status if error else 200,
    )
