"""The CKAN Action API over HTTP: the envelope, each action, who sees what, paging, facets and
bad input."""

from __future__ import annotations

import json

import pytest

from longshu.opendata.packages import slug

BASE = "/api/3/action/"


def ok(client, action: str, **params):
    response = client.get(BASE + action, params=params)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["success"] is True
    assert body["help"].endswith(f"/api/3/action/help_show?name={action}")
    return body["result"]


def refused(client, action: str, status: int, type_: str, method: str = "GET", **params):
    if method == "GET":
        response = client.get(BASE + action, params=params)
    else:
        response = client.post(BASE + action, json=params)
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"help", "success", "error"}
    assert body["success"] is False
    assert body["error"]["__type"] == type_
    assert body["error"]["message"]
    return body["error"]


# --- envelope and visibility ------------------------------------------------------------------


def test_search_shows_only_published_open_entries(client, catalog):
    result = ok(client, "package_search")
    assert set(result) == {"count", "results", "search_facets", "facets", "sort"}
    assert result["count"] == 2
    assert {p["id"] for p in result["results"]} == {
        str(catalog["open"][0]),
        str(catalog["conditional"][0]),
    }
    assert ok(client, "package_list") == sorted(
        [slug(catalog["open"][1]), slug(catalog["conditional"][1])]
    )


@pytest.mark.parametrize("key", ["closed", "draft", "retired"])
def test_closed_draft_and_retired_entries_are_not_found(client, catalog, key):
    resource_id, code = catalog[key]
    for given in (str(resource_id), slug(code), code):
        error = refused(client, "package_show", 404, "Not Found Error", id=given)
        assert error["message"] == "Dataset not found"
    refused(client, "resource_show", 404, "Not Found Error", id=f"{resource_id}-csv")


def test_government_staff_see_the_open_catalog_too(client, catalog, bearer):
    """The CKAN API is the public face: a signed-in civil servant gets the same answer."""
    response = client.get(BASE + "package_search", headers=bearer("bureau_reviewer"))
    assert response.json()["result"]["count"] == 2
    response = client.get(
        BASE + "package_show",
        params={"id": catalog["closed"][0]},
        headers=bearer("bureau_reviewer"),
    )
    assert response.status_code == 404


def test_post_with_a_json_body_works_as_get(client, catalog):
    response = client.post(BASE + "package_show", json={"id": slug(catalog["open"][1])})
    assert response.status_code == 200
    assert response.json()["result"]["id"] == str(catalog["open"][0])
    # the path the ckanapi client calls
    response = client.post("/api/action/package_show", json={"id": catalog["open"][1]})
    assert response.json()["result"]["title"] == "全省A级旅游景区名录"


# --- package mapping --------------------------------------------------------------------------


def test_package_dict_maps_the_published_entry(client, catalog, orgs):
    package = ok(client, "package_show", id=catalog["open"][0])
    assert package["name"] == slug(catalog["open"][1])
    assert package["title"] == "全省A级旅游景区名录"
    assert package["notes"].startswith("甘肃省A级旅游景区")
    assert package["organization"]["name"] == f"org-{orgs['culture_tourism']}"
    assert package["organization"]["title"] == "甘肃省文化和旅游厅"
    assert package["owner_org"] == str(orgs["culture_tourism"])
    assert [g["name"] for g in package["groups"]] == ["culture_tourism"]
    assert [t["name"] for t in package["tags"]] == ["景区", "旅游"]
    assert [r["format"] for r in package["resources"]] == ["CSV", "XLSX"]
    assert package["num_resources"] == 2
    assert package["license_id"] == "cc-by" and package["isopen"] is True
    assert package["metadata_created"] and package["metadata_modified"]
    extras = {e["key"]: e["value"] for e in package["extras"]}
    assert extras["开放类型"] == "无条件开放"
    assert extras["共享类型"] == "无条件共享"
    assert extras["更新周期"] == "每季度"
    assert extras["领域"] == "文化旅游"
    assert extras["行政区划代码"] == "620000"
    assert extras["资源代码"] == catalog["open"][1]


