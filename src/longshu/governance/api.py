"""JSON API of governance (``/api/v1/governance``): scans and findings, grade proposals and
confirmations, quality rules, runs and profiles, quality issues and the departments'
quality ranking. Routes only translate; the rules are in the services."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field

from longshu.errors import NotFound
from longshu.governance import grades, issues, ranking, rulebook, runs, scans
from longshu.governance.detect import DETECTORS
from longshu.governance.models import GradeRecord, QualityIssue, QualityRule, QualityRun, ScanRun
from longshu.lake import tables
from longshu.security import access
from longshu.security.context import Ctx, requires

router = APIRouter(prefix="/api/v1/governance", tags=["governance"])


class FindingOut(BaseModel):
    column: str
    type: str
    title: str
    category: str
    checked: int
    hits: int
    hit_ratio: float
    confidence: float
    method: str
    examples: list[str]


class ScanOut(BaseModel):
    id: int
    table: str
    version: int
    mode: str
    rows_checked: int
    status: str
    started_at: dt.datetime
    findings: list[FindingOut]


def _scan_out(scan: ScanRun) -> ScanOut:
    return ScanOut(
        id=scan.id,
        table=scan.table_name,
        version=scan.version,
        mode=scan.mode,
        rows_checked=scan.rows_checked,
        status=scan.status,
        started_at=scan.started_at,
        findings=[
            FindingOut(
                **f.as_dict(),
                title=DETECTORS[f.type].title_zh if f.type in DETECTORS else f.type,
            )
            for f in scan.findings
        ],
    )


class ScanIn(BaseModel):
    version: int | None = Field(default=None, ge=1)
    mode: str = Field(default="sample", max_length=10)


@router.post("/tables/{table}/scans", response_model=ScanOut, status_code=201)
def scan_table(table: str, body: ScanIn, ctx: Ctx = requires("governance.scan")) -> ScanOut:
    """Scan a version for sensitive data now (``mode``: sample or full)."""
    return _scan_out(
        scans.scan_version(ctx.session, ctx.actor, table, body.version, mode=body.mode)
    )


@router.get("/tables/{table}/scans/latest", response_model=ScanOut)
def latest_scan(
    table: str,
    version: int | None = Query(default=None, ge=1),
    ctx: Ctx = requires("governance.read"),
) -> ScanOut:
    found = tables.get_table(ctx.session, table)
    access.require(ctx.actor, "governance.read", found)
    scan = scans.latest_scan(ctx.session, found.name, version)
    if scan is None:
        raise NotFound()
    return _scan_out(scan)


class GradeOut(BaseModel):
    id: int
    resource_id: int
    table: str | None
    version: int | None
    category: str | None
    proposed_grade: str
    proposal: dict[str, Any]
    grade: str | None
    status: str
    reason: str | None
    field_labels: dict[str, Any]
    created_at: dt.datetime
    confirmed_at: dt.datetime | None


def _grade_out(record: GradeRecord) -> GradeOut:
    return GradeOut(
        id=record.id,
        resource_id=record.resource_id,
        table=record.table_name,
        version=record.version,
        category=record.category_code,
        proposed_grade=record.proposed_grade,
        proposal=record.proposal,
        grade=record.grade,
        status=record.status,
        reason=record.reason,
        field_labels=record.field_labels,
        created_at=record.created_at,
        confirmed_at=record.confirmed_at,
    )


@router.get("/resources/{resource_id}/grades", response_model=list[GradeOut])
def grade_history(resource_id: int, ctx: Ctx = requires("governance.read")) -> list[GradeOut]:
    """Every proposal and confirmation of a resource's grade, newest first."""
    return [_grade_out(r) for r in grades.history(ctx.session, ctx.actor, resource_id)]


class ConfirmIn(BaseModel):
    grade: str = Field(min_length=1, max_length=20)
    reason: str = Field(min_length=1, max_length=2000)
    category: str | None = Field(default=None, max_length=60)


