"""The event spine.

``emit()`` writes a typed event into the outbox table inside the caller's transaction, so an
event exists exactly when its change does. After the transaction commits, subscribers receive
it: in-process by default, as huey tasks in production (``LONGSHU_EVENTS_MODE=huey``). Each
subscriber acknowledges an event by writing a delivery row in the same transaction as its own
effects, so a crash redelivers rather than loses, and nothing is delivered twice.
"""

from __future__ import annotations

import datetime as dt
import decimal
import fnmatch
import logging
import threading
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ForeignKey, Index, String, event, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, Session, mapped_column

from longshu.actor import Actor
from longshu.db import Base, insert_ignore, utcnow
from longshu.errors import LongshuError

log = logging.getLogger("longshu.events")

# Events older than this are assumed to be committed when a cursor advances past them
# (PostgreSQL assigns ids before commit, so a slow transaction may commit a lower id later).
SETTLE_SECONDS = 120


class UnknownEventType(LongshuError):
    key = "events.unknown_type"
    status = 500
    message = "Event type {name} is not in the event catalogue."


@dataclass(frozen=True)
class EventType:
    """An entry of the event catalogue (docs/events.md is generated from these)."""

    name: str
    title_zh: str
    title_en: str
    module: str


CATALOGUE: dict[str, EventType] = {}


def define(name: str, title_zh: str, title_en: str) -> str:
    """Declare an event type; a module declares its events at import time."""
    module = name.split(".", 1)[0]
    existing = CATALOGUE.get(name)
    if existing and (existing.title_zh, existing.title_en) != (title_zh, title_en):
        raise ValueError(f"event type {name} declared twice with different titles")
    CATALOGUE[name] = EventType(name, title_zh, title_en, module)
    return name


class Event(Base):
    """The outbox: every event ever emitted, in id order."""

    __tablename__ = "event"
    __table_args__ = (Index("ix_event_subject", "subject_type", "subject_id"),)

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    uid: Mapped[str] = mapped_column(String(36), unique=True, default=lambda: str(uuid.uuid4()))
    type: Mapped[str] = mapped_column(String(100), index=True)
    occurred_at: Mapped[dt.datetime] = mapped_column(default=utcnow, index=True)
    actor_kind: Mapped[str] = mapped_column(String(20))
    actor_id: Mapped[int | None]
    actor_org_id: Mapped[int | None]
    subject_type: Mapped[str | None] = mapped_column(String(60))
    subject_id: Mapped[str | None] = mapped_column(String(100))
    request_id: Mapped[str | None] = mapped_column(String(64))
    payload: Mapped[dict[str, Any]] = mapped_column(default=dict)

    def as_record(self) -> dict[str, Any]:
        """The canonical content of the event (what the ledger hashes)."""
        return {
            "id": self.id,
            "uid": self.uid,
            "type": self.type,
            "occurred_at": self.occurred_at.astimezone(dt.UTC).isoformat(),
            "actor": {"kind": self.actor_kind, "id": self.actor_id, "org_id": self.actor_org_id},
            "subject": {"type": self.subject_type, "id": self.subject_id},
            "request_id": self.request_id,
            "payload": self.payload,
        }


class EventDelivery(Base):
    """One subscriber has handled one event."""

    __tablename__ = "event_delivery"

    subscriber: Mapped[str] = mapped_column(String(100), primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("event.id"), primary_key=True)
    delivered_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class SubscriberCursor(Base):
    """All events up to ``settled_id`` are delivered to ``subscriber``."""

    __tablename__ = "event_cursor"

    subscriber: Mapped[str] = mapped_column(String(100), primary_key=True)
    settled_id: Mapped[int] = mapped_column(default=0)


Handler = Callable[[Session, Event], None]


@dataclass(frozen=True)
class Subscriber:
    name: str
    patterns: tuple[str, ...]
    handler: Handler

    def wants(self, event_type: str) -> bool:
        return any(fnmatch.fnmatchcase(event_type, p) for p in self.patterns)


SUBSCRIBERS: dict[str, Subscriber] = {}


def subscribe(*patterns: str, name: str | None = None) -> Callable[[Handler], Handler]:
    """Register ``handler(session, event)`` for event types matching the glob patterns.

    The handler runs in its own transaction after the emitting one commits; what it writes
    commits together with its delivery mark."""

    def register(handler: Handler) -> Handler:
        key = name or f"{handler.__module__}.{handler.__qualname__}"
        SUBSCRIBERS[key] = Subscriber(key, patterns, handler)
        return handler

    return register


