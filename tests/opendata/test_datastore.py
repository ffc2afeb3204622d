"""``datastore_search`` and ``datastore_search_sql``: rows of open tables, read from the lake
through ``lake.access`` under the public's grant — declared, non-sensitive columns of entries
open unconditionally, nothing else."""

from __future__ import annotations

import json

import pyarrow as pa
import pytest
from sqlalchemy import select
from tests.catalog.conftest import published

from longshu.actor import Actor
from longshu.catalog.models import ResourceField
from longshu.catalog.rules import FieldData
from longshu.events import Event
from longshu.lake import tables

BASE = "/api/3/action/"
ADMIN = Actor(kind="user", id=1, name="admin", roles=frozenset({"platform_admin"}), mfa=True)
SCENIC = pa.table(
    {
        "jqmc": ["莫高窟", "鸣沙山月牙泉", "麦积山石窟", "崆峒山", "张掖七彩丹霞", "嘉峪关"],
        "jqdj": ["5A", "5A", "5A", "5A", "5A", "4A"],
        "zdcz": pa.array([6000, 30000, 12000, 20000, 25000, None], pa.int64()),
        "lxdh": ["0937-1", "0937-2", "0938-3", "0933-4", "0936-5", "0937-6"],
        "nbbz": ["内部", "内部", "内部", "内部", "内部", "内部"],  # not declared in the catalog
    }
)
FIELDS = [
    FieldData("jqmc", "景区名称", "string", 100, description="景区的正式名称"),
    FieldData("jqdj", "景区等级", "string", 10, example="5A"),
    FieldData("zdcz", "最大承载量", "integer", unit="人次/日"),
    FieldData("lxdh", "联系电话", "string", 20),
]


def lake_table(session, resource_id: int, name: str, data: pa.Table = SCENIC) -> None:
    table = tables.create_table(session, ADMIN, name, resource_id=resource_id, owner_org_id=None)
    tables.write_version(session, ADMIN, table, data, source="test")


@pytest.fixture
def open_tables(db, orgs, lake_env):
    """Entries with lake tables: ``open`` (its 联系电话 graded sensitive), ``conditional``
    and ``closed``."""
    with db.session() as s:
        made = {
            "open": published(s, orgs["culture_tourism"], fields=FIELDS),
            "conditional": published(
                s,
                orgs["culture_tourism"],
                name="景区实时客流",
                open_type="conditional",
                open_conditions="签署协议",
                fields=FIELDS,
            ),
            "closed": published(s, orgs["culture_tourism"], name="景区内部台账", open_type="none"),
        }
        for key, entry in made.items():
            lake_table(s, entry.id, f"scenic_{key}")
        field = s.scalar(
            select(ResourceField).where(
                ResourceField.resource_id == made["open"].id, ResourceField.name == "lxdh"
            )
        )
        field.sensitivity = "个人信息"  # as governance's grade_confirmed records it
        s.commit()
        return {key: entry.id for key, entry in made.items()}


def ok(client, action: str, method: str = "GET", **params):
    if method == "GET":
        response = client.get(BASE + action, params=params)
    else:
        response = client.post(BASE + action, json=params)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["success"] is True
    return body["result"]


def refused(client, action: str, status: int, type_: str, method: str = "GET", **params):
    if method == "GET":
        response = client.get(BASE + action, params=params)
    else:
        response = client.post(BASE + action, json=params)
    assert response.status_code == status, response.text
    body = response.json()
    assert body["success"] is False
    assert body["error"]["__type"] == type_
    assert body["error"]["message"]
    return body["error"]


def test_rows_of_an_open_table_with_ckan_shape(client, open_tables):
    rid = f"{open_tables['open']}-csv"
    result = ok(client, "datastore_search", resource_id=rid)
    assert result["resource_id"] == rid
    assert [f["id"] for f in result["fields"]] == ["jqmc", "jqdj", "zdcz"]
    assert {f["id"]: f["type"] for f in result["fields"]} == {
        "jqmc": "text",
        "jqdj": "text",
        "zdcz": "int8",
    }
    assert result["fields"][0]["info"] == {"label": "景区名称", "notes": "景区的正式名称"}
    assert result["total"] == 6 and result["total_was_estimated"] is False
    assert result["limit"] == 100 and result["offset"] == 0
    assert result["records"][0] == {"jqmc": "莫高窟", "jqdj": "5A", "zdcz": 6000}
    assert result["_links"]["start"].startswith("/api/3/action/datastore_search?")
    assert "offset=100" in result["_links"]["next"]
    # the dataset id and the package name name the same table
    assert ok(client, "datastore_search", resource_id=str(open_tables["open"]))["total"] == 6


def test_sensitive_and_undeclared_columns_are_never_served(client, open_tables):
    rid = f"{open_tables['open']}-csv"
    result = ok(client, "datastore_search", resource_id=rid)
    assert all("lxdh" not in r and "nbbz" not in r for r in result["records"])
    for bad in ({"fields": "lxdh"}, {"sort": "nbbz"}, {"filters": json.dumps({"lxdh": "0937-1"})}):
        error = refused(client, "datastore_search", 409, "Validation Error", resource_id=rid, **bad)
        assert "is not in this resource" in error["message"]
    error = refused(
        client, "datastore_search_sql", 409, "Validation Error",
        sql=f'SELECT lxdh FROM "{rid}"',
    )  # fmt: skip
    assert error["sql"]


