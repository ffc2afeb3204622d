"""Return flows (数据回流): standing grants for city and county departments, each reading only
its own region's rows through ``lake.access``; apply is idempotent; disable revokes."""

from __future__ import annotations

import threading
from collections import Counter

import pytest
from sqlalchemy import select
from tests.conftest import bearer_for, csrf_of, sign_in, staff

from longshu import lake, workflow
from longshu.actor import SYSTEM, Actor
from longshu.catalog import lifecycle, service
from longshu.catalog.rules import FieldData, ResourceData
from longshu.errors import Forbidden
from longshu.lake import tables
from longshu.lake.errors import QueryRefused
from longshu.orgs import service as orgs_service
from longshu.sharing import grants, returnflows
from longshu.sharing.errors import GrantInactive, ResourceNotShareable
from longshu.sharing.flow_errors import (
    FlowBusy,
    FlowDisabled,
    FlowInvalid,
    FlowNoRegionColumn,
    FlowNotProvincial,
    FlowResourceNotFound,
    FlowUnknownReceiver,
)
from longshu.sharing.flow_models import ReturnFlow, ReturnFlowMember
from longshu.sharing.models import ShareGrant, ShareRequest, ShareRequestItem

LANZHOU = {"620102", "620103", "620104"}


@pytest.fixture
def world(db, orgs, make_population, population_rows):
    """The police department's 全省人口 (300 residents over five counties of three cities)
    and its line of business: 兰州市公安局, 城关分局 (under it), 天水市公安局."""
    resource_id, table, police = make_population("population", "conditional")
    rows = population_rows(300)
    with db.session() as s:
        tables.write_version(s, SYSTEM, table, rows)
        made = {}
        for key, name, region, parent in (
            ("lanzhou", "兰州市公安局", "620100", police),
            ("chengguan", "兰州市公安局城关分局", "620102", "lanzhou"),
            ("tianshui", "天水市公安局", "620500", police),
        ):
            org = orgs_service.create_organization(
                s, SYSTEM, name=name, kind="data_consumer", region_code=region,
                parent_id=made[parent] if isinstance(parent, str) else parent,
            )  # fmt: skip
            made[key] = org.id
        s.commit()
    counts = Counter(rows.column("xzqh").to_pylist())
    return {"resource": resource_id, "table": table, "police": police, "counts": counts, **made}


@pytest.fixture
def people(orgs, world):
    return {
        "police_admin": staff(world["police"], "dept_data_admin", uid=401),
        "bureau": staff(orgs["bureau"], "bureau_reviewer", uid=402),
        "health_admin": staff(orgs["health"], "dept_data_admin", uid=403),
        "lanzhou": staff(world["lanzhou"], "data_consumer", uid=404),
        "chengguan": staff(world["chengguan"], "data_consumer", uid=405),
        "tianshui": staff(world["tianshui"], "data_consumer", uid=406),
        "health": staff(orgs["health"], "data_consumer", uid=407),
    }


def standing(s, consumer_org_id: int) -> list[ShareGrant]:
    return list(
        s.scalars(
            select(ShareGrant)
            .where(ShareGrant.consumer_org_id == consumer_org_id, ShareGrant.status == "active")
            .order_by(ShareGrant.id)
        )
    )


def regions_read(s, actor: Actor, grant: ShareGrant, table: str) -> Counter:
    result = lake.access(
        s, actor, grants.lake_grant(grant), f"SELECT xzqh, COUNT(*) AS n FROM {table} GROUP BY xzqh"
    )
    return Counter({r["xzqh"]: r["n"] for r in result.to_pylist()})


