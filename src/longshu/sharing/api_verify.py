"""Verification (核验) over HTTP: single and batch checks within a grant (the holding
department, ``sharing.use``), and the provider's setup: configure a resource's verification,
build its index now, list indexes (``sharing.review``). Routes only translate; the rules are
in ``verify_service`` and ``ratelimit``."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from longshu.errors import LongshuError
from longshu.http import record_refusal
from longshu.security.context import Ctx, requires
from longshu.sharing import verify_fast, verify_service
from longshu.sharing.verify_api_errors import Throttled
from longshu.sharing.verify_errors import MalformedBatch
from longshu.sharing.verify_models import VerifyIndexRecord, VerifySetup
from longshu.web import i18n


@asynccontextmanager
async def _flush_usage_on_shutdown(app: Any) -> AsyncIterator[None]:
    """The app's lifespan (merged by ``include_router``): write the verification usage still
    counted in memory when the server stops (uvicorn ends its workers by a signal, which
    skips atexit handlers)."""
    yield
    await run_in_threadpool(verify_service.USAGE.flush)


router = APIRouter(prefix="/api/v1/sharing", tags=["sharing"], lifespan=_flush_usage_on_shutdown)

Key = Annotated[str, Field(max_length=100)]
Name = Annotated[str, Field(max_length=400)]
Column = Annotated[str, Field(max_length=128)]


class CheckIn(BaseModel):
    key: Key  # 身份证号 / 统一社会信用代码 / 证照编号
    name: Name  # 姓名 / 企业名称 / 持证人


class BatchIn(BaseModel):
    items: list[CheckIn] = Field(min_length=1)  # at most 1,000: refused with a clear error


def _refusal(ctx: Ctx, error: LongshuError, **extra: Any) -> JSONResponse:
    """The error answer of a refusal this route words itself: ``Retry-After`` for a 429,
    every bad position for a malformed batch (the generic handler gives neither)."""
    body: dict[str, Any] = {
        "error": {"key": error.key, "message": i18n.error_message(error, ctx.locale), **extra},
        "request_id": getattr(ctx.request.state, "request_id", ""),
    }
    headers = error.headers if isinstance(error, Throttled) else None
    ctx.session.rollback()  # SQLite: the write lock goes before the refusal is recorded
    if not error.recorded:
        record_refusal(ctx.request.scope, error.key)
    return JSONResponse(body, status_code=error.status, headers=headers)


@router.post("/grants/{grant_id}/verify", response_model=None)
def verify_one(
    grant_id: int, body: CheckIn, ctx: Ctx = requires("sharing.use")
) -> dict[str, Any] | JSONResponse:
    """核验 one record: ``{"result": "match" | "no_match" | "not_found"}``."""
    try:
        (answer,) = verify_service.verify(
            ctx.session, ctx.actor, grant_id, [body.key], [body.name], single=True,
            refused=verify_fast.refused(ctx.request),
        )  # fmt: skip
    except Throttled as error:
        return _refusal(ctx, error)
    verify_fast.remember(ctx.request, ctx.session, ctx.actor, grant_id)
    return {"grant": grant_id, "result": answer}


@router.post("/grants/{grant_id}/verify/batch", response_model=None)
def verify_batch(
    grant_id: int, body: BatchIn, ctx: Ctx = requires("sharing.use")
) -> dict[str, Any] | JSONResponse:
    """核验 up to 1,000 records: ``{"results": [...]}`` in the order asked. A batch with any
    malformed item is refused whole (422) with each bad position and its reason."""
    try:
        answers = verify_service.verify(
            ctx.session, ctx.actor, grant_id,
            [i.key for i in body.items], [i.name for i in body.items],
            refused=verify_fast.refused(ctx.request),
        )  # fmt: skip
    except Throttled as error:
        return _refusal(ctx, error)
    except MalformedBatch as error:
        problems = [{"position": p, "reason": r} for p, r in error.problems[:1000]]
        return _refusal(ctx, error, problems=problems)
    verify_fast.remember(ctx.request, ctx.session, ctx.actor, grant_id)
    counts = {a: answers.count(a) for a in verify_service.ANSWERS}
    return {"grant": grant_id, "count": len(answers), "counts": counts, "results": answers}


# --- setup (the providing department) ---------------------------------------------------------


class SetupIn(BaseModel):
    kind: Literal["resident", "enterprise", "licence"] | None = None
    key_column: Column | None = None
    attribute_column: Column | None = None
    # kept per record for region-limited grants; left out: the resource's 行政区划 field
    region_column: Column | None = None


class SetupOut(BaseModel):
    resource_id: int
    table: str
    kind: str
    key_column: str
    attribute_column: str
    region_column: str | None
    updated_at: dt.datetime


def _setup_out(setup: VerifySetup) -> SetupOut:
    return SetupOut(
        resource_id=setup.resource_id, table=setup.table_name, kind=setup.kind,
        key_column=setup.key_column, attribute_column=setup.attribute_column,
        region_column=setup.region_column, updated_at=setup.updated_at,
    )  # fmt: skip


class IndexOut(BaseModel):
    id: int
    resource_id: int
    table: str
    version: int
    kind: str
    key_column: str
    attribute_column: str
    region_column: str | None
    status: str
    records: int | None
    bytes: int | None
    skipped_malformed: int | None
    build_seconds: float | None
    error: str | None
    built_at: dt.datetime | None
    retired_at: dt.datetime | None


def _index_out(record: VerifyIndexRecord) -> IndexOut:
    return IndexOut(
        id=record.id, resource_id=record.resource_id, table=record.table_name,
        version=record.version, kind=record.kind, key_column=record.key_column,
        attribute_column=record.attribute_column, region_column=record.region_column,
        status=record.status, records=record.records,
        bytes=record.bytes, skipped_malformed=record.skipped_malformed,
        build_seconds=record.build_seconds, error=record.error, built_at=record.built_at,
        retired_at=record.retired_at,
    )  # fmt: skip


@router.get("/verify/setups/{resource_id}")
def get_setup(resource_id: int, ctx: Ctx = requires("sharing.review")) -> dict[str, Any]:
    """The resource's verification setup (or null) and what the latest scan proposes."""
    setup, proposal = verify_service.setup_and_proposal(ctx.session, ctx.actor, resource_id)
    return {"setup": _setup_out(setup) if setup else None, "proposal": proposal}