def test_conditional_entry_carries_its_conditions_and_databases(client, catalog):
    package = ok(client, "package_show", id=catalog["conditional"][1])
    extras = {e["key"]: e["value"] for e in package["extras"]}
    assert extras["开放类型"] == "有条件开放"
    assert extras["开放条件"] == "注册并签署数据使用协议。"
    assert {g["name"] for g in package["groups"]} == {
        "meteorology",
        "base-geospatial",
        "theme-emergency",
    }
    assert package["license_id"] == "notspecified" and package["isopen"] is False


def test_resource_show(client, catalog):
    resource_id = catalog["open"][0]
    resource = ok(client, "resource_show", id=f"{resource_id}-xlsx")
    assert resource["format"] == "XLSX"
    assert resource["package_id"] == str(resource_id)
    assert resource["url"].endswith(f"/catalog/resources/{resource_id}")
    refused(client, "resource_show", 404, "Not Found Error", id=f"{resource_id}-pdf")
    refused(client, "resource_show", 404, "Not Found Error", id="nonsense")
    refused(client, "resource_show", 409, "Validation Error")


# --- search -----------------------------------------------------------------------------------


def test_query_words_use_the_catalog_search(client, catalog):
    result = ok(client, "package_search", q="气象")
    assert [p["id"] for p in result["results"]] == [str(catalog["conditional"][0])]
    assert ok(client, "package_search", q="*:*")["count"] == 2
    assert ok(client, "package_search", q="导游")["count"] == 0  # closed entry


@pytest.mark.parametrize(
    ("fq", "key"),
    [
        ("res_format:CSV", "open"),
        ('res_format:"JSON"', "conditional"),
        ("groups:meteorology", "conditional"),
        ("groups:theme-emergency", "conditional"),
        ("+groups:culture_tourism AND res_format:XLSX", "open"),
        ("tags:降水", "conditional"),
        ("open_type:conditional", "conditional"),
        ("update_cycle:quarterly", "open"),
        ("kind:api", "conditional"),
        ("region_code:620000", None),
    ],
)
def test_fq_terms_become_catalog_filters(client, catalog, fq, key):
    result = ok(client, "package_search", fq=fq)
    ids = {p["id"] for p in result["results"]}
    if key is None:
        assert result["count"] == 2
    else:
        assert ids == {str(catalog[key][0])}
        assert result["count"] == 1


def test_tags_filter_is_exact_keyword_equality(client, catalog):
    # 降水 is a keyword of the conditional entry; 水 is only part of one: no tag
    assert ok(client, "package_search", fq="tags:降水")["count"] == 1
    assert ok(client, "package_search", fq="tags:水")["count"] == 0
    assert ok(client, "package_search", q="降")["count"] == 1  # the full text still finds it
    # the entry's code is searchable but not a tag
    code = catalog["open"][1]
    assert ok(client, "package_search", fq=f'tags:"{code}"')["count"] == 0
    both = ok(client, "package_search", fq="tags:旅游 AND res_format:CSV")
    assert [p["id"] for p in both["results"]] == [str(catalog["open"][0])]


def test_search_facets_for_tags_organization_res_format_and_groups(client, catalog, orgs):
    result = ok(
        client, "package_search", **{"facet.field": '["tags","organization","res_format","groups"]'}
    )
    facets = result["search_facets"]
    assert set(facets) == {"tags", "organization", "res_format", "groups"}
    tags = {i["name"]: i["count"] for i in facets["tags"]["items"]}
    assert tags == {"景区": 1, "旅游": 1, "气象": 1, "降水": 1}
    assert catalog["open"][1] not in tags
    assert result["facets"]["tags"] == tags
    orgs_seen = {i["name"]: i["count"] for i in facets["organization"]["items"]}
    assert orgs_seen == {f"org-{orgs['culture_tourism']}": 1, f"org-{orgs['weather']}": 1}
    formats = {i["name"]: i["count"] for i in facets["res_format"]["items"]}
    assert formats == {"CSV": 1, "XLSX": 1, "JSON": 1, "API": 1}
    groups = {i["name"]: i["count"] for i in facets["groups"]["items"]}
    assert groups["culture_tourism"] == 1 and groups["theme-emergency"] == 1
    narrowed = ok(
        client, "package_search", fq="tags:气象", **{"facet.field": '["tags"]', "facet.limit": 1}
    )
    assert narrowed["search_facets"]["tags"]["items"] == [
        {"name": "气象", "display_name": "气象", "count": 1}
    ]