@router.post("/grades/{record_id}/confirm", response_model=GradeOut)
def confirm_grade(
    record_id: int, body: ConfirmIn, ctx: Ctx = requires("governance.grade")
) -> GradeOut:
    """Confirm (or change) a proposed grade, with a reason."""
    record = grades.confirm(
        ctx.session, ctx.actor, record_id, body.grade, body.reason, category_code=body.category
    )
    return _grade_out(record)


class RuleIn(BaseModel):
    kind: str = Field(max_length=20)
    column: str | None = Field(default=None, max_length=128)
    params: dict[str, Any] = Field(default_factory=dict)
    title: str = Field(default="", max_length=200)


class RuleOut(BaseModel):
    id: int
    table: str
    kind: str
    column: str | None
    params: dict[str, Any]
    title: str
    origin: str
    active: bool


def _rule_out(rule: QualityRule) -> RuleOut:
    return RuleOut(
        id=rule.id,
        table=rule.table_name,
        kind=rule.kind,
        column=rule.column,
        params=rule.params,
        title=rule.title,
        origin=rule.origin,
        active=rule.active,
    )


@router.get("/tables/{table}/rules", response_model=list[RuleOut])
def list_rules(table: str, ctx: Ctx = requires("governance.read")) -> list[RuleOut]:
    return [_rule_out(r) for r in rulebook.list_rules(ctx.session, ctx.actor, table)]


@router.post("/tables/{table}/rules", response_model=RuleOut, status_code=201)
def add_rule(table: str, body: RuleIn, ctx: Ctx = requires("governance.rules")) -> RuleOut:
    rule = rulebook.add_rule(
        ctx.session, ctx.actor, table, body.kind, body.column, body.params,
        title=body.title,
    )  # fmt: skip
    return _rule_out(rule)


class RulePatch(BaseModel):
    active: bool


@router.patch("/rules/{rule_id}", response_model=RuleOut)
def change_rule(rule_id: int, body: RulePatch, ctx: Ctx = requires("governance.rules")) -> RuleOut:
    return _rule_out(rulebook.set_active(ctx.session, ctx.actor, rule_id, body.active))


class ResultOut(BaseModel):
    rule_id: int | None
    kind: str
    column: str | None
    checked: int
    failed: int
    passed_ratio: float
    error: str | None


class RunOut(BaseModel):
    id: int
    table: str
    version: int
    rows: int
    score: Decimal | None
    finished_at: dt.datetime | None
    results: list[ResultOut]


def _run_out(run: QualityRun) -> RunOut:
    return RunOut(
        id=run.id,
        table=run.table_name,
        version=run.version,
        rows=run.rows,
        score=run.score,
        finished_at=run.finished_at,
        results=[
            ResultOut(
                rule_id=r.rule_id, kind=r.kind, column=r.column, checked=r.checked,
                failed=r.failed, passed_ratio=r.passed_ratio, error=r.error,
            )
            for r in run.results
        ],
    )  # fmt: skip


class RunIn(BaseModel):
    version: int | None = Field(default=None, ge=1)


@router.post("/tables/{table}/quality-runs", response_model=RunOut, status_code=201)
def run_quality(table: str, body: RunIn, ctx: Ctx = requires("governance.rules")) -> RunOut:
    """Evaluate the table's active rules on a version now and score it."""
    return _run_out(runs.run_quality(ctx.session, ctx.actor, table, body.version))


@router.get("/tables/{table}/quality-runs/latest", response_model=RunOut)
def latest_run(table: str, ctx: Ctx = requires("governance.read")) -> RunOut:
    found = tables.get_table(ctx.session, table)
    access.require(ctx.actor, "governance.read", found)
    run = runs.latest_run(ctx.session, found.name)
    if run is None:
        raise NotFound()
    return _run_out(run)


@router.get("/tables/{table}/quality-trend")
def quality_trend(table: str, ctx: Ctx = requires("governance.read")) -> list[dict[str, Any]]:
    """The score of each version, oldest first."""
    found = tables.get_table(ctx.session, table)
    access.require(ctx.actor, "governance.read", found)
    return runs.score_trend(ctx.session, found.name)


