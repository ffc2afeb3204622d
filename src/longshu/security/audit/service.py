"""Searching the event log. Reading it is itself not an event (it would log every page view of
the log); the permission ``events.read`` limits who may."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from longshu.actor import Actor
from longshu.db import SHANGHAI, Page, paginate
from longshu.errors import InvalidInput
from longshu.events import CATALOGUE, Event
from longshu.security import access

MAX_RANGE_DAYS = 366


@dataclass(frozen=True)
class EventFilter:
    """``type`` is an exact type or a domain prefix ending in ``.`` (``identity.``); dates are
    Asia/Shanghai calendar days, both ends included."""

    type: str = ""
    subject_type: str = ""
    subject_id: str = ""
    actor_id: int | None = None
    since: dt.date | None = None
    until: dt.date | None = None


def event_domains() -> list[str]:
    return sorted({name.split(".", 1)[0] for name in CATALOGUE if not name.startswith("test.")})


def search_events(
    session: Session, actor: Actor, where: EventFilter, page: int = 1, per_page: int = 50
) -> Page[Event]:
    """Events matching ``where``, newest first, one page."""
    access.require(actor, "events.read")
    conditions = []
    if where.type:
        if where.type.endswith("."):
            conditions.append(Event.type.startswith(where.type, autoescape=True))
        elif where.type in CATALOGUE:
            conditions.append(Event.type == where.type)
        else:
            raise InvalidInput(detail=f"type={where.type[:100]}")
    if where.subject_type:
        conditions.append(Event.subject_type == where.subject_type)
    if where.subject_id:
        conditions.append(Event.subject_id == where.subject_id)
    if where.actor_id is not None:
        conditions.append(Event.actor_id == where.actor_id)
    if where.since and where.until and where.until < where.since:
        raise InvalidInput(detail="until < since")
    if where.since and where.until and (where.until - where.since).days > MAX_RANGE_DAYS:
        raise InvalidInput(detail=f"range > {MAX_RANGE_DAYS} days")
    if where.since:
        conditions.append(Event.occurred_at >= _start_of(where.since))
    if where.until:
        conditions.append(Event.occurred_at < _start_of(where.until + dt.timedelta(days=1)))
    query = select(Event).where(*conditions).order_by(Event.id.desc())
    return paginate(session, query, page, per_page)


def _start_of(day: dt.date) -> dt.datetime:
    """Midnight in Shanghai, as the aware instant the database compares with."""
    return dt.datetime.combine(day, dt.time(), tzinfo=SHANGHAI).astimezone(dt.UTC)
