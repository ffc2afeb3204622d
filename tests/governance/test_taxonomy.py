"""The classification (数据分类): the packaged taxonomy, a deployment's own file, the checks a
file must pass, and the suggestion of a category from a resource's description."""

from __future__ import annotations

from pathlib import Path

import pytest

from longshu.catalog.vocab import BASE_DATABASES, DOMAINS, THEME_DATABASES
from longshu.governance import grading, taxonomy
from longshu.governance.grading_errors import CategoryUnknown, TaxonomyInvalid


def write(tmp_path: Path, text: str, name: str = "taxonomy.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


SMALL = """
categories:
  - code: health
    title_zh: 医疗健康
    title_en: Health
    grade_floor: 一般-2
    keywords: [医疗, 健康]
    children:
      - code: health.records
        title_zh: 病历
        title_en: Records
        grade_floor: general-4
        keywords: [病历, 诊断, diagnosis]
      - code: health.staff
        title_zh: 医护人员
        title_en: Staff
        keywords: [医师, 护士, gis]
  - code: health.staff.nurses
    parent: health.staff
    title_zh: 护士
    title_en: Nurses
    keywords: [护士, health_term]
"""


# --- the packaged taxonomy ----------------------------------------------------------------


def test_packaged_taxonomy_has_the_catalogs_domains_and_databases_as_roots():
    tax = taxonomy.load_taxonomy()
    roots = {c.code for c in tax.children()}
    assert set(DOMAINS) <= roots
    assert set(BASE_DATABASES) <= roots
    assert set(THEME_DATABASES) <= roots
    assert len(tax) > 60
    for category in tax.categories.values():
        assert category.title_zh and category.title_en and category.keywords
        if category.grade_floor:
            assert category.grade_floor in grading.GRADES


def test_packaged_floors_follow_the_sensitive_kinds():
    tax = taxonomy.load_taxonomy()
    assert tax.get("health.medical_record").grade_floor == "general-4"
    assert tax.get("geospatial.high_precision").grade_floor == "important"
    assert tax.get("meteorology.observation").grade_floor is None
    assert [c.code for c in tax.path("health.medical_record")] == [
        "health",
        "health.medical_record",
    ]


def test_unknown_category_is_refused():
    tax = taxonomy.load_taxonomy()
    with pytest.raises(CategoryUnknown) as caught:
        tax.get("health.nothing")
    assert "health.nothing" in str(caught.value)
    with pytest.raises(CategoryUnknown):
        tax.children("nothing")


# --- a deployment's own file --------------------------------------------------------------


def test_nested_and_parent_linked_categories_inherit_the_highest_floor(tmp_path):
    tax = taxonomy.load_taxonomy(write(tmp_path, SMALL))
    assert tax.get("health").grade_floor == "general-2"  # the label 一般-2 became a code
    assert tax.get("health.records").grade_floor == "general-4"  # its own, higher
    assert tax.get("health.staff").grade_floor == "general-2"  # inherited
    nurses = tax.get("health.staff.nurses")
    assert nurses.parent == "health.staff" and nurses.grade_floor == "general-2"
    assert [c.code for c in tax.path("health.staff.nurses")] == [
        "health",
        "health.staff",
        "health.staff.nurses",
    ]
    assert [c.code for c in tax.children("health")] == ["health.records", "health.staff"]


def test_tree_nests_the_categories(tmp_path):
    tree = taxonomy.load_taxonomy(write(tmp_path, SMALL)).tree()
    assert [n["code"] for n in tree] == ["health"]
    staff = tree[0]["children"][1]
    assert staff["code"] == "health.staff" and staff["grade_floor_label"] == "一般-2"
    assert [n["code"] for n in staff["children"]] == ["health.staff.nurses"]


def test_environment_names_the_deployments_file(tmp_path, monkeypatch):
    monkeypatch.setenv(taxonomy.TAXONOMY_ENV, str(write(tmp_path, SMALL)))
    assert {c.code for c in taxonomy.load_taxonomy().children()} == {"health"}
    monkeypatch.delenv(taxonomy.TAXONOMY_ENV)
    assert len(taxonomy.load_taxonomy()) > 60


@pytest.mark.parametrize(
    ("text", "detail"),
    [
        ("categories: [unclosed", "not YAML"),
        ("- just a list", "mapping with a list under 'categories'"),
        ("categories: []", "no categories"),
        (
            "categories:\n  - {code: a, title_zh: 甲, title_en: A}\n"
            "  - {code: a, title_zh: 乙, title_en: B}",
            "code a is used twice",
        ),
        (
            "categories:\n  - {code: a, title_zh: 甲, title_en: A, parent: b}\n"
            "  - {code: b, title_zh: 乙, title_en: B, parent: c}\n"
            "  - {code: c, title_zh: 丙, title_en: C, parent: a}",
            "cycle",
        ),
        (
            "categories:\n  - {code: a, title_zh: 甲, title_en: A, parent: ghost}",
            "names parent ghost, which does not exist",
        ),
        (
            "categories:\n  - {code: a, title_zh: 甲, title_en: A, grade_floor: 机密}",
            "grade_floor '机密' is not a grade",
        ),
        ("categories:\n  - {code: A-1, title_zh: 甲, title_en: A}", "code 'A-1'"),
        ("categories:\n  - {code: a, title_zh: 甲, title_en: A, floor: core}", "unknown keys"),
        ("categories:\n  - {code: a, title_en: A}", "needs title_zh"),
        (
            "categories:\n  - code: a\n    title_zh: 甲\n    title_en: A\n    children:\n"
            "      - {code: b, title_zh: 乙, title_en: B, parent: z}",
            "nested under a but names parent z",
        ),
        ("categories:\n  - {code: a, title_zh: 甲, title_en: A, keywords: 医疗}", "keywords"),
    ],
)
def test_invalid_files_are_refused_saying_what_is_wrong(tmp_path, text, detail):
    path = write(tmp_path, text)
    with pytest.raises(TaxonomyInvalid) as caught:
        taxonomy.load_taxonomy(path)
    assert detail in str(caught.value)
    assert str(path) in str(caught.value)


def test_missing_file_is_refused(tmp_path):
    with pytest.raises(TaxonomyInvalid):
        taxonomy.load_taxonomy(tmp_path / "absent.yaml")


# --- suggestion ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("title", "fields", "types", "expected"),
    [
        ("全省常住人口户籍信息", ["xm", "sfzh", "hjdz"], ["resident_id"], "population.household"),
        ("省人民医院门诊病历", ["诊断", "就诊日期"], ["resident_id"], "health.medical_record"),
        (
            "市场主体登记信息",
            ["统一社会信用代码", "法定代表人"],
            ["credit_code"],
            "legal_person.registration",
        ),
        ("兰州市逐小时气象观测数据", ["气温", "降水", "风速"], [], "meteorology.observation"),
        ("城市供水管网普查成果", ["管径", "埋深"], [], "utilities.networks"),
    ],
)
def test_suggests_the_specific_category_first(title, fields, types, expected):
    ranked = taxonomy.suggest_category(
        taxonomy.load_taxonomy(), title=title, field_names=fields, finding_types=types
    )
    assert ranked[0][0].code == expected
    scores = [score for _c, score in ranked]
    assert scores == sorted(scores, reverse=True)
    assert all(0 < score < 1 for score in scores)


