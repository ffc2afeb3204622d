"""JSON API of the catalog: search and read the published catalog (everyone, within what
they may see), and draft, review and publish entries (departments and the bureau)."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Depends, Query, UploadFile
from fastapi.responses import JSONResponse, Response

from longshu.catalog import dcat, excel, lifecycle, present, search, service
from longshu.catalog.errors import ImportRejected
from longshu.catalog.params import SearchParams, search_params
from longshu.catalog.schemas import (
    DiffOut,
    EntryOut,
    HistoryOut,
    ImportOut,
    MoveIn,
    NewResourceIn,
    ReopenIn,
    ResourceUpdateIn,
    RevisionOut,
    SearchOut,
    TermOut,
    WorkingEntryOut,
    WorkingPage,
)
from longshu.catalog.service import ResourceFilter
from longshu.catalog.vocab import (
    BASE_DATABASES,
    DOMAINS,
    FIELD_TYPES,
    FORMATS,
    KINDS,
    LEVELS,
    OPEN_TYPES,
    SHARE_TYPES,
    STATUSES,
    THEME_DATABASES,
    UPDATE_CYCLES,
)
from longshu.orgs import regions
from longshu.security.context import Ctx, requires
from longshu.web import i18n

router = APIRouter(prefix="/api/v1/catalog", tags=["catalog"])

VOCABULARIES = {
    "domains": DOMAINS,
    "base_databases": BASE_DATABASES,
    "theme_databases": THEME_DATABASES,
    "share_types": SHARE_TYPES,
    "open_types": OPEN_TYPES,
    "update_cycles": UPDATE_CYCLES,
    "kinds": KINDS,
    "formats": FORMATS,
    "statuses": STATUSES,
    "field_types": FIELD_TYPES,
    "levels": LEVELS,
}


def region_filter(ctx: Ctx, region: str | None) -> list[str] | None:
    """A region and every region below it (the province view aggregates cities and counties)."""
    return regions.descendant_codes(ctx.session, region) if region else None


@router.get("/vocabularies", response_model=dict[str, list[TermOut]])
def vocabularies(ctx: Ctx = requires("catalog.browse")) -> dict[str, list[TermOut]]:
    """The codes every catalog attribute takes, with Chinese and English titles."""
    return {
        name: [TermOut(code=t.code, title_zh=t.title_zh, title_en=t.title_en) for t in v.values()]
        for name, v in VOCABULARIES.items()
    }


@router.get("/search", response_model=SearchOut)
def search_catalog(
    params: SearchParams = Depends(search_params),
    limit: int = Query(default=20, ge=1, le=search.MAX_PAGE),
    offset: int = Query(default=0, ge=0, le=100_000),
    ctx: Ctx = requires("catalog.browse"),
) -> SearchOut:
    """Full-text search of the published catalog (Chinese words of two characters and more,
    phrases, single characters as prefixes) with facet counts over the whole match."""
    result = search.search(ctx.session, ctx.actor, params.query(ctx.session, limit, offset))
    shown = present.search_result(ctx.session, result, ctx.locale)
    return SearchOut(**shown, limit=limit, offset=offset)


@router.get("/resources/{resource_id}", response_model=EntryOut)
def published_resource(resource_id: int, ctx: Ctx = requires("catalog.browse")) -> EntryOut:
    """The published revision of an entry."""
    resource, revision = service.published_snapshot(ctx.session, ctx.actor, resource_id)
    return EntryOut(**present.published_entry(ctx.session, resource, revision))


@router.get("/resources/{resource_id}/revisions", response_model=list[RevisionOut])
def published_revisions(
    resource_id: int, ctx: Ctx = requires("catalog.browse")
) -> list[RevisionOut]:
    """The revisions that were published, newest first (动态更新记录)."""
    resource, _revision = service.published_snapshot(ctx.session, ctx.actor, resource_id)
    return [
        RevisionOut.model_validate(r)
        for r in service.revisions(ctx.session, resource, published_only=True)
    ]


@router.get("/work", response_model=WorkingPage)
def working_list(
    status: str | None = Query(default=None, max_length=20),
    provider: int | None = None,
    region: str | None = Query(default=None, max_length=12),
    level: str | None = Query(default=None, max_length=20),
    domain: str | None = Query(default=None, max_length=40),
    q: str | None = Query(default=None, max_length=100),
    limit: int = Query(default=50, ge=1, le=service.MAX_PAGE),
    offset: int = Query(default=0, ge=0),
    ctx: Ctx = requires("catalog.work"),
) -> WorkingPage:
    """Working copies: a department's own entries; every department's for the bureau."""
    where = ResourceFilter(
        provider_org_id=provider, region_codes=region_filter(ctx, region), level=level,
        status=status, domain=domain, name_contains=q,
    )  # fmt: skip
    page, total = service.list_resources(ctx.session, ctx.actor, where, limit, offset)
    return WorkingPage(
        items=[present.working_entry(ctx.session, ctx.actor, r) for r in page],
        total=total,
        limit=limit,
        offset=offset,
    )


@router.post("/work", response_model=WorkingEntryOut, status_code=201)
def create_entry(body: NewResourceIn, ctx: Ctx = requires("catalog.edit")) -> WorkingEntryOut:
    """Draft a new entry (revision 1); the code is given unless an existing one is supplied."""
    resource = service.create_resource(
        ctx.session, ctx.actor, body.data(), provider_org_id=body.provider_org_id,
        code=body.code, sub_category=body.sub_category,
    )  # fmt: skip
    return WorkingEntryOut(**present.working_entry(ctx.session, ctx.actor, resource))


@router.get("/work/{resource_id}", response_model=WorkingEntryOut)
def working_entry(resource_id: int, ctx: Ctx = requires("catalog.work")) -> WorkingEntryOut:
    resource = service.get_resource(ctx.session, ctx.actor, resource_id)
    return WorkingEntryOut(**present.working_entry(ctx.session, ctx.actor, resource))


@router.put("/work/{resource_id}", response_model=WorkingEntryOut)
def update_entry(
    resource_id: int, body: ResourceUpdateIn, ctx: Ctx = requires("catalog.edit")
) -> WorkingEntryOut:
    """Save an edit as a new revision. ``version`` is the one the editor loaded: if someone
    saved meanwhile the edit is refused (409) rather than overwriting theirs."""
    resource = service.update_resource(
        ctx.session, ctx.actor, resource_id, body.data(), expected_version=body.version,
        note=body.note,
    )  # fmt: skip
    return WorkingEntryOut(**present.working_entry(ctx.session, ctx.actor, resource))


@router.post("/work/{resource_id}/moves", response_model=WorkingEntryOut)
def move_entry(
    resource_id: int, body: MoveIn, ctx: Ctx = requires("catalog.work")
) -> WorkingEntryOut:
    """Take a workflow step: submit, return, approve, publish, send_back, retire."""
    resource = lifecycle.take(
        ctx.session, ctx.actor, resource_id, body.transition, body.comment, body.version
    )
    return WorkingEntryOut(**present.working_entry(ctx.session, ctx.actor, resource))


@router.post("/work/{resource_id}/reopen", response_model=WorkingEntryOut)
def reopen_entry(
    resource_id: int, body: ReopenIn | None = None, ctx: Ctx = requires("catalog.edit")
) -> WorkingEntryOut:
    """Bring a retired entry back as a draft."""
    resource = lifecycle.reopen(ctx.session, ctx.actor, resource_id, body.comment if body else None)
    return WorkingEntryOut(**present.working_entry(ctx.session, ctx.actor, resource))


@router.get("/work/{resource_id}/revisions", response_model=list[RevisionOut])
def working_revisions(resource_id: int, ctx: Ctx = requires("catalog.work")) -> list[RevisionOut]:
    resource = service.get_resource(ctx.session, ctx.actor, resource_id)
    return [RevisionOut.model_validate(r) for r in service.revisions(ctx.session, resource)]


@router.get("/work/{resource_id}/revisions/{number}/diff", response_model=DiffOut)
def revision_diff(
    resource_id: int,
    number: int,
    against: int | None = None,
    ctx: Ctx = requires("catalog.work"),
) -> DiffOut:
    """What a revision changed (attribute before → after; fields added, removed, changed)."""
    resource = service.get_resource(ctx.session, ctx.actor, resource_id)
    change = service.revision_diff(ctx.session, resource, number, against)
    return DiffOut(
        number=number,
        against=against if against is not None else number - 1,
        attributes=[{"attribute": a, "before": b, "after": c} for a, b, c in change.attributes],
        fields=[vars(f) for f in change.fields],
    )


@router.get("/work/{resource_id}/history", response_model=list[HistoryOut])
def working_history(resource_id: int, ctx: Ctx = requires("catalog.work")) -> list[HistoryOut]:
    """Every review step and comment, oldest first."""
    resource = service.get_resource(ctx.session, ctx.actor, resource_id)
    out = []
    for item in lifecycle.history(ctx.session, resource):
        record = item.record
        out.append(
            HistoryOut(
                kind=item.kind,
                at=item.at,
                actor_kind=item.actor_kind,
                actor_id=item.actor_id,
                transition=getattr(record, "transition", None),
                from_state=getattr(record, "from_state", None),
                to_state=getattr(record, "to_state", None),
                comment=getattr(record, "comment", None) or getattr(record, "body", None),
            )
        )
    return out


@router.get("/dcat", response_class=Response)
def dcat_catalog(
    format: Literal["turtle", "json-ld"] = "json-ld", ctx: Ctx = requires("catalog.browse")
) -> Response:
    """The published catalog the caller may see as DCAT-AP 3.0 (JSON-LD or Turtle)."""
    graph = dcat.catalog_graph(ctx.session, ctx.actor, _base_url(ctx), dcat.bureau(ctx.session))
    return Response(dcat.serialize(graph, format), media_type=dcat.MEDIA_TYPES[format])


@router.get("/resources/{resource_id}/dcat", response_class=Response)
def dcat_resource(
    resource_id: int,
    format: Literal["turtle", "json-ld"] = "json-ld",
    ctx: Ctx = requires("catalog.browse"),
) -> Response:
    """One published entry as a DCAT-AP 3.0 dataset."""
    graph = dcat.resource_graph(ctx.session, ctx.actor, resource_id, _base_url(ctx))
    return Response(dcat.serialize(graph, format), media_type=dcat.MEDIA_TYPES[format])


XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@router.get("/template.xlsx", response_class=Response)
def excel_template(ctx: Ctx = requires("catalog.work")) -> Response:
    """The empty Excel template (资源, 信息项, 填写说明)."""
    return Response(
        excel.template(), media_type=XLSX,
        headers={"Content-Disposition": _attachment("catalog-template.xlsx")},
    )  # fmt: skip


@router.get("/export.xlsx", response_class=Response)
def excel_export(provider: int | None = None, ctx: Ctx = requires("catalog.work")) -> Response:
    """The caller's working copies in the template's shape (a department: its own)."""
    return Response(
        excel.export(ctx.session, ctx.actor, provider), media_type=XLSX,
        headers={"Content-Disposition": _attachment("catalog-export.xlsx")},
    )  # fmt: skip


@router.post("/import", response_model=ImportOut)
def excel_import(
    file: UploadFile, provider: int | None = None, ctx: Ctx = requires("catalog.edit")
) -> ImportOut | JSONResponse:
    """Import a filled-in template, all or nothing. Refused rows come back as a list of
    problems (sheet, row, column, reason) with status 422, and nothing is written."""
    content = file.file.read(excel.MAX_BYTES + 1)
    try:
        summary = excel.import_workbook(ctx.session, ctx.actor, content, provider)
    except ImportRejected as refused:
        gettext = i18n.translations(ctx.locale).gettext
        return JSONResponse(
            {
                "error": {
                    "key": refused.key,
                    "message": i18n.error_message(refused, ctx.locale),
                    "problems": [p.as_dict(gettext) for p in refused.problems],
                }
            },
            status_code=refused.status,
        )
    return ImportOut(**vars(summary))


def _attachment(name: str) -> str:
    return f'attachment; filename="{name}"'


def _base_url(ctx: Ctx) -> str:
    settings = getattr(ctx.request.app.state, "settings", None)
    return str(getattr(settings, "base_url", "") or ctx.request.base_url).rstrip("/")


from longshu.catalog import api_registry  # noqa: E402 — elements, levels, duty lists

router.include_router(api_registry.router)
