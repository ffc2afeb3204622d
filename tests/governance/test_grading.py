"""Grading (数据分级): grade codes and labels, proposals from findings and facts, floors, the
policy each grade implies, the rules file, and a person's confirmation."""

from __future__ import annotations

import itertools
import json
from pathlib import Path
from typing import get_args

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from longshu.catalog.vocab import OPEN_TYPES, SHARE_TYPES
from longshu.governance import grading, taxonomy
from longshu.governance.grading_errors import (
    GradeBelowFloor,
    GradeBelowProposal,
    GradeReasonRequired,
    GradeUnknown,
    GradingRulesInvalid,
)
from longshu.governance.grading_rules import RULES_ENV, RULES_FILE
from longshu.lake.policy import MaskKind
from longshu.opendata.datastore import OPEN_GRADES
from longshu.security.access.roles import ROLES
from longshu.web.i18n import error_message, reload_catalogues

TAX = taxonomy.load_taxonomy()


def finding(kind: str, category: str, ratio: float = 1.0, confidence: float = 0.99, column=None):
    return {
        "type": kind,
        "category": category,
        "hit_ratio": ratio,
        "confidence": confidence,
        "column": column or kind,
    }


RESIDENT_ID = finding("resident_id", "sensitive_personal", column="sfzh")
NAME = finding("person_name", "personal", column="xm")
PHONE = finding("mobile", "personal", column="lxdh")
CREDIT_CODE = finding("credit_code", "organisation", column="tyshxydm")
HEALTH = finding("health_term", "sensitive_personal", column="zd")


# --- grades -------------------------------------------------------------------------------


def test_grades_are_ordered_with_the_catalogs_labels():
    assert list(grading.GRADES) == [
        "general-1", "general-2", "general-3", "general-4", "important", "core",
    ]  # fmt: skip
    assert [g.label_zh for g in grading.GRADES.values()] == [
        "一般-1", "一般-2", "一般-3", "一般-4", "重要", "核心",
    ]  # fmt: skip
    # The open-data datastore serves entries whose grade label starts with 一般, only.
    served = [g.code for g in grading.GRADES.values() if g.label_zh.startswith(OPEN_GRADES)]
    assert served == ["general-1", "general-2", "general-3", "general-4"]


@pytest.mark.parametrize(
    ("value", "code"),
    [("一般-2", "general-2"), ("general-2", "general-2"), ("一般数据3级", "general-3"),
     (" 重要 ", "important"), ("核心数据", "core"), ("Important", "important")],
)  # fmt: skip
def test_grade_codes_accept_labels(value, code):
    assert grading.grade_code(value) == code


def test_unknown_grade_is_refused():
    with pytest.raises(GradeUnknown) as caught:
        grading.grade_code("机密")
    assert "机密" in str(caught.value) and "一般-1" in str(caught.value)


def test_compare_and_at_least():
    assert grading.compare("一般-2", "general-3") == -1
    assert grading.compare("core", "重要") == 1
    assert grading.compare("一般-4", "general-4") == 0
    assert grading.at_least("general-2", "general-4") == "general-4"
    assert grading.at_least("important", "一般-4") == "important"
    assert grading.at_least("一般-1", None) == "general-1"


# --- proposals ----------------------------------------------------------------------------


def test_population_with_ids_of_two_million_people_is_important():
    proposal = grading.propose_grade(
        findings=[RESIDENT_ID, NAME],
        rows=2_000_000,
        category=TAX.get("population.household"),
        coverage="province",
    )
    assert proposal.grade == "important"
    assert (proposal.impact_object, proposal.impact_degree) == ("public_interest", "serious")
    assert proposal.codes[0] == "sensitive_personal_1m"
    assert "100万人以上敏感个人信息" in proposal.reasons[0]
    assert proposal.factors["subjects"]["sensitive_personal"] == 2_000_000
    json.dumps(proposal.as_dict(), ensure_ascii=False)  # storable as JSON


def test_ids_of_fewer_people_are_general_4():
    proposal = grading.propose_grade(findings=[RESIDENT_ID], rows=500_000)
    assert proposal.grade == "general-4"
    assert (proposal.impact_object, proposal.impact_degree) == (
        "personal_rights",
        "particularly_serious",
    )


