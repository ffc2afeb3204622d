from __future__ import annotations

from sqlalchemy import func, select

from longshu import ids
from longshu.actor import SYSTEM
from longshu.orgs.demo import DEMO_ORGS, load_demo_organisations
from longshu.orgs.models import Organization


def test_demo_organisations_load_once_and_come_back_by_key(session, emitted):
    first = load_demo_organisations(session, SYSTEM)
    session.commit()
    again = load_demo_organisations(session, SYSTEM)
    session.commit()
    assert {k: o.id for k, o in first.items()} == {k: o.id for k, o in again.items()}
    assert session.scalar(select(func.count(Organization.id))) == len(DEMO_ORGS)
    assert len(emitted("orgs.created")) == len(DEMO_ORGS)
    assert len(emitted("orgs.regions_loaded")) == 1


def test_demo_keys_the_identity_demo_relies_on(session):
    orgs = load_demo_organisations(session, SYSTEM)
    for key in (
        "bureau",
        "police",
        "health",
        "transport",
        "weather",
        "culture_tourism",
        "operator_a",
        "operator_b",
        "assessor",
    ):
        assert key in orgs
    assert orgs["bureau"].name == "甘肃省数据局" and orgs["bureau"].kind == "data_authority"
    assert orgs["police"].name == "甘肃省公安厅" and orgs["police"].level == "province"
    assert orgs["dunhuang_culture_tourism"].region.name == "敦煌市"
    assert orgs["dunhuang_culture_tourism"].level == "county"
    assert orgs["lanzhou_new_area"].region.kind == "functional_area"
    assert orgs["assessor"].kind == "assessor"
    assert {orgs["operator_a"].kind, orgs["operator_b"].kind} == {"operator"}


def test_only_synthetic_companies_carry_credit_codes_and_they_are_valid(session):
    orgs = load_demo_organisations(session, SYSTEM)
    coded = {k: o for k, o in orgs.items() if o.credit_code}
    assert set(coded) == {"operator_a", "operator_b", "assessor", "enterprise"}
    for org in coded.values():
        assert org.name.endswith("（演示）")
        assert ids.check_credit_code(org.credit_code, strict=True).valid
        assert org.credit_code[2:8] == org.region_code
