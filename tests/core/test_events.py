from __future__ import annotations

import decimal

import pytest
from sqlalchemy import func, select

from longshu import events
from longshu.actor import SYSTEM
from longshu.events import Event, EventDelivery, emit, subscribe

SEEN: list[int] = []

events.define("test.thing_happened", "测试事件", "Test event")
events.define("test.follow_up", "测试后续事件", "Test follow-up")


@pytest.fixture
def recorder():
    SEEN.clear()

    @subscribe("test.*", name="test-recorder")
    def record(session, event):
        SEEN.append(event.id)

    yield SEEN
    events.SUBSCRIBERS.pop("test-recorder", None)


def test_emit_writes_outbox_row_in_the_same_transaction(session, recorder):
    emit(
        session, "test.thing_happened", SYSTEM, subject=("thing", 7), amount=decimal.Decimal("1.50")
    )
    session.rollback()
    assert session.scalar(select(func.count(Event.id))) == 0
    assert recorder == []


def test_subscribers_run_after_commit_and_are_acknowledged(session, recorder):
    ev = emit(
        session, "test.thing_happened", SYSTEM, subject=("thing", 7), amount=decimal.Decimal("1.50")
    )
    session.commit()
    assert recorder == [ev.id]
    assert ev.payload == {"amount": "1.50"}
    delivered = session.scalars(
        select(EventDelivery.subscriber).where(EventDelivery.event_id == ev.id)
    )
    # other subscribers (the ledger) may be registered too; ours is acknowledged exactly once
    assert list(delivered).count("test-recorder") == 1


def test_unknown_event_type_is_refused(session):
    with pytest.raises(events.UnknownEventType):
        emit(session, "test.not_declared", SYSTEM)


def test_failed_subscriber_keeps_event_pending_and_retries_in_order(db, session):
    calls: list[int] = []
    fail = {"on": True}

    @subscribe("test.*", name="test-flaky")
    def flaky(s, event):
        if fail["on"]:
            raise RuntimeError("boom")
        calls.append(event.id)

    try:
        first = emit(session, "test.thing_happened", SYSTEM)
        session.commit()
        second = emit(session, "test.follow_up", SYSTEM)
        session.commit()
        assert calls == []
        assert events.pending_count(session, "test-flaky") == 2
        fail["on"] = False
        events.deliver_pending(db.sessionmaker)
        assert calls == [first.id, second.id]
        events.deliver_pending(db.sessionmaker)
        assert calls == [first.id, second.id]  # never twice
    finally:
        events.SUBSCRIBERS.pop("test-flaky", None)


def test_naive_datetime_payload_is_refused(session):
    import datetime as dt

    with pytest.raises(ValueError):
        emit(session, "test.thing_happened", SYSTEM, when=dt.datetime(2026, 1, 1))


def test_delivery_waits_for_the_outermost_commit(db, recorder):
    """A savepoint's commit is not the end of the unit of work: subscribers (which write)
    run only once the outer transaction has committed and released its locks."""
    with db.session() as session:
        with session.begin_nested():
            ev = emit(session, "test.thing_happened", SYSTEM, subject=("thing", 8))
        assert recorder == []  # the savepoint committed, the transaction has not
        session.flush()
    assert recorder == [ev.id]


def test_a_rolled_back_savepoint_keeps_earlier_events_deliverable(db, recorder):
    with db.session() as session:
        ev = emit(session, "test.thing_happened", SYSTEM, subject=("thing", 9))
        try:
            with session.begin_nested():
                raise RuntimeError("undo the inner part only")
        except RuntimeError:
            pass
    assert recorder == [ev.id]


def test_two_processes_settling_a_new_subscriber_at_once_both_succeed(db, recorder):
    """Two API workers deliver a new subscriber's first events at the same moment: both make
    its cursor row; one insert wins and neither delivery fails (seen under load on PG)."""
    import threading

    from longshu.events import SubscriberCursor

    barrier, errors = threading.Barrier(4), []

    def settle() -> None:
        try:
            barrier.wait(timeout=30)
            events._advance_cursor(db.sessionmaker, "test-recorder")
        except Exception as exc:  # collected: the assertion below names it
            errors.append(exc)

    threads = [threading.Thread(target=settle) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    with db.session() as s:
        cursors = s.scalars(
            select(SubscriberCursor).where(SubscriberCursor.subscriber == "test-recorder")
        ).all()
        assert [c.settled_id for c in cursors] == [0]