@router.get("/tables/{table}/profile")
def column_profile(
    table: str,
    version: int | None = Query(default=None, ge=1),
    ctx: Ctx = requires("governance.read"),
) -> dict[str, Any]:
    """The version's column profile (top values of sensitive columns masked)."""
    found = tables.get_table(ctx.session, table)
    access.require(ctx.actor, "governance.read", found)
    number = tables.readable_version(ctx.session, found, version).number
    profile = runs.get_profile(ctx.session, found.name, number)
    if profile is None:
        profile = runs.store_profile(
            ctx.session, ctx.actor, found, tables.readable_version(ctx.session, found, number)
        )
    return {"table": found.name, "version": number, "columns": profile.columns}


class IssueIn(BaseModel):
    table: str = Field(min_length=1, max_length=63)
    title: str = Field(min_length=2, max_length=200)
    description: str = Field(default="", max_length=5000)
    rule_id: int | None = None
    column: str | None = Field(default=None, max_length=128)
    version: int | None = Field(default=None, ge=1)


class IssueOut(BaseModel):
    id: int
    table: str
    resource_id: int | None
    provider_org_id: int | None
    rule_id: int | None
    found_version: int
    fixed_version: int | None
    title: str
    description: str
    column: str | None
    sample: list[dict[str, Any]]
    failed: int | None
    recheck: dict[str, Any]
    source: str
    state: str
    created_at: dt.datetime
    closed_at: dt.datetime | None


def _issue_out(issue: QualityIssue) -> IssueOut:
    return IssueOut(
        id=issue.id, table=issue.table_name, resource_id=issue.resource_id,
        provider_org_id=issue.provider_org_id, rule_id=issue.rule_id,
        found_version=issue.found_version, fixed_version=issue.fixed_version, title=issue.title,
        description=issue.description, column=issue.column, sample=issue.sample,
        failed=issue.failed, recheck=issue.recheck, source=issue.source, state=issue.state,
        created_at=issue.created_at, closed_at=issue.closed_at,
    )  # fmt: skip


@router.post("/issues", response_model=IssueOut, status_code=201)
def open_issue(body: IssueIn, ctx: Ctx = requires("governance.report")) -> IssueOut:
    """Report a problem in a table's data (质量问题反馈)."""
    issue = issues.open_issue(
        ctx.session, ctx.actor, body.table, body.title, body.description,
        rule_id=body.rule_id, column=body.column, version=body.version,
    )  # fmt: skip
    return _issue_out(issue)


@router.get("/issues", response_model=list[IssueOut])
def list_issues(
    state: str | None = Query(default=None, max_length=20),
    table: str | None = Query(default=None, max_length=63),
    mine: bool = False,
    ctx: Ctx = requires("governance.report"),
) -> list[IssueOut]:
    found = issues.list_issues(ctx.session, ctx.actor, state=state, table=table, mine=mine)
    return [_issue_out(i) for i in found]


@router.get("/issues/{issue_id}", response_model=IssueOut)
def show_issue(issue_id: int, ctx: Ctx = requires("governance.report")) -> IssueOut:
    return _issue_out(issues.get_issue(ctx.session, ctx.actor, issue_id))


class MoveIn(BaseModel):
    comment: str | None = Field(default=None, max_length=2000)
    fixed_version: int | None = Field(default=None, ge=1)
    expected_version: int | None = Field(default=None, ge=1)


@router.post("/issues/{issue_id}/transitions/{transition}", response_model=IssueOut)
def move_issue(
    issue_id: int, transition: str, body: MoveIn, ctx: Ctx = requires("governance.report")
) -> IssueOut:
    """Take a step: acknowledge, mark_fixed, pass, fail, dispute, uphold, overrule."""
    issue = issues.move(
        ctx.session, ctx.actor, issue_id, transition[:30], body.comment,
        fixed_version=body.fixed_version, expected_version=body.expected_version,
    )  # fmt: skip
    return _issue_out(issue)


@router.get("/ranking")
def department_ranking(ctx: Ctx = requires("governance.ranking")) -> list[dict[str, Any]]:
    """Departments ranked by data quality (mean latest score, open and overdue issues)."""
    return ranking.departments(ctx.session)
