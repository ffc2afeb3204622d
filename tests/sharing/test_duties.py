"""Duty lists (共享责任清单): the figures of a hand-built set of requests (timestamps set by
hand in November 2026, a month without public holidays), editions, publication, exports."""

from __future__ import annotations

import csv
import datetime as dt
import io
from decimal import Decimal

import pytest
from openpyxl import load_workbook
from sqlalchemy import select
from tests.conftest import bearer_for, csrf_of, sign_in, staff

from longshu.actor import ANONYMOUS, SYSTEM
from longshu.catalog import levels
from longshu.db import SHANGHAI
from longshu.errors import Forbidden
from longshu.lake import tables
from longshu.sharing import duties, requests, returnflows
from longshu.sharing.flow_errors import (
    DutyEditionNotFound,
    DutyEditionPublished,
    DutyPeriodInvalid,
)
from longshu.sharing.models import ShareGrant, ShareRequestItem
from longshu.sharing.requests import ItemAsked
from longshu.workflow import WorkflowInstance, WorkflowStep, calendar

NOV, DEC = dt.date(2026, 11, 1), dt.date(2026, 11, 28)


def at(day: int, hour: int = 10, month: int = 11) -> dt.datetime:
    return dt.datetime(2026, month, day, hour, tzinfo=SHANGHAI)


@pytest.fixture
def people(orgs):
    return {
        "user": staff(orgs["transport"], "data_consumer", uid=501),
        "reviewer": staff(orgs["police"], "dept_reviewer", uid=502),
        "bureau": staff(orgs["bureau"], "bureau_reviewer", uid=503),
        "admin": staff(orgs["police"], "dept_data_admin", uid=504),
    }


def _file(s, people, resource_id: int) -> ShareRequestItem:
    request = requests.submit(
        s, people["user"], scenario="不动产登记一件事", purpose="核对权利人身份",
        legal_basis="《不动产登记暂行条例》", items=[ItemAsked(resource_id, ("xm", "xzqh"))],
    )  # fmt: skip
    return request.items[0]


def _backdate(s, item: ShareRequestItem, filed: dt.datetime, *moves: dt.datetime) -> None:
    """Pretend the item was filed at ``filed`` and its moves taken at ``moves``."""
    item.request.created_at = filed
    instance = s.get(WorkflowInstance, item.workflow_instance_id)
    instance.started_at = filed
    due = calendar.add_working_days(filed, 5)
    steps = list(
        s.scalars(
            select(WorkflowStep)
            .where(WorkflowStep.instance_id == instance.id)
            .order_by(WorkflowStep.id)
        )
    )
    steps[0].at, steps[0].due_at = filed, due
    if instance.closed_at is None and instance.state == "pending_provider":
        instance.due_at = due
    for step, when in zip(steps[1:], moves, strict=True):
        step.at = when
        if step.from_state == "pending_provider":
            step.late = when > due
    grant = s.scalar(select(ShareGrant).where(ShareGrant.item_id == item.id))
    if grant is not None:
        grant.created_at = grant.valid_from = moves[-1]
    s.flush()


@pytest.fixture
def filed(db, orgs, people, make_population, population_rows):
    """Police: population (有条件), registry (无条件), extra (有条件, never asked for), two
    catalog duty items (one catalogued); eight requests, seven in November."""
    population, _, police = make_population("population", "conditional")
    registry, _, _ = make_population("registry", "unconditional")
    make_population("extra", "conditional")
    with db.session() as s:
        for table in ("population", "registry"):
            tables.write_version(s, SYSTEM, table, population_rows(50))
        levels.add_duty(s, people["bureau"], police, "全省人口基础信息（population）")
        levels.add_duty(s, people["bureau"], police, "出入境证件信息")
        s.commit()
    reviewer, bureau = people["reviewer"], people["bureau"]
    with db.session() as s:
        a = _file(s, people, population)  # answered in 2 working days
        requests.approve(s, reviewer, a.id, "同意")
        _backdate(s, a, at(2), at(4))
        b = _file(s, people, population)  # refused in 1
        requests.refuse(s, reviewer, b.id, "用途不符")
        _backdate(s, b, at(2), at(3))
        c = _file(s, people, population)  # answered in 8, after its deadline (9 Nov)
        requests.approve(s, reviewer, c.id, "同意")
        requests.approve(s, bureau, c.id, "同意")
        _backdate(s, c, at(2), at(12), at(13))
        d = _file(s, people, population)  # unanswered, due 23 Nov: overdue at the end
        _backdate(s, d, at(16))
        e = _file(s, people, population)  # unanswered, due 2 Dec: not yet overdue
        _backdate(s, e, at(25))
        f = _file(s, people, population)  # withdrawn before the answer
        requests.withdraw(s, people["user"], f.id, "不再需要")
        _backdate(s, f, at(3), at(4))
        g = _file(s, people, registry)  # 无条件共享: granted at once
        _backdate(s, g, at(5), at(5))
        h = _file(s, people, population)  # filed in October: outside the period
        requests.refuse(s, reviewer, h.id, "用途不符")
        _backdate(s, h, at(20, month=10), at(21, month=10))
        s.commit()
    return {"police": police, "population": population, "registry": registry}


