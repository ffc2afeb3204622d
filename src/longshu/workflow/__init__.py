"""Shared approval workflows (流程): declared states and transitions, who may take them,
comments, attachments, and deadlines counted in Chinese working days.

Registration, share requests, open-data applications, demands, quality issues and alerts all
declare a :class:`Workflow` and move their instances through :func:`move`. See docs/workflow.md.
"""

from __future__ import annotations

from . import calendar
from .attachments import KNOWN_TYPES, AttachmentPolicy, sanitize_filename
from .deadlines import OVERDUE, mark_overdue, overdue
from .definition import (
    ANY_OPEN_STATE,
    REGISTRY,
    DefinitionError,
    State,
    Transition,
    Workflow,
    get,
    register,
)
from .errors import (
    AlreadyStarted,
    AttachmentContentMismatch,
    AttachmentCorrupted,
    AttachmentTooLarge,
    AttachmentTypeRefused,
    CommentInvalid,
    CommentRequired,
    InstanceNotFound,
    OtherOrganisation,
    RoleNotAllowed,
    StaleWorkflow,
    TransitionNotAllowed,
    UnknownTransition,
    UnknownWorkflow,
)
from .models import WorkflowAttachment, WorkflowComment, WorkflowInstance, WorkflowStep
from .record import ATTACHED, COMMENTED, Entry, attach, comment, history, read_attachment
from .service import (
    MOVED,
    STARTED,
    available_transitions,
    get_instance,
    instance_for,
    move,
    start,
)

__all__ = [
    "ANY_OPEN_STATE",
    "ATTACHED",
    "COMMENTED",
    "KNOWN_TYPES",
    "MOVED",
    "OVERDUE",
    "REGISTRY",
    "STARTED",
    "AlreadyStarted",
    "AttachmentContentMismatch",
    "AttachmentCorrupted",
    "AttachmentPolicy",
    "AttachmentTooLarge",
    "AttachmentTypeRefused",
    "CommentInvalid",
    "CommentRequired",
    "DefinitionError",
    "Entry",
    "InstanceNotFound",
    "OtherOrganisation",
    "RoleNotAllowed",
    "StaleWorkflow",
    "State",
    "Transition",
    "TransitionNotAllowed",
    "UnknownTransition",
    "UnknownWorkflow",
    "Workflow",
    "WorkflowAttachment",
    "WorkflowComment",
    "WorkflowInstance",
    "WorkflowStep",
    "attach",
    "available_transitions",
    "calendar",
    "comment",
    "get",
    "get_instance",
    "history",
    "instance_for",
    "mark_overdue",
    "move",
    "overdue",
    "read_attachment",
    "register",
    "sanitize_filename",
    "start",
]
