"""The audit trail's JSON API: ``GET /api/v1/events``."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from fastapi import APIRouter, Query, Response
from pydantic import BaseModel

from longshu.security.audit import service
from longshu.security.context import Ctx, requires

router = APIRouter(prefix="/api/v1", tags=["audit"])


class EventOut(BaseModel):
    id: int
    uid: str
    type: str
    occurred_at: dt.datetime
    actor: dict[str, Any]
    subject: dict[str, Any]
    request_id: str | None
    payload: dict[str, Any]


@router.get("/events", response_model=list[EventOut])
def list_events(
    response: Response,
    type: Annotated[str, Query(max_length=100)] = "",
    subject_type: Annotated[str, Query(max_length=60)] = "",
    subject_id: Annotated[str, Query(max_length=100)] = "",
    actor_id: Annotated[int | None, Query(ge=0)] = None,
    since: dt.date | None = None,
    until: dt.date | None = None,
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
    per_page: Annotated[int, Query(ge=1, le=500)] = 50,
    ctx: Ctx = requires("events.read"),
) -> list[EventOut]:
    """Events newest first (``X-Total-Count`` header: all matches)."""
    where = service.EventFilter(type, subject_type, subject_id, actor_id, since, until)
    found = service.search_events(ctx.session, ctx.actor, where, page, per_page)
    response.headers["X-Total-Count"] = str(found.total)
    return [EventOut(**event.as_record()) for event in found.items]
