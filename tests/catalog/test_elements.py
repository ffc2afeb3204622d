"""一数一源: the data element registry, authority claims and the conflicts the bureau sees."""

from __future__ import annotations

import pytest
from tests.catalog.conftest import person, sample

from longshu.catalog import elements, service
from longshu.catalog.errors import (
    ClaimNotAllowed,
    DuplicateElement,
    ElementNotFound,
    InvalidElement,
)
from longshu.catalog.rules import FieldData
from longshu.errors import Forbidden


@pytest.fixture
def id_number(session, people, orgs):
    return elements.create_element(
        session, people["bureau"], code="DE0001", name="公民身份号码",
        definition="GB 11643 规定的18位公民身份号码。", data_type="string", length=18,
        standard="GB 11643-1999", authority_org_id=orgs["police"],
    )  # fmt: skip


def test_the_bureau_registers_elements(session, people, id_number, emitted):
    assert id_number.authority_org_id is not None
    assert emitted("catalog.element_created")[0].payload["code"] == "DE0001"
    with pytest.raises(DuplicateElement):
        elements.create_element(
            session, people["bureau"], code="DE0002", name="公民身份号码", definition="重复"
        )
    with pytest.raises(Forbidden):
        elements.create_element(
            session, people["editor"], code="DE0003", name="统一社会信用代码", definition="GB 32100"
        )
    for bad in (
        {"code": "de 1"},
        {"name": "甲"},
        {"definition": ""},
        {"data_type": "varchar"},
        {"length": 0},
    ):
        values = {"code": "DE0009", "name": "测试数据元", "definition": "定义。", **bad}
        with pytest.raises(InvalidElement):
            elements.create_element(session, people["bureau"], **values)
    assert [e.code for e in elements.list_elements(session, people["public"], q="身份")] == [
        "DE0001"
    ]


def test_competing_claims_are_listed_until_resolved(session, people, orgs, id_number, emitted):
    health = person(orgs["health"], "dept_data_admin", uid=301)
    elements.claim(session, health, id_number.id, "《基本医疗卫生与健康促进法》")
    with pytest.raises(ClaimNotAllowed):
        elements.claim(session, health, id_number.id)
    found = elements.conflicts(session, people["bureau"])
    assert [(c.kind, c.org_ids) for c in found] == [
        ("competing_claims", sorted([orgs["police"], orgs["health"]]))
    ]
    elements.resolve(session, people["bureau"], id_number.id, orgs["police"])
    assert elements.conflicts(session, people["bureau"]) == []
    assert emitted("catalog.element_resolved")[0].payload["authority_org_id"] == orgs["police"]
    with pytest.raises(Forbidden):
        elements.resolve(session, people["editor"], id_number.id, orgs["culture_tourism"])


def test_fields_that_diverge_from_their_element_are_listed(session, people, id_number):
    entry = service.create_resource(
        session, people["editor"],
        sample(fields=[FieldData("sfzh", "身份证号", "integer", 20, element_id=id_number.id)]),
    )  # fmt: skip
    (conflict,) = elements.conflicts(session, people["bureau"])
    assert conflict.kind == "divergent_field" and conflict.resource_id == entry.id
    assert conflict.detail == {"data_type": ["string", "integer"], "length": [18, 20]}
    service.update_resource(
        session, people["editor"], entry.id,
        sample(fields=[FieldData("sfzh", "身份证号", "string", 18, element_id=id_number.id)]),
    )  # fmt: skip
    assert elements.conflicts(session, people["bureau"]) == []
    assert elements.usage_counts(session) == {id_number.id: 1}


def test_a_field_cannot_link_to_an_unknown_element(session, people):
    with pytest.raises(ElementNotFound):
        service.create_resource(
            session, people["editor"], sample(fields=[FieldData("x", "甲", element_id=999)])
        )
