"""Console pages of the registries: data elements (数据元, 一数一源) — list, register, edit,
claims and the bureau's decision — and duty lists (应编尽编 责任清单) — add, link to the entry
that fulfils an item, remove; and the three-level report. Routes parse the form, call
``elements`` / ``levels`` and render; a refusal re-renders the page with the reason."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Query
from fastapi.responses import RedirectResponse, Response
from sqlalchemy import select

from longshu.catalog import elements, levels, present
from longshu.catalog.models import DutyItem, ElementClaim, Resource
from longshu.catalog.portal import VOCABULARIES
from longshu.catalog.service import PROVIDER_KINDS
from longshu.catalog.vocab import FIELD_TYPES
from longshu.errors import InvalidInput, LongshuError
from longshu.orgs import regions
from longshu.orgs.models import Organization
from longshu.security.context import Ctx, requires
from longshu.web import render

router = APIRouter(include_in_schema=False)

Short = Annotated[str, Form(max_length=200)]
Long = Annotated[str, Form(max_length=4000)]
Maybe = Annotated[str | None, Form(max_length=2000)]


def _length(text: str | None) -> int | None:
    text = (text or "").strip()
    if not text:
        return None
    if not text.isdigit() or len(text) > 6:
        raise InvalidInput(detail="length")
    return int(text)


# --- data elements ----------------------------------------------------------------------------


def _registry_page(
    ctx: Ctx, q: str | None, error: LongshuError | None = None, values: dict[str, Any] | None = None
) -> Response:
    registry = elements.list_elements(ctx.session, ctx.actor, q)
    conflicts = elements.conflicts(ctx.session, ctx.actor)
    org_ids = {e.authority_org_id for e in registry if e.authority_org_id}
    org_ids |= {c.org_id for e in registry for c in e.claims}
    org_ids |= {o for c in conflicts for o in c.org_ids}
    return render(
        ctx.request,
        "catalog/elements.html",
        {
            "registry": registry, "conflicts": conflicts,
            "orgs": present.org_names(ctx.session, org_ids),
            "usage": elements.usage_counts(ctx.session), "q": q or "",
            "field_types": FIELD_TYPES, "providers": _providers(ctx),
            "error": error, "values": values or {},
        },
        status_code=error.status if error else 200,
    )  # fmt: skip


@router.get("/console/catalog/elements")
def element_registry(
    q: str | None = Query(default=None, max_length=50), ctx: Ctx = requires("catalog.work")
) -> Response:
    """数据元: definitions, authoritative sources, claims, the conflicts to resolve, and (for
    the bureau) the form registering a new element."""
    return _registry_page(ctx, q)


@router.post("/console/catalog/elements")
def create_element(
    code: Annotated[str, Form(max_length=20)],
    name: Short,
    definition: Long,
    data_type: Annotated[str, Form(max_length=20)] = "string",
    length: Annotated[str | None, Form(max_length=10)] = None,
    standard: Maybe = None,
    authority_org_id: Annotated[str | None, Form(max_length=12)] = None,
    ctx: Ctx = requires("catalog.elements"),
) -> Response:
    values = {
        "code": code, "name": name, "definition": definition, "data_type": data_type,
        "length": length or "", "standard": standard or "", "authority_org_id": authority_org_id,
    }  # fmt: skip
    try:
        element = elements.create_element(
            ctx.session, ctx.actor, code=code, name=name, definition=definition,
            data_type=data_type, length=_length(length), standard=standard,
            authority_org_id=int(authority_org_id) if (authority_org_id or "").isdigit() else None,
        )  # fmt: skip
    except LongshuError as exc:
        ctx.session.rollback()
        return _registry_page(ctx, None, exc, values)
    return RedirectResponse(f"/console/catalog/elements/{element.id}", status_code=303)


def _element_page(ctx: Ctx, element_id: int, error: LongshuError | None = None) -> Response:
    element = elements.get_element(ctx.session, ctx.actor, element_id)
    claims = list(
        ctx.session.scalars(
            select(ElementClaim)
            .where(ElementClaim.element_id == element.id)
            .order_by(ElementClaim.id)
        )
    )
    org_ids = {c.org_id for c in claims} | ({element.authority_org_id} - {None})
    return render(
        ctx.request,
        "catalog/element.html",
        {
            "element": element, "claims": claims,
            "orgs": present.org_names(ctx.session, org_ids),
            "sources": elements.authoritative_resources(ctx.session, element),
            "usage": elements.usage_counts(ctx.session).get(element.id, 0),
            "field_types": FIELD_TYPES, "providers": _providers(ctx),
            "own_claim": next((c for c in claims if c.org_id == ctx.actor.org_id), None),
            "error": error,
        },
        status_code=error.status if error else 200,
    )  # fmt: skip


@router.get("/console/catalog/elements/{element_id:int}")
def element_page(element_id: int, ctx: Ctx = requires("catalog.work")) -> Response:
    """One element: its definition (editable by the bureau), the departments claiming to be
    its source, the bureau's decision, and the published entries of its authority."""
    return _element_page(ctx, element_id)


@router.post("/console/catalog/elements/{element_id:int}")
def update_element(
    element_id: int,
    name: Short,
    definition: Long,
    data_type: Annotated[str, Form(max_length=20)] = "string",
    length: Annotated[str | None, Form(max_length=10)] = None,
    standard: Maybe = None,
    ctx: Ctx = requires("catalog.elements"),
) -> Response:
    try:
        elements.update_element(
            ctx.session, ctx.actor, element_id, name=name, definition=definition,
            data_type=data_type, length=_length(length), standard=standard,
        )  # fmt: skip
    except LongshuError as exc:
        ctx.session.rollback()
        return _element_page(ctx, element_id, exc)
    return RedirectResponse(f"/console/catalog/elements/{element_id}", status_code=303)