def test_business_registry_is_general_2():
    proposal = grading.propose_grade(
        findings=[CREDIT_CODE],
        rows=300_000,
        category=TAX.get("legal_person.registration"),
        open_type="conditional",
    )
    assert proposal.grade == "general-2"
    assert proposal.impact_object == "organisation_rights"
    assert proposal.factors["conflicts"] == []


@pytest.mark.parametrize(("rows", "grade"), [(50_000, "general-4"), (1_200_000, "important")])
def test_hospital_records_by_scale(rows, grade):
    proposal = grading.propose_grade(
        findings=[HEALTH, RESIDENT_ID, NAME],
        rows=rows,
        category=TAX.get("health.medical_record"),
    )
    assert proposal.grade == grade


def test_weather_open_without_conditions_is_general_1():
    proposal = grading.propose_grade(
        findings=[],
        rows=8_000_000,
        category=TAX.get("meteorology.observation"),
        open_type="unconditional",
        share_type="unconditional",
    )
    assert proposal.grade == "general-1"
    assert proposal.codes == ("baseline_open",)


def test_government_data_not_declared_open_is_general_2():
    assert grading.propose_grade(findings=[], rows=10).grade == "general-2"
    assert grading.propose_grade(findings=[], rows=10, share_type="none").grade == "general-3"


@pytest.mark.parametrize(
    ("findings", "rows", "coverage", "grade"),
    [
        ([NAME, PHONE], 200_000, "city", "general-3"),
        ([NAME, PHONE], 200_000, "province", "general-4"),  # province-wide register
        ([NAME, PHONE], 1_500_000, None, "general-4"),  # 大规模个人信息
        ([NAME, PHONE], 12_000_000, None, "important"),  # 网络数据安全管理条例 第二十八条
        ([finding("ip", "network")], 5_000, None, "general-2"),
    ],
)
def test_personal_information_by_scale_and_coverage(findings, rows, coverage, grade):
    assert grading.propose_grade(findings=findings, rows=rows, coverage=coverage).grade == grade


def test_findings_below_the_thresholds_do_not_count():
    weak = finding("resident_id", "sensitive_personal", confidence=0.3)
    rare = finding("resident_id", "sensitive_personal", ratio=0.01)
    proposal = grading.propose_grade(findings=[weak, rare], rows=5_000_000)
    assert proposal.grade == "general-2"
    assert proposal.factors["categories"] == []


def test_rules_raise_a_kind_the_detector_filed_lower():
    ethnicity = finding("ethnicity", "personal", column="mz")
    proposal = grading.propose_grade(findings=[ethnicity], rows=1_000)
    assert proposal.grade == "general-4"
    assert proposal.factors["categories"] == ["personal", "sensitive_personal"]


def test_subjects_are_rows_times_the_hit_ratio():
    half = finding("resident_id", "sensitive_personal", ratio=0.5)
    fifth = finding("resident_id", "sensitive_personal", ratio=0.2)
    assert grading.propose_grade(findings=[half], rows=3_000_000).grade == "important"
    assert grading.propose_grade(findings=[fifth], rows=3_000_000).grade == "general-4"


def test_category_floor_raises_the_proposal_and_says_so(tmp_path):
    proposal = grading.propose_grade(
        findings=[], rows=100, category=TAX.get("geospatial.high_precision")
    )
    assert proposal.grade == "important"
    assert proposal.codes[0] == "category_floor"
    assert "高精度测绘与遥感" in proposal.reasons[0]
    assert proposal.factors["floor"] == "important"


def test_a_floor_never_lowers_a_higher_proposal():
    proposal = grading.propose_grade(
        findings=[RESIDENT_ID], rows=3_000_000, category=TAX.get("population.household")
    )
    assert proposal.grade == "important"
    assert "category_floor" not in proposal.codes


def test_declared_openness_beyond_the_grade_is_reported():
    proposal = grading.propose_grade(
        findings=[NAME], rows=1_000, open_type="unconditional", share_type="unconditional"
    )
    assert proposal.grade == "general-3"
    assert proposal.factors["conflicts"] == ["open_type_exceeds_grade", "share_type_exceeds_grade"]


