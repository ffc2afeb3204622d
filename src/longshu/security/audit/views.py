"""The audit trail page (/console/audit) for auditors and administrators."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.responses import Response

from longshu.errors import LongshuError
from longshu.events import CATALOGUE
from longshu.security.audit import service
from longshu.security.context import Ctx, requires
from longshu.web import render
from longshu.web.nav import register_nav

router = APIRouter(include_in_schema=False)

register_nav(
    "audit", "审计日志", "Audit trail", "/console/audit", "events.read", "supervision", order=10
)


@router.get("/console/audit")
def audit_page(
    type: Annotated[str, Query(max_length=100)] = "",
    subject_type: Annotated[str, Query(max_length=60)] = "",
    subject_id: Annotated[str, Query(max_length=100)] = "",
    actor_id: Annotated[int | None, Query(ge=0)] = None,
    since: dt.date | None = None,
    until: dt.date | None = None,
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
    ctx: Ctx = requires("events.read"),
) -> Response:
    """Every event, filtered, with a link to its evidence receipt."""
    where = service.EventFilter(type, subject_type, subject_id, actor_id, since, until)
    error, found = None, None
    try:
        found = service.search_events(ctx.session, ctx.actor, where, page)
    except LongshuError as exc:
        error = exc
    return render(
        ctx.request,
        "audit/events.html",
        {
            "found": found,
            "error": error,
            "where": where,
            "catalogue": CATALOGUE,
            "domains": service.event_domains(),
        },
        status_code=error.status if error else 200,
    )
