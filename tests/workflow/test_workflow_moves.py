"""Starting and moving instances: who may, from where, with what record and events."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import func, select
from tests.workflow.workflow_cases import (
    ADMIN,
    CONSUMER,
    OTHER_REVIEWER,
    PROVIDER_ORG,
    REVIEWER,
    SHARE,
    beijing,
    events_of,
)

from longshu.actor import ANONYMOUS, SYSTEM
from longshu.errors import NotSignedIn
from longshu.workflow import (
    AlreadyStarted,
    CommentInvalid,
    CommentRequired,
    OtherOrganisation,
    RoleNotAllowed,
    StaleWorkflow,
    TransitionNotAllowed,
    UnknownTransition,
    WorkflowInstance,
    WorkflowStep,
    available_transitions,
    comment,
    history,
    instance_for,
    move,
    start,
)

SUBJECT = ("share_request", 42)


@pytest.fixture
def submitted(session):
    instance = start(session, CONSUMER, SHARE, SUBJECT, PROVIDER_ORG, now=beijing(2026, 2, 13, 9))
    session.commit()
    return instance


def test_start_opens_an_instance_with_a_working_day_deadline(session, submitted):
    assert (submitted.state, submitted.org_id, submitted.version) == ("submitted", 1, 1)
    assert submitted.subject == ("share_request", "42")
    # 5 working days from Fri 13 Feb 2026: Sat 14 (调休), 24, 25, 26, 27 Feb.
    assert submitted.due_at == beijing(2026, 2, 27, 23, 59, 59)
    assert not submitted.due_provisional
    (started,) = events_of(session, "workflow.started")
    assert (started.subject_type, started.subject_id) == ("share_request", "42")
    assert started.payload["workflow"] == "test.share_request"
    assert started.payload["instance"] == submitted.id
    assert started.payload["state"] == "submitted"
    assert (started.actor_kind, started.actor_id) == ("user", 1)


def test_a_subject_has_one_open_instance_of_a_workflow(session, submitted):
    with pytest.raises(AlreadyStarted) as caught:
        start(session, CONSUMER, SHARE.name, SUBJECT, PROVIDER_ORG)
    assert caught.value.status == 409
    move(session, CONSUMER, submitted, "withdraw")
    session.commit()
    again = start(session, CONSUMER, SHARE.name, SUBJECT, PROVIDER_ORG)
    session.commit()
    assert instance_for(session, SHARE, SUBJECT) is again


def test_anonymous_visitors_cannot_start(session):
    with pytest.raises(NotSignedIn):
        start(session, ANONYMOUS, SHARE, SUBJECT, PROVIDER_ORG)


def test_move_follows_the_declared_path_and_sets_the_next_deadline(session, submitted):
    step = move(session, ADMIN, submitted, "accept", now=beijing(2026, 9, 15, 10))
    session.commit()
    assert (step.from_state, step.to_state, step.transition) == (
        "submitted",
        "provider_review",
        "accept",
    )
    assert submitted.state == "provider_review" and submitted.version == 2
    # 10 working days from 15 Sep 2026 cross 中秋 and the make-up Sunday 20 Sep.
    assert submitted.due_at == beijing(2026, 9, 29, 23, 59, 59)
    assert step.late  # the first deadline (27 Feb) had passed
    (moved,) = events_of(session, "workflow.moved")
    assert {k: moved.payload[k] for k in ("workflow", "from", "to", "transition", "instance")} == {
        "workflow": "test.share_request",
        "from": "submitted",
        "to": "provider_review",
        "transition": "accept",
        "instance": submitted.id,
    }
    assert (moved.payload["subject_type"], moved.payload["subject_id"]) == ("share_request", "42")
    assert (moved.subject_type, moved.subject_id) == ("share_request", "42")


def test_move_by_target_state_code(session, submitted):
    move(session, ADMIN, submitted, "provider_review")
    assert submitted.state == "provider_review"


def test_a_transition_that_does_not_leave_the_current_state_is_refused(session, submitted):
    with pytest.raises(TransitionNotAllowed) as caught:
        move(session, REVIEWER, submitted, "approve")
    assert caught.value.status == 409
    assert caught.value.params["transition_zh"] == "同意"
    assert caught.value.params["state_zh"] == "已提交"
    with pytest.raises(TransitionNotAllowed):
        move(session, REVIEWER, submitted, "approved")  # by target: no edge from here
    with pytest.raises(UnknownTransition):
        move(session, REVIEWER, submitted, "publish")
    assert events_of(session, "workflow.moved") == []


def test_the_actor_needs_one_of_the_transitions_roles(session, submitted):
    with pytest.raises(RoleNotAllowed) as caught:
        move(session, CONSUMER, submitted, "accept")
    assert caught.value.status == 403
    assert submitted.state == "submitted"


def test_own_org_transitions_are_for_the_owning_organisation_only(session, submitted):
    move(session, ADMIN, submitted, "accept")
    with pytest.raises(OtherOrganisation):
        move(session, OTHER_REVIEWER, submitted, "approve")
    move(session, REVIEWER, submitted, "approve")
    assert submitted.state == "approved"


def test_system_jobs_may_take_any_transition(session, submitted):
    move(session, SYSTEM, submitted, "reject", comment="超过补正期限，自动驳回")
    assert submitted.state == "rejected"


def test_transitions_that_require_a_comment_refuse_a_blank_one(session, submitted):
    with pytest.raises(CommentRequired) as caught:
        move(session, ADMIN, submitted, "reject", comment="   ")
    assert caught.value.status == 422
    step = move(session, ADMIN, submitted, "reject", comment="  申请用途与所需字段不符  ")
    assert step.comment == "申请用途与所需字段不符"


def test_an_oversized_comment_is_refused(session, submitted):
    with pytest.raises(CommentInvalid):
        move(session, ADMIN, submitted, "reject", comment="字" * 4001)
    with pytest.raises(CommentInvalid):
        comment(session, ADMIN, submitted, "")


def test_reaching_a_terminal_state_closes_the_instance(session, submitted):
    move(session, ADMIN, submitted, "accept")
    move(session, REVIEWER, submitted, "approve")
    session.commit()
    assert submitted.closed_at is not None and submitted.due_at is None
    assert available_transitions(REVIEWER, submitted) == []
    with pytest.raises(TransitionNotAllowed):
        move(session, CONSUMER, submitted, "withdraw")
    assert events_of(session, "workflow.moved")[-1].payload["closed"] is True


def test_available_transitions_are_what_this_actor_may_take_now(session, submitted):
    assert [t.name for t in available_transitions(ADMIN, submitted)] == ["accept", "reject"]
    assert [t.name for t in available_transitions(CONSUMER, submitted)] == ["withdraw"]
    assert available_transitions(REVIEWER, submitted) == [SHARE.transition("reject")]
    move(session, ADMIN, submitted, "accept")
    assert [t.name for t in available_transitions(OTHER_REVIEWER, submitted)] == [
        "reject",
        "return_for_changes",
    ]


def test_history_lists_moves_and_comments_in_order(session, submitted):
    move(session, ADMIN, submitted, "accept", now=beijing(2026, 2, 14, 9))
    comment(session, REVIEWER, submitted, "请补充数据使用场景说明")
    move(session, REVIEWER, submitted, "return_for_changes", comment="补充材料")
    session.commit()
    entries = history(session, submitted.id)
    assert [e.kind for e in entries] == ["step", "step", "comment", "step"]
    assert [getattr(e.record, "to_state", None) for e in entries] == [
        "submitted",
        "provider_review",
        None,
        "submitted",
    ]
    (commented,) = events_of(session, "workflow.commented")
    assert commented.payload["comment"] == entries[2].record.id
    assert "请补充" not in str(commented.payload)  # the text stays out of the event


def test_a_move_based_on_an_old_read_is_refused(db):
    with db.sessionmaker() as s:
        instance = start(s, CONSUMER, SHARE, SUBJECT, PROVIDER_ORG)
        s.commit()
    with db.sessionmaker() as first, db.sessionmaker() as second:
        mine = first.get(WorkflowInstance, instance.id)
        theirs = second.get(WorkflowInstance, instance.id)
        move(first, ADMIN, mine, "accept")
        first.commit()
        with pytest.raises(StaleWorkflow) as caught:
            move(second, ADMIN, theirs, "reject", comment="不予共享")
        assert caught.value.status == 409
        second.rollback()
    with db.sessionmaker() as s:
        fresh = s.get(WorkflowInstance, instance.id)
        assert (fresh.state, fresh.version) == ("provider_review", 2)
        assert s.scalar(select(func.count(WorkflowStep.id))) == 2  # start + accept
        assert len(events_of(s, "workflow.moved")) == 1


def test_a_form_rendered_with_an_older_version_is_refused(session, submitted):
    move(session, ADMIN, submitted, "accept")
    session.commit()
    with pytest.raises(StaleWorkflow):
        move(session, REVIEWER, submitted.id, "approve", expected_version=1)
    move(session, REVIEWER, submitted.id, "approve", expected_version=2)
    assert submitted.state == "approved"


def test_two_simultaneous_moves_one_wins_the_other_is_told(db):
    with db.sessionmaker() as s:
        instance = start(s, CONSUMER, SHARE, SUBJECT, PROVIDER_ORG)
        s.commit()
    both_read = threading.Barrier(2)
    outcomes: dict[str, str] = {}

    def act(actor, transition, comment_text):
        with db.sessionmaker() as s:
            mine = s.get(WorkflowInstance, instance.id)
            both_read.wait()
            try:
                move(s, actor, mine, transition, comment=comment_text)
                s.commit()
                outcomes[transition] = "moved"
            except StaleWorkflow:
                s.rollback()
                outcomes[transition] = "stale"

    threads = [
        threading.Thread(target=act, args=(ADMIN, "accept", None)),
        threading.Thread(target=act, args=(CONSUMER, "withdraw", None)),
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(outcomes.values()) == ["moved", "stale"]
    winner = next(name for name, result in outcomes.items() if result == "moved")
    with db.sessionmaker() as s:
        fresh = s.get(WorkflowInstance, instance.id)
        assert fresh.version == 2
        assert fresh.state == {"accept": "provider_review", "withdraw": "withdrawn"}[winner]
        assert [e.payload["transition"] for e in events_of(s, "workflow.moved")] == [winner]
