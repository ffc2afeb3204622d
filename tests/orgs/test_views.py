from __future__ import annotations

import pytest

from longshu.actor import SYSTEM
from longshu.orgs.demo import load_demo_organisations


@pytest.fixture
def demo(db):
    with db.session() as session:
        load_demo_organisations(session, SYSTEM)


def test_directory_lists_a_city_with_its_counties(api, demo, bearer):
    page = api.get("/console/orgs", params={"region": "620900"}, headers=bearer("auditor"))
    assert page.status_code == 200
    assert "酒泉市文化和旅游局" in page.text and "敦煌市文化和旅游局" in page.text
    assert "甘肃省公安厅" not in page.text
    assert '<option value="620982"' in page.text  # the region filter offers counties


def test_directory_filters_by_kind(api, demo, bearer):
    page = api.get("/console/orgs", params={"kind": "operator"}, headers=bearer("auditor"))
    table = page.text.split('data-testid="org-table"', 1)[1].split("</table>", 1)[0]
    assert "陇原数智运营有限公司（演示）" in table and "甘肃省数据局" not in table


def test_bad_region_filter_shows_the_reason(api, demo, bearer):
    page = api.get("/console/orgs", params={"region": "610100"}, headers=bearer("auditor"))
    assert page.status_code == 422
    assert 'data-testid="filter-error"' in page.text


def test_directory_is_not_for_the_public(api, demo, bearer):
    assert api.get("/console/orgs", headers=bearer("public")).status_code == 403
