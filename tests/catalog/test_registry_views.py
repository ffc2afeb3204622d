"""Console pages of the registries: the bureau registers and edits data elements and decides
their authoritative source among departments' claims (一数一源); it keeps the duty lists
(应编尽编 责任清单) that the completeness report counts against."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from tests.catalog.conftest import published

from longshu.catalog.models import DataElement, DutyItem, ElementClaim
from longshu.catalog.rules import FieldData


@pytest.fixture
def heads(orgs, bearer):
    return {
        "bureau": bearer("bureau_reviewer", org_id=orgs["bureau"]),
        "police": bearer("dept_data_admin", org_id=orgs["police"]),
        "market": bearer("dept_reviewer", org_id=orgs["market"]),
        "editor": bearer("dept_data_admin", org_id=orgs["culture_tourism"]),
        "reviewer": bearer("dept_reviewer", org_id=orgs["culture_tourism"]),
    }


ELEMENT = {
    "code": "DE0101",
    "name": "公民身份号码",
    "definition": "赋码机关为每个公民给出的唯一的、终身不变的18位法定号码。",
    "data_type": "string",
    "length": "18",
    "standard": "GB 11643-1999",
}


def test_the_bureau_registers_and_edits_an_element(api, session, heads):
    page = api.get("/console/catalog/elements", headers=heads["bureau"])
    assert page.status_code == 200 and 'data-testid="new-element"' in page.text
    created = api.post("/console/catalog/elements", data=ELEMENT, headers=heads["bureau"])
    assert created.status_code == 303, created.text
    url = created.headers["location"]
    shown = api.get(url, headers=heads["bureau"])
    assert shown.status_code == 200 and "GB 11643-1999" in shown.text
    assert 'data-testid="edit-element"' in shown.text
    edited = api.post(
        url, data={**ELEMENT, "definition": "18位公民身份号码。", "length": "18"},
        headers=heads["bureau"],
    )  # fmt: skip
    assert edited.status_code == 303
    element = session.scalar(select(DataElement).where(DataElement.code == "DE0101"))
    assert element.definition == "18位公民身份号码。" and element.length == 18
    # a department sees the registry but not the bureau's forms
    listing = api.get("/console/catalog/elements", headers=heads["editor"])
    assert "公民身份号码" in listing.text and 'data-testid="new-element"' not in listing.text
    assert (
        api.post("/console/catalog/elements", data=ELEMENT, headers=heads["editor"]).status_code
        == 403
    )


def test_a_duplicate_or_bad_element_comes_back_with_the_reason(api, heads):
    assert (
        api.post("/console/catalog/elements", data=ELEMENT, headers=heads["bureau"]).status_code
        == 303
    )
    again = api.post("/console/catalog/elements", data=ELEMENT, headers=heads["bureau"])
    assert again.status_code == 409 and 'data-testid="form-error"' in again.text
    assert 'value="DE0101"' in again.text  # the form keeps what was typed
    bad = api.post(
        "/console/catalog/elements", data={**ELEMENT, "code": "DE0102", "name": "乙", "length": "十八"},
        headers=heads["bureau"],
    )  # fmt: skip
    assert bad.status_code == 422 and 'data-testid="form-error"' in bad.text


def test_departments_claim_and_the_bureau_decides(api, session, orgs, heads):
    url = api.post("/console/catalog/elements", data=ELEMENT, headers=heads["bureau"]).headers[
        "location"
    ]
    for who, basis in (("police", "《居民身份证法》"), ("market", "")):
        page = api.get(url, headers=heads[who])
        assert 'data-testid="claim-form"' in page.text
        assert (
            api.post(f"{url}/claim", data={"basis": basis}, headers=heads[who]).status_code == 303
        )
    twice = api.post(f"{url}/claim", data={}, headers=heads["police"])
    assert twice.status_code == 409 and 'data-testid="form-error"' in twice.text
    element = session.scalar(select(DataElement).where(DataElement.code == "DE0101"))
    published(
        session, orgs["police"], name="常住人口基本信息",
        fields=[FieldData("gmsfhm", "公民身份号码", "string", 18, element_id=element.id)],
    )  # fmt: skip
    session.commit()
    conflicts = api.get("/console/catalog/elements", headers=heads["bureau"])
    assert 'data-testid="conflicts"' in conflicts.text
    decided = api.post(f"{url}/resolve", data={"org_id": orgs["police"]}, headers=heads["bureau"])
    assert decided.status_code == 303
    session.rollback()  # a fresh snapshot
    claims = {c.org_id: c.status for c in session.scalars(select(ElementClaim))}
    assert claims == {orgs["police"]: "accepted", orgs["market"]: "rejected"}
    page = api.get(url, headers=heads["bureau"])
    assert "《居民身份证法》" in page.text and 'data-testid="authority"' in page.text
    assert "常住人口基本信息" in page.text  # where to get the element from
    assert (
        api.post(
            f"{url}/resolve", data={"org_id": orgs["market"]}, headers=heads["police"]
        ).status_code
        == 403
    )
    assert api.get("/console/catalog/elements/999999", headers=heads["bureau"]).status_code == 404


def test_the_bureau_keeps_duty_lists(api, session, orgs, heads):
    entry = published(session, orgs["culture_tourism"], name="全省旅行社名录")
    session.commit()
    page = api.get("/console/catalog/duties", headers=heads["bureau"])
    assert page.status_code == 200 and 'data-testid="new-duty"' in page.text
    org = orgs["culture_tourism"]
    for name in ("全省A级旅游景区名录", "旅行社基本信息"):
        added = api.post(
            "/console/catalog/duties", data={"org_id": org, "name": name}, headers=heads["bureau"]
        )
        assert added.status_code == 303 and added.headers["location"].endswith(f"?org={org}")
    twice = api.post(
        "/console/catalog/duties",
        data={"org_id": org, "name": "旅行社基本信息"},
        headers=heads["bureau"],
    )
    assert twice.status_code == 409 and 'data-testid="form-error"' in twice.text
    item = session.scalar(select(DutyItem).where(DutyItem.name == "旅行社基本信息"))
    item_id = item.id
    listing = api.get("/console/catalog/duties", params={"org": org}, headers=heads["bureau"])
    assert "全省旅行社名录" in listing.text  # offered as the entry that fulfils an item
    linked = api.post(
        f"/console/catalog/duties/{item.id}/link", data={"resource_id": entry.id},
        headers=heads["bureau"],
    )  # fmt: skip
    assert linked.status_code == 303
    report = api.get("/console/catalog/levels", headers=heads["bureau"])
    assert "50%" in report.text  # one of two expected items is catalogued (the linked one)
    # the department reads its list; only the bureau changes it
    own = api.get("/console/catalog/duties", headers=heads["reviewer"])
    assert own.status_code == 200 and "旅行社基本信息" in own.text
    assert 'data-testid="new-duty"' not in own.text
    assert (
        api.post(f"/console/catalog/duties/{item.id}/remove", headers=heads["reviewer"]).status_code
        == 403
    )
    removed = api.post(f"/console/catalog/duties/{item.id}/remove", headers=heads["bureau"])
    assert removed.status_code == 303
    session.rollback()  # a fresh snapshot
    assert session.scalar(select(DutyItem.id).where(DutyItem.id == item_id)) is None
    gone = api.post(f"/console/catalog/duties/{item_id}/remove", headers=heads["bureau"])
    assert gone.status_code == 404 and 'data-testid="form-error"' in gone.text
