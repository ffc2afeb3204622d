"""Workflow tables: one instance per subject going through a workflow, and its record.

Organisations and actors are referred to by id only: the workflow layer sits below them.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import BigInteger, ForeignKey, Index, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from longshu.db import Base, utcnow


class WorkflowInstance(Base):
    """A subject (a share request, a registration, ...) on its way through a workflow.

    ``due_at`` is the deadline of the current state (None: no deadline). ``version`` grows by
    one on every move; a move carrying an older version is refused (optimistic concurrency)."""

    __tablename__ = "workflow_instance"
    __table_args__ = (
        Index("ix_workflow_instance_subject", "subject_type", "subject_id"),
        Index("ix_workflow_instance_open_due", "closed_at", "due_at"),
        Index("ix_workflow_instance_org_state", "org_id", "workflow", "state"),
        # At most one open instance of a workflow per subject: a double submit cannot fork it.
        Index(
            "uq_workflow_instance_open_subject",
            "workflow",
            "subject_type",
            "subject_id",
            unique=True,
            sqlite_where=text("closed_at IS NULL"),
            postgresql_where=text("closed_at IS NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    workflow: Mapped[str] = mapped_column(String(60))
    subject_type: Mapped[str] = mapped_column(String(60))
    subject_id: Mapped[str] = mapped_column(String(100))
    state: Mapped[str] = mapped_column(String(60))
    org_id: Mapped[int | None] = mapped_column(BigInteger)
    started_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    due_at: Mapped[dt.datetime | None]
    # The deadline was counted over a year without an official holiday schedule.
    due_provisional: Mapped[bool] = mapped_column(default=False)
    overdue_at: Mapped[dt.datetime | None]  # when the current deadline was reported missed
    closed_at: Mapped[dt.datetime | None]
    version: Mapped[int] = mapped_column(default=1)

    steps: Mapped[list[WorkflowStep]] = relationship(
        back_populates="instance", order_by="WorkflowStep.id", viewonly=True
    )

    @property
    def is_open(self) -> bool:
        return self.closed_at is None

    @property
    def subject(self) -> tuple[str, str]:
        return (self.subject_type, self.subject_id)


class WorkflowStep(Base):
    """One move (or the start, with ``transition`` None): who, from where to where, when."""

    __tablename__ = "workflow_step"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    instance_id: Mapped[int] = mapped_column(ForeignKey("workflow_instance.id"), index=True)
    transition: Mapped[str | None] = mapped_column(String(60))
    from_state: Mapped[str | None] = mapped_column(String(60))
    to_state: Mapped[str] = mapped_column(String(60))
    actor_kind: Mapped[str] = mapped_column(String(20))
    actor_id: Mapped[int | None] = mapped_column(BigInteger)
    actor_org_id: Mapped[int | None] = mapped_column(BigInteger)
    comment: Mapped[str | None] = mapped_column(Text)
    at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    due_at: Mapped[dt.datetime | None]  # the deadline this step set
    late: Mapped[bool] = mapped_column(default=False)  # taken after the previous deadline

    instance: Mapped[WorkflowInstance] = relationship(back_populates="steps")


class WorkflowComment(Base):
    """A remark on an instance outside a move (a question, an answer, a note)."""

    __tablename__ = "workflow_comment"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    instance_id: Mapped[int] = mapped_column(ForeignKey("workflow_instance.id"), index=True)
    actor_kind: Mapped[str] = mapped_column(String(20))
    actor_id: Mapped[int | None] = mapped_column(BigInteger)
    actor_org_id: Mapped[int | None] = mapped_column(BigInteger)
    body: Mapped[str] = mapped_column(Text)
    at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class WorkflowAttachment(Base):
    """A file attached to an instance; the bytes live in the content-addressed store."""

    __tablename__ = "workflow_attachment"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    instance_id: Mapped[int] = mapped_column(ForeignKey("workflow_instance.id"), index=True)
    filename: Mapped[str] = mapped_column(String(200))
    media_type: Mapped[str] = mapped_column(String(100))
    size: Mapped[int] = mapped_column(BigInteger)
    sm3: Mapped[str] = mapped_column(String(64), index=True)
    actor_kind: Mapped[str] = mapped_column(String(20))
    actor_id: Mapped[int | None] = mapped_column(BigInteger)
    actor_org_id: Mapped[int | None] = mapped_column(BigInteger)
    at: Mapped[dt.datetime] = mapped_column(default=utcnow)
