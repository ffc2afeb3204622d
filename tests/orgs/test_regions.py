from __future__ import annotations

import pytest
from sqlalchemy import func, select

from longshu.orgs import regions as r
from longshu.orgs.errors import InvalidRegion, UnknownRegion
from longshu.orgs.models import Region


def test_gansu_has_one_province_fourteen_cities_and_eighty_six_counties(regions):
    assert len(r.list_regions(regions, level="province")) == 1
    cities = r.list_regions(regions, level="city")
    assert [c.code for c in cities][:1] == ["620100"] and len(cities) == 14
    assert cities[-1].code == "623000" and cities[-1].name == "甘南藏族自治州"
    official_counties = [c for c in r.list_regions(regions, level="county") if c.official]
    assert len(official_counties) == 86


def test_county_kinds_match_the_published_counts(regions):
    kinds = dict(
        regions.execute(
            select(Region.kind, func.count()).where(Region.level == "county").group_by(Region.kind)
        ).all()
    )
    assert kinds == {
        "district": 17,
        "county": 57,
        "autonomous_county": 7,
        "county_city": 5,
        "functional_area": 1,
    }


@pytest.mark.parametrize(
    ("code", "name", "parent", "kind"),
    [
        ("620102", "城关区", "620100", "district"),
        ("620902", "肃州区", "620900", "district"),
        ("620982", "敦煌市", "620900", "county_city"),
        ("623001", "合作市", "623000", "county_city"),
        ("620881", "华亭市", "620800", "county_city"),
        ("622927", "积石山保安族东乡族撒拉族自治县", "622900", "autonomous_county"),
        ("621223", "宕昌县", "621200", "county"),
        ("622900", "临夏回族自治州", "620000", "autonomous_prefecture"),
    ],
)
def test_real_codes_carry_their_published_names(regions, code, name, parent, kind):
    region = r.get_region(regions, code)
    assert (region.name, region.parent_code, region.kind, region.official) == (
        name,
        parent,
        kind,
        True,
    )


def test_lanzhou_new_area_is_a_documented_functional_area_under_lanzhou(regions):
    area = r.get_region(regions, "620171")
    assert (area.name, area.kind, area.level, area.parent_code, area.official) == (
        "兰州新区",
        "functional_area",
        "county",
        "620100",
        False,
    )
    assert "620171" in r.region_data()["notes"]


def test_short_names_drop_the_ethnic_part_of_autonomous_names(regions):
    assert r.get_region(regions, "622900").short_name == "临夏州"
    assert r.get_region(regions, "620923").short_name == "肃北县"
    assert r.get_region(regions, "620900").short_name == "酒泉"


def test_data_file_says_which_year_it_follows():
    source = r.region_data()["source"]
    assert source["year"] == 2025 and "民政部" in source["list"]


def test_jiayuguan_has_no_counties(regions):
    assert r.list_regions(regions, parent_code="620200") == []
    assert r.descendant_codes(regions, "620200") == ["620200"]


def test_descendants_of_a_city_are_its_counties(regions):
    codes = r.descendant_codes(regions, "620900")
    assert sorted(codes) == [
        "620900",
        "620902",
        "620921",
        "620922",
        "620923",
        "620924",
        "620981",
        "620982",
    ]


def test_tree_nests_counties_under_cities_in_published_order(regions):
    tree = r.region_tree(regions)
    assert tree.region.code == "620000"
    assert [c.region.code for c in tree.children][:3] == ["620100", "620200", "620300"]
    lanzhou = tree.children[0]
    assert [c.region.name for c in lanzhou.children][-1] == "兰州新区"
    assert sum(len(c.children) for c in tree.children) == 87


def test_path_runs_from_province_down(regions):
    assert [x.name for x in r.region_path(regions, "620982")] == ["甘肃省", "酒泉市", "敦煌市"]


@pytest.mark.parametrize(
    "code",
    ["62010", "6201020", "62O102", "", "abcdef", "990102", "620012", None, 620102, "６２０１０２"],
)
def test_malformed_codes_are_invalid_region(regions, code):
    with pytest.raises(InvalidRegion) as caught:
        r.get_region(regions, code)
    assert not isinstance(caught.value, UnknownRegion)
    assert caught.value.key == "orgs.invalid_region" and caught.value.status == 422


@pytest.mark.parametrize("code", ["620124", "110101", "620824", "623028"])
def test_well_formed_but_unknown_codes_are_unknown_region(regions, code):
    with pytest.raises(UnknownRegion) as caught:
        r.get_region(regions, code)
    assert caught.value.key == "orgs.unknown_region"
    assert code in str(caught.value)


def test_oversized_code_is_cut_in_the_message(regions):
    with pytest.raises(InvalidRegion) as caught:
        r.get_region(regions, "6" * 5000)
    assert len(str(caught.value)) < 200


def test_loading_twice_changes_nothing_and_emits_once(session, emitted):
    first = r.load_regions(session)
    session.commit()
    second = r.load_regions(session)
    session.commit()
    assert first == {"inserted": 102, "updated": 0}
    assert second == {"inserted": 0, "updated": 0}
    [event] = emitted("orgs.regions_loaded")
    assert event.payload == {"inserted": 102, "updated": 0, "source_year": 2025}


def test_loading_repairs_a_changed_row(regions):
    regions.get(Region, "620982").name = "敦煌县"
    regions.commit()
    assert r.load_regions(regions) == {"inserted": 0, "updated": 1}
    assert regions.get(Region, "620982").name == "敦煌市"
