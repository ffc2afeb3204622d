"""The console pages: /console/lake (tables, versions, accepting a blocked version) and
/console/ingest (upload form with CSRF, jobs with progress, sources)."""

from __future__ import annotations

import pyarrow as pa
import pytest
from sqlalchemy import select
from tests.conftest import csrf_of, sign_in

from longshu.actor import SYSTEM
from longshu.events import Event
from longshu.ingest import jobs
from longshu.lake import tables
from longshu.lake.models import LakeVersion

CSV = "id,name,region_code\n1,张三,620102\n2,李四,620103\n".encode()


@pytest.fixture
def immediate():
    before = jobs.huey.immediate
    jobs.huey.immediate = True
    yield
    jobs.huey.immediate = before


@pytest.fixture
def manager(client, make_user):
    """A signed-in data manager of organisation 7 (the browser keeps the session)."""
    make_user("shuju7", "dept_data_admin", org_id=7)
    assert sign_in(client, "shuju7").status_code == 303
    return client


@pytest.fixture
def blocked(db, target):
    """Table ``people`` with version 1 ready and version 2 blocked (a column removed)."""
    with db.session() as s:
        first = pa.table({"id": [1, 2], "name": ["张三", "李四"], "phone": ["1", "2"]})
        tables.write_version(s, SYSTEM, "people", first, source="test")
        tables.write_version(s, SYSTEM, "people", first.drop_columns(["phone"]), source="test")
    return target


def test_the_lake_page_lists_versions_with_their_facts(manager, blocked, db):
    page = manager.get("/console/lake?lang=zh_CN")
    assert page.status_code == 200
    html = page.text
    assert 'data-testid="lake-table-people"' in html
    assert 'data-testid="version-people-1"' in html and 'data-testid="version-people-2"' in html
    with db.session() as s:
        checksum = s.scalar(select(LakeVersion.checksum).where(LakeVersion.number == 1))
    assert checksum[:16] in html
    assert "结构变更待确认" in html or "待确认" in html
    assert "phone" in html  # the removed column is named
    assert "删除" in html
    assert 'data-testid="accept-people-2"' in html


def test_accepting_a_blocked_version_makes_it_ready(manager, blocked, db):
    refused = manager.post(f"/console/lake/{blocked.id}/versions/2/accept", data={})
    assert refused.status_code == 403  # no CSRF token
    done = manager.post(
        f"/console/lake/{blocked.id}/versions/2/accept", data={"csrf_token": csrf_of(manager)}
    )
    assert done.status_code == 303 and done.headers["location"] == "/console/lake"
    with db.session() as s:
        status = s.scalar(select(LakeVersion.status).where(LakeVersion.number == 2))
        accepted = s.scalars(select(Event).where(Event.type == "lake.drift_accepted")).all()
    assert status == "ready" and len(accepted) == 1
    assert 'data-testid="accept-people-2"' not in manager.get("/console/lake").text


def test_a_reader_sees_the_lake_without_the_accept_button(client, make_user, blocked):
    make_user("reader9", "data_consumer", org_id=9)
    sign_in(client, "reader9")
    html = client.get("/console/lake").text
    assert 'data-testid="version-people-2"' in html
    assert 'data-testid="accept-people-2"' not in html
    assert client.get("/console/ingest").status_code == 403


def test_uploading_from_the_console_shows_the_job(manager, target, db, immediate):
    page = manager.get("/console/ingest?lang=zh_CN")
    assert page.status_code == 200 and 'data-testid="upload-form"' in page.text
    assert "上传" in page.text
    sent = manager.post(
        "/console/ingest/upload",
        data={"table": "people", "mode": "snapshot", "csrf_token": csrf_of(manager)},
        files={"file": ("人口.csv", CSV, "text/csv")},
    )
    assert sent.status_code == 303, sent.text
    rows = manager.get("/console/ingest/jobs?lang=zh_CN")
    assert rows.status_code == 200
    assert 'data-status="succeeded"' in rows.text and "人口.csv" in rows.text
    assert "hx-trigger" not in rows.text  # nothing active: the table stops polling


def test_a_queued_job_polls_and_can_be_cancelled(manager, target, db):
    manager.post(
        "/console/ingest/upload",
        data={"table": "people", "csrf_token": csrf_of(manager)},
        files={"file": ("a.csv", CSV, "text/csv")},
    )
    page = manager.get("/console/ingest")
    assert 'hx-trigger="every 2s"' in page.text and 'data-status="queued"' in page.text
    with db.session() as s:
        from longshu.ingest.models import IngestJob

        job_id = s.scalar(select(IngestJob.id))
    cancelled = manager.post(
        f"/console/ingest/jobs/{job_id}/cancel", data={"csrf_token": csrf_of(manager)}
    )
    assert cancelled.status_code == 303
    assert 'data-status="cancelled"' in manager.get("/console/ingest/jobs").text


def test_a_refused_upload_is_explained_on_the_page(manager, target):
    sent = manager.post(
        "/console/ingest/upload",
        data={"table": "people", "mode": "sideways", "csrf_token": csrf_of(manager)},
        files={"file": ("a.csv", CSV, "text/csv")},
    )
    assert sent.status_code == 422 and 'data-testid="ingest-error"' in sent.text
