"""The real CKAN client (``ckanapi.RemoteCKAN``) against a live server with the demo catalog:
what a harvester sees is the open catalog, the same entries the platform's own search shows
the public."""

from __future__ import annotations

import ckanapi
import httpx
import pytest

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def ckan(base_url: str):
    with ckanapi.RemoteCKAN(base_url, user_agent="longshu-tests") as remote:
        yield remote


@pytest.fixture(scope="module")
def portal(base_url: str) -> dict:
    """The open catalog as the platform's own search shows it to an anonymous visitor."""
    return httpx.get(f"{base_url}/api/v1/catalog/search", params={"limit": 100}).json()


def test_status_show(ckan, base_url):
    status = ckan.action.status_show()
    assert status["ckan_version"].startswith("2.")
    assert status["site_url"] == base_url


def test_package_search_matches_the_open_demo_catalog(ckan, portal):
    result = ckan.action.package_search(rows=1000, **{"facet.field": ["organization", "groups"]})
    assert result["count"] == portal["total"] >= 100
    assert len(result["results"]) == result["count"]
    assert all(p["open_type"] in ("unconditional", "conditional") for p in result["results"])
    assert {p["id"] for p in result["results"]} >= {str(i["id"]) for i in portal["items"]}
    by_org = {i["name"]: i["count"] for i in result["search_facets"]["organization"]["items"]}
    assert sum(by_org.values()) == result["count"]
    portal_orgs = {f"org-{f['value']}": f["count"] for f in portal["facets"]["provider"]}
    assert by_org == portal_orgs


def test_query_and_filters(ckan, portal):
    found = ckan.action.package_search(q="气象", rows=5)
    assert found["count"] > 0
    assert all(
        "气象" in (p["title"] + p["notes"] + " ".join(t["name"] for t in p["tags"]))
        or p["domain"] == "meteorology"
        for p in found["results"]
    )
    csv = ckan.action.package_search(fq="res_format:CSV", rows=3)
    assert all("CSV" in [r["format"] for r in p["resources"]] for p in csv["results"])
    with pytest.raises(ckanapi.ValidationError):
        ckan.action.package_search(fq="license_id:cc-by")
    with pytest.raises(ckanapi.ValidationError):
        ckan.action.package_search(rows="many")


def test_package_show_by_name_and_id(ckan, portal, base_url):
    first = portal["items"][0]
    package = ckan.action.package_show(id=str(first["id"]))
    assert package["title"] == first["name"]
    assert ckan.action.package_show(id=package["name"])["id"] == package["id"]
    assert package["organization"]["title"] == first["provider_name"]
    assert package["resources"] and package["resources"][0]["format"] in first["formats"]
    with pytest.raises(ckanapi.NotFound):
        ckan.action.package_show(id="no-such-dataset")


def test_closed_entries_are_not_found(ckan, base_url):
    """A demo entry not open to the public (不予开放) exists but is not served."""
    listed = set(ckan.action.package_list())
    names = {p["name"] for p in ckan.action.package_search(rows=1000)["results"]}
    assert listed == names
    ids = {int(p["id"]) for p in ckan.action.package_search(rows=1000)["results"]}
    hidden = next(i for i in range(1, max(ids) + 1) if i not in ids)
    with pytest.raises(ckanapi.NotFound):
        ckan.action.package_show(id=str(hidden))


def test_organizations_groups_and_tags(ckan, portal):
    orgs = ckan.action.organization_list(all_fields=True)
    assert {o["title"] for o in orgs} == {f["label"] for f in portal["facets"]["provider"]}
    org = ckan.action.organization_show(id=orgs[0]["name"])
    assert org["package_count"] == orgs[0]["package_count"] > 0
    groups = {g["name"]: g for g in ckan.action.group_list(all_fields=True)}
    assert {"culture_tourism", "meteorology", "base-population", "theme-health"} <= set(groups)
    domains = {f["value"]: f["count"] for f in portal["facets"]["domain"]}
    assert all(groups[code]["package_count"] == n for code, n in domains.items())
    assert ckan.action.group_show(id="meteorology")["title"] == "气象服务"
    tags = ckan.action.tag_list()
    assert tags == sorted(tags) and len(tags) > 10
    some = ckan.action.package_search(rows=1)["results"][0]
    assert {t["name"] for t in some["tags"]} <= set(tags)


def test_get_only_client_and_datastore(base_url):
    with ckanapi.RemoteCKAN(base_url, get_only=True) as remote:
        assert remote.action.package_search(rows=2)["count"] > 0
        with pytest.raises(ckanapi.NotFound):
            remote.action.datastore_search(resource_id="1-csv")
