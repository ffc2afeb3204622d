"""Running workflows: start an instance, move it, comment, attach files, read its history.

Every function takes the caller's session and actor and leaves committing to the caller, so a
domain's own change and the workflow move commit (or roll back) together. Domain permissions
(may this person see or act on this share request at all?) are the domain's check, made with
``access.require`` before calling in; here the transition's roles decide who may take it.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from longshu import events
from longshu.actor import Actor
from longshu.db import utcnow
from longshu.errors import NotSignedIn

from . import calendar, definition
from .definition import Transition, Workflow
from .errors import (
    AlreadyStarted,
    CommentInvalid,
    CommentRequired,
    InstanceNotFound,
    OtherOrganisation,
    RoleNotAllowed,
    StaleWorkflow,
    TransitionNotAllowed,
    UnknownTransition,
)
from .models import WorkflowInstance, WorkflowStep

MAX_COMMENT_CHARS = 4000

STARTED = events.define("workflow.started", "流程已发起", "Workflow started")
MOVED = events.define("workflow.moved", "流程已流转", "Workflow moved")


def _subject_of(session: Session, subject: Any) -> tuple[str, str]:
    if isinstance(subject, tuple):
        kind, ident = subject
        return str(kind), str(ident)
    if getattr(subject, "id", None) is None:
        session.flush()
    return subject.__tablename__, str(subject.id)


def _payload(instance: WorkflowInstance) -> dict[str, Any]:
    return {
        "workflow": instance.workflow,
        "instance": instance.id,
        # ``subject`` is emit's own argument (the event's subject columns): spelled out here too
        "subject_type": instance.subject_type,
        "subject_id": instance.subject_id,
        "org_id": instance.org_id,
    }


def _deadline(
    now: dt.datetime, days: int | None, override: dt.datetime | None
) -> tuple[dt.datetime | None, bool]:
    """The deadline to set and whether it was counted over a year without official data."""
    if override is not None:
        if override.tzinfo is None:
            raise ValueError("naive datetime refused: pass a timezone-aware deadline")
        return override, False
    if days is None:
        return None, False
    due = calendar.add_working_days(now, days)
    return due, not calendar.covers(now, due)


def _require_signed_in(actor: Actor) -> None:
    if not actor.is_authenticated:
        raise NotSignedIn()


def _clean_comment(text: str | None) -> str | None:
    if text is None:
        return None
    text = text.strip()
    if not text:
        return None
    if len(text) > MAX_COMMENT_CHARS or "\x00" in text:
        raise CommentInvalid(limit=MAX_COMMENT_CHARS)
    return text


def get_instance(session: Session, instance_id: int) -> WorkflowInstance:
    """The instance with this id, or ``InstanceNotFound``."""
    instance = session.get(WorkflowInstance, instance_id)
    if instance is None:
        raise InstanceNotFound(instance=instance_id)
    return instance


def instance_for(
    session: Session, workflow: str | Workflow, subject: Any
) -> WorkflowInstance | None:
    """The subject's open instance of ``workflow``, else its most recent closed one."""
    name = workflow.name if isinstance(workflow, Workflow) else workflow
    kind, ident = _subject_of(session, subject)
    return session.scalars(
        select(WorkflowInstance)
        .where(
            WorkflowInstance.workflow == name,
            WorkflowInstance.subject_type == kind,
            WorkflowInstance.subject_id == ident,
        )
        .order_by(WorkflowInstance.closed_at.is_not(None), WorkflowInstance.id.desc())
        .limit(1)
    ).first()


def start(
    session: Session,
    actor: Actor,
    workflow: str | Workflow,
    subject: Any,
    org_id: int | None,
    *,
    comment: str | None = None,
    due_at: dt.datetime | None = None,
    now: dt.datetime | None = None,
) -> WorkflowInstance:
    """Open an instance of ``workflow`` for ``subject`` (a model or a ``(type, id)`` pair),
    owned by organisation ``org_id``, in the initial state; emits ``workflow.started``.
    A subject has at most one open instance of a workflow (``AlreadyStarted``)."""
    _require_signed_in(actor)
    wf = definition.get(workflow.name if isinstance(workflow, Workflow) else workflow)
    kind, ident = _subject_of(session, subject)
    text = _clean_comment(comment)
    existing = instance_for(session, wf, (kind, ident))
    if existing is not None and existing.is_open:
        raise AlreadyStarted(workflow=wf.name, instance=existing.id)
    now = now or utcnow()
    deadline, provisional = _deadline(now, wf.initial_deadline_working_days, due_at)
    instance = WorkflowInstance(
        workflow=wf.name,
        subject_type=kind,
        subject_id=ident,
        state=wf.initial,
        org_id=org_id,
        started_at=now,
        due_at=deadline,
        due_provisional=provisional,
        version=1,
    )
    session.add(instance)
    try:
        session.flush()
    except IntegrityError as exc:  # a concurrent start won the unique open-instance index
        raise AlreadyStarted(workflow=wf.name, instance="?") from exc
    session.add(_step(instance, actor, None, None, wf.initial, text, now, deadline, late=False))
    events.emit(
        session, STARTED, actor, subject=instance.subject, state=wf.initial, due_at=deadline,
        due_provisional=provisional, **_payload(instance),
    )  # fmt: skip
    return instance


