"""Every new version is scanned, graded, profiled and scored; grades are confirmed by people
and reach the catalog; quality issues go round the feedback loop to a re-checked fix."""

from __future__ import annotations

from decimal import Decimal

import pyarrow as pa
import pytest
from sqlalchemy import select
from tests.conftest import staff

from longshu.actor import SYSTEM
from longshu.catalog.models import Resource
from longshu.errors import Forbidden, InvalidInput
from longshu.events import Event
from longshu.governance import grades, issues, ranking, rulebook
from longshu.governance.errors import BureauMustConfirm, GradeAlreadyDecided
from longshu.governance.models import (
    ColumnProfile,
    GradeRecord,
    QualityIssue,
    QualityRule,
    QualityRun,
    ScanRun,
)
from longshu.lake import tables
from longshu.workflow import TransitionNotAllowed


def load(db, name: str, data: pa.Table) -> int:
    with db.session() as s:
        version = tables.write_version(s, SYSTEM, name, data)
        s.commit()
        return version.number


@pytest.fixture
def loaded(db, population, governance_on_load, population_rows):
    """Version 1 of ``population``: 400 residents, 8 with a wrong ID check digit."""
    load(db, "population", population_rows(400, bad_ids=8))
    return population


def test_a_new_version_gets_findings_a_proposed_grade_a_profile_and_a_score(db, loaded):
    resource_id, name, _ = loaded
    with db.session() as s:
        scan = s.scalars(select(ScanRun).where(ScanRun.table_name == name)).one()
        kinds = {(f.column, f.type) for f in scan.findings}
        assert {("sfzh", "resident_id"), ("xm", "person_name"), ("sjhm", "mobile")} <= kinds
        assert all("*" in e or "＊" in e for f in scan.findings for e in f.examples)
        proposal = s.scalars(
            select(GradeRecord).where(GradeRecord.resource_id == resource_id)
        ).one()
        assert proposal.status == "proposed" and proposal.proposed_grade
        assert proposal.field_labels["sfzh"]
        profile = s.scalars(select(ColumnProfile).where(ColumnProfile.table_name == name)).one()
        assert set(profile.columns) >= {"sfzh", "xm", "csrq", "xzqh", "sjhm"}
        rules = s.scalars(select(QualityRule).where(QualityRule.table_name == name)).all()
        assert rules and all(r.origin == "suggested" for r in rules)
        assert any(r.kind == "checksum" and r.column == "sfzh" for r in rules)
        run = s.scalars(select(QualityRun).where(QualityRun.table_name == name)).one()
        checksum = next(r for r in run.results if r.kind == "checksum" and r.column == "sfzh")
        assert checksum.failed == 8 and checksum.checked == 400
        assert run.score is not None and Decimal(0) < run.score < Decimal(100)
        resource = s.get(Resource, resource_id)
        assert resource.quality_score == run.score  # reported to the catalog through events
        assert resource.grade is None  # nobody confirmed a grade yet


def test_every_read_of_the_pipeline_went_through_the_one_door(db, loaded):
    with db.session() as s:
        reads = s.scalars(select(Event).where(Event.type == "lake.accessed")).all()
        grants = (
            {e.payload["grant_id"] for e in reads}
            if reads and "grant_id" in reads[0].payload
            else None
        )
        purposes = {e.payload.get("purpose") for e in reads}
    assert reads
    assert {"scan"} <= purposes
    if grants is not None:
        assert all(g.startswith("governance:") for g in grants)


def test_a_grade_is_confirmed_with_a_reason_and_reaches_the_catalog(db, loaded, orgs):
    resource_id, _, police = loaded
    reviewer = staff(police, "dept_reviewer", uid=201)
    bureau = staff(orgs["bureau"], "bureau_reviewer", uid=202)
    with db.session() as s:
        record = s.scalars(select(GradeRecord).where(GradeRecord.resource_id == resource_id)).one()
        with pytest.raises(InvalidInput):
            grades.confirm(s, reviewer, record.id, "general-4", "")  # a reason is required
        with pytest.raises(BureauMustConfirm):
            grades.confirm(s, reviewer, record.id, "important", "涉及全省人口敏感个人信息")
        grades.confirm(s, bureau, record.id, "important", "涉及全省人口敏感个人信息，规模大")
        s.commit()
    with db.session() as s:
        resource = s.get(Resource, resource_id)
        assert resource.grade == grades.grading.label("important")
        sensitivity = {f.name: f.sensitivity for f in resource.fields}
        assert sensitivity["sfzh"] and sensitivity["xm"]
        controls = grades.controls(s, resource_id)
        assert controls["label"] == "重要" and "bureau_reviewer" in controls["policy"]["approvers"]
        assert controls["masks"]["sfzh"] in ("hash", "pseudonym", "keep_last", "null")
        with pytest.raises(GradeAlreadyDecided):
            grades.confirm(s, bureau, record.id, "important", "再次确认")