def test_filters_q_fields_sort_and_paging(client, open_tables):
    rid = f"{open_tables['open']}-csv"
    four = ok(client, "datastore_search", resource_id=rid, filters=json.dumps({"jqdj": "4A"}))
    assert [r["jqmc"] for r in four["records"]] == ["嘉峪关"] and four["total"] == 1
    caves = ok(client, "datastore_search", resource_id=rid, q="石窟")
    assert [r["jqmc"] for r in caves["records"]] == ["麦积山石窟"]
    assert ok(client, "datastore_search", resource_id=rid, q="5a 山")["total"] == 3
    by_field = ok(client, "datastore_search", resource_id=rid, q=json.dumps({"jqmc": "山"}))
    assert by_field["total"] == 3
    page = ok(
        client, "datastore_search", "POST",
        resource_id=rid, fields=["jqmc", "zdcz"], sort="zdcz desc", limit=2, offset=1,
        filters={"jqdj": ["5A", "4A"]},
    )  # fmt: skip
    assert [f["id"] for f in page["fields"]] == ["jqmc", "zdcz"]
    assert page["records"] == [
        {"jqmc": "张掖七彩丹霞", "zdcz": 25000},
        {"jqmc": "崆峒山", "zdcz": 20000},
    ]
    assert page["total"] == 6
    lists = ok(
        client, "datastore_search", resource_id=rid, records_format="lists",
        fields="jqmc,jqdj", limit=1, include_total="false",
    )  # fmt: skip
    assert lists["records"] == [["莫高窟", "5A"]] and "total" not in lists
    distinct = ok(client, "datastore_search", resource_id=rid, fields="jqdj", distinct="true")
    assert distinct["total"] == 2


def test_conditional_closed_and_unknown_resources(client, open_tables):
    error = refused(
        client, "datastore_search", 403, "Authorization Error",
        resource_id=f"{open_tables['conditional']}-csv",
    )  # fmt: skip
    assert "conditions" in error["message"]
    for rid in (
        f"{open_tables['closed']}-csv",
        f"{open_tables['open']}-pdf",  # not one of its formats
        "99999-csv",
        "no-such-thing",
    ):
        error = refused(client, "datastore_search", 404, "Not Found Error", resource_id=rid)
        assert "was not found" in error["message"]
    refused(client, "datastore_search", 409, "Validation Error")


@pytest.mark.parametrize(
    "params",
    [
        {"limit": 32001},
        {"limit": "ten"},
        {"offset": -1},
        {"sort": "jqmc sideways"},
        {"records_format": "csv"},
        {"filters": "{not json"},
        {"filters": json.dumps({"jqmc": {"$gt": 1}})},
    ],
)
def test_bad_parameters_are_validation_errors(client, open_tables, params):
    refused(
        client, "datastore_search", 409, "Validation Error",
        resource_id=f"{open_tables['open']}-csv", **params,
    )  # fmt: skip


def test_each_read_goes_through_the_lake_door_and_is_recorded(client, open_tables, session):
    rid = f"{open_tables['open']}-csv"
    ok(client, "datastore_search", resource_id=rid, q="莫高窟")
    accessed = list(session.scalars(select(Event).where(Event.type == "lake.accessed")))
    assert len(accessed) == 2  # the page and the total
    payload = accessed[0].payload
    assert payload["consumer"] == "public"
    assert payload["grant_id"] == f"opendata:{open_tables['open']}"
    assert payload["tables"][0]["resource_id"] == open_tables["open"]
    assert "莫高窟" not in json.dumps(payload, ensure_ascii=False)  # the query only as a digest


def test_search_sql_is_select_only_over_open_tables(client, open_tables):
    rid = f"{open_tables['open']}-csv"
    result = ok(
        client, "datastore_search_sql",
        sql=f'SELECT jqdj, count(*) AS n FROM "{rid}" GROUP BY jqdj ORDER BY jqdj',
    )  # fmt: skip
    assert result["records"] == [{"jqdj": "4A", "n": 1}, {"jqdj": "5A", "n": 5}]
    assert result["fields"] == [{"id": "jqdj", "type": "text"}, {"id": "n", "type": "int8"}]
    assert result["records_truncated"] is False
    joined = ok(
        client, "datastore_search_sql", "POST",
        sql=f'WITH big AS (SELECT * FROM "{rid}" WHERE zdcz > 15000) '
        f'SELECT a.jqmc FROM big a JOIN "{open_tables["open"]}" b ON a.jqmc = b.jqmc ORDER BY 1',
    )  # fmt: skip
    assert [r["jqmc"] for r in joined["records"]] == ["崆峒山", "张掖七彩丹霞", "鸣沙山月牙泉"]
    for sql in (
        f'DELETE FROM "{rid}"',
        f'SELECT 1 FROM "{rid}"; SELECT 2',
        f"SELECT * FROM read_csv('/etc/passwd'), \"{rid}\"",
        f"SELECT getenv('HOME') FROM \"{rid}\"",
        "SELECT 1",
        "SELECT * FROM (",
    ):
        refused(client, "datastore_search_sql", 409, "Validation Error", sql=sql)
    refused(
        client, "datastore_search_sql", 404, "Not Found Error",
        sql=f'SELECT * FROM "{open_tables["closed"]}-csv"',
    )  # fmt: skip
    refused(
        client, "datastore_search_sql", 403, "Authorization Error",
        sql=f'SELECT * FROM "{open_tables["conditional"]}-csv"',
    )  # fmt: skip


def test_packages_say_which_resources_the_datastore_serves(client, open_tables):
    package = ok(client, "package_show", id=str(open_tables["open"]))
    assert all(r["datastore_active"] for r in package["resources"])
    conditional = ok(client, "package_show", id=str(open_tables["conditional"]))
    assert not any(r["datastore_active"] for r in conditional["resources"])
    shown = ok(client, "resource_show", id=f"{open_tables['open']}-csv")
    assert shown["datastore_active"] is True
