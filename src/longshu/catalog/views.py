"""Console pages of the catalog: the work list, the drafting form, an entry with its review
buttons, revisions and history, and the Excel import (the element registry, duty lists and
the three-level report are in ``registry_views``). Routes parse the form, call the service
and render."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Query, UploadFile
from fastapi.responses import RedirectResponse, Response
from sqlalchemy import select

from longshu.catalog import excel, lifecycle, present, registry_views, service
from longshu.catalog.errors import ImportRejected, InvalidResource
from longshu.catalog.models import DataElement
from longshu.catalog.portal import VOCABULARIES
from longshu.catalog.rules import FieldData, ResourceData
from longshu.catalog.vocab import FIELD_TYPES, STATUSES, code_for_title
from longshu.errors import LongshuError
from longshu.orgs import regions
from longshu.security.context import Ctx, requires
from longshu.web import i18n, render
from longshu.web.nav import register_nav

router = APIRouter(include_in_schema=False)

register_nav(
    "catalog-work",
    "目录编目",
    "Catalog entries",
    "/console/catalog",
    "catalog.work",
    "catalog",
    order=10,
)
register_nav(
    "catalog-import",
    "批量导入",
    "Excel import",
    "/console/catalog/import",
    "catalog.edit",
    "catalog",
    order=20,
)
register_nav(
    "catalog-elements",
    "数据元（一数一源）",
    "Data elements",
    "/console/catalog/elements",
    "catalog.work",
    "catalog",
    order=30,
)
register_nav(
    "catalog-duties",
    "责任清单",
    "Duty lists",
    "/console/catalog/duties",
    "catalog.report",
    "catalog",
    order=35,
)
register_nav(
    "catalog-levels",
    "三级目录与应编尽编",
    "Levels and completeness",
    "/console/catalog/levels",
    "catalog.report",
    "catalog",
    order=40,
)

PAGE_SIZE = 50
Text = Annotated[str, Form(max_length=8000)]
Optional = Annotated[str | None, Form(max_length=4000)]
Many = Annotated[list[str] | None, Form()]


def _context(ctx: Ctx, **extra: Any) -> dict[str, Any]:
    return {"statuses": STATUSES, **VOCABULARIES, **extra}


@router.get("/console/catalog")
def work_list(
    status: str | None = Query(default=None, max_length=20),
    q: str | None = Query(default=None, max_length=100),
    region: str | None = Query(default=None, max_length=12),
    page: int = Query(default=1, ge=1, le=10_000),
    ctx: Ctx = requires("catalog.work"),
) -> Response:
    """The entries the person works on: their department's, or every department's for the
    bureau, filtered by status (drafts, awaiting review, awaiting publication …)."""
    error: LongshuError | None = None
    items: list[Any] = []
    total = 0
    try:
        where = service.ResourceFilter(
            status=status or None,
            name_contains=q or None,
            region_codes=regions.descendant_codes(ctx.session, region) if region else None,
        )
        page_items, total = service.list_resources(
            ctx.session, ctx.actor, where, PAGE_SIZE, (page - 1) * PAGE_SIZE
        )
        names = present.org_names(ctx.session, {r.provider_org_id for r in page_items})
        items = [(r, names.get(r.provider_org_id, "")) for r in page_items]
    except LongshuError as exc:
        error = exc
    return render(
        ctx.request,
        "catalog/work_list.html",
        _context(
            ctx,
            items=items,
            total=total,
            page=page,
            pages=max(1, -(-total // PAGE_SIZE)),
            selected={"status": status or "", "q": q or "", "region": region or ""},
            error=error,
        ),
        status_code=error.status if error else 200,
    )


# --- the form ---------------------------------------------------------------------------------


def parse_fields(text: str | None, element_codes: dict[str, int]) -> list[FieldData]:
    """One field per line: 字段名 | 中文名称 | 数据类型 | 长度 | 单位 | 描述 | 数据元代码."""
    out: list[FieldData] = []
    for number, line in enumerate((text or "").splitlines(), start=1):
        if not line.strip():
            continue
        parts = [p.strip() for p in line.replace("｜", "|").split("|")]
        parts += [""] * (7 - len(parts))
        name, label, data_type, length, unit, description, element = parts[:7]
        where = f"fields[{len(out) + 1}]"
        try:
            size = int(length) if length else None
        except ValueError:
            raise InvalidResource(f"{where}.length", "must be a whole number.") from None
        element_id = None
        if element:
            element_id = element_codes.get(element.upper())
            if element_id is None:
                raise InvalidResource(f"{where}.element_id", "must be a data element id.")
        out.append(
            FieldData(
                name=name,
                label=label,
                data_type=code_for_title(FIELD_TYPES, data_type or "string") or data_type,
                length=size,
                unit=unit or None,
                description=description or None,
                element_id=element_id,
            )
        )
        del number
    return out


def fields_text(fields: list[dict[str, Any]], element_codes: dict[int, str]) -> str:
    return "\n".join(
        " | ".join(
            str(v) if v is not None else ""
            for v in (
                f["name"], f["label"], f["data_type"], f["length"], f["unit"], f["description"],
                element_codes.get(f["element_id"] or 0, ""),
            )
        ).rstrip(" |")
        for f in fields
    )  # fmt: skip


def _element_codes(ctx: Ctx) -> dict[str, int]:
    return {
        code: ident for code, ident in ctx.session.execute(select(DataElement.code, DataElement.id))
    }


def _form_data(
    ctx: Ctx, name: str, summary: str, domain: str, share_type: str, open_type: str,
    update_cycle: str, kind: str, formats: list[str] | None, base_databases: list[str] | None,
    theme_databases: list[str] | None, share_conditions: str | None, open_conditions: str | None,
    source_system: str | None, contact_name: str | None, contact_phone: str | None,
    contact_email: str | None, keywords: str | None, licence: str | None, fields: str | None,
) -> ResourceData:  # fmt: skip
    return ResourceData(
        name=name, summary=summary, domain=domain, share_type=share_type, open_type=open_type,
        update_cycle=update_cycle, kind=kind, formats=formats or [],
        base_databases=base_databases or [], theme_databases=theme_databases or [],
        share_conditions=share_conditions, open_conditions=open_conditions,
        source_system=source_system, contact_name=contact_name, contact_phone=contact_phone,
        contact_email=contact_email, keywords=keywords or "",  # type: ignore[arg-type]
        licence=licence, fields=parse_fields(fields, _element_codes(ctx)),
    )  # fmt: skip


def _form_page(
    ctx: Ctx, values: dict[str, Any], action: str, error: LongshuError | None = None, **extra: Any
) -> Response:
    return render(
        ctx.request,
        "catalog/form.html",
        _context(ctx, values=values, action=action, error=error, **extra),
        status_code=error.status if error else 200,
    )


BLANK = {
    "name": "", "summary": "", "domain": "", "share_type": "unconditional",
    "open_type": "unconditional", "update_cycle": "monthly", "kind": "table",
    "formats": ["CSV"], "base_databases": [], "theme_databases": [], "share_conditions": "",
    "open_conditions": "", "source_system": "", "contact_name": "", "contact_phone": "",
    "contact_email": "", "keywords": "", "licence": "", "fields": "", "version": "",
}  # fmt: skip


@router.get("/console/catalog/new")
def new_form(ctx: Ctx = requires("catalog.edit")) -> Response:
    return _form_page(ctx, dict(BLANK), "/console/catalog/new")


@router.post("/console/catalog/new")
def create_from_form(
    name: Text, summary: Text, domain: Text, share_type: Text, open_type: Text,
    update_cycle: Text, kind: Text, formats: Many = None, base_databases: Many = None,
    theme_databases: Many = None, share_conditions: Optional = None,
    open_conditions: Optional = None, source_system: Optional = None,
    contact_name: Optional = None, contact_phone: Optional = None,
    contact_email: Optional = None, keywords: Optional = None, licence: Optional = None,
    fields: Optional = None, ctx: Ctx = requires("catalog.edit"),
) -> Response:  # fmt: skip
    """Draft an entry from the form; on a refusal the form comes back with the reason."""
    values = {k: v for k, v in locals().items() if k in BLANK}
    try:
        data = _form_data(
            ctx, name, summary, domain, share_type, open_type, update_cycle, kind, formats,
            base_databases, theme_databases, share_conditions, open_conditions, source_system,
            contact_name, contact_phone, contact_email, keywords, licence, fields,
        )  # fmt: skip
        resource = service.create_resource(ctx.session, ctx.actor, data)
    except LongshuError as exc:
        ctx.session.rollback()
        return _form_page(ctx, {**BLANK, **values}, "/console/catalog/new", exc)
    return RedirectResponse(f"/console/catalog/{resource.id}", status_code=303)


@router.get("/console/catalog/{resource_id:int}/edit")
def edit_form(resource_id: int, ctx: Ctx = requires("catalog.edit")) -> Response:
    resource = service.get_resource(ctx.session, ctx.actor, resource_id)
    service.require_own(ctx.actor, "catalog.edit", resource)
    entry = present.entry(ctx.session, resource)
    codes = {ident: code for code, ident in _element_codes(ctx).items()}
    values = {
        **{
            k: entry.get(k)
            or ("" if k not in ("formats", "base_databases", "theme_databases") else [])
            for k in BLANK
        },
        "keywords": "、".join(entry["keywords"]),
        "fields": fields_text(entry["fields"], codes),
        "version": resource.version,
    }
    return _form_page(ctx, values, f"/console/catalog/{resource_id}/edit", resource=resource)


@router.post("/console/catalog/{resource_id:int}/edit")
def update_from_form(
    resource_id: int, version: Annotated[int, Form()], name: Text, summary: Text,
    domain: Text, share_type: Text, open_type: Text, update_cycle: Text, kind: Text,
    formats: Many = None, base_databases: Many = None, theme_databases: Many = None,
    share_conditions: Optional = None, open_conditions: Optional = None,
    source_system: Optional = None, contact_name: Optional = None,
    contact_phone: Optional = None, contact_email: Optional = None, keywords: Optional = None,
    licence: Optional = None, fields: Optional = None,
    note: Annotated[str | None, Form(max_length=500)] = None,
    ctx: Ctx = requires("catalog.edit"),
) -> Response:  # fmt: skip
    """Save the edit as a new revision; an out-of-date form is refused with a clear message."""
    values = {k: v for k, v in locals().items() if k in BLANK}
    try:
        data = _form_data(
            ctx, name, summary, domain, share_type, open_type, update_cycle, kind, formats,
            base_databases, theme_databases, share_conditions, open_conditions, source_system,
            contact_name, contact_phone, contact_email, keywords, licence, fields,
        )  # fmt: skip
        service.update_resource(
            ctx.session, ctx.actor, resource_id, data, expected_version=version, note=note
        )
    except LongshuError as exc:
        ctx.session.rollback()
        return _form_page(ctx, {**BLANK, **values}, f"/console/catalog/{resource_id}/edit", exc)
    return RedirectResponse(f"/console/catalog/{resource_id}", status_code=303)


# --- one entry --------------------------------------------------------------------------------


def _entry_page(
    ctx: Ctx, resource_id: int, diff: int | None = None, error: LongshuError | None = None
) -> Response:
    resource = service.get_resource(ctx.session, ctx.actor, resource_id)
    entry = present.working_entry(ctx.session, ctx.actor, resource)
    change = None
    if diff is not None:
        try:
            change = service.revision_diff(ctx.session, resource, diff)
        except LongshuError as exc:
            error = error or exc
    return render(
        ctx.request,
        "catalog/entry.html",
        _context(
            ctx,
            entry=entry,
            resource=resource,
            moves=lifecycle.available(ctx.actor, ctx.session, resource),
            can_edit=service.access.decide(ctx.actor, "catalog.edit", resource).allowed,
            revisions=service.revisions(ctx.session, resource),
            history=lifecycle.history(ctx.session, resource),
            diff=change,
            diff_number=diff,
            error=error,
        ),
        status_code=error.status if error else 200,
    )


@router.get("/console/catalog/{resource_id:int}")
def entry_page(
    resource_id: int, diff: int | None = Query(default=None, ge=1, le=100_000),
    ctx: Ctx = requires("catalog.work"),
) -> Response:  # fmt: skip
    """The working copy, the review buttons this person may press, revisions and history."""
    return _entry_page(ctx, resource_id, diff)


@router.post("/console/catalog/{resource_id:int}/move")
def move_from_form(
    resource_id: int,
    transition: Annotated[str, Form(max_length=40)],
    version: Annotated[int | None, Form()] = None,
    comment: Annotated[str | None, Form(max_length=4000)] = None,
    ctx: Ctx = requires("catalog.work"),
) -> Response:
    try:
        lifecycle.take(ctx.session, ctx.actor, resource_id, transition, comment, version)
    except LongshuError as exc:
        ctx.session.rollback()
        return _entry_page(ctx, resource_id, error=exc)
    return RedirectResponse(f"/console/catalog/{resource_id}", status_code=303)


@router.post("/console/catalog/{resource_id:int}/reopen")
def reopen_from_form(
    resource_id: int,
    comment: Annotated[str | None, Form(max_length=4000)] = None,
    ctx: Ctx = requires("catalog.edit"),
) -> Response:
    try:
        lifecycle.reopen(ctx.session, ctx.actor, resource_id, comment)
    except LongshuError as exc:
        ctx.session.rollback()
        return _entry_page(ctx, resource_id, error=exc)
    return RedirectResponse(f"/console/catalog/{resource_id}", status_code=303)


# --- import -----------------------------------------------------------------------------------


@router.get("/console/catalog/import")
def import_form(ctx: Ctx = requires("catalog.edit")) -> Response:
    return render(ctx.request, "catalog/import.html", {"problems": None, "summary": None})


@router.post("/console/catalog/import")
def import_upload(file: UploadFile, ctx: Ctx = requires("catalog.edit")) -> Response:
    """Import a filled-in template; every refused row is listed and nothing is written."""
    content = file.file.read(excel.MAX_BYTES + 1)
    problems = summary = error = None
    try:
        summary = excel.import_workbook(ctx.session, ctx.actor, content)
    except ImportRejected as refused:
        ctx.session.rollback()
        gettext = i18n.translations(ctx.locale).gettext
        problems = [p.as_dict(gettext) for p in refused.problems]
        error = refused
    except LongshuError as exc:
        ctx.session.rollback()
        error = exc
    return render(
        ctx.request,
        "catalog/import.html",
        {"problems": problems, "summary": summary, "error": error},
        status_code=error.status if error else 200,
    )


# --- registries and reports (registry_views.py) --------------------------------------------

router.include_router(registry_views.router)
