"""Review, publication, revision cycles and retirement through the declared workflow."""

from __future__ import annotations

import pytest
from tests.catalog.conftest import sample

from longshu import workflow as wf
from longshu.catalog import lifecycle, search, service
from longshu.catalog.errors import NothingToSubmit, OtherDepartment, ResourceNotFound
from longshu.catalog.lifecycle import TableWithoutFields
from longshu.catalog.search import SearchQuery
from longshu.errors import Forbidden


def publish(session, people, data=None):
    entry = service.create_resource(session, people["editor"], data or sample())
    lifecycle.take(session, people["editor"], entry.id, "submit")
    lifecycle.take(session, people["reviewer"], entry.id, "approve")
    lifecycle.take(session, people["bureau"], entry.id, "publish")
    return entry


def test_draft_review_approve_publish(session, people, emitted):
    entry = publish(session, people)
    session.commit()
    assert entry.status == "published" and entry.published_revision == 1 and entry.is_public
    assert [e.payload["revision"] for e in emitted("catalog.published")] == [1]
    assert [e.payload["to"] for e in emitted("workflow.moved")] == [
        "pending",
        "approved",
        "published",
    ]
    found = search.search(session, people["public"], SearchQuery(q="景区"))
    assert [h.resource_id for h in found.hits] == [entry.id]
    _resource, revision = service.published_snapshot(session, people["public"], entry.id)
    assert revision.number == 1 and revision.published_at is not None


def test_the_reviewer_returns_with_a_comment(session, people):
    entry = service.create_resource(session, people["editor"], sample())
    lifecycle.take(session, people["editor"], entry.id, "submit")
    with pytest.raises(wf.CommentRequired):
        lifecycle.take(session, people["reviewer"], entry.id, "return")
    lifecycle.take(session, people["reviewer"], entry.id, "return", "请补充开放时间字段")
    assert entry.status == "draft"
    notes = [e.record.comment for e in lifecycle.history(session, entry) if e.kind == "step"]
    assert "请补充开放时间字段" in notes


def test_roles_and_departments_are_enforced(session, people):
    entry = service.create_resource(session, people["editor"], sample())
    with pytest.raises(Forbidden):
        lifecycle.take(session, people["reviewer"], entry.id, "submit")  # reviewers do not submit
    lifecycle.take(session, people["editor"], entry.id, "submit")
    with pytest.raises(OtherDepartment):
        lifecycle.take(session, people["other_reviewer"], entry.id, "approve")
    with pytest.raises(Forbidden):
        lifecycle.take(session, people["bureau"], entry.id, "approve")
    lifecycle.take(session, people["reviewer"], entry.id, "approve")
    with pytest.raises(Forbidden):
        lifecycle.take(session, people["reviewer"], entry.id, "publish")
    with pytest.raises(Forbidden):
        lifecycle.take(session, people["bureau"], entry.id, "return", "退回")
    with pytest.raises(wf.TransitionNotAllowed):
        lifecycle.take(session, people["reviewer"], entry.id, "approve")
    with pytest.raises(wf.UnknownTransition):
        lifecycle.take(session, people["reviewer"], entry.id, "delete")


def test_submitting_twice_is_refused(session, people):
    entry = service.create_resource(session, people["editor"], sample())
    lifecycle.take(session, people["editor"], entry.id, "submit")
    with pytest.raises(NothingToSubmit):
        lifecycle.take(session, people["editor"], entry.id, "submit")


def test_a_table_needs_fields_before_review(session, people):
    entry = service.create_resource(session, people["editor"], sample(fields=[]))
    with pytest.raises(TableWithoutFields):
        lifecycle.take(session, people["editor"], entry.id, "submit")
    documents = service.create_resource(
        session, people["editor"], sample(kind="documents", fields=[])
    )
    lifecycle.take(session, people["editor"], documents.id, "submit")


def test_editing_a_published_entry_keeps_the_published_snapshot(session, people):
    entry = publish(session, people)
    service.update_resource(
        session, people["editor"], entry.id, sample(name="全省A级旅游景区名录（2027版）")
    )
    assert entry.status == "draft" and entry.revision == 2 and entry.published_revision == 1
    _resource, shown = service.published_snapshot(session, people["public"], entry.id)
    assert shown.snapshot["name"] == "全省A级旅游景区名录"
    assert search.search(session, people["public"], SearchQuery(q="2027")).total == 0
    lifecycle.take(session, people["editor"], entry.id, "submit")
    lifecycle.take(session, people["reviewer"], entry.id, "approve")
    lifecycle.take(session, people["bureau"], entry.id, "publish")
    assert entry.published_revision == 2
    assert search.search(session, people["public"], SearchQuery(q="2027")).total == 1
    assert [r.number for r in service.revisions(session, entry, published_only=True)] == [2, 1]


def test_retire_with_a_reason_then_reopen(session, people, emitted):
    entry = publish(session, people)
    with pytest.raises(wf.CommentRequired):
        lifecycle.take(session, people["bureau"], entry.id, "retire")
    with pytest.raises(OtherDepartment):
        lifecycle.take(session, people["other_reviewer"], entry.id, "retire", "不需要")
    lifecycle.take(session, people["reviewer"], entry.id, "retire", "景区数据并入文旅资源库")
    assert entry.status == "retired" and entry.retire_reason == "景区数据并入文旅资源库"
    assert emitted("catalog.retired")[0].payload["code"] == entry.code
    with pytest.raises(ResourceNotFound):
        service.published_snapshot(session, people["public"], entry.id)
    assert search.search(session, people["public"], SearchQuery(q="景区")).total == 0
    lifecycle.reopen(session, people["editor"], entry.id)
    assert entry.status == "draft" and not entry.is_published
    lifecycle.take(session, people["editor"], entry.id, "submit")
    lifecycle.take(session, people["reviewer"], entry.id, "approve")
    lifecycle.take(session, people["bureau"], entry.id, "publish")
    assert entry.is_published and entry.retired_at is None


def test_closed_entries_are_for_government_staff_only(session, people):
    entry = publish(
        session, people, sample(open_type="none", name="景区视频监控点位", keywords=["监控"])
    )
    assert not entry.is_public
    with pytest.raises(ResourceNotFound):
        service.published_snapshot(session, people["public"], entry.id)
    with pytest.raises(ResourceNotFound):
        service.published_snapshot(session, people["operator"], entry.id)
    assert service.published_snapshot(session, people["consumer"], entry.id)[0] is entry
    assert search.search(session, people["public"], SearchQuery(q="监控")).total == 0
    assert search.search(session, people["consumer"], SearchQuery(q="监控")).total == 1


def test_available_moves_are_the_buttons(session, people):
    entry = service.create_resource(session, people["editor"], sample())
    assert [t.name for t in lifecycle.available(people["editor"], session, entry)] == ["submit"]
    assert [t.name for t in lifecycle.available(people["reviewer"], session, entry)] == ["retire"]
    assert lifecycle.available(people["other"], session, entry) == []
