"""The worker's periodic tasks, run here as the worker would run them (same code, same DB)."""

from __future__ import annotations

import importlib

from sqlalchemy import func, select
from tests.workflow.workflow_cases import CONSUMER, PROVIDER_ORG, SHARE, beijing

from longshu.actor import SYSTEM
from longshu.events import Event, emit
from longshu.http import REQUEST_REFUSED
from longshu.security.ledger.models import LedgerCheckpoint, LedgerEntry
from longshu.workflow import start


def tasks():
    return importlib.import_module("longshu.tasks")


def test_checkpoint_covers_the_tail_of_an_idle_ledger(db, settings):
    importlib.import_module("longshu.security.ledger.subscriber")
    assert tasks().checkpoint_ledger.call_local() is None  # nothing recorded: nothing signed
    for n in range(3):
        with db.session() as s:
            emit(s, REQUEST_REFUSED, SYSTEM, reason="probe", size=n, method="GET", path="/")
    with db.session() as s:
        entries = s.scalar(select(func.count()).select_from(LedgerEntry))
    assert entries >= 3
    assert tasks().checkpoint_ledger.call_local() == entries
    with db.session() as s:
        newest = s.scalars(select(LedgerCheckpoint).order_by(LedgerCheckpoint.seq.desc())).first()
        assert newest.tree_size == entries
        count = s.scalar(select(func.count()).select_from(LedgerCheckpoint))
    assert tasks().checkpoint_ledger.call_local() == entries  # idle: no new checkpoint
    with db.session() as s:
        assert s.scalar(select(func.count()).select_from(LedgerCheckpoint)) == count


def test_overdue_work_is_reported_once(db, settings):
    with db.session() as s:
        start(s, CONSUMER, SHARE, ("share_request", 7), PROVIDER_ORG, now=beijing(2026, 2, 13, 9))
    assert tasks().report_overdue_work.call_local() == 1
    assert tasks().report_overdue_work.call_local() == 0
    with db.session() as s:
        assert s.scalar(select(func.count()).where(Event.type == "workflow.overdue")) == 1
