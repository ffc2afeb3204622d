"""省市县三级: counts per level and region, and 应编尽编 completeness against duty lists."""

from __future__ import annotations

import pytest
from tests.catalog.conftest import published, sample

from longshu.actor import SYSTEM
from longshu.catalog import levels, service
from longshu.catalog.errors import DuplicateDutyItem
from longshu.errors import Forbidden


@pytest.fixture
def three_levels(session, orgs):
    published(session, orgs["culture_tourism"], name="全省旅游景区名录")
    published(session, orgs["jiuquan_culture_tourism"], name="酒泉市旅游接待统计", open_type="none")
    published(session, orgs["dunhuang_culture_tourism"], name="敦煌市莫高窟参观预约数据")
    published(
        session, orgs["dingxi_agriculture"], name="定西市马铃薯种植面积", domain="agriculture"
    )
    service.create_resource(
        session, SYSTEM, sample(name="草稿"), provider_org_id=orgs["dunhuang_culture_tourism"]
    )
    session.commit()


def test_counts_per_level(session, people, three_levels):
    assert levels.level_counts(session, people["auditor"]) == {
        "province": 1,
        "city": 2,
        "county": 1,
    }


def test_the_province_view_aggregates_cities_and_counties(session, people, three_levels):
    rows = {r.code: r for r in levels.region_counts(session, people["bureau"])}
    assert rows["620000"].published == 4 and rows["620000"].public == 3
    jiuquan = rows["620900"]
    assert (jiuquan.published, jiuquan.public, jiuquan.in_progress) == (2, 1, 1)
    assert jiuquan.by_level == {"city": 1, "county": 1}
    assert rows["621100"].published == 1 and rows["620100"].published == 0
    city_only = levels.region_counts(session, people["bureau"], "620900")
    assert [r.code for r in city_only][:1] == ["620900"] and city_only[0].published == 2


def test_completeness_against_the_duty_list(session, people, orgs, three_levels, emitted):
    bureau = people["bureau"]
    levels.add_duty(session, bureau, orgs["dunhuang_culture_tourism"], "敦煌市莫高窟参观预约数据")
    levels.add_duty(session, bureau, orgs["dunhuang_culture_tourism"], "敦煌市星级饭店名录")
    linked = levels.add_duty(session, bureau, orgs["culture_tourism"], "A级景区基础信息")
    with pytest.raises(DuplicateDutyItem):
        levels.add_duty(session, bureau, orgs["culture_tourism"], "A级景区基础信息")
    with pytest.raises(Forbidden):
        levels.add_duty(session, people["editor"], orgs["culture_tourism"], "其他")
    report = {r.org_id: r for r in levels.completeness(session, people["auditor"])}
    dunhuang = report[orgs["dunhuang_culture_tourism"]]
    assert (dunhuang.expected, dunhuang.fulfilled, dunhuang.ratio) == (2, 1, 0.5)
    assert dunhuang.missing == ["敦煌市星级饭店名录"]
    assert report[orgs["culture_tourism"]].fulfilled == 0
    entry_id = service.list_resources(
        session, SYSTEM, service.ResourceFilter(provider_org_id=orgs["culture_tourism"])
    )[0][0].id
    levels.link_duty(session, bureau, linked.id, entry_id)
    report = {
        r.org_id: r for r in levels.completeness(session, people["auditor"], region_code="620000")
    }
    assert report[orgs["culture_tourism"]].ratio == 1.0
    only_jiuquan = levels.completeness(session, people["auditor"], region_code="620900")
    assert [r.org_id for r in only_jiuquan] == [orgs["dunhuang_culture_tourism"]]
    assert len(emitted("catalog.duty_added")) == 3
