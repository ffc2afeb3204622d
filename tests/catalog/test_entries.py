"""Drafting and editing catalog entries: codes, revisions, department scope, concurrency."""

from __future__ import annotations

import pytest
from tests.catalog.conftest import sample

from longshu.catalog import codes, lifecycle, service
from longshu.catalog.errors import (
    DuplicateResourceCode,
    InvalidResource,
    InvalidResourceCode,
    OtherDepartment,
    ResourceChanged,
    ResourceLocked,
    UnknownProvider,
)
from longshu.catalog.models import Resource
from longshu.catalog.rules import FieldData
from longshu.errors import Forbidden


def test_a_department_drafts_an_entry_with_a_generated_code(session, people, orgs, emitted):
    entry = service.create_resource(session, people["editor"], sample())
    session.commit()
    assert entry.status == "draft" and entry.revision == 1 and entry.level == "province"
    parsed = codes.parse(entry.code)
    assert parsed, entry.code
    assert parsed.code.classification == "301001"  # 部门 / 文化旅游 (项 01) / 001
    assert parsed.code.region_code == "620000" and parsed.code.sequence == 1
    assert [f.label for f in entry.fields] == ["景区名称", "景区等级", "最大承载量"]
    (event,) = emitted("catalog.created")
    assert event.payload["code"] == entry.code and event.subject_id == str(entry.id)
    assert emitted("workflow.started")[0].subject_type == "catalog_resource"
    second = service.create_resource(session, people["editor"], sample(name="乡村旅游重点村名录"))
    assert codes.parse(second.code).code.sequence == 2


def test_base_and_theme_databases_choose_the_classification(session, people):
    entry = service.create_resource(
        session, people["editor"], sample(base_databases=["e_license"], theme_databases=["health"])
    )
    assert entry.code.startswith("104001/")
    themed = service.create_resource(session, people["editor"], sample(theme_databases=["ecology"]))
    assert themed.code.startswith("203001/")


def test_departments_in_one_region_get_different_department_codes(session, people):
    mine = service.create_resource(session, people["editor"], sample())
    theirs = service.create_resource(session, people["other"], sample(domain="meteorology"))
    assert codes.parse(mine.code).code.department != codes.parse(theirs.code).code.department


def test_check_character_catches_a_typing_error():
    good = str(codes.make(("3", "01", "001"), "620000", "013", 42))
    assert codes.parse(good)
    digits = good.replace("00042", "00024")
    assert codes.parse(digits).reason == "checksum"
    assert codes.parse("101001-620000-013-00042-7").reason == "format"
    assert codes.parse("199001/620000-013-00042-7").reason == "classification"


def test_a_supplied_code_is_checked_against_the_provider(session, people):
    right = str(codes.make(("3", "01", "002"), "620000", "021", 7))
    entry = service.create_resource(session, people["editor"], sample(), code=right)
    assert entry.code == right
    # the department now owns number 021 in the province and continues after 7
    assert (
        codes.parse(service.create_resource(session, people["editor"], sample()).code).code.sequence
        == 8
    )
    with pytest.raises(DuplicateResourceCode):
        service.create_resource(session, people["editor"], sample(), code=right)
    with pytest.raises(InvalidResourceCode) as wrong_region:
        service.create_resource(
            session,
            people["editor"],
            sample(),
            code=str(codes.make(("3", "01", "001"), "620100", "021", 9)),
        )
    assert wrong_region.value.reason == "region"
    with pytest.raises(InvalidResourceCode) as wrong_department:
        service.create_resource(
            session,
            people["other"],
            sample(),
            code=str(codes.make(("3", "01", "001"), "620000", "021", 9)),
        )
    assert wrong_department.value.reason == "department"
    with pytest.raises(InvalidResourceCode) as typo:
        service.create_resource(
            session,
            people["editor"],
            sample(),
            code=right[:-1] + ("0" if right[-1] != "0" else "1"),
        )
    assert typo.value.reason == "checksum"


def test_only_departments_that_provide_data_can_own_entries(session, people, orgs):
    with pytest.raises(UnknownProvider):
        service.create_resource(
            session, people["admin"], sample(), provider_org_id=orgs["operator_a"]
        )
    with pytest.raises(UnknownProvider):
        service.create_resource(session, people["admin"], sample(), provider_org_id=999999)


