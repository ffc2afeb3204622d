"""The record around the moves: comments, attached files, and the history that merges them."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import BinaryIO

from sqlalchemy import select
from sqlalchemy.orm import Session

from longshu import events
from longshu.actor import Actor
from longshu.config import get_settings
from longshu.db import utcnow

from . import attachments, definition
from .errors import AttachmentCorrupted, CommentInvalid, InstanceNotFound
from .models import WorkflowAttachment, WorkflowComment, WorkflowInstance, WorkflowStep
from .service import MAX_COMMENT_CHARS, _attached, _clean_comment, _payload, _require_signed_in

COMMENTED = events.define("workflow.commented", "流程已添加意见", "Comment added to a workflow")
ATTACHED = events.define("workflow.attached", "流程已添加附件", "File attached to a workflow")


def comment(
    session: Session, actor: Actor, instance: WorkflowInstance | int, body: str
) -> WorkflowComment:
    """Add a remark to an instance (open or closed); emits ``workflow.commented``."""
    _require_signed_in(actor)
    inst = _attached(session, instance)
    text = _clean_comment(body)
    if text is None:
        raise CommentInvalid(limit=MAX_COMMENT_CHARS)
    record = WorkflowComment(
        instance_id=inst.id, actor_kind=actor.kind, actor_id=actor.id,
        actor_org_id=actor.org_id, body=text, at=utcnow(),
    )  # fmt: skip
    session.add(record)
    session.flush()
    events.emit(
        session, COMMENTED, actor, subject=inst.subject, comment=record.id, state=inst.state,
        **_payload(inst),
    )  # fmt: skip
    return record


def attach(
    session: Session,
    actor: Actor,
    instance: WorkflowInstance | int,
    filename: str,
    content: bytes | BinaryIO,
    media_type: str | None = None,
) -> WorkflowAttachment:
    """Store a file (bytes or a readable binary stream) against an instance, checked against
    the workflow's attachment policy; emits ``workflow.attached`` with its SM3 hash."""
    _require_signed_in(actor)
    inst = _attached(session, instance)
    policy = definition.get(inst.workflow).attachments
    name = attachments.sanitize_filename(filename)
    media = attachments.resolve_media_type(name, media_type, policy)
    stored = attachments.store(
        get_settings().attachments_root, content, media, name, policy.max_bytes
    )
    record = WorkflowAttachment(
        instance_id=inst.id, filename=name, media_type=media.name, size=stored.size,
        sm3=stored.sm3, actor_kind=actor.kind, actor_id=actor.id, actor_org_id=actor.org_id,
        at=utcnow(),
    )  # fmt: skip
    session.add(record)
    session.flush()
    events.emit(
        session, ATTACHED, actor, subject=inst.subject, attachment=record.id,
        media_type=media.name, size=stored.size, sm3=stored.sm3, **_payload(inst),
    )  # fmt: skip
    return record


def read_attachment(session: Session, attachment: WorkflowAttachment | int) -> bytes:
    """The attachment's bytes, verified against their SM3 hash (``AttachmentCorrupted``)."""
    record = (
        attachment
        if isinstance(attachment, WorkflowAttachment)
        else session.get(WorkflowAttachment, attachment)
    )
    if record is None:
        raise InstanceNotFound(instance=attachment)
    data = attachments.read_verified(get_settings().attachments_root, record.sm3)
    if data is None:
        raise AttachmentCorrupted(attachment=record.id)
    return data


@dataclass(frozen=True)
class Entry:
    """One line of an instance's history: ``kind`` is step | comment | attachment."""

    kind: str
    at: dt.datetime
    actor_kind: str
    actor_id: int | None
    record: WorkflowStep | WorkflowComment | WorkflowAttachment


_ORDER = {"step": 0, "comment": 1, "attachment": 2}


def history(session: Session, instance: WorkflowInstance | int) -> list[Entry]:
    """Moves, comments and attachments of an instance, oldest first."""
    inst = _attached(session, instance)
    entries: list[Entry] = []
    for kind, model in (
        ("step", WorkflowStep),
        ("comment", WorkflowComment),
        ("attachment", WorkflowAttachment),
    ):
        rows = session.scalars(select(model).where(model.instance_id == inst.id))
        entries += [Entry(kind, r.at, r.actor_kind, r.actor_id, r) for r in rows]
    entries.sort(key=lambda e: (e.at, _ORDER[e.kind], e.record.id))
    return entries