def test_each_city_and_county_department_reads_only_its_own_region(db, world, people, emitted):
    counts, table = world["counts"], world["table"]
    with db.session() as s:
        returnflows.configure(s, people["police_admin"], world["resource"], fields=["xm", "xzqh"])
        done = returnflows.apply(s, people["police_admin"], world["resource"])
        s.commit()
        assert sorted(done.created) == sorted(
            [world["lanzhou"], world["chengguan"], world["tianshui"]]
        )
    with db.session() as s:
        (lanzhou,) = standing(s, world["lanzhou"])
        (chengguan,) = standing(s, world["chengguan"])
        (tianshui,) = standing(s, world["tianshui"])
        assert regions_read(s, people["lanzhou"], lanzhou, table) == Counter(
            {c: n for c, n in counts.items() if c in LANZHOU}
        )
        assert regions_read(s, people["chengguan"], chengguan, table) == Counter(
            {"620102": counts["620102"]}
        )
        assert regions_read(s, people["tianshui"], tianshui, table) == Counter(
            {"620502": counts["620502"]}
        )
        # a city department's grant names every code of its city, a county's only its own
        assert set(lanzhou.regions) >= LANZHOU | {"620100"} and "620502" not in lanzhou.regions
        assert chengguan.regions == ["620102"]
        assert lanzhou.fields == ["xm", "xzqh"] and lanzhou.region_column == "xzqh"
        with pytest.raises(QueryRefused):  # outside the fields of the flow
            lake.access(
                s, people["lanzhou"], grants.lake_grant(lanzhou), f"SELECT sfzh FROM {table}"
            )
        with pytest.raises(QueryRefused):  # the county may not use the city's grant
            lake.access(
                s, people["chengguan"], grants.lake_grant(lanzhou), f"SELECT xm FROM {table}"
            )
        # another province-level department gets nothing
        assert standing(s, people["health"].org_id) == []
        with pytest.raises(QueryRefused):
            lake.access(s, people["health"], grants.lake_grant(tianshui), f"SELECT xm FROM {table}")
        # one grant model: each is an item of the department's "数据回流" request, granted by
        # the platform, and the move is in the workflow
        item = s.get(ShareRequestItem, lanzhou.item_id)
        assert item.state == "granted" and item.request.scenario == "数据回流"
        assert item.request.requester_org_id == world["lanzhou"]
        steps = workflow.history(s, item.workflow_instance_id)
        assert len(steps) == 2
    assert len(emitted("sharing.flow_configured")) == 1
    assert len(emitted("sharing.flow_applied")) == 1
    assert len(emitted("sharing.granted")) == 3


def test_applying_again_changes_nothing_and_a_new_department_joins_on_the_next_apply(
    db, world, people, emitted
):
    with db.session() as s:
        returnflows.configure(s, people["bureau"], world["resource"], levels=["city"])
        first = returnflows.apply(s, people["bureau"], world["resource"])
        s.commit()
        assert sorted(first.created) == sorted([world["lanzhou"], world["tianshui"]])
    with db.session() as s:
        again = returnflows.apply(s, people["bureau"], world["resource"])
        s.commit()
        assert again.created == [] and sorted(again.kept) == sorted(
            [world["lanzhou"], world["tianshui"]]
        )
        assert len(s.scalars(select(ShareGrant)).all()) == 2
    with db.session() as s:  # 酒泉市公安局 joins the line later
        jiuquan = orgs_service.create_organization(
            s, SYSTEM, name="酒泉市公安局", kind="data_consumer", region_code="620900",
            parent_id=world["police"],
        ).id  # fmt: skip
        s.commit()
    with db.session() as s:
        third = returnflows.apply(s, people["bureau"], world["resource"])
        s.commit()
        assert third.created == [jiuquan] and len(third.kept) == 2
        (grant,) = standing(s, jiuquan)
        assert "620902" in grant.regions
    with db.session() as s:  # a changed configuration replaces every grant it changes
        returnflows.configure(
            s, people["bureau"], world["resource"], levels=["city"], fields=["xzqh"]
        )
        fourth = returnflows.apply(s, people["bureau"], world["resource"])
        s.commit()
        assert len(fourth.replaced) == 3 and fourth.created == []
        assert all(
            g.fields == ["xzqh"]
            for g in s.scalars(select(ShareGrant).where(ShareGrant.status == "active"))
        )
        assert len(s.scalars(select(ShareGrant).where(ShareGrant.status == "revoked")).all()) == 3
    with db.session() as s:  # a county level added: 城关分局 joins; city only → the county goes
        returnflows.configure(s, people["bureau"], world["resource"], levels=["county"])
        fifth = returnflows.apply(s, people["bureau"], world["resource"])
        s.commit()
        assert fifth.created == [world["chengguan"]] and len(fifth.revoked) == 3
    assert len(emitted("sharing.flow_applied")) == 5


