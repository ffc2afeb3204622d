from __future__ import annotations

import random

import pytest

from longshu import ids
from longshu.actor import ANONYMOUS
from longshu.errors import Forbidden, NotSignedIn
from longshu.orgs import service
from longshu.orgs.errors import (
    DuplicateCreditCode,
    DuplicateOrganization,
    HasActiveSubordinates,
    InvalidCreditCode,
    InvalidLevel,
    InvalidOrgKind,
    InvalidOrgName,
    InvalidRegion,
    OrganizationInactive,
    OrganizationNotFound,
    ParentCycle,
    UnknownRegion,
)
from longshu.orgs.service import OrgFilter


def make(session, admin, name="甘肃省公安厅", kind="data_provider", region_code="620000", **kw):
    org = service.create_organization(
        session, admin, name=name, kind=kind, region_code=region_code, **kw
    )
    session.commit()
    return org


def test_created_organisation_takes_its_level_from_the_region(regions, admin, emitted):
    police = make(regions, admin)
    dunhuang = make(regions, admin, "敦煌市文化和旅游局", region_code="620982")
    assert (police.level, dunhuang.level) == ("province", "county")
    assert police.active and police.created_at.tzinfo is not None
    [first, second] = emitted("orgs.created")
    assert first.subject_type == "organization" and first.subject_id == str(police.id)
    assert first.payload == {
        "kind": "data_provider",
        "region_code": "620000",
        "level": "province",
        "parent_id": None,
    }
    assert second.actor_id == admin.id


def test_a_given_level_wins_over_the_region(regions, admin):
    org = make(regions, admin, "甘肃省气象局兰州分局", region_code="620102", level="city")
    assert org.level == "city"


def test_names_are_trimmed_and_spaces_collapsed(regions, admin):
    org = make(regions, admin, "  甘肃省   民政厅 ")
    assert org.name == "甘肃省 民政厅"


def test_credit_code_is_normalised_and_kept(regions, admin):
    code = ids.random_credit_code(random.Random(1), "620100")
    org = make(
        regions,
        admin,
        "陇原数智运营有限公司（演示）",
        "operator",
        "620100",
        credit_code=" " + code.lower(),
    )
    assert org.credit_code == code


def test_unauthorised_create_is_forbidden(regions, staff, emitted):
    with pytest.raises(Forbidden):
        make(regions, staff)
    assert emitted("orgs.created") == []


def test_anonymous_create_must_sign_in(regions):
    with pytest.raises(NotSignedIn):
        make(regions, ANONYMOUS)


def test_same_name_in_same_region_is_a_conflict(regions, admin):
    make(regions, admin)
    with pytest.raises(DuplicateOrganization) as caught:
        make(regions, admin)
    assert caught.value.status == 409 and "甘肃省公安厅" in str(caught.value)


def test_same_name_in_another_region_is_allowed(regions, admin):
    make(regions, admin, "民政局", region_code="620102")
    other = make(regions, admin, "民政局", region_code="620902")
    assert other.region_code == "620902"


def test_duplicate_credit_code_is_a_conflict(regions, admin):
    code = ids.random_credit_code(random.Random(2), "620100")
    make(regions, admin, "甲公司（演示）", "enterprise", "620100", credit_code=code)
    with pytest.raises(DuplicateCreditCode):
        make(regions, admin, "乙公司（演示）", "enterprise", "620100", credit_code=code)


def test_a_race_lost_at_the_database_is_still_a_conflict(regions, admin, monkeypatch):
    make(regions, admin)
    # Another writer passed the same check first: the unique constraint has the last word.
    monkeypatch.setattr(service, "_refuse_duplicates", lambda session, org: None)
    with pytest.raises(DuplicateOrganization):
        service.create_organization(
            regions, admin, name="甘肃省公安厅", kind="data_provider", region_code="620000"
        )
    # The savepoint kept the session usable.
    assert make(regions, admin, "甘肃省民政厅").id


def test_credit_code_race_is_reported_as_credit_code_conflict(regions, admin, monkeypatch):
    code = ids.random_credit_code(random.Random(3), "620100")
    make(regions, admin, "甲公司（演示）", "enterprise", "620100", credit_code=code)
    monkeypatch.setattr(service, "_refuse_duplicates", lambda session, org: None)
    with pytest.raises(DuplicateCreditCode):
        service.create_organization(
            regions,
            admin,
            name="乙公司（演示）",
            kind="enterprise",
            region_code="620100",
            credit_code=code,
        )


