"""The sharing API over HTTP: request, review, grants, query — and its refusals."""

from __future__ import annotations

from tests.conftest import bearer_for

REQUEST = {
    "scenario": "企业开办一件事",
    "purpose": "核对法定代表人身份",
    "legal_basis": "《优化营商环境条例》",
    "days": 90,
}


def test_request_review_and_query_over_http(client, make_user, db, orgs, registry):
    resource_id, police = registry
    user = bearer_for(db, make_user("jt9", "data_consumer", org_id=orgs["transport"]))
    reviewer = bearer_for(db, make_user("ga9", "dept_reviewer", org_id=police))
    bureau = bearer_for(db, make_user("sjj9", "bureau_reviewer", org_id=orgs["bureau"]))
    body = REQUEST | {"items": [{"resource_id": resource_id, "fields": ["xm", "xzqh", "sfzh"]}]}
    filed = client.post("/api/v1/sharing/requests", json=body, headers=user)
    assert filed.status_code == 201, filed.text
    item = filed.json()[0]
    assert item["state"] == "pending_provider"
    queue = client.get("/api/v1/sharing/items?side=provider", headers=reviewer).json()
    assert [i["id"] for i in queue] == [item["id"]]
    forwarded = client.post(
        f"/api/v1/sharing/items/{item['id']}/approve", json={"comment": "同意"}, headers=reviewer
    )
    assert forwarded.json()["state"] == "pending_bureau"  # no confirmed grade yet
    granted = client.post(f"/api/v1/sharing/items/{item['id']}/approve", json={}, headers=bureau)
    assert granted.json()["state"] == "granted"
    grant = client.get("/api/v1/sharing/grants", headers=user).json()[0]
    assert grant["status"] == "active" and "sfzh" in grant["masked"]
    answer = client.post(
        f"/api/v1/sharing/grants/{grant['id']}/query",
        json={"fields": ["xm", "sfzh"], "where": [{"field": "xzqh", "op": "=", "value": "620102"}],
              "order_by": [["xm", False]], "limit": 5},
        headers=user,
    )  # fmt: skip
    assert answer.status_code == 200, answer.text
    facts = answer.json()
    assert set(facts["masked"]) == {"sfzh", "xm"} and 0 < len(facts["rows"]) <= 5
    outside = client.post(
        f"/api/v1/sharing/grants/{grant['id']}/query", json={"fields": ["sjhm"]}, headers=user
    )
    assert outside.status_code == 422
    stranger = client.post(f"/api/v1/sharing/grants/{grant['id']}/query", json={}, headers=reviewer)
    assert stranger.status_code == 403  # a reviewer is no holder
    revoked = client.post(
        f"/api/v1/sharing/grants/{grant['id']}/revoke",
        json={"reason": "场景结束"},
        headers=reviewer,
    )
    assert revoked.json()["status"] == "revoked"
    after = client.post(f"/api/v1/sharing/grants/{grant['id']}/query", json={}, headers=user)
    assert after.status_code == 403


def test_malformed_and_unauthorised_requests_are_refused(client, make_user, db, orgs, registry):
    resource_id, _ = registry
    assert client.post("/api/v1/sharing/requests", json=REQUEST).status_code == 401
    citizen = bearer_for(db, make_user("gz9", "public"))
    assert client.post("/api/v1/sharing/requests", json=REQUEST, headers=citizen).status_code == 403
    user = bearer_for(db, make_user("jt8", "data_consumer", org_id=orgs["transport"]))
    no_items = client.post("/api/v1/sharing/requests", json=REQUEST | {"items": []}, headers=user)
    assert no_items.status_code == 422
    bad_mode = REQUEST | {"items": [{"resource_id": resource_id, "modes": ["download"]}]}
    assert client.post("/api/v1/sharing/requests", json=bad_mode, headers=user).status_code == 422
    missing = REQUEST | {"items": [{"resource_id": 999999}]}
    assert client.post("/api/v1/sharing/requests", json=missing, headers=user).status_code == 422
    assert client.post("/api/v1/sharing/grants/999/query", json={}, headers=user).status_code == 404
