"""The catalog over HTTP: drafting, review, publication, search and the errors people see."""

from __future__ import annotations

import pytest

BODY = {
    "name": "全省A级旅游景区名录",
    "summary": "甘肃省A级旅游景区的名称、等级和地址。",
    "domain": "culture_tourism",
    "share_type": "unconditional",
    "open_type": "unconditional",
    "update_cycle": "quarterly",
    "kind": "table",
    "formats": ["CSV", "XLSX"],
    "keywords": ["景区", "旅游"],
    "fields": [
        {"name": "jqmc", "label": "景区名称", "data_type": "string", "length": 100},
        {"name": "jqdj", "label": "景区等级", "data_type": "string", "length": 10},
    ],
}


@pytest.fixture
def heads(orgs, bearer):
    return {
        "editor": bearer("dept_data_admin", org_id=orgs["culture_tourism"]),
        "reviewer": bearer("dept_reviewer", org_id=orgs["culture_tourism"]),
        "bureau": bearer("bureau_reviewer", org_id=orgs["bureau"]),
        "other": bearer("dept_data_admin", org_id=orgs["weather"]),
    }


def draft(api, heads, **changes):
    response = api.post("/api/v1/catalog/work", json={**BODY, **changes}, headers=heads["editor"])
    assert response.status_code == 201, response.text
    return response.json()


def test_draft_review_publish_and_find_over_http(api, heads):
    entry = draft(api, heads)
    assert entry["status"] == "draft" and entry["moves"] == ["submit"]
    assert entry["provider_name"] == "甘肃省文化和旅游厅" and entry["region_name"] == "甘肃省"
    for who, move in (("editor", "submit"), ("reviewer", "approve"), ("bureau", "publish")):
        moved = api.post(
            f"/api/v1/catalog/work/{entry['id']}/moves",
            json={"transition": move},
            headers=heads[who],
        )
        assert moved.status_code == 200, moved.text
    assert moved.json()["status"] == "published"
    found = api.get("/api/v1/catalog/search", params={"q": "景区"}).json()
    assert found["total"] == 1 and found["items"][0]["provider_name"] == "甘肃省文化和旅游厅"
    labels = {f["value"]: f["label"] for f in found["facets"]["domain"]}
    assert labels == {"culture_tourism": "文化旅游"}
    public = api.get(f"/api/v1/catalog/resources/{entry['id']}")
    assert public.status_code == 200 and public.json()["fields"][0]["label"] == "景区名称"
    history = api.get(f"/api/v1/catalog/work/{entry['id']}/history", headers=heads["bureau"]).json()
    assert [h["to_state"] for h in history] == ["draft", "pending", "approved", "published"]


def test_a_stale_save_gets_a_clear_409(api, heads):
    entry = draft(api, heads)
    url = f"/api/v1/catalog/work/{entry['id']}"
    first = api.put(
        url, json={**BODY, "name": "改名一", "version": entry["version"]}, headers=heads["editor"]
    )
    assert first.status_code == 200 and first.json()["revision"] == 2
    second = api.put(
        url, json={**BODY, "name": "改名二", "version": entry["version"]}, headers=heads["editor"]
    )
    assert second.status_code == 409
    error = second.json()["error"]
    assert error["key"] == "catalog.resource_changed"
    assert "其他人" in error["message"] or "他人" in error["message"]
    diff = api.get(f"{url}/revisions/2/diff", headers=heads["editor"]).json()
    assert diff["attributes"] == [{"attribute": "name", "before": BODY["name"], "after": "改名一"}]


def test_another_department_is_told_whose_entry_it_is(api, heads):
    entry = draft(api, heads)
    response = api.put(
        f"/api/v1/catalog/work/{entry['id']}", json={**BODY, "version": entry["version"]},
        headers=heads["other"],
    )  # fmt: skip
    assert response.status_code == 403
    assert response.json()["error"]["key"] == "catalog.other_department"
    assert api.get(f"/api/v1/catalog/work/{entry['id']}", headers=heads["other"]).status_code == 403