@pytest.mark.parametrize(
    ("code", "reason"),
    [
        ("91620100MA3FQEFL3Q", "checksum"),
        ("91620100MA3FQEFL3", "length"),
        ("91620100MA3FQEFLOP", "charset"),
        ("99620100MA3FQEFL3P", "category"),
    ],
)
def test_bad_credit_code_is_refused_with_its_reason(regions, admin, code, reason):
    with pytest.raises(InvalidCreditCode) as caught:
        make(regions, admin, "某公司（演示）", "enterprise", "620100", credit_code=code)
    assert caught.value.reason == reason and caught.value.status == 422


@pytest.mark.parametrize("code", ["62010", "62O000", "x" * 10_000, "620012"])
def test_malformed_region_is_refused(regions, admin, code):
    with pytest.raises(InvalidRegion) as caught:
        make(regions, admin, region_code=code)
    assert not isinstance(caught.value, UnknownRegion)


def test_unknown_region_is_refused(regions, admin, emitted):
    with pytest.raises(UnknownRegion):
        make(regions, admin, region_code="610100")  # 西安市: not in Gansu
    assert emitted("orgs.created") == []


@pytest.mark.parametrize(
    ("field", "value", "error"),
    [
        ("kind", "ministry", InvalidOrgKind),
        ("level", "town", InvalidLevel),
        ("name", "厅", InvalidOrgName),
        ("name", "局" * 201, InvalidOrgName),
        ("name", "   ", InvalidOrgName),
    ],
)
def test_bad_fields_are_refused(regions, admin, field, value, error):
    args = {"name": "甘肃省公安厅", "kind": "data_provider", "region_code": "620000", field: value}
    with pytest.raises(error):
        service.create_organization(regions, admin, **args)


def test_missing_parent_is_not_found(regions, admin):
    with pytest.raises(OrganizationNotFound) as caught:
        make(regions, admin, parent_id=999)
    assert caught.value.status == 404


def test_update_changes_fields_and_names_them_in_the_event(regions, admin, emitted):
    org = make(regions, admin, "酒泉市文化和旅游局", region_code="620900")
    service.update_organization(
        regions,
        admin,
        org.id,
        short_name="酒泉文旅局",
        region_code="620902",
        name="酒泉市文化和旅游局",
    )
    regions.commit()
    assert (org.short_name, org.region_code, org.level) == ("酒泉文旅局", "620902", "county")
    [event] = emitted("orgs.updated")
    assert event.payload == {"fields": ["level", "region_code", "short_name"]}


def test_update_that_changes_nothing_emits_nothing(regions, admin, emitted):
    org = make(regions, admin)
    service.update_organization(regions, admin, org.id, name="甘肃省公安厅", kind="data_provider")
    assert emitted("orgs.updated") == []


def test_update_into_an_existing_name_is_a_conflict(regions, admin):
    make(regions, admin)
    other = make(regions, admin, "甘肃省民政厅")
    with pytest.raises(DuplicateOrganization):
        service.update_organization(regions, admin, other.id, name="甘肃省公安厅")


def test_update_refuses_unknown_fields(regions, admin):
    org = make(regions, admin)
    with pytest.raises(TypeError):
        service.update_organization(regions, admin, org.id, active=False)


def test_update_by_staff_is_forbidden(regions, admin, staff):
    org = make(regions, admin)
    with pytest.raises(Forbidden):
        service.update_organization(regions, staff, org.id, short_name="公安厅")


def test_an_organisation_cannot_sit_below_itself(regions, admin):
    top = make(regions, admin, "甘肃省数据局", "data_authority")
    child = make(regions, admin, "甘肃省政务服务中心", "implementer", parent_id=top.id)
    with pytest.raises(ParentCycle):
        service.update_organization(regions, admin, top.id, parent_id=child.id)
    with pytest.raises(ParentCycle):
        service.update_organization(regions, admin, top.id, parent_id=top.id)


