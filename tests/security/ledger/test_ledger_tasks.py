"""The worker's checkpoint task follows the configured interval and signs only a grown log."""

from __future__ import annotations

import datetime as dt
import importlib

from sqlalchemy import func, select

from longshu.security.ledger import service
from longshu.security.ledger.models import LedgerCheckpoint


def tasks():
    return importlib.import_module("longshu.tasks")


def _firing_minutes(seconds: int) -> list[int]:
    due = tasks().every(seconds)
    return [m for m in range(60) if due(dt.datetime(2026, 11, 29, 3, m))]


def test_checkpoint_schedule_follows_the_configured_interval():
    assert _firing_minutes(60) == list(range(60))
    assert _firing_minutes(10) == list(range(60))  # never more often than once a minute
    assert _firing_minutes(600) == [0, 10, 20, 30, 40, 50]
    hourly = tasks().every(3600)
    day = [dt.datetime(2026, 11, 29, h, m) for h in range(24) for m in range(60)]
    assert sum(map(hourly, day)) == 24
    # the default interval (LONGSHU_LEDGER_CHECKPOINT_SECONDS = 60) is what the task runs on
    task = tasks().checkpoint_ledger.task_class()
    assert task.validate_datetime(dt.datetime(2026, 11, 29, 3, 7))


def test_checkpoint_task_signs_only_when_the_ledger_grew(ledger_env, db):
    with db.session() as session:
        service.append(session, [b"one"], service.EVENTS_LEDGER)  # signs the first checkpoint
        service.append(session, [b"two", b"three"], service.EVENTS_LEDGER)  # not yet due

    def checkpoints() -> int:
        with db.session() as session:
            return session.scalar(select(func.count()).select_from(LedgerCheckpoint))

    before = checkpoints()
    assert tasks().checkpoint_ledger.call_local() == 3
    assert checkpoints() == before + 1
    assert tasks().checkpoint_ledger.call_local() == 3
    assert checkpoints() == before + 1
