"""Missed deadlines: which open instances are past due, reported once per deadline.

A periodic job calls :func:`mark_overdue`; supervision learns of each miss from the
``workflow.overdue`` event, never by polling these tables.
"""

from __future__ import annotations

import datetime as dt
import logging

from sqlalchemy import select, update
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from longshu import events
from longshu.actor import SYSTEM, Actor
from longshu.db import utcnow

from . import calendar
from .models import WorkflowInstance

log = logging.getLogger("longshu.workflow.deadlines")

OVERDUE = events.define("workflow.overdue", "流程已超期", "Workflow overdue")


def overdue(
    session: Session,
    now: dt.datetime | None = None,
    *,
    workflow: str | None = None,
    org_id: int | None = None,
) -> list[WorkflowInstance]:
    """Open instances whose deadline has passed at ``now``, most overdue first."""
    now = now or utcnow()
    query = select(WorkflowInstance).where(
        WorkflowInstance.closed_at.is_(None),
        WorkflowInstance.due_at.is_not(None),
        WorkflowInstance.due_at < now,
    )
    if workflow is not None:
        query = query.where(WorkflowInstance.workflow == workflow)
    if org_id is not None:
        query = query.where(WorkflowInstance.org_id == org_id)
    return list(session.scalars(query.order_by(WorkflowInstance.due_at, WorkflowInstance.id)))


def mark_overdue(
    session: Session, now: dt.datetime | None = None, actor: Actor = SYSTEM
) -> list[WorkflowInstance]:
    """Emit ``workflow.overdue`` for each instance past its deadline that has not been
    reported yet, and return those. Idempotent: running it again (or twice at once) reports
    nothing new until an instance gets a new deadline and misses that one too."""
    now = now or utcnow()
    table = WorkflowInstance.__table__
    marked = []
    for instance in overdue(session, now):
        if instance.overdue_at is not None:
            continue
        # Only if nobody moved it meanwhile (same version) and nobody reported it already.
        try:
            result = session.execute(
                update(table)
                .where(
                    table.c.id == instance.id,
                    table.c.version == instance.version,
                    table.c.overdue_at.is_(None),
                    table.c.closed_at.is_(None),
                )
                .values(overdue_at=now)
            )
        except OperationalError as exc:
            # SQLite: another writer (a second run of this job) committed since we read;
            # our snapshot is stale for every further row too, so leave the rest to it.
            if session.get_bind().dialect.name == "sqlite" and "locked" in str(exc):
                log.info("overdue marking yields to a concurrent writer")
                break
            raise
        if result.rowcount != 1:
            continue
        set_committed_value(instance, "overdue_at", now)
        assert instance.due_at is not None
        events.emit(
            session,
            OVERDUE,
            actor,
            subject=instance.subject,
            workflow=instance.workflow,
            instance=instance.id,
            subject_type=instance.subject_type,
            subject_id=instance.subject_id,
            org_id=instance.org_id,
            state=instance.state,
            due_at=instance.due_at,
            working_days_late=max(calendar.working_days_between(instance.due_at, now), 0),
        )
        marked.append(instance)
    return marked