def test_child_ranks_above_its_matching_parent(tmp_path):
    tax = taxonomy.load_taxonomy(write(tmp_path, SMALL))
    ranked = taxonomy.suggest_category(tax, title="医疗机构病历")
    assert [c.code for c, _s in ranked] == ["health.records", "health"]


def test_latin_keywords_match_whole_words_and_types_match_exact_codes(tmp_path):
    tax = taxonomy.load_taxonomy(write(tmp_path, SMALL))
    assert taxonomy.suggest_category(tax, title="x", field_names=["logistics_fee"]) == []
    hit = taxonomy.suggest_category(tax, title="x", field_names=["GIS_layer"])
    assert [c.code for c, _s in hit] == ["health.staff"]
    assert taxonomy.suggest_category(tax, title="x", finding_types=["health_term_x"]) == []
    typed = taxonomy.suggest_category(tax, title="x", finding_types=["health_term"])
    assert [c.code for c, _s in typed] == ["health.staff.nurses"]


def test_title_counts_more_than_a_field_name(tmp_path):
    tax = taxonomy.load_taxonomy(write(tmp_path, SMALL))
    by_title = taxonomy.suggest_category(tax, title="诊断记录")[0][1]
    by_field = taxonomy.suggest_category(tax, title="x", field_names=["诊断"])[0][1]
    assert by_title > by_field


def test_a_tag_naming_a_category_code_counts():
    tax = taxonomy.load_taxonomy()
    ranked = taxonomy.suggest_category(tax, title="统计表", tags=["health"])
    assert ranked[0][0].code == "health"
    untagged = taxonomy.suggest_category(tax, title="统计表")
    assert "health" not in {c.code for c, _s in untagged}


def test_nothing_matching_suggests_nothing():
    tax = taxonomy.load_taxonomy()
    assert taxonomy.suggest_category(tax, title="", tags=[], field_names=["c1", "c2"]) == []
