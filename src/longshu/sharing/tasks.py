"""Periodic jobs of sharing: grants past their validity are expired (which makes their
delivered packages due for destruction), last month's duty list is compiled on the 1st, and
the destruction reminders run (declared beside their rules in ``destruction``)."""

from __future__ import annotations

from huey import crontab

from longshu.actor import SYSTEM
from longshu.db import get_database
from longshu.jobs import get_huey
from longshu.sharing import destruction, duties, grants

huey = get_huey()

__all__ = ["compile_duty_list", "destruction", "expire_grants"]


@huey.periodic_task(crontab(minute="*/5"))
def expire_grants() -> int:
    """Every 5 minutes: mark grants past their validity expired (lake.access refuses them
    from the second they end anyway; this records it and starts what follows)."""
    with get_database().session() as session:
        return grants.expire_due(session, SYSTEM)


@huey.periodic_task(crontab(day="1", hour="1", minute="5"))  # 09:05 in Beijing
def compile_duty_list() -> int | None:
    """On the 1st: last month's duty list as a draft edition for the bureau to publish."""
    with get_database().session() as session:
        edition = duties.compile_monthly(session)
        return edition.id if edition else None
