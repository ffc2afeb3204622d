from __future__ import annotations

import random

import pytest

from longshu import ids


@pytest.fixture
def admin_h(regions, bearer):
    return bearer("platform_admin")


@pytest.fixture
def staff_h(regions, bearer):
    return bearer("dept_data_admin", org_id=1)


def create(api, headers, **body):
    payload = {"name": "甘肃省公安厅", "kind": "data_provider", "region_code": "620000", **body}
    return api.post("/api/v1/orgs", json=payload, headers=headers)


def test_regions_are_public_and_listed_in_order(api, regions):
    response = api.get("/api/v1/regions", params={"level": "city"})
    assert response.status_code == 200
    cities = response.json()
    assert len(cities) == 14 and cities[0]["name"] == "兰州市"


def test_one_region_with_path_and_children(api, regions):
    body = api.get("/api/v1/regions/620900").json()
    assert body["name"] == "酒泉市"
    assert [r["name"] for r in body["path"]] == ["甘肃省", "酒泉市"]
    assert "敦煌市" in [c["name"] for c in body["children"]]


def test_region_tree(api, regions):
    tree = api.get("/api/v1/regions/tree", params={"root": "623000"}).json()
    assert tree["name"] == "甘南藏族自治州" and len(tree["children"]) == 8
    assert tree["children"][0]["name"] == "合作市"


@pytest.mark.parametrize(("code", "status"), [("62090", 422), ("abcdef", 422), ("610100", 422)])
def test_bad_region_codes_get_a_clear_error(api, regions, code, status):
    response = api.get(f"/api/v1/regions/{code}")
    assert response.status_code == status
    assert code in response.text


def test_admin_creates_updates_and_deactivates(api, admin_h):
    created = create(api, admin_h)
    assert created.status_code == 201, created.text
    org = created.json()
    assert (org["level"], org["region_name"], org["active"]) == ("province", "甘肃省", True)
    patched = api.patch(
        f"/api/v1/orgs/{org['id']}", json={"short_name": "省公安厅"}, headers=admin_h
    )
    assert patched.status_code == 200 and patched.json()["short_name"] == "省公安厅"
    gone = api.post(
        f"/api/v1/orgs/{org['id']}/deactivate", json={"reason": "测试"}, headers=admin_h
    )
    assert gone.status_code == 200 and gone.json()["active"] is False
    again = api.post(f"/api/v1/orgs/{org['id']}/deactivate", headers=admin_h)
    assert again.status_code == 409


def test_duplicate_and_bad_credit_code_over_http(api, admin_h):
    code = ids.random_credit_code(random.Random(9), "620100")
    assert (
        create(api, admin_h, name="甲（演示）", kind="enterprise", credit_code=code).status_code
        == 201
    )
    duplicate = create(api, admin_h, name="乙（演示）", kind="enterprise", credit_code=code)
    assert duplicate.status_code == 409
    bad = create(api, admin_h, name="丙（演示）", kind="enterprise", credit_code=code[:-1] + "0")
    assert bad.status_code == 422


def test_staff_may_read_but_not_create(api, admin_h, staff_h):
    create(api, admin_h)
    assert create(api, staff_h, name="甘肃省民政厅").status_code == 403
    listing = api.get("/api/v1/orgs", params={"region": "620000"}, headers=staff_h)
    assert listing.status_code == 200
    assert [o["name"] for o in listing.json()["items"]] == ["甘肃省公安厅"]


def test_directory_needs_sign_in(api, regions):
    assert api.get("/api/v1/orgs").status_code == 401


def test_unknown_patch_field_and_oversized_input_are_refused(api, admin_h):
    org = create(api, admin_h).json()
    assert (
        api.patch(f"/api/v1/orgs/{org['id']}", json={"active": False}, headers=admin_h).status_code
        == 422
    )
    assert create(api, admin_h, name="局" * 5000).status_code == 422
    assert api.get("/api/v1/orgs", params={"region": "6" * 100}, headers=admin_h).status_code == 422


def test_kinds_are_listed_with_titles(api, regions):
    kinds = {k["code"]: k["title_zh"] for k in api.get("/api/v1/orgs/kinds").json()}
    assert kinds["operator"] == "运营机构" and kinds["data_authority"] == "数据主管部门"


def test_body_in_the_wrong_encoding_is_refused(api, admin_h, emitted):
    gbk = '{"name": "甘肃省公安厅", "kind": "data_provider", "region_code": "620000"}'.encode("gbk")
    response = api.post(
        "/api/v1/orgs", content=gbk, headers={**admin_h, "Content-Type": "application/json"}
    )
    assert response.status_code in (400, 422)  # the body cannot be read as UTF-8 JSON
    assert emitted("orgs.created") == []


def test_events_of_http_changes_name_the_acting_credential(api, admin_h, emitted):
    org = create(api, admin_h).json()
    [event] = emitted("orgs.created")
    assert event.subject_id == str(org["id"]) and event.actor_kind == "app"


def test_a_write_request_waits_for_another_writer_instead_of_failing(api, admin_h, db):
    """Another process (the embedded worker, the ledger) is in the middle of a write when a
    request that reads and then writes arrives: it waits its turn and succeeds (on SQLite a
    stale read snapshot would otherwise end in "database is locked")."""
    import threading
    import time

    from sqlalchemy import update

    from longshu.orgs.models import Region

    other = db.engine.connect()
    writing = other.begin()
    other.execute(update(Region).where(Region.code == "620100").values(name=Region.name))

    def finish() -> None:
        time.sleep(0.5)
        writing.commit()

    finisher = threading.Thread(target=finish)
    finisher.start()
    try:
        created = create(api, admin_h)
    finally:
        finisher.join()
        other.close()
    assert created.status_code == 201, created.text