# Property: more evidence or more rows never lower the proposal (就高从严).
RATIOS = st.sampled_from([0.01, 0.06, 0.3, 1.0, float("nan"), "?"]) | st.floats(-0.1, 1.2)
FINDINGS = st.builds(
    finding,
    st.sampled_from(
        ["resident_id", "person_name", "mobile", "credit_code", "ip", "ethnicity", "x"]
    ),
    st.sampled_from(["personal", "sensitive_personal", "organisation", "network", "location", "?"]),
    RATIOS,
    st.sampled_from([0.2, 0.9]) | st.floats(0, 1),
)
# Row counts around the scale thresholds (10万, 100万, 1000万) as well as anywhere.
ROWS = st.sampled_from([0, 1, 150_000, 1_200_000, 3_000_000, 12_000_000, 40_000_000]) | st.integers(
    0, 50_000_000
)
FACTS = st.fixed_dictionaries(
    {
        "category": st.sampled_from([None, None, *sorted(TAX.categories)]).map(
            lambda code: TAX.get(code) if code else None
        ),
        "coverage": st.sampled_from([None, "province", "city", "county"]),
        "open_type": st.sampled_from([None, "unconditional", "conditional", "none"]),
        "share_type": st.sampled_from([None, "unconditional", "conditional", "none"]),
    }
)


@settings(max_examples=1000, deadline=None)
@given(st.lists(FINDINGS, max_size=6), st.data(), ROWS, FACTS)
def test_adding_a_finding_never_lowers_the_grade(findings, data, rows, facts):
    # The extra finding is a new one, or one already there seen again with another ratio.
    again = st.sampled_from(findings or [finding("x", "?")]).flatmap(
        lambda f: RATIOS.map(lambda ratio: {**f, "hit_ratio": ratio})
    )
    extra = data.draw(FINDINGS | again)
    before = grading.propose_grade(findings=findings, rows=rows, **facts)
    after = grading.propose_grade(findings=[*findings, extra], rows=rows, **facts)
    assert grading.compare(after.grade, before.grade) >= 0


def test_a_weaker_sighting_of_the_same_kind_does_not_lower_the_grade():
    weaker = {**RESIDENT_ID, "hit_ratio": 0.06, "column": "bz"}
    assert (
        grading.propose_grade(findings=[RESIDENT_ID, weaker], rows=3_000_000).grade == "important"
    )


@settings(max_examples=1000, deadline=None)
@given(st.lists(FINDINGS, max_size=6), ROWS, ROWS, FACTS)
def test_more_rows_never_lower_the_grade(findings, rows, more, facts):
    before = grading.propose_grade(findings=findings, rows=rows, **facts)
    after = grading.propose_grade(findings=findings, rows=rows + more, **facts)
    assert grading.compare(after.grade, before.grade) >= 0
    floor = facts["category"].grade_floor if facts["category"] else None
    if floor:
        assert grading.compare(before.grade, floor) >= 0


# --- policy -------------------------------------------------------------------------------


def test_every_grade_has_a_policy_in_the_platforms_vocabularies():
    for code in grading.GRADES:
        policy = grading.grade_policy(code)
        assert policy.grade == code
        assert policy.share_type in SHARE_TYPES and policy.open_type in OPEN_TYPES
        assert set(policy.masks.values()) <= set(get_args(MaskKind))
        assert set(policy.approvers) <= set(ROLES)


def test_policies_tighten_as_the_grade_rises():
    openness = {"unconditional": 2, "conditional": 1, "none": 0}
    policies = [grading.grade_policy(code) for code in grading.GRADES]
    for lower, higher in itertools.pairwise(policies):
        assert openness[higher.open_type] <= openness[lower.open_type]
        assert openness[higher.share_type] <= openness[lower.share_type]
        assert len(higher.approvers) >= len(lower.approvers)
        limit = lambda p: float("inf") if p.max_export_rows is None else p.max_export_rows  # noqa: E731
        assert limit(higher) <= limit(lower)