def test_deactivate_then_again_is_a_conflict(regions, admin, emitted):
    org = make(regions, admin)
    service.deactivate_organization(regions, admin, org.id, reason="机构改革")
    regions.commit()
    assert not org.active and org.deactivated_at is not None
    with pytest.raises(OrganizationInactive):
        service.deactivate_organization(regions, admin, org.id)
    [event] = emitted("orgs.deactivated")
    assert event.payload == {"reason": "机构改革"}


def test_deactivated_organisation_cannot_be_updated(regions, admin):
    org = make(regions, admin)
    service.deactivate_organization(regions, admin, org.id)
    with pytest.raises(OrganizationInactive):
        service.update_organization(regions, admin, org.id, short_name="公安厅")


def test_parent_with_active_subordinates_cannot_be_deactivated(regions, admin):
    top = make(regions, admin, "甘肃省数据局", "data_authority")
    make(regions, admin, "甘肃省政务服务中心", "implementer", parent_id=top.id)
    with pytest.raises(HasActiveSubordinates):
        service.deactivate_organization(regions, admin, top.id)


def test_deactivate_by_staff_is_forbidden(regions, admin, staff):
    org = make(regions, admin)
    with pytest.raises(Forbidden):
        service.deactivate_organization(regions, staff, org.id)


def test_deactivate_unknown_is_not_found(regions, admin):
    with pytest.raises(OrganizationNotFound):
        service.deactivate_organization(regions, admin, 12345)


# --- queries ----------------------------------------------------------------------------------


@pytest.fixture
def directory(regions, admin):
    make(regions, admin, "甘肃省数据局", "data_authority")
    make(regions, admin)
    make(regions, admin, "酒泉市文化和旅游局", region_code="620900")
    make(regions, admin, "敦煌市文化和旅游局", region_code="620982")
    make(regions, admin, "兰州市数据局", "data_authority", "620100")
    gone = make(regions, admin, "兰州市城关区民政局", region_code="620102")
    service.deactivate_organization(regions, admin, gone.id)
    regions.commit()
    return regions


def names(session, actor, **where):
    page, total = service.list_organizations(session, actor, OrgFilter(**where))
    assert total == len(page)
    return [o.name for o in page]


def test_staff_can_list_and_the_order_is_level_then_region(directory, staff):
    assert names(directory, staff) == [
        "甘肃省公安厅",
        "甘肃省数据局",
        "兰州市数据局",
        "酒泉市文化和旅游局",
        "敦煌市文化和旅游局",
    ]


def test_region_filter_includes_descendants_unless_told_not_to(directory, staff):
    assert names(directory, staff, region_code="620900") == [
        "酒泉市文化和旅游局",
        "敦煌市文化和旅游局",
    ]
    assert names(directory, staff, region_code="620900", descendants=False) == [
        "酒泉市文化和旅游局"
    ]


def test_filters_by_kind_level_activity_and_name(directory, staff):
    assert names(directory, staff, kind="data_authority") == ["甘肃省数据局", "兰州市数据局"]
    assert names(directory, staff, level="county") == ["敦煌市文化和旅游局"]
    assert names(directory, staff, active=False) == ["兰州市城关区民政局"]
    assert len(names(directory, staff, active=None)) == 6
    assert names(directory, staff, name_contains="文化") == [
        "酒泉市文化和旅游局",
        "敦煌市文化和旅游局",
    ]
    assert names(directory, staff, name_contains="%") == []


def test_list_with_bad_filters_is_refused(directory, staff):
    with pytest.raises(InvalidRegion):
        names(directory, staff, region_code="62")
    with pytest.raises(UnknownRegion):
        names(directory, staff, region_code="630000")
    with pytest.raises(InvalidOrgKind):
        names(directory, staff, kind="bank")


def test_paging_reports_the_total(directory, staff):
    page, total = service.list_organizations(directory, staff, limit=2, offset=1)
    assert total == 5 and [o.name for o in page] == ["甘肃省数据局", "兰州市数据局"]


def test_public_users_cannot_read_the_directory(directory, citizen):
    with pytest.raises(Forbidden):
        service.list_organizations(directory, citizen)


def test_get_one_and_not_found(directory, staff):
    [org], _ = service.list_organizations(directory, staff, OrgFilter(level="county"))
    assert service.get_organization(directory, staff, org.id).region.name == "敦煌市"
    with pytest.raises(OrganizationNotFound):
        service.get_organization(directory, staff, 99999)
