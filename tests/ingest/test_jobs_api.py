"""The ingest API: upload a file (multipart, size limit, sanitised name), follow its job,
cancel; sources with sealed secrets, created by the platform administrator, run by the
department."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from longshu.events import Event
from longshu.ingest import jobs
from longshu.ingest.models import IngestSource

CSV = "id,name,region_code\n1,张三,620102\n2,李四,620103\n".encode()


@pytest.fixture
def immediate():
    before = jobs.huey.immediate
    jobs.huey.immediate = True
    yield
    jobs.huey.immediate = before


@pytest.fixture
def dept(bearer):
    return bearer("dept_data_admin", org_id=7)


def upload(client, headers, content=CSV, name="人口.csv", **form):
    return client.post(
        "/api/v1/ingest/uploads",
        headers=headers,
        files={"file": (name, content, "text/csv")},
        data={"table": "people", **form},
    )


def test_an_upload_is_loaded_and_its_job_reports_the_version(client, target, dept, immediate):
    response = upload(client, dept, name="../../etc/人口 2026.csv")
    assert response.status_code == 202, response.text
    job = response.json()
    assert job["filename"] == "人口 2026.csv" and job["table"] == "people"
    got = client.get(f"/api/v1/ingest/jobs/{job['id']}", headers=dept).json()
    assert (got["status"], got["version"], got["rows"], got["percent"]) == (
        "succeeded",
        1,
        2,
        100,
    )
    listed = client.get("/api/v1/ingest/jobs", headers=dept).json()
    assert listed["total"] == 1 and listed["items"][0]["id"] == job["id"]


def test_a_failed_job_explains_itself_in_the_readers_language(client, target, dept, immediate):
    job = upload(client, dept, content=b"id,name\n1,a\n2,b,c\n", name="bad.csv").json()
    got = client.get(f"/api/v1/ingest/jobs/{job['id']}?lang=zh_CN", headers=dept).json()
    assert got["status"] == "failed" and got["error_key"] == "ingest.malformed_rows"
    assert "bad.csv" in got["error"] and "格式" in got["error"]
    english = client.get(f"/api/v1/ingest/jobs/{job['id']}?lang=en", headers=dept).json()
    assert english["error"].startswith("1 rows of bad.csv are malformed")


def test_an_upload_over_the_limit_is_refused(client, target, dept, monkeypatch):
    monkeypatch.setenv("LONGSHU_INGEST_MAX_UPLOAD_BYTES", "16")
    jobs.job_settings.cache_clear()
    try:
        response = upload(client, dept)
    finally:
        jobs.job_settings.cache_clear()
    assert response.status_code == 413
    assert response.json()["error"]["key"] == "ingest.upload_too_large"
    assert client.get("/api/v1/ingest/jobs", headers=dept).json()["total"] == 0


def test_another_department_neither_loads_nor_sees_the_job(client, target, dept, bearer, immediate):
    other = bearer("dept_data_admin", org_id=8)
    assert upload(client, other).status_code == 403
    job = upload(client, dept).json()
    assert client.get(f"/api/v1/ingest/jobs/{job['id']}", headers=other).status_code == 404
    assert client.get("/api/v1/ingest/jobs", headers=other).json()["total"] == 0
    assert client.post(f"/api/v1/ingest/jobs/{job['id']}/cancel", headers=other).status_code == (
        404
    )


def test_a_queued_job_is_cancelled(client, target, dept):
    job = upload(client, dept).json()  # no worker in this test: it stays queued
    assert job["status"] == "queued"
    cancelled = client.post(f"/api/v1/ingest/jobs/{job['id']}/cancel", headers=dept)
    assert cancelled.status_code == 200 and cancelled.json()["status"] == "cancelled"
    again = client.post(f"/api/v1/ingest/jobs/{job['id']}/cancel", headers=dept)
    assert again.status_code == 409 and again.json()["error"]["key"] == "ingest.job_finished"


def test_sources_are_managed_by_the_administrator_and_run_by_the_department(
    client, db, target, dept, bearer, immediate
):
    from longshu.ingest.pulls import drop_folder

    folder = drop_folder()
    folder.mkdir(parents=True)
    (folder / "people.csv").write_bytes(CSV)
    admin = bearer("platform_admin")
    body = {
        "name": "人口名单",
        "connector": "file",
        "table": "people",
        "options": {"path": "people.csv", "api_token": "tok-secret"},
        "schedule_kind": "daily",
        "daily_at": "02:00",
    }
    assert client.post("/api/v1/ingest/sources", headers=dept, json=body).status_code == 403
    made = client.post("/api/v1/ingest/sources", headers=admin, json=body)
    assert made.status_code == 201, made.text
    source = made.json()
    assert source["options"] == {"path": "people.csv", "api_token": "***"}
    assert source["org_id"] == 7 and source["next_run_at"] is not None
    assert client.get("/api/v1/ingest/sources", headers=dept).json()[0]["id"] == source["id"]
    duplicate = client.post("/api/v1/ingest/sources", headers=admin, json=body)
    assert duplicate.status_code == 409
    bad = client.post(
        "/api/v1/ingest/sources", headers=admin, json={**body, "name": "x", "daily_at": "25:00"}
    )
    assert bad.status_code == 422 and bad.json()["error"]["key"] == "ingest.invalid_source"

    ran = client.post(f"/api/v1/ingest/sources/{source['id']}/run", headers=dept)
    assert ran.status_code == 202
    got = client.get(f"/api/v1/ingest/jobs/{ran.json()['id']}", headers=dept).json()
    assert (got["kind"], got["status"], got["version"]) == ("pull", "succeeded", 1)

    patched = client.patch(
        f"/api/v1/ingest/sources/{source['id']}",
        headers=admin,
        json={"enabled": False, "options": {"path": "people.csv", "api_token": "***"}},
    )
    assert patched.status_code == 200 and patched.json()["next_run_at"] is None
    with db.session() as s:
        stored = s.get(IngestSource, source["id"])
        assert "tok-secret" not in str(stored.options) and stored.sealed_options
        assert "tok-secret" not in stored.sealed_options
    assert client.delete(f"/api/v1/ingest/sources/{source['id']}", headers=admin).status_code == 204
    assert client.get(f"/api/v1/ingest/sources/{source['id']}", headers=dept).status_code == 404
    with db.session() as s:
        types = set(s.scalars(select(Event.type).where(Event.type.like("ingest.source_%"))))
        payloads = [e.payload for e in s.scalars(select(Event).where(Event.type.like("ingest.%")))]
    assert types == {"ingest.source_created", "ingest.source_updated", "ingest.source_deleted"}
    assert "tok-secret" not in str(payloads)


def test_an_upload_may_not_raise_the_readers_safety_limits(client, target, dept):
    refused = upload(client, dept, options='{"max_bytes": 99999999999}')
    assert refused.status_code == 422 and "max_bytes" in refused.json()["error"]["message"]
    accepted = upload(client, dept, options='{"encoding": "gbk", "delimiter": ","}')
    assert accepted.status_code == 202