def test_the_figures_of_a_hand_built_month(db, filed):
    with db.session() as s:
        found = duties.figures(s, NOV, DEC)
    police = found[filed["police"]]
    assert (police.resources_unconditional, police.resources_conditional) == (1, 2)
    assert (police.duty_items, police.duty_items_fulfilled) == (2, 1)
    assert police.missing_duties == ["出入境证件信息"]
    assert police.requests_received == 7
    assert police.auto_granted == 1
    assert (police.approved, police.refused, police.pending, police.withdrawn) == (2, 1, 2, 1)
    assert police.overdue == 2  # one answered late, one unanswered past its deadline
    assert sorted(police.days) == [1, 2, 8]
    assert police.median_days == Decimal("2.0")
    assert police.p90_days == Decimal("8.0")
    assert police.on_time_ratio == Decimal("0.5000")  # 2 on time of 3 answered + 1 late open
    assert police.grants_active == 2  # c (granted 13 Nov) and g (5 Nov)
    assert police.never_requested_names == ["全省人口基础信息（extra）"]


def test_an_edition_is_compiled_published_and_exported(db, filed, people, emitted):
    with db.session() as s:
        with pytest.raises(Forbidden):
            duties.compile_edition(s, people["admin"], NOV, DEC)
        edition = duties.compile_edition(s, people["bureau"], NOV, DEC)
        s.commit()
        edition_id = edition.id
        (entry,) = [e for e in edition.entries if e.org_id == filed["police"]]
        assert entry.requests_received == 7 and entry.overdue == 2
        assert entry.median_days == Decimal("2.0") and entry.on_time_ratio == Decimal("0.5")
        assert entry.details["never_requested"] == ["全省人口基础信息（extra）"]
        assert edition.status == "draft" and edition.number == 1
    with db.session() as s:  # a draft is not public
        with pytest.raises(DutyEditionNotFound):
            duties.get_edition(s, ANONYMOUS, edition_id)
        assert duties.list_editions(s, ANONYMOUS) == []
        assert duties.compile_edition(s, people["bureau"], NOV, DEC).number == 2
        duties.publish(s, people["bureau"], edition_id)
        s.commit()
    with db.session() as s:
        with pytest.raises(DutyEditionPublished):
            duties.publish(s, people["bureau"], edition_id)
        with pytest.raises(Forbidden):
            duties.publish(s, people["admin"], edition_id)
        edition = duties.get_edition(s, ANONYMOUS, edition_id)
        assert [e.id for e in duties.list_editions(s, ANONYMOUS)] == [edition_id]
        rows = list(csv.reader(io.StringIO(duties.export_csv(edition).decode("utf-8-sig"))))
        assert rows[0][0] == "部门" and "超期" in rows[0]
        police_row = next(r for r in rows if r[0] == "甘肃省公安厅")
        assert police_row[rows[0].index("收到申请")] == "7"
        assert police_row[rows[0].index("响应中位数（工作日）")] == "2.0"
        sheet = load_workbook(io.BytesIO(duties.export_xlsx(edition))).active
        assert sheet.cell(row=2, column=1).value == "部门"
    assert len(emitted("sharing.duty_list_published")) == 1
    assert len(emitted("sharing.duty_list_compiled")) == 2


def test_bad_periods_are_refused(db, people):
    bureau = people["bureau"]
    today = dt.datetime.now(SHANGHAI).date()
    with db.session() as s:
        for start, end in (
            (DEC, NOV),
            (NOV, NOV),
            (dt.date(2025, 1, 1), dt.date(2026, 6, 1)),
            (today, today + dt.timedelta(days=40)),
            (NOV, None),
        ):
            with pytest.raises(DutyPeriodInvalid):
                duties.compile_edition(s, bureau, start, end)


def test_the_monthly_job_compiles_last_month_once(db, orgs):
    with db.session() as s:
        first = duties.compile_monthly(s, today=dt.date(2026, 11, 20))
        assert (first.period_start, first.period_end) == (dt.date(2026, 10, 1), NOV)
        assert duties.compile_monthly(s, today=dt.date(2026, 11, 20)) is None
        s.commit()