def _json_safe(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [_json_safe(v) for v in value]
    if isinstance(value, decimal.Decimal):
        return str(value)
    if isinstance(value, dt.datetime):
        if value.tzinfo is None:
            raise ValueError("naive datetime in event payload")
        return value.astimezone(dt.UTC).isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if value is None or isinstance(value, str | int | float | bool):
        return value
    raise TypeError(f"event payload value of type {type(value).__name__} is not JSON-safe")


def _subject_ref(session: Session, subject: Any) -> tuple[str | None, str | None]:
    if subject is None:
        return None, None
    if isinstance(subject, tuple):
        return str(subject[0]), str(subject[1])
    if getattr(subject, "id", None) is None:
        session.flush()
    return subject.__tablename__, str(subject.id)


def emit(session: Session, type: str, actor: Actor, subject: Any = None, **payload: Any) -> Event:
    """Record an event in the caller's transaction. ``subject`` is a model instance or a
    ``(type, id)`` pair. Payloads hold identifiers and figures, never personal data."""
    if type not in CATALOGUE:
        raise UnknownEventType(name=type)
    from longshu.logs import current_request_id

    subject_type, subject_id = _subject_ref(session, subject)
    record = Event(
        type=type,
        occurred_at=utcnow(),
        actor_kind=actor.kind,
        actor_id=actor.id,
        actor_org_id=actor.org_id,
        subject_type=subject_type,
        subject_id=subject_id,
        request_id=current_request_id(),
        payload=_json_safe(payload),
    )
    session.add(record)
    session.info.setdefault("longshu_emitted", True)
    return record


# --- delivery -----------------------------------------------------------------------------

_after_commit_hook: Callable[[Session], None] | None = None


@event.listens_for(Session, "after_commit")
def _after_commit(session: Session) -> None:
    # also fires when a savepoint (begin_nested) commits: delivery waits for the outermost
    # transaction, whose locks must be gone before subscribers write (SQLite: one writer)
    if not session.in_nested_transaction():
        session.info["longshu_committed"] = True


@event.listens_for(Session, "after_transaction_end")
def _after_transaction_end(session: Session, transaction: Any) -> None:
    if transaction.parent is not None or transaction.nested:
        return
    committed = session.info.pop("longshu_committed", False)
    emitted = session.info.pop("longshu_emitted", False)
    if committed and emitted and _after_commit_hook is not None:
        _after_commit_hook(session)


@event.listens_for(Session, "after_rollback")
def _after_rollback(session: Session) -> None:
    if not session.in_nested_transaction():  # a savepoint's rollback keeps earlier events
        session.info.pop("longshu_emitted", None)


def set_dispatcher(hook: Callable[[Session], None] | None) -> None:
    """Choose what happens after a commit that emitted events (inline delivery or a task)."""
    global _after_commit_hook
    _after_commit_hook = hook


_local = threading.local()


def inline_dispatcher(session: Session) -> None:
    """Deliver in this process right after the commit. Events emitted by subscribers
    themselves are picked up by the outer loop instead of recursing."""
    if getattr(_local, "delivering", False):
        _local.again = True
        return
    bind = session.get_bind()
    _local.delivering = True
    try:
        while True:
            _local.again = False
            deliver_pending(lambda: Session(bind=bind, expire_on_commit=False))
            if not _local.again:
                break
    except Exception:  # a subscriber failure must not undo the committed change
        log.exception("event delivery failed; pending events stay queued")
    finally:
        _local.delivering = False


def deliver_pending(
    new_session: Callable[[], Session], subscribers: Iterable[Subscriber] | None = None
) -> int:
    """Deliver every pending event to every subscriber, in id order. Returns deliveries made.

    One read-only session finds, for every subscriber, what is pending and whether its
    cursor may move (a few indexed queries each, one connection for all of them); each
    delivery then runs in its own transaction."""
    subs = list(subscribers or SUBSCRIBERS.values())
    horizon = utcnow() - dt.timedelta(seconds=SETTLE_SECONDS)
    with new_session() as session:
        cursors = select(SubscriberCursor.subscriber, SubscriberCursor.settled_id).where(
            SubscriberCursor.subscriber.in_([sub.name for sub in subs])
        )
        settled: dict[str, int] = {name: mark for name, mark in session.execute(cursors)}
        plans = []
        for sub in subs:
            mark = settled.get(sub.name)
            oldest = session.scalar(
                select(Event.occurred_at).where(Event.id > (mark or 0)).order_by(Event.id).limit(1)
            )
            settle = mark is None or (oldest is not None and oldest <= horizon)
            plans.append((sub, _pending(session, sub, mark or 0), settle))
    delivered = 0
    for sub, pending, settle in plans:
        delivered += _deliver_events(new_session, sub, pending)
        if settle:
            _advance_cursor(new_session, sub.name)
    return delivered


def _wanted_types(sub: Subscriber) -> Any:
    """The subscriber's patterns as an SQL condition on ``Event.type`` (globs to LIKE), or
    None when every type is wanted or a pattern has a character class (Python filters)."""
    conditions = []
    for pattern in sub.patterns:
        if pattern == "*" or "[" in pattern:
            return None
        like = pattern.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        conditions.append(Event.type.like(like.replace("*", "%").replace("?", "_"), escape="\\"))
    return or_(*conditions)


def _pending(session: Session, sub: Subscriber, settled: int) -> list[tuple[int, str]]:
    """Events after ``settled`` the subscriber wants and has not handled. The database sets
    aside what is delivered or not wanted: the events since the settled mark (up to
    SETTLE_SECONDS of them) are not read into Python on every commit."""
    handled = (
        select(EventDelivery.event_id)
        .where(EventDelivery.subscriber == sub.name, EventDelivery.event_id == Event.id)
        .exists()
    )
    query = select(Event.id, Event.type).where(Event.id > settled, ~handled)
    wanted = _wanted_types(sub)
    if wanted is not None:
        query = query.where(wanted)
    return [(eid, etype) for eid, etype in session.execute(query.order_by(Event.id))]


def _deliver_events(
    new_session: Callable[[], Session], sub: Subscriber, pending: list[tuple[int, str]]
) -> int:
    delivered = 0
    for event_id, event_type in pending:
        if not sub.wants(event_type):
            continue
        with new_session() as session:
            try:
                with session.begin():
                    session.add(EventDelivery(subscriber=sub.name, event_id=event_id))
                    session.flush()  # claim it first: a concurrent deliverer loses here
                    record = session.get(Event, event_id)
                    assert record is not None
                    sub.handler(session, record)
                delivered += 1
            except IntegrityError:
                continue  # another process delivered it
            except Exception:
                log.exception(
                    "subscriber failed", extra={"subscriber": sub.name, "event_id": event_id}
                )
                break  # keep order: later events wait until this one succeeds
    return delivered


def _advance_cursor(new_session: Callable[[], Session], name: str) -> None:
    """Move the settled mark past events that are old enough and delivered or not wanted."""
    sub = SUBSCRIBERS.get(name)
    horizon = utcnow() - dt.timedelta(seconds=SETTLE_SECONDS)
    with new_session() as session, session.begin():
        # locked: two processes moving the mark at once must not move it back (SQLite: the
        # write lock at BEGIN, as a read-then-write upgrade fails at once under contention)
        session.connection(execution_options={"sqlite_immediate": True})
        cursor = session.get(SubscriberCursor, name, with_for_update=True)
        if cursor is None:  # the subscriber's first delivery; another process may race us
            insert_ignore(session, SubscriberCursor, {"subscriber": name, "settled_id": 0})
            cursor = session.get(
                SubscriberCursor, name, with_for_update=True, populate_existing=True
            )
            assert cursor is not None
        delivered = set(
            session.scalars(
                select(EventDelivery.event_id).where(
                    EventDelivery.subscriber == name, EventDelivery.event_id > cursor.settled_id
                )
            )
        )
        new_mark = cursor.settled_id
        rows = session.execute(
            select(Event.id, Event.type, Event.occurred_at)
            .where(Event.id > cursor.settled_id)
            .order_by(Event.id)
        )
        for eid, etype, occurred in rows:
            if occurred > horizon:
                break
            if eid in delivered or (sub is not None and not sub.wants(etype)):
                new_mark = eid
            else:
                break
        cursor.settled_id = new_mark


def pending_count(session: Session, subscriber: str) -> int:
    """Events a subscriber wants but has not handled yet (for /metrics and tests)."""
    sub = SUBSCRIBERS[subscriber]
    cursor = session.get(SubscriberCursor, subscriber)
    settled = cursor.settled_id if cursor else 0
    done = set(
        session.scalars(
            select(EventDelivery.event_id).where(
                EventDelivery.subscriber == subscriber, EventDelivery.event_id > settled
            )
        )
    )
    return sum(
        1
        for eid, etype in session.execute(select(Event.id, Event.type).where(Event.id > settled))
        if eid not in done and sub.wants(etype)
    )


def catalogue_markdown() -> str:
    """The event catalogue as a Markdown page (docs/events.md is this, kept current by a test)."""
    lines = [
        "# Event catalogue",
        "",
        "Every state change and every data touch emits one of these events (`events.emit`).",
        "Each event records who (actor kind, id, organisation), what (type), which subject",
        "(type and id), when (UTC), the request id and a payload of identifiers and figures —",
        "never personal data. Generated from the code by `longshu events catalogue`.",
        "",
    ]
    modules: dict[str, list[EventType]] = {}
    for entry in sorted(CATALOGUE.values(), key=lambda e: e.name):
        modules.setdefault(entry.module, []).append(entry)
    for module, entries in sorted(modules.items()):
        lines += [f"## {module}", "", "| type | 中文 | English |", "|---|---|---|"]
        lines += [f"| `{e.name}` | {e.title_zh} | {e.title_en} |" for e in entries]
        lines.append("")
    return "\n".join(lines)