def test_disabling_revokes_every_standing_grant_with_the_reason(db, world, people, emitted):
    with db.session() as s:
        returnflows.configure(s, people["police_admin"], world["resource"])
        returnflows.apply(s, people["police_admin"], world["resource"])
        s.commit()
    with db.session() as s, pytest.raises(FlowInvalid):
        returnflows.disable(s, people["police_admin"], world["resource"], " ")
    with db.session() as s:
        returnflows.disable(s, people["police_admin"], world["resource"], "数据源调整")
        s.commit()
        revoked = s.scalars(select(ShareGrant)).all()
        assert len(revoked) == 3 and all(g.status == "revoked" for g in revoked)
        assert all("数据源调整" in g.revoke_reason for g in revoked)
        with pytest.raises(GrantInactive):
            grants.lake_grant(revoked[0])
        with pytest.raises(FlowDisabled):
            returnflows.apply(s, people["police_admin"], world["resource"])
        with pytest.raises(FlowDisabled):
            returnflows.disable(s, people["police_admin"], world["resource"], "再次停用")
    assert len(emitted("sharing.grant_revoked")) == 3
    assert len(emitted("sharing.flow_disabled")) == 1
    with db.session() as s:  # enabled again: new grants
        returnflows.configure(s, people["police_admin"], world["resource"])
        assert len(returnflows.apply(s, people["police_admin"], world["resource"]).created) == 3
        s.commit()


def test_a_grant_revoked_by_hand_stays_revoked_until_the_flow_is_configured_again(
    db, world, people
):
    reviewer = staff(world["police"], "dept_reviewer", uid=410)
    with db.session() as s:
        returnflows.configure(s, people["police_admin"], world["resource"])
        returnflows.apply(s, people["police_admin"], world["resource"])
        s.commit()
        (grant,) = standing(s, world["tianshui"])
        grants.revoke(s, reviewer, grant.id, "超范围使用")
        s.commit()
    with db.session() as s:
        done = returnflows.apply(s, people["police_admin"], world["resource"])
        s.commit()
        assert done.skipped == [world["tianshui"]] and standing(s, world["tianshui"]) == []
        member = s.scalars(
            select(ReturnFlowMember).where(ReturnFlowMember.org_id == world["tianshui"])
        ).one()
        assert member.status == "withdrawn"
    with db.session() as s:
        returnflows.configure(s, people["police_admin"], world["resource"])
        assert returnflows.apply(s, people["police_admin"], world["resource"]).created == [
            world["tianshui"]
        ]


def test_a_list_of_departments(db, world, people):
    with db.session() as s:
        returnflows.configure(
            s, people["bureau"], world["resource"], receivers="list",
            receiver_org_ids=[world["tianshui"]], levels=["city"],
        )  # fmt: skip
        assert returnflows.apply(s, people["bureau"], world["resource"]).created == [
            world["tianshui"]
        ]
        s.commit()
        assert standing(s, world["lanzhou"]) == []


def _resource(db, orgs, provider: str, fields, *, table: str | None = None, share="conditional"):
    data = ResourceData(
        name=f"测试资源（{provider}{table or ''}）",
        summary="用于测试数据回流的资源，包含若干字段，仅供测试。",
        domain="social_security",
        share_type=share,
        share_conditions="用于政务服务" if share != "unconditional" else None,
        open_type="none",
        open_conditions="不予开放",
        update_cycle="monthly",
        kind="table",
        formats=["CSV"],
        keywords=["测试"],
        fields=[FieldData(n, label, "string", 20) for n, label in fields],
    )
    with db.session() as s:
        entry = service.create_resource(s, SYSTEM, data, provider_org_id=orgs[provider])
        for move in ("submit", "approve", "publish"):
            lifecycle.take(s, SYSTEM, entry.id, move)
        if table:
            tables.create_table(
                s, SYSTEM, table, resource_id=entry.id, owner_org_id=orgs[provider],
                key_columns=["id"],
            )  # fmt: skip
        s.commit()
        return entry.id


