"""The real CKAN client (``ckanapi.RemoteCKAN``) against a live server with the demo catalog:
what a harvester sees is the open catalog, the same entries the platform's own search shows
the public."""

from __future__ import annotations

import json
import subprocess
import sys

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


def test_get_only_client(base_url):
    with ckanapi.RemoteCKAN(base_url, get_only=True) as remote:
        assert remote.action.package_search(rows=2)["count"] > 0
        with pytest.raises(ckanapi.NotFound):
            remote.action.datastore_search(resource_id="999999-csv")


def test_exact_tags_and_search_facets(ckan):
    facets = ckan.action.package_search(
        rows=0, **{"facet.field": ["tags", "organization", "res_format", "groups"]}
    )
    assert set(facets["search_facets"]) == {"tags", "organization", "res_format", "groups"}
    tag, count = next(iter(facets["facets"]["tags"].items()))
    tagged = ckan.action.package_search(fq=f'tags:"{tag}"', rows=1000)
    assert tagged["count"] == count
    assert all(tag in [t["name"] for t in p["tags"]] for p in tagged["results"])


# A lake table for an open demo entry, written into the live server's lake by the platform's
# own functions (as an ingest would): one column per declared field, plus one undeclared.
LOAD_TABLE = """
import json, sys
import pyarrow as pa
from longshu.actor import SYSTEM
from longshu.catalog.models import Resource
from longshu.db import get_database
from longshu.lake import tables
from longshu.models import load_all

load_all()
with get_database().session() as s:
    entry = s.get(Resource, int(sys.argv[1]))
    columns = {}
    for f in entry.fields:
        if f.data_type in ("integer",):
            columns[f.name] = pa.array(range(1, 51), pa.int64())
        elif f.data_type in ("decimal", "money", "float"):
            columns[f.name] = pa.array([i * 1.5 for i in range(1, 51)], pa.float64())
        else:
            columns[f.name] = [f"{f.label}{i:02d}" for i in range(1, 51)]
    columns["internal_note"] = ["internal"] * 50
    table = tables.create_table(s, SYSTEM, "e2e_open_table", resource_id=entry.id)
    tables.write_version(s, SYSTEM, table, pa.table(columns), source="e2e")
    s.commit()
    print(json.dumps([f.name for f in entry.fields]))
"""


@pytest.fixture(scope="module")
def open_table(ckan, server_env) -> tuple[str, list[str]]:
    """(a CKAN resource id of an open demo table now in the lake, its declared fields)."""
    found = ckan.action.package_search(fq="open_type:unconditional kind:table", rows=50)
    package = next(p for p in found["results"] if p["resources"])
    done = subprocess.run(
        [sys.executable, "-c", LOAD_TABLE, package["id"]],
        env=server_env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    return package["resources"][0]["id"], json.loads(done.stdout.strip().splitlines()[-1])


def test_datastore_search_with_the_real_client(ckan, open_table):
    resource_id, declared = open_table
    assert ckan.action.resource_show(id=resource_id)["datastore_active"] is True
    first = ckan.action.datastore_search(resource_id=resource_id, limit=10)
    assert first["total"] == 50 and len(first["records"]) == 10
    served = [f["id"] for f in first["fields"]]
    assert served and set(served) <= set(declared)
    assert "internal_note" not in served  # undeclared: never served
    assert first["_links"]["next"].startswith("/api/3/action/datastore_search?")
    nxt = ckan.action.datastore_search(resource_id=resource_id, limit=10, offset=10)
    assert nxt["records"] != first["records"] and nxt["total"] == 50
    text_field = next(f["id"] for f in first["fields"] if f["type"] == "text")
    value = first["records"][3][text_field]
    one = ckan.action.datastore_search(
        resource_id=resource_id, filters={text_field: value}, fields=[text_field]
    )
    assert one["records"] == [{text_field: value}] and one["total"] == 1
    assert ckan.action.datastore_search(resource_id=resource_id, q=value)["total"] >= 1
    ordered = ckan.action.datastore_search(
        resource_id=resource_id, sort=f"{text_field} desc", limit=1
    )
    assert ordered["records"][0][text_field] == max(
        r[text_field] for r in ckan.action.datastore_search(resource_id=resource_id)["records"]
    )
    counted = ckan.action.datastore_search_sql(sql=f'SELECT count(*) AS n FROM "{resource_id}"')
    assert counted["records"] == [{"n": 50}]
    with pytest.raises(ckanapi.ValidationError):
        ckan.action.datastore_search(resource_id=resource_id, fields=["internal_note"])
    with pytest.raises(ckanapi.ValidationError):
        ckan.action.datastore_search_sql(sql=f'DROP TABLE "{resource_id}"')
    with pytest.raises(ckanapi.NotFound):
        ckan.action.datastore_search(resource_id="999999-csv")
