"""Share requests → review → grants, and every use of a grant through ``lake.access``."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select
from tests.conftest import staff

from longshu import lake
from longshu.actor import SYSTEM
from longshu.errors import Forbidden
from longshu.events import Event
from longshu.governance import grades, pipeline
from longshu.governance.models import GradeRecord
from longshu.lake import tables
from longshu.lake.errors import QueryRefused
from longshu.sharing import grants, requests
from longshu.sharing.errors import (
    FieldsNotInResource,
    GrantInactive,
    NotRequester,
    RequestInvalid,
    ResourceNotShareable,
)
from longshu.sharing.models import ShareGrant
from longshu.sharing.requests import ItemAsked
from longshu.workflow import CommentRequired, OtherOrganisation


@pytest.fixture
def people(orgs):
    return {
        "user": staff(orgs["transport"], "data_consumer", uid=301),
        "reviewer": staff(orgs["police"], "dept_reviewer", uid=302),
        "other_reviewer": staff(orgs["weather"], "dept_reviewer", uid=303),
        "bureau": staff(orgs["bureau"], "bureau_reviewer", uid=304),
    }


@pytest.fixture
def loaded(db, make_population, population_rows):
    """Two police resources with 200 residents each: ``population`` (有条件共享) and
    ``registry`` (无条件共享), both scanned (so sensitive columns are known)."""
    made = {}
    for table, share in (("population", "conditional"), ("registry", "unconditional")):
        resource_id, _, _ = make_population(table, share)
        with db.session() as s:
            tables.write_version(s, SYSTEM, table, population_rows(200))
            pipeline.govern_version(s, SYSTEM, tables.get_table(s, table), 1)
            s.commit()
        made[table] = resource_id
    return made


def ask(resource_id: int, **changes) -> ItemAsked:
    return ItemAsked(resource_id=resource_id, **({"fields": ("sfzh", "xm", "xzqh")} | changes))


def submit(s, actor, *items, **changes):
    values = {
        "scenario": "新生儿出生一件事",
        "purpose": "出生医学证明与户口登记联办",
        "legal_basis": "《甘肃省政务数据共享管理办法》",
        "items": items,
        "days": 30,
    } | changes
    return requests.submit(s, actor, **values)


def test_a_resource_shared_without_conditions_is_granted_at_once(db, loaded, people):
    with db.session() as s:
        request = submit(s, people["user"], ask(loaded["registry"]))
        s.commit()
        item = request.items[0]
        assert item.state == "granted"
        grant = s.scalars(select(ShareGrant).where(ShareGrant.item_id == item.id)).one()
        assert grant.fields == ["sfzh", "xm", "xzqh"] and "sfzh" in grant.masks
        result = lake.access(
            s, people["user"], grants.lake_grant(grant), "SELECT sfzh, xm FROM registry"
        )
        assert result.rows == 200
        assert "sfzh" in result.masked["registry"]
        with pytest.raises(QueryRefused):  # sjhm was not asked for
            lake.access(s, people["user"], grants.lake_grant(grant), "SELECT sjhm FROM registry")
        with pytest.raises(QueryRefused):  # the grant is the transport department's
            lake.access(s, people["reviewer"], grants.lake_grant(grant), "SELECT xm FROM registry")


def test_a_conditional_resource_without_a_grade_goes_to_the_bureau_too(db, loaded, people):
    with db.session() as s:
        request = submit(s, people["user"], ask(loaded["population"], regions=("620102",)))
        s.commit()
        item_id = request.items[0].id
        assert request.items[0].state == "pending_provider"
    with db.session() as s, pytest.raises(OtherOrganisation):
        requests.approve(s, people["other_reviewer"], item_id)
    with db.session() as s:
        assert requests.approve(s, people["reviewer"], item_id, "同意") == "pending_bureau"
        s.commit()
    with db.session() as s:
        assert requests.approve(s, people["bureau"], item_id, "同意") == "granted"
        s.commit()
        grant = s.scalars(select(ShareGrant).where(ShareGrant.item_id == item_id)).one()
        rows = lake.access(
            s, people["user"], grants.lake_grant(grant), "SELECT DISTINCT xzqh FROM population"
        ).to_pylist()
        assert rows == [{"xzqh": "620102"}]  # only the region asked for


def test_a_confirmed_general_grade_needs_only_the_provider(db, loaded, people):
    with db.session() as s:
        record = s.scalars(
            select(GradeRecord).where(GradeRecord.resource_id == loaded["population"])
        ).one()
        grades.confirm(
            s,
            people["bureau"],
            record.id,
            "general-2",
            "经评估本表仅含姓名与户籍区划，身份证号已按规定脱敏后共享，属一般数据二级，风险可控",
        )
        s.commit()
    with db.session() as s:
        request = submit(s, people["user"], ask(loaded["population"], fields=("xm", "xzqh")))
        s.commit()
        assert requests.approve(s, people["reviewer"], request.items[0].id) == "granted"
        s.commit()


def test_a_refusal_needs_a_reason_and_gives_no_grant(db, loaded, people):
    with db.session() as s:
        item_id = submit(s, people["user"], ask(loaded["population"])).items[0].id
        s.commit()
    with db.session() as s, pytest.raises(CommentRequired):
        requests.refuse(s, people["reviewer"], item_id, "")
    with db.session() as s:
        assert requests.refuse(s, people["reviewer"], item_id, "用途与数据不符") == "refused"
        s.commit()
        assert s.scalars(select(ShareGrant)).all() == []


def test_only_the_requester_withdraws(db, loaded, people):
    with db.session() as s:
        item_id = submit(s, people["user"], ask(loaded["population"])).items[0].id
        s.commit()
    with db.session() as s:
        with pytest.raises(NotRequester):
            requests.withdraw(s, people["reviewer"], item_id)
        assert requests.withdraw(s, people["user"], item_id, "不再需要") == "withdrawn"


def test_bad_requests_are_refused(db, loaded, people, make_population):
    hidden, _, _ = make_population("secret", "none")
    with db.session() as s:
        with pytest.raises(ResourceNotShareable):
            submit(s, people["user"], ask(hidden))
        with pytest.raises(FieldsNotInResource):
            submit(s, people["user"], ask(loaded["population"], fields=("mima",)))
        with pytest.raises(RequestInvalid):
            submit(s, people["user"], ask(loaded["population"], modes=("download",)))
        with pytest.raises(RequestInvalid):
            submit(s, people["user"], ask(loaded["population"], regions=("62",)))
        with pytest.raises(RequestInvalid):
            submit(s, people["user"], ask(loaded["population"]), purpose="")
        with pytest.raises(Forbidden):
            submit(s, staff(None, "public", uid=305), ask(loaded["population"]))


def test_a_revoked_or_expired_grant_stops_at_once(db, loaded, people):
    with db.session() as s:
        item = submit(s, people["user"], ask(loaded["registry"])).items[0]
        s.commit()
        grant = s.scalars(select(ShareGrant).where(ShareGrant.item_id == item.id)).one()
        later = grant.valid_until + dt.timedelta(seconds=1)
        with pytest.raises(GrantInactive):
            grants.lake_grant(grant, now=later)
        assert grant.status == "expired"
        grant.status = "active"
        with pytest.raises(Forbidden):
            grants.revoke(s, people["other_reviewer"], grant.id, "不是我的")
        grants.revoke(s, people["reviewer"], grant.id, "用途已结束")
        with pytest.raises(GrantInactive):
            grants.lake_grant(grant)
        types = list(s.scalars(select(Event.type)))
        assert "sharing.granted" in types and "sharing.grant_revoked" in types


def test_the_query_api_reads_within_the_grant_and_counts_the_quota(db, loaded, people):
    from longshu.sharing.errors import ModeNotGranted, QueryInvalid, QuotaExceeded
    from longshu.sharing.query import Condition, QuerySpec, run_query

    with db.session() as s:
        item = submit(s, people["user"], ask(loaded["registry"])).items[0]
        s.commit()
        grant = s.scalars(select(ShareGrant).where(ShareGrant.item_id == item.id)).one()
        grant_id = grant.id
    with db.session() as s:
        spec = QuerySpec(
            fields=("xm", "xzqh"),
            where=(Condition("xzqh", "in", ["620102", "620103"]),),
            order_by=(("xm", True),),
            limit=10,
        )
        rows, facts = run_query(s, people["user"], grant_id, spec)
        s.commit()
        assert 0 < len(rows) <= 10 and {r["xzqh"] for r in rows} <= {"620102", "620103"}
        assert facts["version"] == 1 and facts["rows_left_today"] == 100_000 - len(rows)
        names = [r["xm"] for r in rows]
        assert names == sorted(names, reverse=True)
        masked, _ = run_query(s, people["user"], grant_id, QuerySpec(fields=("sfzh",), limit=3))
        assert all("*" in r["sfzh"] or len(r["sfzh"]) != 18 for r in masked)  # never the raw ID
        for bad in (
            QuerySpec(fields=("sjhm",)),  # not granted
            QuerySpec(where=(Condition("xm", "like", "%王"),)),  # no such operator
            QuerySpec(where=(Condition("xm", "=", "x' OR 1=1 --"),), limit=5),  # just a value
            QuerySpec(limit=5000),
        ):
            if bad.where and bad.where[0].op == "=":
                rows, _ = run_query(s, people["user"], grant_id, bad)
                assert rows == []  # the quote stayed inside the literal
                continue
            with pytest.raises(QueryInvalid):
                run_query(s, people["user"], grant_id, bad)
        grant = s.get(ShareGrant, grant_id)
        grant.daily_quota = 20
        with pytest.raises(QuotaExceeded):
            run_query(s, people["user"], grant_id, QuerySpec(limit=10))
        grant.modes = ["verify"]
        with pytest.raises(ModeNotGranted):
            run_query(s, people["user"], grant_id, QuerySpec(limit=1))
        with pytest.raises(Forbidden):
            run_query(s, people["other_reviewer"], grant_id, QuerySpec(limit=1))


def test_a_grant_issued_before_the_table_was_loaded_is_masked_once_it_is_scanned(
    db, make_population, population_rows, people
):
    resource_id, _, _ = make_population("newcomer", "unconditional")
    with db.session() as s:
        request = submit(s, people["user"], ask(resource_id))
        grant = s.scalar(select(ShareGrant).where(ShareGrant.item_id == request.items[0].id))
        assert grant.masks == {}  # nothing loaded yet: nothing known to mask
        grant_id = grant.id
    with db.session() as s:
        tables.write_version(s, SYSTEM, "newcomer", population_rows(200))
        pipeline.govern_version(s, SYSTEM, tables.get_table(s, "newcomer"), 1)
    with db.session() as s:
        masks = s.get(ShareGrant, grant_id).masks
        assert {"sfzh", "xm"} <= set(masks)
        rows = lake.access(
            s, people["user"], grants.lake_grant(s.get(ShareGrant, grant_id)),
            "SELECT sfzh FROM newcomer LIMIT 5",
        ).to_pylist()  # fmt: skip
        raw = set(population_rows(200).column("sfzh").to_pylist())
        assert rows and not {r["sfzh"] for r in rows} & raw
        tightened = s.scalars(
            select(Event).where(Event.type == "sharing.grant_masks_tightened")
        ).all()
        assert [e.subject_id for e in tightened] == [str(grant_id)]


def test_only_the_bureau_lists_every_departments_items_and_grants(db, loaded, people):
    with db.session() as s:
        submit(s, people["user"], ask(loaded["population"]), ask(loaded["registry"]))
        s.commit()
        waiting = requests.list_items(s, people["bureau"], side="bureau")
        assert {i.resource_id for i in waiting} == {loaded["population"], loaded["registry"]}
        assert len(grants.grants_of(s, people["bureau"], every_department=True)) == 1
        for outsider in (people["other_reviewer"], people["reviewer"]):
            with pytest.raises(Forbidden):
                requests.list_items(s, outsider, side="bureau")
            with pytest.raises(Forbidden):
                grants.grants_of(s, outsider, every_department=True)