def test_bad_configurations_are_refused(db, orgs, world, people):
    admin, resource = people["police_admin"], world["resource"]
    city = _resource(db, orgs, "tianshui_health", [("xm", "姓名"), ("xzqh", "行政区划")])
    no_region = _resource(db, orgs, "police", [("xm", "姓名"), ("dz", "地址")], table="noregion")
    with db.session() as s:
        with pytest.raises(FlowNotProvincial):
            returnflows.configure(s, people["bureau"], city)
        with pytest.raises(FlowNoRegionColumn):
            returnflows.configure(s, admin, no_region)
        with pytest.raises(FlowNoRegionColumn):
            returnflows.configure(s, admin, resource, region_column="dz")
        with pytest.raises(FlowResourceNotFound):
            returnflows.configure(s, admin, 999999)
        with pytest.raises(FlowUnknownReceiver):
            returnflows.configure(s, admin, resource, receivers="list", receiver_org_ids=[999999])
        with pytest.raises(FlowUnknownReceiver):  # a province-level department does not receive
            returnflows.configure(
                s, admin, resource, receivers="list", receiver_org_ids=[orgs["health"]]
            )
        with pytest.raises(FlowInvalid):
            returnflows.configure(s, admin, resource, receivers="list", receiver_org_ids=[])
        with pytest.raises(FlowInvalid):
            returnflows.configure(s, admin, resource, fields=["nope"])
        with pytest.raises(FlowInvalid):
            returnflows.configure(s, admin, resource, modes=["download"])
        with pytest.raises(FlowInvalid):
            returnflows.configure(s, admin, resource, levels=["province"])
        with pytest.raises(FlowInvalid):
            returnflows.configure(s, admin, resource, receivers="everyone")
        with pytest.raises(FlowInvalid):
            returnflows.configure(s, admin, resource, days=0)
        with pytest.raises(Forbidden):  # another department's data manager
            returnflows.configure(s, people["health_admin"], resource)
        with pytest.raises(Forbidden):  # a data user
            returnflows.configure(s, people["lanzhou"], resource)
        assert s.scalars(select(ShareRequest)).all() == []
    closed = _resource(
        db, orgs, "police", [("xm", "姓名"), ("xzqh", "行政区划")], table="closed", share="none"
    )
    with db.session() as s, pytest.raises(ResourceNotShareable):
        returnflows.configure(s, admin, closed)
    with db.session() as s:
        returnflows.configure(s, admin, resource)
        s.commit()
    with db.session() as s, pytest.raises(Forbidden):
        returnflows.apply(s, people["health_admin"], resource)


def test_return_flows_over_http_and_pages(client, make_user, db, world):
    resource = world["resource"]
    admin = bearer_for(db, make_user("ga_flow", "dept_data_admin", org_id=world["police"]))
    other = bearer_for(db, make_user("wj_flow", "dept_data_admin", org_id=world["lanzhou"]))
    url = f"/api/v1/sharing/flows/{resource}"
    assert client.put(url, json={"levels": ["county"]}, headers=other).status_code == 403
    for body in (
        {"levels": ["province"]},
        {"modes": ["download"]},
        {"receivers": "list", "receiver_org_ids": list(range(1, 502))},  # oversized
        {"receivers": "list", "receiver_org_ids": [999999]},  # unknown department
        {"fields": ["x" * 65]},
        {"days": 0},
    ):
        assert client.put(url, json=body, headers=admin).status_code == 422, body
    malformed = client.put(
        url, content=b"{not json", headers=admin | {"Content-Type": "application/json"}
    )
    assert malformed.status_code == 422
    assert client.put("/api/v1/sharing/flows/999999", json={}, headers=admin).status_code == 404
    made = client.put(url, json={"fields": ["xm", "xzqh"], "levels": ["county"]}, headers=admin)
    assert made.status_code == 200, made.text
    assert made.json()["enabled"] is True and made.json()["region_column"] == "xzqh"
    applied = client.post(f"{url}/apply", headers=admin)
    assert applied.status_code == 200 and applied.json()["created"] == [world["chengguan"]]
    assert client.post(f"{url}/apply", headers=admin).json()["kept"] == [world["chengguan"]]
    listed = client.get("/api/v1/sharing/flows", headers=admin).json()
    assert [f["resource_id"] for f in listed] == [resource]
    assert client.get("/api/v1/sharing/flows", headers=other).json() == []
    assert client.get(url, headers=other).status_code == 403
    assert client.post(f"{url}/disable", json={"reason": ""}, headers=admin).status_code == 422
    off = client.post(f"{url}/disable", json={"reason": "停止回流"}, headers=admin)
    assert off.status_code == 200 and off.json()["members"][0]["status"] == "revoked"
    assert client.post(f"{url}/apply", headers=admin).status_code == 409
    # pages
    make_user("ga_page", "dept_data_admin", org_id=world["police"])
    sign_in(client, "ga_page")
    page = client.get("/console/sharing/flows")
    assert page.status_code == 200 and f'data-testid="flow-{resource}"' in page.text
    token = csrf_of(client)
    saved = client.post(
        f"/console/sharing/flows/{resource}",
        data={"csrf_token": token, "fields": ["xm", "xzqh"], "modes": ["query"],
              "levels": ["city"], "receivers": "line"},
    )  # fmt: skip
    assert saved.status_code == 303
    assert (
        client.post(
            f"/console/sharing/flows/{resource}/apply", data={"csrf_token": token}
        ).status_code
        == 303
    )
    detail = client.get(f"/console/sharing/flows/{resource}")
    assert f'data-testid="member-{world["lanzhou"]}"' in detail.text
    refused = client.post(
        f"/console/sharing/flows/{resource}",
        data={
            "csrf_token": token,
            "levels": ["city"],
            "receivers": "list",
            "receiver_org_ids": "abc",
        },
    )
    assert refused.status_code == 422 and 'data-testid="flow-error"' in refused.text
    no_csrf = client.post(f"/console/sharing/flows/{resource}/apply", data={})
    assert no_csrf.status_code in (400, 403)


