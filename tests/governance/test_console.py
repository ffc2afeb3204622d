"""Governance through HTTP: the console pages (overview, a table's findings, grades, rules,
profile and issues, the issue workflow, the ranking) and the JSON API, with refusals."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select
from tests.conftest import bearer_for, csrf_of, sign_in

from longshu.actor import SYSTEM
from longshu.governance.models import GradeRecord, QualityIssue, QualityRule
from longshu.lake import tables


@pytest.fixture
def loaded(db, population, governance_on_load, population_rows):
    with db.session() as s:
        tables.write_version(s, SYSTEM, "population", population_rows(300, bad_ids=6))
        s.commit()
    return population


def signed_in(client, make_user, username: str, role: str, org_id: int | None):
    make_user(username, role, org_id=org_id)
    assert sign_in(client, username).status_code == 303
    return client


def test_the_bureau_sees_every_table_and_confirms_a_grade_from_the_page(
    client, make_user, loaded, orgs, db
):
    resource_id, _, _ = loaded
    page = signed_in(client, make_user, "bureau1", "bureau_reviewer", orgs["bureau"])
    overview = page.get("/console/governance?lang=zh_CN")
    assert overview.status_code == 200
    assert 'data-testid="gov-row-population"' in overview.text
    assert re.search(r'data-testid="gov-score-population">\s*\d+\.\d\d', overview.text)
    detail = page.get("/console/governance/tables/population?lang=zh_CN").text
    assert 'data-testid="finding-sfzh-resident_id"' in detail
    assert "居民身份证" in detail or "身份证" in detail
    assert 'data-testid="trend-chart"' in detail and 'data-testid="profile-sfzh"' in detail
    with db.session() as s:
        record = s.scalars(select(GradeRecord).where(GradeRecord.resource_id == resource_id)).one()
    assert f'data-testid="confirm-{record.id}"' in detail
    no_reason = page.post(
        f"/console/governance/grades/{record.id}/confirm",
        data={"grade": "important", "reason": "", "csrf_token": csrf_of(page)},
    )
    assert no_reason.status_code == 422 and 'data-testid="gov-error"' in no_reason.text
    done = page.post(
        f"/console/governance/grades/{record.id}/confirm",
        data={
            "grade": "important",
            "reason": "全省人口，敏感个人信息",
            "csrf_token": csrf_of(page),
        },
    )
    assert done.status_code == 303
    with db.session() as s:
        assert s.get(GradeRecord, record.id).status == "confirmed"


def test_another_department_cannot_open_the_table_page(client, make_user, loaded, orgs):
    page = signed_in(client, make_user, "weather1", "dept_data_admin", orgs["weather"])
    assert page.get("/console/governance/tables/population").status_code == 403
    overview = page.get("/console/governance").text
    assert 'data-testid="gov-row-population"' not in overview


def test_the_provider_adds_a_rule_and_a_bad_one_is_explained(client, make_user, loaded, db):
    _, _, police = loaded
    page = signed_in(client, make_user, "police1", "dept_data_admin", police)
    csrf = csrf_of(page)
    bad_json = page.post(
        "/console/governance/tables/population/rules",
        data={"kind": "regex", "column": "sjhm", "params": "{not json", "csrf_token": csrf},
    )
    assert bad_json.status_code == 422 and 'data-testid="gov-error"' in bad_json.text
    unsafe = page.post(
        "/console/governance/tables/population/rules",
        data={
            "kind": "regex",
            "column": "sjhm",
            "params": '{"pattern": "(a)\\\\1"}',
            "csrf_token": csrf,
        },
    )
    assert unsafe.status_code == 422
    added = page.post(
        "/console/governance/tables/population/rules",
        data={
            "kind": "regex", "column": "sjhm", "params": '{"pattern": "^1[3-9][0-9]{9}$"}',
            "title": "手机号格式", "csrf_token": csrf,
        },
    )  # fmt: skip
    assert added.status_code == 303
    with db.session() as s:
        assert s.scalars(select(QualityRule).where(QualityRule.title == "手机号格式")).one()


def test_a_user_reports_a_rule_failure_and_the_provider_acknowledges_it(
    client, make_user, loaded, orgs, db
):
    _, _, police = loaded
    with db.session() as s:
        rule = s.scalars(
            select(QualityRule).where(QualityRule.kind == "checksum", QualityRule.column == "sfzh")
        ).one()
    user = signed_in(client, make_user, "jt1", "data_consumer", orgs["transport"])
    reported = user.post(
        "/console/governance/issues",
        data={"table": "population", "title": "身份证号校验位错误", "rule_id": str(rule.id),
              "csrf_token": csrf_of(user)},
    )  # fmt: skip
    assert reported.status_code == 303
    issue_url = reported.headers["location"]
    page = user.get(issue_url + "?lang=zh_CN").text
    assert 'data-testid="issue-sample"' in page and "待受理" in page
    assert 'data-testid="move-acknowledge"' not in page  # only the provider acknowledges
    client.post("/logout", data={"csrf_token": csrf_of(client)})
    provider = signed_in(client, make_user, "police2", "dept_data_admin", police)
    page = provider.get(issue_url).text
    assert 'data-testid="move-acknowledge"' in page
    version = re.search(r'name="expected_version" value="(\d+)"', page).group(1)
    moved = provider.post(
        issue_url + "/move",
        data={"transition": "acknowledge", "comment": "已安排", "expected_version": version,
              "csrf_token": csrf_of(provider)},
    )  # fmt: skip
    assert moved.status_code == 303
    stale = provider.post(
        issue_url + "/move",
        data={"transition": "dispute", "comment": "重复提交", "expected_version": version,
              "csrf_token": csrf_of(provider)},
    )  # fmt: skip
    assert stale.status_code == 409  # the form was rendered before the last move
    with db.session() as s:
        assert s.scalars(select(QualityIssue)).one().state == "fixing"


def test_the_api_scans_runs_rules_and_ranks(client, make_user, loaded, db, orgs):
    _, _, police = loaded
    user = make_user("police3", "dept_data_admin", org_id=police)
    headers = bearer_for(db, user)
    scan = client.post(
        "/api/v1/governance/tables/population/scans", json={"mode": "full"}, headers=headers
    )
    assert scan.status_code == 201, scan.text
    body = scan.json()
    assert body["mode"] == "full" and body["rows_checked"] == 300
    assert any(f["type"] == "resident_id" and f["column"] == "sfzh" for f in body["findings"])
    assert all("examples" in f for f in body["findings"])
    bad_mode = client.post(
        "/api/v1/governance/tables/population/scans", json={"mode": "everything"}, headers=headers
    )
    assert bad_mode.status_code == 422
    run = client.post("/api/v1/governance/tables/population/quality-runs", json={}, headers=headers)
    assert run.status_code == 201 and run.json()["score"] is not None
    trend = client.get("/api/v1/governance/tables/population/quality-trend", headers=headers)
    assert [p["version"] for p in trend.json()] == [1]
    profile = client.get("/api/v1/governance/tables/population/profile", headers=headers).json()
    assert profile["columns"]["sfzh"]["null_pct"] == 0
    ranking = client.get("/api/v1/governance/ranking", headers=headers).json()
    assert ranking[0]["rank"] == 1
    missing = client.post("/api/v1/governance/tables/nope/scans", json={}, headers=headers)
    assert missing.status_code == 404


def test_the_api_refuses_strangers_and_malformed_bodies(client, make_user, loaded, db, orgs):
    assert client.get("/api/v1/governance/ranking").status_code == 401
    other = make_user("weather2", "dept_data_admin", org_id=orgs["weather"])
    headers = bearer_for(db, other)
    scan = client.post("/api/v1/governance/tables/population/scans", json={}, headers=headers)
    assert scan.status_code == 403
    bad = client.post(
        "/api/v1/governance/issues", json={"table": "population", "title": "x"}, headers=headers
    )
    assert bad.status_code == 422  # a title of one character
    rule = client.post(
        "/api/v1/governance/tables/population/rules",
        json={"kind": "range", "column": "id", "params": {"min": "a"}},
        headers=headers,
    )
    assert rule.status_code == 403  # not its table, whatever the body says