@router.post("/console/catalog/elements/{element_id:int}/claim")
def claim_element(
    element_id: int, basis: Maybe = None, ctx: Ctx = requires("catalog.claim")
) -> Response:
    """The signed-in person's department claims to be the element's authoritative source."""
    try:
        elements.claim(ctx.session, ctx.actor, element_id, basis)
    except LongshuError as exc:
        ctx.session.rollback()
        return _element_page(ctx, element_id, exc)
    return RedirectResponse(f"/console/catalog/elements/{element_id}", status_code=303)


@router.post("/console/catalog/elements/{element_id:int}/resolve")
def resolve_element(
    element_id: int,
    org_id: Annotated[int, Form(ge=1)],
    ctx: Ctx = requires("catalog.elements"),
) -> Response:
    """The bureau records the authoritative source (其他认领被驳回)."""
    try:
        elements.resolve(ctx.session, ctx.actor, element_id, org_id)
    except LongshuError as exc:
        ctx.session.rollback()
        return _element_page(ctx, element_id, exc)
    return RedirectResponse(f"/console/catalog/elements/{element_id}", status_code=303)


def _providers(ctx: Ctx) -> list[tuple[int, str]]:
    """Departments that may provide data (for authority and duty-list choices)."""
    rows = ctx.session.execute(
        select(Organization.id, Organization.name)
        .where(Organization.kind.in_(PROVIDER_KINDS), Organization.active.is_(True))
        .order_by(Organization.region_code, Organization.name)
    )
    return [(i, n) for i, n in rows]


# --- duty lists -------------------------------------------------------------------------------


def _duties_page(
    ctx: Ctx,
    org: int | None,
    error: LongshuError | None = None,
    values: dict[str, Any] | None = None,
) -> Response:
    items = levels.duty_items(ctx.session, ctx.actor, org)
    org_ids = {i.org_id for i in items}
    entries: dict[int, list[tuple[int, str]]] = {o: [] for o in org_ids}
    if org_ids:
        for rid, name, owner in ctx.session.execute(
            select(Resource.id, Resource.name, Resource.provider_org_id)
            .where(Resource.provider_org_id.in_(org_ids), Resource.retired_at.is_(None))
            .order_by(Resource.name)
            .limit(5000)
        ):
            entries[owner].append((rid, name))
    names = {rid: name for owned in entries.values() for rid, name in owned}
    return render(
        ctx.request,
        "catalog/duties.html",
        {
            "items": items, "orgs": present.org_names(ctx.session, org_ids),
            "providers": _providers(ctx), "entries": entries, "entry_names": names,
            "org": org, "error": error, "values": values or {},
        },
        status_code=error.status if error else 200,
    )  # fmt: skip


@router.get("/console/catalog/duties")
def duty_lists(
    org: int | None = Query(default=None, ge=1), ctx: Ctx = requires("catalog.report")
) -> Response:
    """责任清单: the resources each department is expected to catalog (应编尽编), which entry
    fulfils each, and (for the bureau) the forms that keep the lists."""
    return _duties_page(ctx, org)


@router.post("/console/catalog/duties")
def add_duty(
    org_id: Annotated[int, Form(ge=1)],
    name: Short,
    note: Annotated[str | None, Form(max_length=500)] = None,
    ctx: Ctx = requires("catalog.duties"),
) -> Response:
    try:
        levels.add_duty(ctx.session, ctx.actor, org_id, name, note)
    except LongshuError as exc:
        ctx.session.rollback()
        return _duties_page(ctx, None, exc, {"org_id": org_id, "name": name, "note": note or ""})
    return RedirectResponse(f"/console/catalog/duties?org={org_id}", status_code=303)


@router.post("/console/catalog/duties/{item_id:int}/link")
def link_duty(
    item_id: int,
    resource_id: Annotated[str | None, Form(max_length=12)] = None,
    ctx: Ctx = requires("catalog.duties"),
) -> Response:
    """Say which entry fulfils the item (empty: none — matched by name again)."""
    chosen = int(resource_id) if (resource_id or "").isdigit() else None
    try:
        item = levels.link_duty(ctx.session, ctx.actor, item_id, chosen)
    except LongshuError as exc:
        ctx.session.rollback()
        return _duties_page(ctx, None, exc)
    return RedirectResponse(f"/console/catalog/duties?org={item.org_id}", status_code=303)


@router.post("/console/catalog/duties/{item_id:int}/remove")
def remove_duty(item_id: int, ctx: Ctx = requires("catalog.duties")) -> Response:
    item = ctx.session.get(DutyItem, item_id)
    org = item.org_id if item is not None else None
    try:
        levels.remove_duty(ctx.session, ctx.actor, item_id)
    except LongshuError as exc:
        ctx.session.rollback()
        return _duties_page(ctx, None, exc)
    return RedirectResponse(
        f"/console/catalog/duties?org={org}" if org else "/console/catalog/duties", status_code=303
    )


# --- three levels -----------------------------------------------------------------------------


@router.get("/console/catalog/levels")
def level_report(
    root: str = Query(default=regions.PROVINCE_CODE, max_length=12),
    ctx: Ctx = requires("catalog.report"),
) -> Response:
    """省市县三级: counts per level and region, and each department against its duty list."""
    return render(
        ctx.request,
        "catalog/levels.html",
        {
            "level_counts": levels.level_counts(ctx.session, ctx.actor),
            "regions": levels.region_counts(ctx.session, ctx.actor, root),
            "completeness": levels.completeness(ctx.session, ctx.actor, root),
            "root": root, "levels": VOCABULARIES["levels"],
        },
    )  # fmt: skip
