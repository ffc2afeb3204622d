"""JSON API of load jobs and sources (``/api/v1/ingest``): upload a file to load, follow a
job's progress, cancel it; list, create, change and remove sources and run one now."""

from __future__ import annotations

import datetime as dt
import json
from functools import lru_cache
from typing import Annotated, Any

from fastapi import APIRouter, File, Form, Query, UploadFile
from pydantic import BaseModel, Field

from longshu.errors import LongshuError
from longshu.ingest import jobs, sources
from longshu.ingest.models import IngestJob, IngestSource
from longshu.lake.models import LakeTable
from longshu.security.context import Ctx, requires
from longshu.web import i18n

router = APIRouter(prefix="/api/v1/ingest", tags=["ingest"])


class JobOut(BaseModel):
    id: int
    kind: str
    status: str
    table_id: int
    table: str | None
    source_id: int | None
    filename: str | None
    format: str
    mode: str
    key_columns: list[str]
    rows: int
    bytes: int
    total_bytes: int | None
    percent: int | None
    attempts: int
    max_attempts: int
    next_attempt_at: dt.datetime | None
    cancel_requested: bool
    error_key: str | None
    error: str | None
    version: int | None
    version_status: str | None
    load_id: str
    created_at: dt.datetime
    started_at: dt.datetime | None
    heartbeat_at: dt.datetime | None
    finished_at: dt.datetime | None


class JobPage(BaseModel):
    items: list[JobOut]
    total: int
    limit: int
    offset: int


class SourceIn(BaseModel):
    name: str = Field(min_length=1, max_length=100)
    connector: str = Field(max_length=10)
    table: str = Field(min_length=1, max_length=63, description="lake table name")
    options: dict[str, Any] = Field(default_factory=dict)
    mode: str = Field(default="snapshot", max_length=10)
    key_columns: list[Annotated[str, Field(max_length=63)]] = Field(
        default_factory=list, max_length=20
    )
    schedule_kind: str = Field(default="none", max_length=10)
    interval_seconds: int | None = Field(default=None, ge=60, le=366 * 86400)
    daily_at: str | None = Field(default=None, max_length=5)
    enabled: bool = True


class SourcePatch(BaseModel):
    name: str | None = Field(default=None, min_length=1, max_length=100)
    options: dict[str, Any] | None = None
    mode: str | None = Field(default=None, max_length=10)
    key_columns: list[Annotated[str, Field(max_length=63)]] | None = Field(
        default=None, max_length=20
    )
    schedule_kind: str | None = Field(default=None, max_length=10)
    interval_seconds: int | None = Field(default=None, ge=60, le=366 * 86400)
    daily_at: str | None = Field(default=None, max_length=5)
    enabled: bool | None = None


class SourceOut(BaseModel):
    id: int
    name: str
    org_id: int | None
    connector: str
    options: dict[str, Any]
    table_id: int
    table: str | None
    mode: str
    key_columns: list[str]
    schedule_kind: str
    interval_seconds: int | None
    daily_at: str | None
    enabled: bool
    watermark: str | None
    last_run_at: dt.datetime | None
    next_run_at: dt.datetime | None
    created_at: dt.datetime


@lru_cache
def _error_classes() -> dict[str, type[LongshuError]]:
    found: dict[str, type[LongshuError]] = {}
    stack: list[type[LongshuError]] = [LongshuError]
    while stack:
        cls = stack.pop()
        stack.extend(cls.__subclasses__())
        found.setdefault(cls.key, cls)
    return found


def error_message(job: IngestJob, locale: str) -> str | None:
    """The job's error in the reader's language (from its key and parameters)."""
    if not job.error_key:
        return None
    cls = _error_classes().get(job.error_key)
    if cls is None:
        return i18n.translate("The load failed ({key}).", locale, key=job.error_key)
    return i18n.translate(cls.message, locale, **(job.error_params or {}))


def table_names(ctx: Ctx, ids: set[int]) -> dict[int, str]:
    if not ids:
        return {}
    from sqlalchemy import select

    rows = ctx.session.execute(select(LakeTable.id, LakeTable.name).where(LakeTable.id.in_(ids)))
    return {i: n for i, n in rows}


def job_out(ctx: Ctx, job: IngestJob, names: dict[int, str] | None = None) -> JobOut:
    names = names if names is not None else table_names(ctx, {job.table_id})
    rows, size, percent = jobs.live_progress(job)
    return JobOut(
        **{
            name: getattr(job, name)
            for name in JobOut.model_fields
            if name not in ("table", "error", "rows", "bytes", "percent")
        },
        table=names.get(job.table_id),
        error=error_message(job, ctx.locale),
        rows=rows,
        bytes=size,
        percent=percent,
    )