def test_two_reviewers_confirming_the_same_proposal_at_once_one_wins(db, loaded, orgs):
    """Both read the proposal before either commits; the second is refused, not overwriting."""
    resource_id, _, _ = loaded
    first = staff(orgs["bureau"], "bureau_reviewer", uid=204)
    second = staff(orgs["bureau"], "bureau_reviewer", uid=205)
    with db.session() as a, db.session() as b:
        record_a = a.scalars(
            select(GradeRecord).where(GradeRecord.resource_id == resource_id)
        ).one()
        record_b = b.get(GradeRecord, record_a.id)
        assert record_b.status == "proposed"
        b.commit()  # ends b's read (SQLite would refuse a stale snapshot's write); b keeps its copy
        proposed = record_a.proposed_grade
        grades.confirm(a, first, record_a.id, proposed, "按建议定级：涉及全省人口敏感个人信息")
        a.commit()
        with pytest.raises(GradeAlreadyDecided):
            grades.confirm(b, second, record_b.id, proposed, "同时确认：涉及全省人口敏感个人信息")
        b.rollback()
    with db.session() as s:
        confirmed = s.scalars(
            select(GradeRecord).where(
                GradeRecord.resource_id == resource_id, GradeRecord.status == "confirmed"
            )
        ).all()
        assert [(r.grade, r.confirmed_by) for r in confirmed] == [(proposed, 204)]


def test_another_department_cannot_confirm_or_read_the_grade(db, loaded, orgs):
    resource_id, _, _ = loaded
    weather_reviewer = staff(orgs["weather"], "dept_reviewer", uid=203)
    with db.session() as s:
        record = s.scalars(select(GradeRecord).where(GradeRecord.resource_id == resource_id)).one()
        with pytest.raises(Forbidden):
            grades.confirm(s, weather_reviewer, record.id, "general-4", "不是我的数据")
        with pytest.raises(Forbidden):
            grades.history(s, weather_reviewer, resource_id)


def _checksum_rule(s, name: str) -> QualityRule:
    return s.scalars(
        select(QualityRule).where(
            QualityRule.table_name == name,
            QualityRule.kind == "checksum",
            QualityRule.column == "sfzh",
        )
    ).one()


def test_a_rule_issue_is_closed_by_the_recheck_of_the_fixed_version(
    db, loaded, orgs, population_rows
):
    _, name, police = loaded
    user = staff(orgs["transport"], "data_consumer", uid=204)
    provider = staff(police, "dept_data_admin", uid=205)
    with db.session() as s:
        rule = _checksum_rule(s, name)
        issue = issues.open_issue(s, user, name, "身份证号校验位错误", "8 条记录", rule_id=rule.id)
        s.commit()
        assert issue.failed == 8 and len(issue.sample) == 8
        assert all(row["sfzh"] != raw for row in issue.sample for raw in [None])
        issue_id = issue.id
    with db.session() as s:
        issues.move(s, provider, issue_id, "acknowledge", "已安排整改")
        s.commit()
    load(db, "population", population_rows(400, bad_ids=3))  # still three wrong
    with db.session() as s:
        issue = s.get(QualityIssue, issue_id)
        assert issue.state == "fixing" and issue.recheck["failed"] == 3
    load(db, "population", population_rows(400))  # all fixed
    with db.session() as s:
        issue = s.get(QualityIssue, issue_id)
        assert issue.state == "closed" and issue.recheck["passed"] is True
        assert issue.fixed_version == 3
        types = [e.type for e in s.scalars(select(Event).order_by(Event.id))]
        assert "governance.issue_opened" in types and "governance.issue_rechecked" in types


def test_a_users_issue_is_closed_by_the_reporter_after_the_fix(db, loaded, orgs, population_rows):
    _, name, police = loaded
    user = staff(orgs["transport"], "data_consumer", uid=206)
    provider = staff(police, "dept_data_admin", uid=207)
    with db.session() as s:
        issue = issues.open_issue(s, user, name, "手机号码与实际不符", "部分号码已停用")
        s.commit()
        issue_id = issue.id
        assert issue.sample == [] and issue.source == "user"
    with db.session() as s, pytest.raises(TransitionNotAllowed):
        issues.move(s, provider, issue_id, "mark_fixed")  # not acknowledged yet
    with db.session() as s:
        issues.move(s, provider, issue_id, "acknowledge", "核实中")
        s.commit()
    version = load(db, "population", population_rows(400))
    with db.session() as s:
        issues.move(s, provider, issue_id, "mark_fixed", "已更新", fixed_version=version)
        s.commit()
    with db.session() as s:
        assert s.get(QualityIssue, issue_id).state == "rechecking"
        issues.move(s, user, issue_id, "pass", "确认已修正")
        s.commit()
        assert s.get(QualityIssue, issue_id).state == "closed"


def test_the_ranking_lists_the_provider_with_its_score_and_issues(db, loaded, orgs):
    _, name, police = loaded
    with db.session() as s:
        issues.open_issue(s, staff(orgs["transport"], "data_consumer", uid=208), name, "问题一")
        s.commit()
        rows = ranking.departments(s)
    police_row = next(r for r in rows if r["org_id"] == police)
    assert police_row["rank"] >= 1 and police_row["score"] is not None
    assert police_row["open_issues"] == 1


def test_rules_can_be_added_and_refused(db, loaded, orgs):
    _, name, police = loaded
    provider = staff(police, "dept_data_admin", uid=209)
    with db.session() as s:
        rule = rulebook.add_rule(
            s, provider, name, "regex", "sjhm", {"pattern": r"^1[3-9][0-9]{9}$"}, title="手机号格式"
        )
        assert rule.origin == "user"
        with pytest.raises(InvalidInput):
            rulebook.add_rule(s, provider, name, "regex", "sjhm", {"pattern": r"(a)\1"})
        with pytest.raises(InvalidInput):
            rulebook.add_rule(s, provider, name, "range", "no_such_column", {"min": 1})
        with pytest.raises(Forbidden):
            rulebook.add_rule(
                s, staff(orgs["weather"], "dept_data_admin", uid=210), name, "completeness", "xm"
            )
