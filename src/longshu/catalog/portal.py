"""Public pages of the catalog: search with facets, and the page of one published entry
(metadata, fields, published revisions, grade and quality once known, how to obtain it)."""

from __future__ import annotations

from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Query
from fastapi.responses import Response

from longshu.catalog import present, search, service
from longshu.catalog.params import SearchParams, search_params
from longshu.catalog.vocab import (
    BASE_DATABASES,
    DOMAINS,
    FIELD_TYPES,
    FORMATS,
    KINDS,
    LEVELS,
    OPEN_TYPES,
    SHARE_TYPES,
    THEME_DATABASES,
    UPDATE_CYCLES,
)
from longshu.errors import LongshuError
from longshu.security.context import Ctx, requires
from longshu.web import render
from longshu.web.nav import register_nav

router = APIRouter(include_in_schema=False)

register_nav(
    "catalog-portal", "数据目录", "Data catalog", "/catalog", "catalog.browse", "portal", order=20
)

PAGE_SIZE = 20
FACET_TITLES = {
    "domain": "Field",
    "provider": "Department",
    "region": "Region",
    "level": "Level",
    "share_type": "Sharing",
    "open_type": "Opening",
    "format": "Format",
    "grade": "Grade",
    "update_cycle": "Update frequency",
    "kind": "Kind",
    "database": "Base and theme databases",
}
VOCABULARIES = {
    "domains": DOMAINS, "levels": LEVELS, "share_types": SHARE_TYPES, "open_types": OPEN_TYPES,
    "update_cycles": UPDATE_CYCLES, "kinds": KINDS, "formats": FORMATS,
    "field_types": FIELD_TYPES, "base_databases": BASE_DATABASES,
    "theme_databases": THEME_DATABASES,
}  # fmt: skip


@router.get("/catalog")
def catalog_search(
    params: SearchParams = Depends(search_params),
    page: int = Query(default=1, ge=1, le=5000),
    ctx: Ctx = requires("catalog.browse"),
) -> Response:
    """The catalog: search box, facets, results."""
    error: LongshuError | None = None
    shown: dict[str, object] = {"total": 0, "items": [], "facets": {}}
    try:
        query = params.query(ctx.session, PAGE_SIZE, (page - 1) * PAGE_SIZE)
        shown = present.search_result(
            ctx.session, search.search(ctx.session, ctx.actor, query), ctx.locale
        )
    except LongshuError as exc:  # a bad filter: say why above an empty result
        error = exc
    total = int(shown["total"])  # type: ignore[call-overload]
    selected = params.chosen()
    return render(
        ctx.request,
        "catalog/search.html",
        {
            "result": shown,
            "selected": selected,
            "sort": params.sort,
            "page": page,
            "pages": max(1, -(-total // PAGE_SIZE)),
            "facet_titles": FACET_TITLES,
            "link": lambda **changes: _link(selected, params.sort, **changes),
            "error": error,
            **VOCABULARIES,
        },
        status_code=error.status if error else 200,
    )


def _link(selected: dict[str, object], sort: str, **changes: object) -> str:
    """The search URL with some filters changed (None removes one); the page resets."""
    params = {**selected, "sort": sort, **changes}
    if "page" not in changes:
        params.pop("page", None)
    clean = [(k, str(v)) for k, v in params.items() if v not in (None, "")]
    return "/catalog?" + urlencode(clean)


@router.get("/catalog/resources/{resource_id}")
def resource_page(resource_id: int, ctx: Ctx = requires("catalog.browse")) -> Response:
    """One published entry: what it holds, who provides it, how to obtain it."""
    resource, revision = service.published_snapshot(ctx.session, ctx.actor, resource_id)
    entry = present.published_entry(ctx.session, resource, revision)
    history = service.revisions(ctx.session, resource, published_only=True)
    return render(
        ctx.request,
        "catalog/resource.html",
        {
            "entry": entry,
            "resource": resource,
            "history": history,
            "can_work": service.can_see_working_copy(ctx.actor, resource),
            **VOCABULARIES,
        },
    )