def source_out(ctx: Ctx, source: IngestSource) -> SourceOut:
    names = table_names(ctx, {source.table_id})
    fields = {
        name: getattr(source, name)
        for name in SourceOut.model_fields
        if name not in ("table", "options")
    }
    return SourceOut(
        **fields, table=names.get(source.table_id), options=sources.shown_options(source)
    )


@router.post("/uploads", response_model=JobOut, status_code=202)
def upload(
    file: Annotated[UploadFile, File(description="csv, tsv, xlsx, json, ndjson or parquet")],
    table: Annotated[str, Form(min_length=1, max_length=63)],
    format: Annotated[str, Form(max_length=10)] = "auto",
    mode: Annotated[str, Form(max_length=10)] = "snapshot",
    key_columns: Annotated[str, Form(max_length=1000, description="comma-separated")] = "",
    options: Annotated[str, Form(max_length=4000, description="reader options (JSON)")] = "{}",
    ctx: Ctx = requires("lake.load"),
) -> JobOut:
    """Keep the file and queue its load as the table's next version (202: follow the job)."""
    try:
        reader = json.loads(options or "{}")
    except ValueError:
        raise jobs.InvalidJob(detail="options must be a JSON object") from None
    if not isinstance(reader, dict):
        raise jobs.InvalidJob(detail="options must be a JSON object")
    keys = [k.strip() for k in key_columns.split(",") if k.strip()]
    job = jobs.submit_upload(
        ctx.session,
        ctx.actor,
        table,
        file.file,
        file.filename or "upload",
        format=format,
        mode=mode,
        key_columns=keys,
        options=reader,
    )
    return job_out(ctx, job)


@router.get("/jobs", response_model=JobPage)
def list_jobs(
    status: str | None = Query(default=None, max_length=10),
    table_id: int | None = Query(default=None, ge=1),
    source_id: int | None = Query(default=None, ge=1),
    limit: int = Query(default=50, ge=1, le=200),
    offset: int = Query(default=0, ge=0),
    ctx: Ctx = requires("lake.load"),
) -> JobPage:
    """Jobs of the caller's organisation (every organisation's for a platform
    administrator), newest first, with live progress."""
    items, total = jobs.list_jobs(
        ctx.session,
        ctx.actor,
        status=status,
        table_id=table_id,
        source_id=source_id,
        limit=limit,
        offset=offset,
    )
    names = table_names(ctx, {j.table_id for j in items})
    return JobPage(
        items=[job_out(ctx, j, names) for j in items], total=total, limit=limit, offset=offset
    )


@router.get("/jobs/{job_id}", response_model=JobOut)
def get_job(job_id: int, ctx: Ctx = requires("lake.load")) -> JobOut:
    return job_out(ctx, jobs.get_job(ctx.session, ctx.actor, job_id))


@router.post("/jobs/{job_id}/cancel", response_model=JobOut)
def cancel_job(job_id: int, ctx: Ctx = requires("lake.load")) -> JobOut:
    """Cancel a queued job at once, or ask a running one to stop (no version is kept)."""
    return job_out(ctx, jobs.cancel(ctx.session, ctx.actor, job_id))


@router.get("/sources", response_model=list[SourceOut])
def list_sources(ctx: Ctx = requires("lake.load")) -> list[SourceOut]:
    """Sources of the caller's organisation; secret options are shown as ``***``."""
    return [source_out(ctx, s) for s in sources.list_sources(ctx.session, ctx.actor)]


@router.post("/sources", response_model=SourceOut, status_code=201)
def create_source(body: SourceIn, ctx: Ctx = requires("lake.manage")) -> SourceOut:
    source = sources.create_source(ctx.session, ctx.actor, **body.model_dump())
    return source_out(ctx, source)


@router.get("/sources/{source_id}", response_model=SourceOut)
def get_source(source_id: int, ctx: Ctx = requires("lake.load")) -> SourceOut:
    return source_out(ctx, sources.visible_source(ctx.session, ctx.actor, source_id))


@router.patch("/sources/{source_id}", response_model=SourceOut)
def update_source(
    source_id: int, body: SourcePatch, ctx: Ctx = requires("lake.manage")
) -> SourceOut:
    changes = body.model_dump(exclude_unset=True)
    return source_out(ctx, sources.update_source(ctx.session, ctx.actor, source_id, **changes))


@router.delete("/sources/{source_id}", status_code=204)
def delete_source(source_id: int, ctx: Ctx = requires("lake.manage")) -> None:
    sources.delete_source(ctx.session, ctx.actor, source_id)


@router.post("/sources/{source_id}/run", response_model=JobOut, status_code=202)
def run_source(source_id: int, ctx: Ctx = requires("lake.load")) -> JobOut:
    """Pull the source now (a job like a scheduled one)."""
    source = sources.visible_source(ctx.session, ctx.actor, source_id)
    return job_out(ctx, jobs.submit_pull(ctx.session, ctx.actor, source))
