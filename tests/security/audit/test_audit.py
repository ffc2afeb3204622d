"""Searching the audit trail over the API and on its page."""

from __future__ import annotations

import datetime as dt

from longshu.db import SHANGHAI


def test_events_are_listed_newest_first_with_filters(client, make_user, bearer):
    make_user("first_user", "public")
    make_user("second_user", "operator")
    auditor = bearer("auditor")
    answer = client.get("/api/v1/events", params={"type": "identity.user_created"}, headers=auditor)
    assert answer.status_code == 200
    created = answer.json()
    assert len(created) == int(answer.headers["x-total-count"]) >= 2
    assert [e["id"] for e in created] == sorted((e["id"] for e in created), reverse=True)
    by_domain = client.get("/api/v1/events", params={"type": "identity."}, headers=auditor).json()
    assert {e["type"].split(".")[0] for e in by_domain} == {"identity"}
    subject = created[0]["subject"]
    one = client.get(
        "/api/v1/events",
        params={"subject_type": subject["type"], "subject_id": subject["id"]},
        headers=auditor,
    ).json()
    assert {e["subject"]["id"] for e in one} == {subject["id"]}


def test_dates_are_shanghai_days(client, make_user, bearer):
    make_user("today_user", "public")
    today = dt.datetime.now(SHANGHAI).date()
    auditor = bearer("auditor")
    hits = client.get("/api/v1/events", params={"since": today, "until": today}, headers=auditor)
    assert int(hits.headers["x-total-count"]) >= 1
    yesterday = today - dt.timedelta(days=1)
    none = client.get("/api/v1/events", params={"until": yesterday}, headers=auditor)
    assert none.json() == []


def test_bad_filters_are_refused(client, bearer):
    auditor = {**bearer("auditor"), "Accept-Language": "en"}
    unknown = client.get("/api/v1/events", params={"type": "no.such_event"}, headers=auditor)
    assert unknown.status_code == 422 and unknown.json()["error"]["key"] == "invalid_input"
    backwards = client.get(
        "/api/v1/events", params={"since": "2026-11-02", "until": "2026-11-01"}, headers=auditor
    )
    assert backwards.status_code == 422
    not_a_date = client.get("/api/v1/events", params={"since": "yesterday"}, headers=auditor)
    assert not_a_date.status_code == 422


def test_the_page_shows_titles_and_receipt_links(client, make_user, bearer):
    make_user("page_user", "public")
    page = client.get("/console/audit", params={"type": "identity."}, headers=bearer("auditor"))
    assert page.status_code == 200
    assert "创建用户" in page.text and "/api/v1/ledger/receipts/events/" in page.text
    bad = client.get("/console/audit", params={"type": "nope"}, headers=bearer("auditor"))
    assert bad.status_code == 422 and 'data-testid="filter-error"' in bad.text
