"""A share-request-like workflow and the people who move it."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from longshu.actor import Actor
from longshu.db import SHANGHAI
from longshu.events import Event
from longshu.workflow import AttachmentPolicy, State, Transition, Workflow

SHARE = Workflow(
    name="test.share_request",
    title_zh="共享申请",
    title_en="Share request",
    states=[
        State("submitted", "已提交", "Submitted"),
        State("provider_review", "部门审核中", "Under provider review"),
        State("approved", "已同意", "Approved", terminal=True),
        State("rejected", "已驳回", "Rejected", terminal=True),
        State("withdrawn", "已撤回", "Withdrawn", terminal=True),
    ],
    transitions=[
        Transition(
            "accept", "submitted", "provider_review", {"dept_data_admin"}, "受理", "Accept",
            deadline_working_days=10, own_org=True,
        ),
        Transition(
            "approve", "provider_review", "approved", {"dept_reviewer", "bureau_reviewer"},
            "同意", "Approve", own_org=True,
        ),
        Transition(
            "reject", ("submitted", "provider_review"), "rejected",
            {"dept_reviewer", "dept_data_admin"}, "驳回", "Reject", requires_comment=True,
        ),
        Transition(
            "return_for_changes", "provider_review", "submitted", {"dept_reviewer"}, "退回修改",
            "Return for changes", deadline_working_days=5, requires_comment=True,
        ),
        Transition("withdraw", "*", "withdrawn", {"data_consumer"}, "撤回", "Withdraw"),
    ],
    initial="submitted",
    initial_deadline_working_days=5,
    attachments=AttachmentPolicy(
        max_bytes=4096, media_types=frozenset({"application/pdf", "text/csv", "image/png"})
    ),
)  # fmt: skip

CONSUMER = Actor(kind="user", id=1, org_id=2, roles=frozenset({"data_consumer"}))
ADMIN = Actor(kind="user", id=2, org_id=1, roles=frozenset({"dept_data_admin"}))
REVIEWER = Actor(kind="user", id=3, org_id=1, roles=frozenset({"dept_reviewer"}))
OTHER_REVIEWER = Actor(kind="user", id=4, org_id=9, roles=frozenset({"dept_reviewer"}))
PROVIDER_ORG = 1


def beijing(*args: int) -> dt.datetime:
    return dt.datetime(*args, tzinfo=SHANGHAI)


def events_of(session, type_: str) -> list[Event]:
    return list(session.scalars(select(Event).where(Event.type == type_).order_by(Event.id)))
