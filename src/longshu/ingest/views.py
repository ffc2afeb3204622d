"""Console pages of the lake and of loading: ``/console/lake`` (tables and their versions —
number, rows, bytes, SM3, status, drift — with the button that accepts a blocked version)
and ``/console/ingest`` (jobs with a progress bar that refreshes itself, the upload form,
sources with "run now")."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Query, UploadFile
from fastapi.responses import RedirectResponse, Response
from sqlalchemy import select

from longshu.errors import LongshuError
from longshu.ingest import jobs, sources
from longshu.ingest.api import error_message, table_names
from longshu.ingest.models import IngestJob
from longshu.lake import tables
from longshu.lake.models import LOAD_MODES, LakeTable, LakeVersion
from longshu.security import access
from longshu.security.context import Ctx, requires
from longshu.web import render
from longshu.web.nav import register_nav

router = APIRouter(include_in_schema=False)

register_nav(
    "lake-tables",
    "数据湖表与版本",
    "Tables and versions",
    "/console/lake",
    "lake.read",
    "lake",
    order=10,
)
register_nav("lake-ingest", "数据入湖", "Loading", "/console/ingest", "lake.load", "lake", order=20)

ACTIVE = ("queued", "running")
FORMATS = ("auto", "csv", "tsv", "xlsx", "json", "ndjson", "parquet")


# --- the lake ----------------------------------------------------------------------------------


def _lake_page(ctx: Ctx, error: LongshuError | None = None, table: str | None = None) -> Response:
    access.require(ctx.actor, "lake.read")
    query = select(LakeTable).order_by(LakeTable.name)
    if table:
        query = query.where(LakeTable.name == table)
    found = list(ctx.session.scalars(query))
    versions: dict[int, list[LakeVersion]] = {t.id: [] for t in found}
    if found:
        rows = ctx.session.scalars(
            select(LakeVersion)
            .where(LakeVersion.table_id.in_(versions))
            .order_by(LakeVersion.table_id, LakeVersion.number.desc())
        )
        for version in rows:
            versions[version.table_id].append(version)
    return render(
        ctx.request,
        "ingest/lake.html",
        {
            "tables": found,
            "versions": versions,
            "may_accept": {t.id: bool(access.decide(ctx.actor, "lake.accept", t)) for t in found},
            "error": error,
            "selected": table or "",
        },
        status_code=error.status if error else 200,
    )


@router.get("/console/lake")
def lake_tables(
    table: str | None = Query(default=None, max_length=63), ctx: Ctx = requires("lake.read")
) -> Response:
    """Every lake table with its versions, newest first."""
    return _lake_page(ctx, table=table)


@router.post("/console/lake/{table_id}/versions/{number}/accept")
def accept_version(table_id: int, number: int, ctx: Ctx = requires("lake.accept")) -> Response:
    """Accept a version blocked by breaking schema drift (it becomes readable)."""
    try:
        tables.accept_version(ctx.session, ctx.actor, table_id, number)
    except LongshuError as exc:
        ctx.session.rollback()
        return _lake_page(ctx, error=exc)
    return RedirectResponse("/console/lake", status_code=303)


# --- loading -------------------------------------------------------------------------------------


def _jobs_context(ctx: Ctx) -> dict[str, Any]:
    items, total = jobs.list_jobs(ctx.session, ctx.actor, limit=50)
    names = table_names(ctx, {j.table_id for j in items})
    shown = []
    for job in items:
        rows, size, percent = jobs.live_progress(job)
        shown.append(
            {
                "job": job,
                "table": names.get(job.table_id, ""),
                "rows": rows,
                "bytes": size,
                "percent": percent,
                "error": error_message(job, ctx.locale),
            }
        )
    return {
        "jobs": shown,
        "total": total,
        "active": any(j.status in ACTIVE for j in items),
    }


def _ingest_page(
    ctx: Ctx, error: LongshuError | None = None, submitted: IngestJob | None = None
) -> Response:
    loadable = [
        t
        for t in ctx.session.scalars(select(LakeTable).order_by(LakeTable.name))
        if access.decide(ctx.actor, "lake.load", t)
    ]
    listed = sources.list_sources(ctx.session, ctx.actor)
    return render(
        ctx.request,
        "ingest/jobs.html",
        {
            **_jobs_context(ctx),
            "tables": loadable,
            "sources": listed,
            "source_tables": table_names(ctx, {s.table_id for s in listed}),
            "modes": LOAD_MODES,
            "formats": FORMATS,
            "max_upload": jobs.upload_limit(),
            "error": error,
            "submitted": submitted,
        },
        status_code=error.status if error else 200,
    )


@router.get("/console/ingest")
def ingest_console(ctx: Ctx = requires("lake.load")) -> Response:
    """Jobs with their progress, the upload form and the sources."""
    return _ingest_page(ctx)


@router.get("/console/ingest/jobs")
def job_rows(ctx: Ctx = requires("lake.load")) -> Response:
    """The jobs table alone: the console page polls it while a job is queued or running."""
    return render(ctx.request, "ingest/_jobs.html", _jobs_context(ctx))


@router.post("/console/ingest/upload")
def upload_from_form(
    file: UploadFile,
    table: Annotated[str, Form(max_length=63)],
    mode: Annotated[str, Form(max_length=10)] = "snapshot",
    format: Annotated[str, Form(max_length=10)] = "auto",
    key_columns: Annotated[str, Form(max_length=1000)] = "",
    ctx: Ctx = requires("lake.load"),
) -> Response:
    keys = [k.strip() for k in key_columns.split(",") if k.strip()]
    try:
        job = jobs.submit_upload(
            ctx.session,
            ctx.actor,
            table,
            file.file,
            file.filename or "upload",
            format=format,
            mode=mode,
            key_columns=keys,
        )
    except LongshuError as exc:
        ctx.session.rollback()
        return _ingest_page(ctx, error=exc)
    return RedirectResponse(f"/console/ingest?job={job.id}", status_code=303)


@router.post("/console/ingest/jobs/{job_id}/cancel")
def cancel_from_form(job_id: int, ctx: Ctx = requires("lake.load")) -> Response:
    try:
        jobs.cancel(ctx.session, ctx.actor, job_id)
    except LongshuError as exc:
        ctx.session.rollback()
        return _ingest_page(ctx, error=exc)
    return RedirectResponse("/console/ingest", status_code=303)


@router.post("/console/ingest/sources/{source_id}/run")
def run_from_form(source_id: int, ctx: Ctx = requires("lake.load")) -> Response:
    try:
        source = sources.visible_source(ctx.session, ctx.actor, source_id)
        jobs.submit_pull(ctx.session, ctx.actor, source)
    except LongshuError as exc:
        ctx.session.rollback()
        return _ingest_page(ctx, error=exc)
    return RedirectResponse("/console/ingest", status_code=303)
