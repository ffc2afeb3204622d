"""Review, publication and retirement of catalog entries through the declared workflow
(``review.py``). Each move checks the catalog permission for the entry (department scope),
takes the workflow transition (roles, required comments, concurrent moves) and emits the
catalog's own event beside ``workflow.moved``."""

from __future__ import annotations

from sqlalchemy.orm import Session

from longshu import events
from longshu import workflow as wf
from longshu.actor import Actor
from longshu.catalog import search
from longshu.catalog.errors import NothingToSubmit
from longshu.catalog.models import Resource
from longshu.catalog.review import RESOURCE_WORKFLOW
from longshu.catalog.service import _check_version, flush_entry, load, require_own, revision
from longshu.db import utcnow
from longshu.errors import InvalidInput

SUBMITTED = events.define("catalog.submitted", "目录已提交审核", "Catalog entry submitted")
APPROVED = events.define("catalog.approved", "目录已审核通过", "Catalog entry approved")
RETURNED = events.define("catalog.returned", "目录已退回修改", "Catalog entry returned")
PUBLISHED = events.define("catalog.published", "目录已发布", "Catalog entry published")
SENT_BACK = events.define("catalog.sent_back", "目录已退回部门", "Catalog entry sent back")
REVISED = events.define("catalog.revised", "目录已进入变更", "Catalog entry reopened for change")
RETIRED = events.define("catalog.retired", "目录已下线", "Catalog entry retired")
REOPENED = events.define("catalog.reopened", "目录已重新编目", "Retired catalog entry reopened")

# transition → (permission, event)
MOVES = {
    "submit": ("catalog.edit", SUBMITTED),
    "return": ("catalog.review", RETURNED),
    "approve": ("catalog.review", APPROVED),
    "publish": ("catalog.publish", PUBLISHED),
    "send_back": ("catalog.publish", SENT_BACK),
    "revise": ("catalog.edit", REVISED),
    "retire": ("catalog.retire", RETIRED),
}


class TableWithoutFields(InvalidInput):
    key = "catalog.table_without_fields"
    status = 422
    message = (
        "Resource {resource} is a {kind} resource and must list its fields (信息项) before review."
    )


def move(
    session: Session,
    actor: Actor,
    resource: Resource,
    transition: str,
    comment: str | None = None,
    expected_version: int | None = None,
) -> Resource:
    """Take ``transition`` on the entry's workflow and record what it means for the entry."""
    permission, event_type = MOVES[transition]
    resource_id = resource.id
    require_own(actor, permission, resource)
    _check_version(resource, expected_version)
    if transition == "submit":
        if resource.status != "draft":
            raise NothingToSubmit(resource=resource.id)
        if resource.kind in ("table", "api") and not resource.fields:
            raise TableWithoutFields(resource=resource.id, kind=resource.kind)
    instance = wf.get_instance(session, resource.workflow_instance_id)
    wf.move(session, actor, instance, transition, comment)
    resource.status = instance.state
    now = utcnow()
    payload: dict[str, object] = {"revision": resource.revision, "code": resource.code}
    if transition == "publish":
        resource.published_revision = resource.revision
        resource.published_at = now
        resource.retired_at = None
        resource.retire_reason = None
        published = revision(session, resource, resource.revision)
        published.published_at = now
        search.index(session, resource, published.snapshot)
        payload["public"] = resource.is_public
    elif transition == "retire":
        resource.retired_at = now
        resource.retire_reason = comment
        search.remove(session, resource.id)
    resource.updated_at = now
    flush_entry(session, resource_id)
    events.emit(session, event_type, actor, subject=resource, **payload)
    return resource


def take(
    session: Session,
    actor: Actor,
    resource_id: int,
    transition: str,
    comment: str | None = None,
    expected_version: int | None = None,
) -> Resource:
    """``move`` by entry id; an unknown transition name is refused by the workflow."""
    resource = load(session, resource_id)
    if transition not in MOVES:
        raise wf.UnknownTransition(workflow=RESOURCE_WORKFLOW.name, transition=transition[:40])
    return move(session, actor, resource, transition, comment, expected_version)


def reopen(
    session: Session, actor: Actor, resource_id: int, comment: str | None = None
) -> Resource:
    """Bring a retired entry back as a draft (a new workflow instance); it is public again
    only when the change is published."""
    resource = load(session, resource_id)
    require_own(actor, "catalog.edit", resource)
    if resource.status != "retired":
        raise wf.TransitionNotAllowed(
            transition="Reopen", transition_zh="重新编目",
            state=resource.status, state_zh=resource.status,
        )  # fmt: skip
    instance = wf.start(
        session, actor, RESOURCE_WORKFLOW, resource, org_id=resource.provider_org_id,
        comment=comment,
    )  # fmt: skip
    resource.workflow_instance_id = instance.id
    resource.status = instance.state
    resource.updated_at = utcnow()
    session.flush()
    events.emit(session, REOPENED, actor, subject=resource, revision=resource.revision)
    return resource


def available(actor: Actor, session: Session, resource: Resource) -> list[wf.Transition]:
    """The moves this actor may take on the entry now (the buttons to show)."""
    from longshu.security import access

    if resource.workflow_instance_id is None:
        return []
    instance = wf.get_instance(session, resource.workflow_instance_id)
    return [
        t
        for t in wf.available_transitions(actor, instance)
        if t.name in MOVES
        and t.name != "revise"
        and access.decide(actor, MOVES[t.name][0], resource)
    ]


def history(session: Session, resource: Resource) -> list[wf.Entry]:
    """Every workflow step and comment of the entry, across all its instances, oldest first."""
    from sqlalchemy import select

    instances = session.scalars(
        select(wf.WorkflowInstance)
        .where(
            wf.WorkflowInstance.workflow == RESOURCE_WORKFLOW.name,
            wf.WorkflowInstance.subject_type == Resource.__tablename__,
            wf.WorkflowInstance.subject_id == str(resource.id),
        )
        .order_by(wf.WorkflowInstance.id)
    )
    entries: list[wf.Entry] = []
    for instance in instances:
        entries.extend(wf.history(session, instance))
    return sorted(entries, key=lambda e: e.at)