def test_return_flow_requests_are_not_requests(db, orgs, people, make_population, population_rows):
    resource, _, police = make_population("population", "conditional")
    with db.session() as s:
        tables.write_version(s, SYSTEM, "population", population_rows(20))
        from longshu.orgs import service as orgs_service

        orgs_service.create_organization(
            s, SYSTEM, name="兰州市公安局", kind="data_consumer", region_code="620100",
            parent_id=police,
        )  # fmt: skip
        returnflows.configure(s, people["admin"], resource)
        returnflows.apply(s, people["admin"], resource)
        s.commit()
    today = dt.datetime.now(SHANGHAI).date()
    with db.session() as s:
        found = duties.figures(s, today, today + dt.timedelta(days=1))
    assert found[police].requests_received == 0 and found[police].auto_granted == 0
    assert found[police].grants_active == 1  # the standing grant is a grant all the same
    assert found[police].never_requested_names == ["全省人口基础信息（population）"]
    with db.session() as s:  # before it was made, it was not active
        earlier = duties.figures(s, today - dt.timedelta(days=1), today)
    assert earlier[police].grants_active == 0


def test_duty_lists_over_http_and_pages(client, make_user, db, filed):
    bureau = bearer_for(db, make_user("sjj_duty", "bureau_reviewer", org_id=None))
    dept = bearer_for(db, make_user("ga_duty", "dept_data_admin", org_id=filed["police"]))
    body = {"period_start": NOV.isoformat(), "period_end": DEC.isoformat()}
    assert client.post("/api/v1/sharing/duties", json=body, headers=dept).status_code == 403
    bad = client.post("/api/v1/sharing/duties", json={"period_start": "2026-11-30"}, headers=bureau)
    assert bad.status_code == 422
    assert (
        client.post(
            "/api/v1/sharing/duties", json={"period_start": "x"}, headers=bureau
        ).status_code
        == 422
    )
    made = client.post("/api/v1/sharing/duties", json=body, headers=bureau)
    assert made.status_code == 201, made.text
    edition = made.json()["id"]
    assert client.get(f"/api/v1/sharing/duties/{edition}").status_code == 404  # draft
    assert client.get("/api/v1/sharing/duties").json() == []
    published = client.post(f"/api/v1/sharing/duties/{edition}/publish", headers=bureau)
    assert published.status_code == 200 and published.json()["status"] == "published"
    assert (
        client.post(f"/api/v1/sharing/duties/{edition}/publish", headers=bureau).status_code == 409
    )
    public = client.get(f"/api/v1/sharing/duties/{edition}").json()  # anonymous
    police = next(e for e in public["entries"] if e["org_id"] == filed["police"])
    assert police["requests_received"] == 7 and police["overdue"] == 2
    exported = client.get(f"/api/v1/sharing/duties/{edition}/export.csv")
    assert exported.status_code == 200 and "甘肃省公安厅" in exported.content.decode("utf-8-sig")
    xlsx = client.get(f"/api/v1/sharing/duties/{edition}/export.xlsx")
    assert xlsx.status_code == 200 and xlsx.content[:2] == b"PK"
    english = client.get(f"/api/v1/sharing/duties/{edition}/export.csv?lang=en")
    titles = next(csv.reader(io.StringIO(english.content.decode("utf-8-sig"))))
    assert titles[0] == "Department" and "Overdue" in titles and "部门" not in titles
    english_sheet = load_workbook(
        io.BytesIO(client.get(f"/api/v1/sharing/duties/{edition}/export.xlsx?lang=en").content)
    ).active
    assert english_sheet.cell(row=2, column=1).value == "Department"
    assert "<th>Department</th>" in client.get(f"/sharing/duties/{edition}?lang=en").text
    page = client.get("/sharing/duties")
    assert page.status_code == 200 and f'data-testid="edition-{edition}"' in page.text
    detail = client.get(f"/sharing/duties/{edition}")
    assert detail.status_code == 200 and f'data-testid="entry-{filed["police"]}"' in detail.text
    assert 'data-testid="publish"' not in detail.text
    # the bureau's console page compiles a draft from a form
    make_user("sjj_page", "bureau_reviewer", org_id=None)
    sign_in(client, "sjj_page")
    assert client.get("/console/sharing/duties").status_code == 200
    token = csrf_of(client)
    compiled = client.post(
        "/console/sharing/duties",
        data={"csrf_token": token, "period_start": "2026-11-01", "period_end": "2026-11-28"},
    )
    assert compiled.status_code == 303
    draft = client.get(compiled.headers["location"])
    assert 'data-testid="publish"' in draft.text
    wrong = client.post(
        "/console/sharing/duties",
        data={"csrf_token": token, "period_start": "2026-13-01", "period_end": "2026-11-28"},
    )
    assert wrong.status_code == 422 and 'data-testid="duties-error"' in wrong.text