@pytest.mark.parametrize(
    ("change", "attribute"),
    [
        ({"name": "甲"}, "name"),
        ({"domain": "astrology"}, "domain"),
        ({"share_type": "conditional"}, "share_conditions"),
        ({"share_type": "none", "share_conditions": "《统计法》第九条"}, "open_type"),
        ({"open_type": "conditional"}, "open_conditions"),
        ({"formats": []}, "formats"),
        ({"formats": ["DOC"]}, "formats"),
        ({"contact_email": "not-an-email"}, "contact_email"),
        ({"keywords": ["很长" * 20]}, "keywords"),
        ({"fields": [FieldData("1abc", "编号")]}, "fields[1].name"),
        ({"fields": [FieldData("a", "甲"), FieldData("A", "乙")]}, "fields[2].name"),
        ({"fields": [FieldData("a", "甲", "varchar")]}, "fields[1].data_type"),
        ({"fields": [FieldData("a", "甲", length=0)]}, "fields[1].length"),
    ],
)
def test_bad_attributes_are_refused_naming_the_attribute(session, people, change, attribute):
    with pytest.raises(InvalidResource) as refused:
        service.create_resource(session, people["editor"], sample(**change))
    assert refused.value.field == attribute


def test_another_department_cannot_edit(session, people):
    entry = service.create_resource(session, people["editor"], sample())
    with pytest.raises(OtherDepartment) as refused:
        service.update_resource(session, people["other"], entry.id, sample(name="改名"))
    assert refused.value.status == 403
    with pytest.raises(Forbidden):
        service.create_resource(session, people["consumer"], sample())


def test_each_edit_is_a_revision_with_a_diff(session, people, emitted):
    entry = service.create_resource(session, people["editor"], sample())
    version = entry.version
    fields = [*sample().fields[:2], FieldData("dz", "地址", "string", 200)]
    service.update_resource(
        session, people["editor"], entry.id, sample(summary="新的摘要。", fields=fields),
        expected_version=version, note="补充地址",
    )  # fmt: skip
    assert entry.revision == 2
    change = service.revision_diff(session, entry, 2)
    assert [a[0] for a in change.attributes] == ["summary"]
    assert {(f.name, f.change) for f in change.fields} == {("dz", "added"), ("zdcz", "removed")}
    assert emitted("catalog.updated")[-1].payload == {
        "revision": 2,
        "changed": ["summary", "fields"],
    }
    # saving the same content again writes nothing
    service.update_resource(
        session, people["editor"], entry.id, sample(summary="新的摘要。", fields=fields)
    )
    assert entry.revision == 2 and len(service.revisions(session, entry)) == 2


def test_a_save_from_an_old_copy_is_refused(session, people):
    entry = service.create_resource(session, people["editor"], sample())
    old = entry.version
    service.update_resource(
        session, people["editor"], entry.id, sample(name="第一次修改"), expected_version=old
    )
    with pytest.raises(ResourceChanged) as refused:
        service.update_resource(
            session, people["editor"], entry.id, sample(name="第二次修改"), expected_version=old
        )
    assert refused.value.status == 409 and "Reload" in str(refused.value)


def test_concurrent_saves_of_one_entry_one_wins(db, people):
    with db.session() as s:
        entry_id = service.create_resource(s, people["editor"], sample()).id
    first, second = db.sessionmaker(), db.sessionmaker()
    try:
        a = service.update_resource(first, people["editor"], entry_id, sample(name="甲的修改"))
        b_entry = service.load(second, entry_id)  # read before the first commits
        assert b_entry.version == a.version - 1
        first.commit()
        with pytest.raises(ResourceChanged):
            service.update_resource(second, people["editor"], entry_id, sample(name="乙的修改"))
        second.rollback()
    finally:
        first.close()
        second.close()
    with db.session() as s:
        assert s.get(Resource, entry_id).name == "甲的修改"


def test_an_entry_under_review_is_locked(session, people):
    entry = service.create_resource(session, people["editor"], sample())
    lifecycle.take(session, people["editor"], entry.id, "submit")
    with pytest.raises(ResourceLocked):
        service.update_resource(session, people["editor"], entry.id, sample(name="审核中修改"))
