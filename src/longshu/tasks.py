"""Huey tasks of the foundation: deliver pending events, periodic catch-up."""

from __future__ import annotations

from huey import crontab

from longshu import events
from longshu.db import get_database
from longshu.jobs import get_huey

huey = get_huey()


@huey.task(retries=5, retry_delay=10)
def deliver_events() -> int:
    """Deliver every pending event to every subscriber (idempotent)."""
    return events.deliver_pending(get_database().sessionmaker)


@huey.periodic_task(crontab(minute="*"))
def deliver_events_periodically() -> int:
    """Catch up whatever an in-process delivery missed (a crash between commit and delivery)."""
    return events.deliver_pending(get_database().sessionmaker)


def enqueue_delivery() -> None:
    deliver_events()
