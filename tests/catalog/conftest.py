"""Fixtures of the catalog tests: the demo departments, people in them, and entry factories."""

from __future__ import annotations

from dataclasses import replace

import pytest
from sqlalchemy import select

from longshu.actor import SYSTEM, Actor
from longshu.catalog.rules import FieldData, ResourceData
from longshu.events import Event


def person(org_id: int | None, *roles: str, uid: int = 100) -> Actor:
    return Actor(
        kind="user", id=uid, name="-".join(roles), org_id=org_id, roles=frozenset(roles), mfa=True
    )


@pytest.fixture
def people(orgs):
    """Actors: the culture-and-tourism department's manager and reviewer, the bureau's
    reviewer, and the weather bureau's manager (another department)."""
    return {
        "editor": person(orgs["culture_tourism"], "dept_data_admin", uid=101),
        "reviewer": person(orgs["culture_tourism"], "dept_reviewer", uid=102),
        "bureau": person(orgs["bureau"], "bureau_reviewer", uid=103),
        "other": person(orgs["weather"], "dept_data_admin", uid=104),
        "other_reviewer": person(orgs["weather"], "dept_reviewer", uid=105),
        "admin": person(orgs["bureau"], "platform_admin", uid=106),
        "auditor": person(orgs["bureau"], "auditor", uid=107),
        "consumer": person(orgs["transport"], "data_consumer", uid=108),
        "operator": person(orgs["operator_a"], "operator", uid=109),
        "public": Actor(kind="anonymous", roles=frozenset({"public"})),
    }


SAMPLE = ResourceData(
    name="全省A级旅游景区名录",
    summary="甘肃省A级旅游景区的名称、等级、地址、开放时间和游客承载量，按季度更新。",
    domain="culture_tourism",
    share_type="unconditional",
    open_type="unconditional",
    update_cycle="quarterly",
    kind="table",
    formats=["CSV", "XLSX"],
    theme_databases=[],
    keywords=["景区", "旅游"],
    contact_name="刘洋",
    contact_phone="0931-1234567",
    contact_email="data@example.gov.cn",
    licence="CC BY 4.0",
    source_system="甘肃省智慧文旅平台",
    fields=[
        FieldData("jqmc", "景区名称", "string", 100),
        FieldData("jqdj", "景区等级", "string", 10, example="5A"),
        FieldData("zdcz", "最大承载量", "integer", unit="人次/日"),
    ],
)


def sample(**changes) -> ResourceData:
    return replace(SAMPLE, **changes)


@pytest.fixture
def emitted(session):
    def of_type(type_: str) -> list[Event]:
        session.expire_all()
        return list(session.scalars(select(Event).where(Event.type == type_).order_by(Event.id)))

    return of_type


@pytest.fixture
def api(settings, db):
    """A client of the whole application (lifespan not run: the test schema is in place)."""
    from fastapi.testclient import TestClient

    from longshu.app import create_app

    return TestClient(create_app(settings, db), follow_redirects=False)


def published(session, org_id, **changes):
    """An entry drafted, reviewed and published by the platform itself."""
    from longshu.catalog import lifecycle, service

    entry = service.create_resource(session, SYSTEM, sample(**changes), provider_org_id=org_id)
    for move in ("submit", "approve", "publish"):
        lifecycle.take(session, SYSTEM, entry.id, move)
    return entry