def test_policy_lookups():
    assert grading.grade_policy("一般-1").open_type == "unconditional"
    general4 = grading.grade_policy("general-4")
    assert general4.open_type == "none" and general4.bureau_review
    assert general4.masks["sensitive_personal"] == "null"
    important = grading.grade_policy("重要")
    assert not important.sandbox and important.max_export_rows == 0
    assert "chief_data_officer" in important.approvers
    assert grading.grade_policy("core").share_type == "none"
    assert not grading.grade_policy("general-2").bureau_review
    assert grading.grade_policy("general-3").as_dict()["bureau_review"] is False
    assert grading.needs_bureau("重要") and grading.needs_bureau("core")
    assert not grading.needs_bureau("一般-4")


# --- the rules file -----------------------------------------------------------------------


def rules_file(tmp_path: Path, old: str = "", new: str = "") -> Path:
    text = RULES_FILE.read_text(encoding="utf-8")
    if old:
        assert old in text
        text = text.replace(old, new)
    path = tmp_path / "grading.yaml"
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("old", "new", "detail"),
    [
        ("version: 1\n", "version: 1\nnot yaml: [\n", "not YAML"),
        ("general-1:\n    share_type", "generic:\n    share_type", "policies"),
        ("personal: keep_last", "personal: scramble", "masks"),
        ("categories: [personal]\n", "categories: [people]\n", "unknown categories"),
        ("general: general-2, minor: general-1}", "minor: general-1}", "grade_matrix"),
        ("approvers: [dept_reviewer]", "approvers: [mayor]", "approvers"),
    ],
)
def test_invalid_rules_are_refused_saying_what_is_wrong(tmp_path, old, new, detail):
    path = rules_file(tmp_path, old, new)
    with pytest.raises(GradingRulesInvalid) as caught:
        grading.load_rules(path)
    assert detail in str(caught.value)


def test_a_deployments_rules_file_changes_the_thresholds(tmp_path, monkeypatch):
    path = rules_file(tmp_path, "subjects: hit_ratio", "subjects: rows")
    fifth = finding("resident_id", "sensitive_personal", ratio=0.2)
    monkeypatch.setenv(RULES_ENV, str(path))
    assert grading.propose_grade(findings=[fifth], rows=3_000_000).grade == "important"
    monkeypatch.delenv(RULES_ENV)
    assert grading.propose_grade(findings=[fifth], rows=3_000_000).grade == "general-4"


# --- confirmation -------------------------------------------------------------------------


def test_confirming_needs_a_reason():
    for reason in ("", "   ", "同意"):
        with pytest.raises(GradeReasonRequired):
            grading.validate_confirmation("general-3", "general-3", reason)


def test_confirming_or_raising_with_a_reason_is_not_flagged():
    check = grading.validate_confirmation("general-3", "一般-4", "含就诊记录，按敏感个人信息从严")
    assert check.grade == "general-4" and not check.flagged


def test_lowering_needs_a_fuller_reason_and_is_flagged():
    with pytest.raises(GradeBelowProposal) as caught:
        grading.validate_confirmation("general-4", "general-3", "字段已做脱敏处理，可降级")
    assert "一般-3" in str(caught.value) and "一般-4" in str(caught.value)
    reason = (
        "身份证号字段在入湖前已替换为不可逆标识，表中不再含有敏感个人信息，经部门审核同意降为三级"
    )
    check = grading.validate_confirmation("general-4", "general-3", reason)
    assert check.below_proposal and check.flagged and not check.below_floor


def test_going_below_the_category_floor_needs_a_fuller_reason():
    with pytest.raises(GradeBelowFloor):
        grading.validate_confirmation(
            "general-2", "general-2", "经核查无个人信息字段", floor="general-3"
        )
    reason = "该表仅含医疗机构名称与床位数，不含任何就诊个人信息，分类有误，按机构数据定级"
    check = grading.validate_confirmation("general-2", "general-2", reason, floor="general-4")
    assert check.below_floor and check.flagged and not check.below_proposal


def test_errors_are_translated():
    reload_catalogues()
    error = GradeBelowProposal(chosen="一般-2", proposed="一般-4", minimum=30)
    assert error_message(error, "zh_CN").startswith("级别 一般-2 低于建议级别 一般-4")
    for cls in (GradeReasonRequired, GradeBelowFloor, GradeUnknown, GradingRulesInvalid):
        assert error_message(cls(), "zh_CN") != cls.message