def test_fq_organization(client, catalog, orgs):
    result = ok(client, "package_search", fq=f"organization:org-{orgs['weather']}")
    assert [p["id"] for p in result["results"]] == [str(catalog["conditional"][0])]
    assert ok(client, "package_search", fq=f"organization:org-{orgs['transport']}")["count"] == 0
    # a fielded term in q is a filter too
    assert ok(client, "package_search", q=f"organization:org-{orgs['weather']}")["count"] == 1


@pytest.mark.parametrize(
    "fq",
    [
        "name:abc",
        "groups:nowhere",
        "organization:ministry",
        "res_format:EXE",
        "groups:health OR groups:ecology",
        "-res_format:CSV",
        "res_format:CSV res_format:JSON",
        "res_format:[A TO Z]",
        "region_code:999999",
    ],
)
def test_unsupported_fq_is_a_validation_error(client, catalog, fq):
    refused(client, "package_search", 409, "Validation Error", fq=fq)


def test_rows_start_and_sort_page_through_the_match(client, catalog):
    first = ok(client, "package_search", rows=1, start=0, sort="name asc")
    second = ok(client, "package_search", rows=1, start=1, sort="name asc")
    assert first["count"] == second["count"] == 2
    assert len(first["results"]) == len(second["results"]) == 1
    assert first["results"][0]["id"] != second["results"][0]["id"]
    assert first["sort"] == "name asc"
    assert ok(client, "package_search", rows=0)["results"] == []
    newest = ok(client, "package_search", sort="metadata_modified desc")["results"]
    assert newest[0]["id"] == str(catalog["conditional"][0])  # published last


@pytest.mark.parametrize(
    "params",
    [
        {"rows": "ten"},
        {"rows": 1001},
        {"rows": -1},
        {"start": "x"},
        {"start": 100_001},
        {"sort": "random()"},
        {"facet.field": "[not json"},
        {"facet.field": '["license_id"]'},
        {"facet.limit": "many"},
        {"q": "很长" * 60},
    ],
)
def test_bad_search_parameters_are_validation_errors(client, catalog, params):
    refused(client, "package_search", 409, "Validation Error", **params)


def test_bad_parameters_in_a_json_body(client, catalog):
    error = refused(client, "package_search", 409, "Validation Error", method="POST", rows=True)
    assert error["rows"] == ["Invalid integer"]
    response = client.post(
        BASE + "package_search", content=b"[1, 2]", headers={"content-type": "application/json"}
    )
    assert response.status_code == 409
    assert response.json()["error"]["__type"] == "Validation Error"


def test_facets_in_ckan_shape(client, catalog, orgs):
    result = ok(
        client,
        "package_search",
        **{"facet.field": json.dumps(["organization", "groups", "res_format", "open_type"])},
    )
    facets = result["search_facets"]
    assert set(facets) == {"organization", "groups", "res_format", "open_type"}
    orgs_items = {i["name"]: i for i in facets["organization"]["items"]}
    assert orgs_items[f"org-{orgs['weather']}"]["display_name"] == "甘肃省气象局"
    assert orgs_items[f"org-{orgs['weather']}"]["count"] == 1
    assert result["facets"]["res_format"] == {"CSV": 1, "XLSX": 1, "JSON": 1, "API": 1}
    assert result["facets"]["groups"]["theme-emergency"] == 1
    assert result["facets"]["open_type"] == {"unconditional": 1, "conditional": 1}
    assert "none" not in result["facets"]["open_type"]
    limited = ok(client, "package_search", **{"facet.field": '["res_format"]', "facet.limit": 1})
    assert len(limited["search_facets"]["res_format"]["items"]) == 1
    # a repeated query parameter is a list too
    response = client.get(
        BASE + "package_search", params=[("facet.field", "groups"), ("facet.field", "level")]
    )
    assert set(response.json()["result"]["search_facets"]) == {"groups", "level"}