def _together(db, work, n: int = 2):
    """Run ``work(session)`` in ``n`` threads at once, each in its own transaction (holding
    SQLite's write lock from the start, as the HTTP layer does); returns results and errors."""
    barrier, results, errors = threading.Barrier(n), [], []

    def run() -> None:
        with db.session() as s:
            barrier.wait()
            try:
                s.connection(execution_options={"sqlite_immediate": True})
                results.append(work(s))
                s.commit()
            except Exception as exc:  # collected and checked by the test
                s.rollback()
                errors.append(exc)

    threads = [threading.Thread(target=run) for _ in range(n)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results, errors


def test_two_applies_at_once_grant_each_department_once(db, world, people):
    with db.session() as s:
        returnflows.configure(s, people["police_admin"], world["resource"])
        s.commit()
    results, errors = _together(
        db, lambda s: returnflows.apply(s, people["police_admin"], world["resource"])
    )
    assert errors == []
    assert sorted(len(r.created) for r in results) == [0, 3]
    assert sorted(len(r.kept) for r in results) == [0, 3]
    with db.session() as s:
        assert len(s.scalars(select(ShareGrant)).all()) == 3
        assert len(s.scalars(select(ReturnFlowMember)).all()) == 3


def test_two_first_configurations_at_once_make_one_flow(db, world, people):
    results, errors = _together(
        db, lambda s: returnflows.configure(s, people["bureau"], world["resource"]).id
    )
    assert all(isinstance(e, FlowBusy) for e in errors) and len(results) + len(errors) == 2
    with db.session() as s:
        assert len(s.scalars(select(ReturnFlow)).all()) == 1


def test_the_page_of_a_resource_without_a_flow_offers_the_form(client, make_user, world):
    make_user("ga_new", "dept_data_admin", org_id=world["police"])
    sign_in(client, "ga_new")
    page = client.get(f"/console/sharing/flows/{world['resource']}")
    assert page.status_code == 200 and 'data-testid="flow-form"' in page.text
    assert 'data-testid="members"' not in page.text
    listed = client.get("/console/sharing/flows")
    assert f"/console/sharing/flows/{world['resource']}" in listed.text  # offered to configure
    make_user("wj_new", "dept_data_admin", org_id=world["lanzhou"])
    sign_in(client, "wj_new")
    assert client.get(f"/console/sharing/flows/{world['resource']}").status_code == 403
    assert client.get("/console/sharing/flows/999999").status_code == 404
