"""The catalog's pages: portal search with facets, the entry page, and the console's work
list, form, review buttons, import and reports."""

from __future__ import annotations

import pytest
from tests.catalog.conftest import published, sample
from tests.catalog.test_excel import RESOURCE_ROW, workbook

from longshu.actor import SYSTEM
from longshu.catalog import elements, levels, service


@pytest.fixture
def shelf(session, orgs):
    made = {
        "scenic": published(session, orgs["culture_tourism"]),
        "people": published(
            session, orgs["police"], name="常住人口统计", domain="public_security",
            base_databases=["population"], keywords=["人口"],
        ),
        "closed": published(session, orgs["police"], name="人口户籍明细", open_type="none"),
        "draft": service.create_resource(session, SYSTEM, sample(name="景区草稿"), provider_org_id=orgs["culture_tourism"]),
    }  # fmt: skip
    elements.create_element(
        session, SYSTEM, code="DE0001", name="公民身份号码", definition="18位。"
    )
    levels.add_duty(session, SYSTEM, orgs["culture_tourism"], "导游人员信息")
    session.commit()
    return made


@pytest.fixture
def heads(orgs, bearer):
    return {
        "editor": bearer("dept_data_admin", org_id=orgs["culture_tourism"]),
        "reviewer": bearer("dept_reviewer", org_id=orgs["culture_tourism"]),
        "bureau": bearer("bureau_reviewer", org_id=orgs["bureau"]),
    }


def test_portal_search_finds_two_character_words_with_facets(api, shelf):
    page = api.get("/catalog", params={"q": "人口"})
    assert page.status_code == 200
    assert "常住人口统计" in page.text and "人口户籍明细" not in page.text  # closed: staff only
    assert 'data-facet="domain"' in page.text and "公共安全" in page.text
    filtered = api.get("/catalog", params={"domain": "culture_tourism"})
    assert "全省A级旅游景区名录" in filtered.text and "常住人口统计" not in filtered.text
    english = api.get("/catalog", params={"q": "景区", "lang": "en"})
    assert "Culture and tourism" in english.text


def test_a_bad_filter_says_why(api, shelf):
    page = api.get("/catalog", params={"format": "DOC"})
    assert page.status_code == 422 and 'data-testid="search-error"' in page.text


def test_the_entry_page_shows_metadata_fields_and_how_to_obtain(api, shelf):
    page = api.get(f"/catalog/resources/{shelf['scenic'].id}")
    assert page.status_code == 200
    for text in (
        shelf["scenic"].code,
        "景区名称",
        "无条件开放",
        'data-testid="how-to-obtain"',
        "DCAT-AP",
    ):
        assert text in page.text
    assert api.get(f"/catalog/resources/{shelf['closed'].id}").status_code == 404
    assert api.get(f"/catalog/resources/{shelf['draft'].id}").status_code == 404


def test_console_work_list_form_and_review(api, shelf, heads):
    listing = api.get("/console/catalog", headers=heads["editor"])
    assert (
        listing.status_code == 200
        and "景区草稿" in listing.text
        and "常住人口统计" not in listing.text
    )
    form = api.get("/console/catalog/new", headers=heads["editor"])
    assert form.status_code == 200 and 'name="fields"' in form.text
    body = {
        "name": "全省导游人员信息", "summary": "持证导游的等级和所属旅行社。", "domain": "culture_tourism",
        "share_type": "unconditional", "open_type": "conditional", "open_conditions": "实名申请",
        "update_cycle": "monthly", "kind": "table", "formats": ["CSV", "XLSX"],
        "keywords": "导游、旅游", "fields": "dyxm | 导游姓名 | string | 50\ndjzh | 导游证号 | 字符型 | 20",
    }  # fmt: skip
    created = api.post("/console/catalog/new", data=body, headers=heads["editor"])
    assert created.status_code == 303, created.text
    url = created.headers["location"]
    entry = api.get(url, headers=heads["editor"])
    assert "导游证号" in entry.text and 'data-move="submit"' in entry.text
    version = int(entry.text.split('name="version" value="', 1)[1].split('"', 1)[0])
    moved = api.post(
        f"{url}/move", data={"transition": "submit", "version": version}, headers=heads["editor"]
    )
    assert moved.status_code == 303
    reviewer_view = api.get(url, headers=heads["reviewer"])
    assert (
        'data-move="approve"' in reviewer_view.text and 'data-move="return"' in reviewer_view.text
    )
    refused = api.post(f"{url}/move", data={"transition": "return"}, headers=heads["reviewer"])
    assert refused.status_code == 422 and 'data-testid="entry-error"' in refused.text


def test_the_form_comes_back_with_the_reason(api, shelf, heads):
    bad = {
        "name": "甲", "summary": "摘要", "domain": "culture_tourism", "share_type": "conditional",
        "open_type": "none", "update_cycle": "monthly", "kind": "table", "formats": ["CSV"],
    }  # fmt: skip
    page = api.post("/console/catalog/new", data=bad, headers=heads["editor"])
    assert page.status_code == 422 and 'data-testid="form-error"' in page.text
    assert "name" in page.text and 'value="甲"' in page.text


def test_an_out_of_date_edit_form_is_refused(api, shelf, heads):
    entry = shelf["draft"]
    form = api.get(f"/console/catalog/{entry.id}/edit", headers=heads["editor"])
    assert form.status_code == 200
    fields = {
        "name": "景区草稿（改）", "summary": "摘要。", "domain": "culture_tourism",
        "share_type": "unconditional", "open_type": "unconditional", "update_cycle": "monthly",
        "kind": "table", "formats": ["CSV"], "version": entry.version,
    }  # fmt: skip
    assert (
        api.post(
            f"/console/catalog/{entry.id}/edit", data=fields, headers=heads["editor"]
        ).status_code
        == 303
    )
    stale = api.post(f"/console/catalog/{entry.id}/edit", data=fields, headers=heads["editor"])
    assert stale.status_code == 409 and "重新加载" in stale.text


def test_import_page_lists_problems(api, shelf, heads):
    bad = workbook([{**RESOURCE_ROW, "领域": "占星"}], [])
    page = api.post(
        "/console/catalog/import", files={"file": ("x.xlsx", bad)}, headers=heads["editor"]
    )
    assert (
        page.status_code == 422
        and 'data-testid="import-problems"' in page.text
        and "占星" in page.text
    )
    good = api.post(
        "/console/catalog/import",
        files={"file": ("x.xlsx", workbook([RESOURCE_ROW], []))},
        headers=heads["editor"],
    )
    assert good.status_code == 200 and 'data-testid="import-summary"' in good.text


def test_registry_and_reports(api, shelf, heads):
    registry = api.get("/console/catalog/elements", headers=heads["bureau"])
    assert registry.status_code == 200 and "公民身份号码" in registry.text
    report = api.get("/console/catalog/levels", headers=heads["reviewer"])
    assert report.status_code == 200 and "导游人员信息" in report.text
    assert (
        api.get(
            "/console/catalog/levels", params={"root": "999999"}, headers=heads["reviewer"]
        ).status_code
        == 422
    )