def test_large_pages_are_read_in_slices(client, db, orgs, monkeypatch):
    """The catalog search serves at most MAX_PAGE hits a call; a larger CKAN page is read in
    slices (here 10 a call, so 25 entries take three)."""
    from tests.catalog.conftest import published

    from longshu.catalog import search

    monkeypatch.setattr(search, "MAX_PAGE", 10)
    with db.session() as s:
        for n in range(25):
            published(
                s, orgs["transport"], name=f"公路客运班线{n:03d}", domain="transport_logistics"
            )
    result = ok(client, "package_search", rows=1000, fq="groups:transport_logistics")
    assert result["count"] == 25
    assert len({p["id"] for p in result["results"]}) == 25
    page = ok(client, "package_search", rows=12, start=3, sort="name asc")
    assert [p["title"] for p in page["results"]] == [f"公路客运班线{n:03d}" for n in range(3, 15)]
    tail = ok(client, "package_search", rows=100, start=20, sort="name asc")
    assert len(tail["results"]) == 5
    assert len(ok(client, "package_list", limit=5, offset=20)) == 5


# --- organizations, groups, tags, status ------------------------------------------------------


def test_organizations(client, catalog, orgs):
    names = ok(client, "organization_list")
    assert set(names) == {f"org-{orgs['culture_tourism']}", f"org-{orgs['weather']}"}
    full = ok(client, "organization_list", all_fields="true", sort="package_count desc")
    assert all(o["package_count"] == 1 for o in full)
    org = ok(client, "organization_show", id=f"org-{orgs['weather']}", include_datasets="true")
    assert org["title"] == "甘肃省气象局"
    assert org["package_count"] == 1
    assert [p["id"] for p in org["packages"]] == [str(catalog["conditional"][0])]
    assert ok(client, "organization_show", id=str(orgs["transport"]))["package_count"] == 0
    refused(client, "organization_show", 404, "Not Found Error", id="org-999999")
    refused(client, "organization_show", 404, "Not Found Error", id=f"org-{orgs['operator_a']}")
    refused(client, "organization_show", 409, "Validation Error")
    refused(client, "organization_list", 409, "Validation Error", sort="size")


def test_groups_are_domains_and_databases(client, catalog):
    names = ok(client, "group_list", sort="name asc")
    assert "culture_tourism" in names and "base-population" in names and "theme-health" in names
    assert names == sorted(names)
    full = {g["name"]: g for g in ok(client, "group_list", all_fields=True)}
    assert full["meteorology"]["title"] == "气象服务"
    assert full["meteorology"]["package_count"] == 1
    assert full["theme-emergency"]["title"] == "主题库·应急管理"
    group = ok(client, "group_show", id="theme-emergency", include_datasets=True)
    assert group["package_count"] == 1
    assert group["packages"][0]["id"] == str(catalog["conditional"][0])
    refused(client, "group_show", 404, "Not Found Error", id="nowhere")


def test_tags(client, catalog):
    assert ok(client, "tag_list") == sorted(["景区", "旅游", "气象", "降水"])
    assert ok(client, "tag_list", query="气") == ["气象"]
    assert ok(client, "tag_list", all_fields=True)[0]["name"]


def test_status_and_help(client, db):
    status = ok(client, "status_show")
    assert status["ckan_version"].startswith("2.")
    assert status["site_url"] == "http://testserver"
    assert "open dataset" in ok(client, "help_show", name="package_show")


def test_unknown_action_and_datastore(client, catalog):
    error = refused(client, "package_create", 404, "Not Found Error")
    assert "package_create" in error["message"]
    error = refused(client, "datastore_search", 404, "Not Found Error", resource_id="1-csv")
    assert "datastore" in error["message"]


def test_a_bad_token_is_an_authorization_error_in_the_envelope(client, db):
    response = client.get(BASE + "status_show", headers={"Authorization": "Bearer not-a-token"})
    assert response.status_code == 403
    body = response.json()
    assert body["success"] is False
    assert body["error"]["__type"] == "Authorization Error"
