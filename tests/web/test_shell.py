"""The web shell: front pages, language, navigation per role, error answers, system endpoints."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select
from tests.conftest import sign_in

from longshu.events import Event


def refusals(db, reason: str) -> list[dict]:
    with db.session() as s:
        rows = s.scalars(select(Event).where(Event.type == "http.request_refused"))
        return [e.payload for e in rows if e.payload.get("reason") == reason]


def test_portal_home_speaks_chinese_first(client):
    page = client.get("/")
    assert page.status_code == 200
    assert '<html lang="zh-CN">' in page.text
    assert "甘肃省公共数据资源开发利用平台" in page.text
    assert page.headers["content-language"] == "zh-CN"


def test_language_switch_is_remembered(client):
    page = client.get("/?lang=en")
    assert '<html lang="en">' in page.text and "Gansu Public Data Platform" in page.text
    assert client.cookies.get("longshu_lang") == "en"
    again = client.get("/login")
    assert '<html lang="en">' in again.text and ">Sign in<" in again.text


def test_accept_language_chooses_english_without_a_cookie(client):
    page = client.get("/", headers={"Accept-Language": "en-GB,en;q=0.9,zh;q=0.5"})
    assert page.headers["content-language"] == "en"


def test_console_needs_sign_in(client):
    answer = client.get("/console")
    assert answer.status_code == 303
    assert answer.headers["location"] == "/login?next=/console"


@pytest.mark.parametrize(
    ("role", "sees", "does_not_see"),
    [
        ("auditor", ["审计员", 'data-nav="orgs"'], []),
        ("public", ["公众", 'data-nav="account"'], ['data-nav="orgs"']),
        ("dept_data_admin", ["部门数据管理员", 'data-nav="orgs"'], []),
    ],
)
def test_console_home_shows_the_roles_and_their_pages(client, make_user, role, sees, does_not_see):
    make_user(f"user_{role}", role)
    assert sign_in(client, f"user_{role}").status_code == 303
    page = client.get("/console")
    assert page.status_code == 200 and 'data-testid="console-home"' in page.text
    for text in sees:
        assert text in page.text
    for text in does_not_see:
        assert text not in page.text


def test_unknown_page_is_a_translated_page_and_an_event(client, db):
    page = client.get("/no/such/page")
    assert page.status_code == 404
    assert 'data-testid="error-page"' in page.text and "该地址没有对应的页面或资源。" in page.text
    english = client.get("/no/such/page?lang=en")
    assert "There is no page or resource at this address." in english.text
    assert any(r["path"] == "/no/such/page" for r in refusals(db, "not_found"))


def test_unknown_api_route_answers_json(client):
    answer = client.get("/api/v1/no-such-thing", headers={"Accept-Language": "en"})
    assert answer.status_code == 404
    body = answer.json()
    assert body["error"]["key"] == "not_found"
    assert body["error"]["message"] == "There is no page or resource at this address."
    assert body["request_id"] == answer.headers["x-request-id"]


def test_wrong_method_is_refused(client):
    answer = client.delete("/api/v1/roles")
    assert answer.status_code == 405 and answer.json()["error"]["key"] == "method_not_allowed"


def test_invalid_input_names_the_fields(client, make_user, bearer):
    headers = bearer("platform_admin")
    answer = client.post("/api/v1/users", headers=headers, json={"username": 7})
    assert answer.status_code == 422
    body = answer.json()["error"]
    assert body["key"] == "invalid_input" and "输入内容无效" in body["message"]
    assert {"username", "display_name"} <= {f["field"] for f in body["fields"]}


def test_oversized_body_is_refused_and_recorded(client, db, settings):
    limit = settings.max_body_bytes
    answer = client.post(
        "/api/v1/ledger/receipts/verify",
        content=b"{" + b" " * limit + b"}",
        headers={"content-type": "application/json"},
    )
    assert answer.status_code == 413
    assert answer.json()["error"]["key"] == "payload_too_large"
    assert refusals(db, "body_too_large")[0]["size"] > limit


def test_oversized_form_is_refused_too(client, db, settings):
    answer = client.post(
        "/login",
        data={"username": "x" * (settings.max_body_bytes + 10), "password": "p"},
    )
    assert answer.status_code == 413 and "请求内容超过" in answer.text


def test_domain_error_on_a_page_is_translated(client, bearer):
    page = client.get("/console/orgs", params={"region": "12"}, headers=bearer("auditor"))
    assert page.status_code == 422
    assert "区划代码 12 不是6位行政区划代码。" in page.text


def test_healthz_reports_the_database(client):
    answer = client.get("/healthz")
    assert answer.status_code == 200 and answer.json()["status"] == "ok"


def test_metrics_are_prometheus_text_for_monitoring_roles(client, bearer):
    client.get("/")
    assert client.get("/metrics").status_code == 401
    answer = client.get("/metrics", headers=bearer("auditor"))
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("text/plain; version=0.0.4")
    assert 'longshu_http_requests_total{method="GET",route="/",status="200"}' in answer.text
    assert "# TYPE longshu_events_pending gauge" in answer.text


def test_openapi_and_its_documentation_page(client):
    spec = client.get("/api/openapi.json").json()
    assert "/api/v1/regions" in spec["paths"]
    page = client.get("/api/docs")
    assert page.status_code == 200 and "swagger-ui-bundle.js" in page.text
    assert client.get("/static/vendor/swagger-ui/swagger-ui-bundle.js").status_code == 200


def test_static_files_carry_a_content_hash(client):
    page = client.get("/")
    assert "/static/vendor/bootstrap/bootstrap.min.css?v=" in page.text
    assert client.get("/static/vendor/htmx/htmx.min.js").status_code == 200


def test_every_page_has_security_headers_and_a_request_id(client):
    answer = client.get("/", headers={"X-Request-ID": "trace-0001-abcd"})
    assert answer.headers["x-request-id"] == "trace-0001-abcd"
    assert "script-src 'self'" in answer.headers["content-security-policy"]
    assert answer.headers["x-frame-options"] == "DENY"


def test_a_forged_request_id_is_replaced(client):
    answer = client.get("/", headers={"X-Request-ID": "bad id\nwith newline"})
    assert answer.headers["x-request-id"] != "bad id\nwith newline"
    assert len(answer.headers["x-request-id"]) == 32


def test_malformed_json_is_invalid_input(client, bearer):
    answer = client.post(
        "/api/v1/users",
        headers={**bearer("platform_admin"), "content-type": "application/json"},
        content=b'{"username": "a",',
    )
    assert answer.status_code == 422
    assert answer.json()["error"]["key"] == "invalid_input"
    json.dumps(answer.json())  # the error itself is serialisable


@pytest.mark.parametrize(
    ("method", "url", "body", "status", "key"),
    [
        (
            "post",
            "/api/v1/users",
            {"username": "dup_user", "display_name": "重复", "password": "Lanzhou#River2026"},
            409,
            "identity.username_taken",
        ),
        (
            "post",
            "/api/v1/users",
            {"username": "weak_user", "display_name": "弱", "password": "123456"},
            422,
            "identity.weak_password",
        ),
        ("get", "/api/v1/regions/12345", None, 422, "orgs.invalid_region"),
        ("get", "/api/v1/regions/610100", None, 422, "orgs.unknown_region"),
    ],
)
def test_bad_input_is_a_translated_error_and_an_event(
    client, db, bearer, make_user, method, url, body, status, key
):
    make_user("dup_user", "public")
    headers = {**bearer("platform_admin"), "Accept-Language": "zh-CN"}
    answer = client.request(method.upper(), url, headers=headers, json=body)
    assert answer.status_code == status, answer.text
    error = answer.json()["error"]
    assert error["key"] == key
    assert error["message"] and not error["message"].isascii()  # Chinese, not the source text
    assert [r["path"] for r in refusals(db, key)] == [url]
