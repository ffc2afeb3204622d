"""What can go wrong when moving, commenting on or attaching to a workflow instance."""

from __future__ import annotations

from longshu.errors import (
    Conflict,
    Forbidden,
    InvalidInput,
    LongshuError,
    NotFound,
    PayloadTooLarge,
)


class UnknownWorkflow(NotFound):
    key = "workflow.unknown"
    message = "There is no workflow called {name}."


class InstanceNotFound(NotFound):
    key = "workflow.instance_not_found"
    message = "Workflow instance {instance} does not exist."


class UnknownTransition(InvalidInput):
    key = "workflow.unknown_transition"
    message = "Workflow {workflow} has no transition or state called {transition}."


class TransitionNotAllowed(Conflict):
    key = "workflow.transition_not_allowed"
    message = "{transition} cannot be taken while the item is in state {state}."


class RoleNotAllowed(Forbidden):
    key = "workflow.role_not_allowed"
    message = "Your roles do not allow you to {transition}."


class OtherOrganisation(Forbidden):
    key = "workflow.other_organisation"
    message = "Only the owning organisation may {transition}."


class CommentRequired(InvalidInput):
    key = "workflow.comment_required"
    message = "A comment is required to {transition}."


class CommentInvalid(InvalidInput):
    key = "workflow.comment_invalid"
    message = "The comment must be between 1 and {limit} characters."


class StaleWorkflow(Conflict):
    key = "workflow.stale"
    message = "Someone else changed this item meanwhile; reload it and try again."


class AlreadyStarted(Conflict):
    key = "workflow.already_started"
    message = "A {workflow} for this item is already open (instance {instance})."


class AttachmentTooLarge(PayloadTooLarge):
    key = "workflow.attachment_too_large"
    message = "The attachment is larger than {limit} bytes."


class AttachmentTypeRefused(LongshuError):
    key = "workflow.attachment_type_refused"
    status = 415
    message = "Files of type {media_type} cannot be attached here."


class AttachmentContentMismatch(AttachmentTypeRefused):
    """The bytes are not what the name and media type claim (or text is not UTF-8)."""

    key = "workflow.attachment_content_mismatch"
    message = "The content of {filename} is not a valid {media_type} file."


class AttachmentCorrupted(LongshuError):
    key = "workflow.attachment_corrupted"
    status = 500
    message = "The stored file of attachment {attachment} does not match its SM3 hash."
