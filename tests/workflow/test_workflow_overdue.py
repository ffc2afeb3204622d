"""Missed deadlines are listed and reported once per deadline."""

from __future__ import annotations

import pytest
from tests.workflow.workflow_cases import ADMIN, CONSUMER, PROVIDER_ORG, SHARE, beijing, events_of

from longshu.workflow import mark_overdue, move, overdue, start


@pytest.fixture
def submitted(session):
    # Due at the end of Fri 27 Feb 2026 (5 working days after Fri 13 Feb, 春节 in between).
    inst = start(
        session, CONSUMER, SHARE, ("share_request", 1), PROVIDER_ORG, now=beijing(2026, 2, 13, 9)
    )
    session.commit()
    return inst


def test_an_instance_is_overdue_only_after_the_end_of_its_last_working_day(session, submitted):
    assert overdue(session, now=beijing(2026, 2, 27, 23, 0)) == []
    assert overdue(session, now=beijing(2026, 2, 28, 0, 0)) == [submitted]
    assert overdue(session, now=beijing(2026, 3, 2, 9), workflow="test.other") == []
    assert overdue(session, now=beijing(2026, 3, 2, 9), org_id=PROVIDER_ORG) == [submitted]


def test_mark_overdue_reports_each_missed_deadline_once(session, submitted):
    now = beijing(2026, 3, 2, 9)
    assert mark_overdue(session, now=now) == [submitted]
    session.commit()
    assert mark_overdue(session, now=now) == []
    assert mark_overdue(session, now=beijing(2026, 3, 9, 9)) == []
    session.commit()
    (event,) = events_of(session, "workflow.overdue")
    assert (event.subject_type, event.subject_id, event.actor_kind) == (
        "share_request",
        "1",
        "system",
    )
    assert event.payload["instance"] == submitted.id and event.payload["state"] == "submitted"
    # Sat 28 Feb is a make-up workday, so Monday 2 Mar is the second working day late.
    assert event.payload["working_days_late"] == 2
    assert submitted.overdue_at == now


def test_a_new_deadline_can_be_missed_and_reported_again(session, submitted):
    mark_overdue(session, now=beijing(2026, 3, 2, 9))
    step = move(session, ADMIN, submitted, "accept", now=beijing(2026, 3, 2, 10))
    session.commit()
    assert step.late and submitted.overdue_at is None
    assert overdue(session, now=beijing(2026, 3, 3, 9)) == []
    assert mark_overdue(session, now=beijing(2026, 4, 1, 9)) == [submitted]
    session.commit()
    assert len(events_of(session, "workflow.overdue")) == 2


def test_closed_instances_are_never_overdue(session, submitted):
    move(session, CONSUMER, submitted, "withdraw", now=beijing(2026, 3, 2, 9))
    session.commit()
    assert overdue(session, now=beijing(2026, 12, 1)) == []
    assert mark_overdue(session, now=beijing(2026, 12, 1)) == []


def test_a_deadline_counted_over_2027_is_marked_provisional(session):
    inst = start(
        session, CONSUMER, SHARE, ("share_request", 2), PROVIDER_ORG, now=beijing(2026, 12, 30, 9)
    )
    session.commit()
    assert inst.due_at == beijing(2027, 1, 6, 23, 59, 59)
    assert inst.due_provisional


def test_two_overdue_runs_at_once_report_once(db, submitted):
    now = beijing(2026, 3, 2, 9)
    with db.sessionmaker() as first, db.sessionmaker() as second:
        assert len(overdue(first, now)) == len(overdue(second, now)) == 1  # both have read
        assert len(mark_overdue(first, now=now)) == 1
        first.commit()
        assert mark_overdue(second, now=now) == []
        second.commit()
    with db.sessionmaker() as s:
        assert len(events_of(s, "workflow.overdue")) == 1
