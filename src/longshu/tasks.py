"""Huey tasks of the foundation: event delivery, ledger checkpoints, overdue workflow items.

``longshu worker`` runs them (through ``longshu.worker``, which also registers the
subscribers); the embedded shape runs the consumer in-process or not at all — appends already
sign checkpoints as they go, and these periodic tasks only cover idle stretches."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable

from huey import crontab

from longshu import events
from longshu.db import get_database
from longshu.jobs import get_huey
from longshu.security.ledger import service as ledger
from longshu.security.ledger.settings import ledger_settings
from longshu.workflow import mark_overdue

huey = get_huey()
log = logging.getLogger("longshu.tasks")


@huey.task(retries=5, retry_delay=10)
def deliver_events() -> int:
    """Deliver every pending event to every subscriber (idempotent)."""
    return events.deliver_pending(get_database().sessionmaker)


@huey.periodic_task(crontab(minute="*"))
def deliver_events_periodically() -> int:
    """Catch up whatever an in-process delivery missed (a crash between commit and delivery)."""
    return events.deliver_pending(get_database().sessionmaker)


def every(seconds: int) -> Callable[[dt.datetime], bool]:
    """A huey schedule that fires every ``seconds`` rounded to whole minutes (at least one),
    counted from midnight UTC of 1 January 1970 so that every worker agrees on the minute."""
    minutes = max(1, round(seconds / 60))

    def due(now: dt.datetime) -> bool:
        return int(now.replace(tzinfo=dt.UTC).timestamp()) // 60 % minutes == 0

    return due


@huey.periodic_task(every(ledger_settings().checkpoint_seconds))
def checkpoint_ledger() -> int | None:
    """Every ``LONGSHU_LEDGER_CHECKPOINT_SECONDS`` (60): sign a checkpoint when entries arrived
    since the last one, so that the tail of an idle log is covered too (receipts need a
    checkpoint; appends sign their own every ``CHECKPOINT_EVERY`` entries or that interval).
    Returns the covered size."""
    with get_database().session() as session:
        try:
            ledger.get_ledger(session, create=False)
        except ledger.LedgerNotFound:
            return None  # nothing recorded yet
        return ledger.issue_checkpoint(session).tree_size


@huey.periodic_task(crontab(minute="*/15"))
def report_overdue_work() -> int:
    """Emit ``workflow.overdue`` once for every item past its working-day deadline."""
    with get_database().session() as session:
        late = mark_overdue(session)
    if late:
        log.info("overdue workflow items reported", extra={"count": len(late)})
    return len(late)


def enqueue_delivery() -> None:
    deliver_events()