def _step(
    instance: WorkflowInstance,
    actor: Actor,
    transition: str | None,
    source: str | None,
    target: str,
    comment: str | None,
    at: dt.datetime,
    due_at: dt.datetime | None,
    late: bool,
) -> WorkflowStep:
    return WorkflowStep(
        instance_id=instance.id,
        transition=transition,
        from_state=source,
        to_state=target,
        actor_kind=actor.kind,
        actor_id=actor.id,
        actor_org_id=actor.org_id,
        comment=comment,
        at=at,
        due_at=due_at,
        late=late,
    )


def _refusal(actor: Actor, instance: WorkflowInstance, t: Transition) -> Exception | None:
    """Why ``actor`` may not take ``t`` on ``instance`` (None: they may)."""
    if actor.kind == "system":  # the platform's own jobs, as in access.decide
        return None
    if not actor.is_authenticated or not actor.roles & t.roles:
        return RoleNotAllowed(transition=t.title_en, transition_zh=t.title_zh)
    if t.own_org and actor.org_id != instance.org_id:
        return OtherOrganisation(transition=t.title_en, transition_zh=t.title_zh)
    return None


def available_transitions(actor: Actor, instance: WorkflowInstance) -> list[Transition]:
    """The transitions ``actor`` may take now (what buttons to show), in declaration order."""
    if not instance.is_open:
        return []
    wf = definition.get(instance.workflow)
    return [t for t in wf.leaving(instance.state) if _refusal(actor, instance, t) is None]


def _resolve(wf: Workflow, instance: WorkflowInstance, name_or_target: str) -> Transition:
    state = wf.state(instance.state)
    named = wf.transition(name_or_target)
    if named is not None:
        if not instance.is_open or not named.leaves(instance.state):
            raise TransitionNotAllowed(
                transition=named.title_en, transition_zh=named.title_zh,
                state=state.title_en, state_zh=state.title_zh,
            )  # fmt: skip
        return named
    if name_or_target not in {s.code for s in wf.states}:
        raise UnknownTransition(workflow=wf.name, transition=name_or_target)
    for t in wf.leaving(instance.state) if instance.is_open else []:
        if t.target == name_or_target:
            return t
    target = wf.state(name_or_target)
    raise TransitionNotAllowed(
        transition=target.title_en, transition_zh=target.title_zh,
        state=state.title_en, state_zh=state.title_zh,
    )  # fmt: skip


def _attached(session: Session, instance: WorkflowInstance | int) -> WorkflowInstance:
    if isinstance(instance, WorkflowInstance) and instance in session:
        return instance
    ident = instance.id if isinstance(instance, WorkflowInstance) else instance
    return get_instance(session, ident)


def move(
    session: Session,
    actor: Actor,
    instance: WorkflowInstance | int,
    transition_or_target: str,
    comment: str | None = None,
    *,
    expected_version: int | None = None,
    due_at: dt.datetime | None = None,
    now: dt.datetime | None = None,
) -> WorkflowStep:
    """Take a transition (by name, or by target state code) and emit ``workflow.moved``.

    Refuses with ``TransitionNotAllowed`` if it does not leave the current state,
    ``RoleNotAllowed``/``OtherOrganisation`` if the actor may not take it, ``CommentRequired``,
    and ``StaleWorkflow`` if the instance changed since it was read (or since
    ``expected_version``, e.g. the version a form was rendered with)."""
    inst = _attached(session, instance)
    seen = instance.version if isinstance(instance, WorkflowInstance) else inst.version
    if expected_version is not None and expected_version != seen:
        raise StaleWorkflow(instance=inst.id)
    wf = definition.get(inst.workflow)
    transition = _resolve(wf, inst, transition_or_target)
    refusal = _refusal(actor, inst, transition)
    if refusal is not None:
        raise refusal
    text = _clean_comment(comment)
    if transition.requires_comment and text is None:
        raise CommentRequired(transition=transition.title_en, transition_zh=transition.title_zh)
    now = now or utcnow()
    closing = wf.is_terminal(transition.target)
    deadline, provisional = (
        (None, False) if closing else _deadline(now, transition.deadline_working_days, due_at)
    )
    source = inst.state
    late = inst.due_at is not None and now > inst.due_at
    values = {
        "state": transition.target,
        "due_at": deadline,
        "due_provisional": provisional,
        "overdue_at": None,
        "closed_at": now if closing else None,
        "version": seen + 1,
    }
    table = WorkflowInstance.__table__
    statement = update(table).where(table.c.id == inst.id, table.c.version == seen).values(**values)
    try:
        result = session.execute(statement)
    except OperationalError as exc:
        # SQLite refuses to write from a read snapshot that another writer has since moved on
        # from ("database is locked"): that is exactly a concurrent move of this instance.
        if session.get_bind().dialect.name == "sqlite" and "locked" in str(exc):
            raise StaleWorkflow(instance=inst.id) from exc
        raise
    if result.rowcount != 1:
        raise StaleWorkflow(instance=inst.id)
    for key, value in values.items():
        set_committed_value(inst, key, value)
    step = _step(inst, actor, transition.name, source, transition.target, text, now, deadline, late)
    session.add(step)
    events.emit(
        session, MOVED, actor, subject=inst.subject, transition=transition.name,
        due_at=deadline, due_provisional=provisional, late=late, closed=closing,
        version=inst.version,
        **{"from": source, "to": transition.target}, **_payload(inst),
    )  # fmt: skip
    return step