@pytest.mark.parametrize(
    ("changes", "key", "words"),
    [
        ({"domain": "astrology"}, "catalog.invalid_resource", "domain"),
        ({"share_type": "conditional"}, "catalog.invalid_resource", "share_conditions"),
        ({"code": "101001/620000-001-00001-0"}, "catalog.invalid_code", "校验"),
        ({"code": "abc"}, "catalog.invalid_code", "101001/620000-013-00042-7"),
        ({"provider_org_id": 999999}, "catalog.draft_for_other_department", "本部门"),
        ({"fields": [{"name": "1x", "label": "甲"}]}, "catalog.invalid_resource", "fields[1].name"),
    ],
)
def test_bad_input_is_refused_with_a_translated_reason(api, heads, changes, key, words):
    response = api.post("/api/v1/catalog/work", json={**BODY, **changes}, headers=heads["editor"])
    assert response.status_code in (403, 422), response.text
    error = response.json()["error"]
    assert error["key"] == key and words in error["message"]


def test_unknown_attributes_and_bad_searches_are_422(api, heads):
    assert (
        api.post(
            "/api/v1/catalog/work", json={**BODY, "colour": "red"}, headers=heads["editor"]
        ).status_code
        == 422
    )
    bad = api.get("/api/v1/catalog/search", params={"domain": "astrology"})
    assert bad.status_code == 422 and bad.json()["error"]["key"] == "catalog.invalid_search"
    assert api.get("/api/v1/catalog/search", params={"sort": "random"}).status_code == 422
    assert api.get("/api/v1/catalog/search", params={"region": "610100"}).status_code == 422


def test_moves_need_the_right_role_and_a_comment_where_declared(api, heads):
    entry = draft(api, heads)
    url = f"/api/v1/catalog/work/{entry['id']}/moves"
    assert (
        api.post(url, json={"transition": "approve"}, headers=heads["reviewer"]).status_code == 409
    )
    api.post(url, json={"transition": "submit"}, headers=heads["editor"])
    no_comment = api.post(url, json={"transition": "return"}, headers=heads["reviewer"])
    assert no_comment.status_code == 422
    assert api.post(url, json={"transition": "publish"}, headers=heads["bureau"]).status_code in (
        403,
        409,
    )
    assert api.post(url, json={"transition": "fly"}, headers=heads["reviewer"]).status_code == 422


def test_vocabularies_are_public(api, orgs):
    body = api.get("/api/v1/catalog/vocabularies").json()
    assert {
        "code": "conditional",
        "title_zh": "有条件共享",
        "title_en": "Shared on conditions",
    } in body["share_types"]


def test_elements_levels_and_duties_over_http(api, heads, orgs, bearer):
    created = api.post(
        "/api/v1/catalog/elements",
        json={"code": "DE0002", "name": "统一社会信用代码", "definition": "GB 32100 规定的18位代码。",
              "length": 18, "authority_org_id": orgs["market"]},
        headers=heads["bureau"],
    )  # fmt: skip
    assert created.status_code == 201, created.text
    element = created.json()
    assert element["authority_name"] == "甘肃省市场监督管理局"
    claim = api.post(
        f"/api/v1/catalog/elements/{element['id']}/claims", json={"basis": "税务登记"},
        headers=heads["editor"],
    )  # fmt: skip
    assert claim.status_code == 201
    conflicts = api.get("/api/v1/catalog/elements/conflicts", headers=heads["bureau"]).json()
    assert conflicts[0]["kind"] == "competing_claims"
    resolved = api.post(
        f"/api/v1/catalog/elements/{element['id']}/resolve", json={"org_id": orgs["market"]},
        headers=heads["bureau"],
    )  # fmt: skip
    assert {c["status"] for c in resolved.json()["claims"]} == {"accepted", "rejected"}
    assert api.get("/api/v1/catalog/elements", params={"q": "信用"}).json()[0]["code"] == "DE0002"
    duty = api.post(
        "/api/v1/catalog/duties", json={"org_id": orgs["culture_tourism"], "name": "全省A级旅游景区名录"},
        headers=heads["bureau"],
    )  # fmt: skip
    assert duty.status_code == 201
    report = api.get("/api/v1/catalog/completeness", headers=heads["reviewer"]).json()
    assert report[0]["expected"] == 1 and report[0]["missing"] == ["全省A级旅游景区名录"]
    view = api.get("/api/v1/catalog/levels", headers=heads["reviewer"]).json()
    assert view["levels"] == {"province": 0, "city": 0, "county": 0} and len(view["regions"]) == 15
    assert (
        api.get(
            "/api/v1/catalog/levels", params={"root": "999999"}, headers=heads["reviewer"]
        ).status_code
        == 422
    )