@router.put("/verify/setups/{resource_id}", response_model=SetupOut)
def put_setup(resource_id: int, body: SetupIn, ctx: Ctx = requires("sharing.review")) -> SetupOut:
    """Set up verification (columns left out: the scan's proposal). Builds nothing."""
    setup = verify_service.configure(
        ctx.session, ctx.actor, resource_id, kind=body.kind, key_column=body.key_column,
        attribute_column=body.attribute_column, region_column=body.region_column,
    )  # fmt: skip
    return _setup_out(setup)


class BuildIn(BaseModel):
    version: int | None = Field(default=None, ge=1)


@router.post("/verify/setups/{resource_id}/build", response_model=IndexOut)
def build_index(resource_id: int, body: BuildIn, ctx: Ctx = requires("sharing.review")) -> IndexOut:
    """Build the index now (newest version unless one is named); it serves once built."""
    return _index_out(verify_service.build(ctx.session, ctx.actor, resource_id, body.version))


@router.get("/verify/indexes", response_model=list[IndexOut])
def list_indexes(
    resource_id: int | None = Query(default=None),
    status: Literal["building", "ready", "retired", "failed"] | None = None,
    ctx: Ctx = requires("sharing.review"),
) -> list[IndexOut]:
    """Indexes of the resources the actor's department provides (all for the bureau)."""
    found = verify_service.indexes(ctx.session, ctx.actor, resource_id)
    return [_index_out(r) for r in found if status is None or r.status == status]
