"""Console pages of governance: ``/console/governance`` (every table with its latest scan,
grade and score), a table's page (findings, grade history and confirmation, rules, the
quality trend, the column profile, its issues), the quality issues and their workflow, and
the departments' ranking."""

from __future__ import annotations

import json
from typing import Annotated, Any

from fastapi import APIRouter, Form, Query
from fastapi.responses import RedirectResponse, Response
from sqlalchemy import select

from longshu import workflow
from longshu.errors import InvalidInput, LongshuError
from longshu.governance import grades, grading, issues, ranking, rulebook, runs, scans
from longshu.governance.detect import DETECTORS
from longshu.governance.issues import ISSUE_WORKFLOW
from longshu.governance.models import GradeRecord, QualityRun, ScanRun
from longshu.lake import tables
from longshu.lake.models import LakeTable
from longshu.security import access
from longshu.security.context import Ctx, requires
from longshu.web import render
from longshu.web.nav import register_nav

router = APIRouter(include_in_schema=False)

register_nav(
    "governance-tables", "分类分级与质量", "Grades and quality", "/console/governance",
    "governance.read", "governance", order=10,
)  # fmt: skip
register_nav(
    "governance-issues", "质量问题", "Quality issues", "/console/governance/issues",
    "governance.report", "governance", order=20,
)  # fmt: skip
register_nav(
    "governance-ranking", "部门质量排名", "Quality ranking", "/console/governance/ranking",
    "governance.ranking", "governance", order=30,
)  # fmt: skip

RULE_KINDS = (
    "completeness", "uniqueness", "regex", "enum", "range", "checksum", "consistency",
    "referential", "timeliness",
)  # fmt: skip


def _latest_by_table(session: Any, model: Any, names: list[str]) -> dict[str, Any]:
    latest: dict[str, Any] = {}
    if not names:
        return latest
    for item in session.scalars(
        select(model).where(model.table_name.in_(names)).order_by(model.id)
    ):
        latest[item.table_name] = item
    return latest


@router.get("/console/governance")
def overview(ctx: Ctx = requires("governance.read")) -> Response:
    """Every table the actor may see, with its latest scan, grade and quality score."""
    visible = [
        t
        for t in ctx.session.scalars(select(LakeTable).order_by(LakeTable.name))
        if access.decide(ctx.actor, "governance.read", t)
    ]
    names = [t.name for t in visible]
    proposals = [
        r
        for r in ctx.session.scalars(
            select(GradeRecord).where(GradeRecord.status == "proposed").order_by(GradeRecord.id)
        )
        if r.table_name in names
    ]
    return render(
        ctx.request,
        "governance/overview.html",
        {
            "tables": visible,
            "scans": _latest_by_table(ctx.session, ScanRun, names),
            "runs": _latest_by_table(ctx.session, QualityRun, names),
            "grades": {
                t.name: grades.grade_in_force(ctx.session, t.resource_id)
                for t in visible
                if t.resource_id
            },
            "proposals": proposals,
            "label": grading.label,
        },
    )


def _table_page(ctx: Ctx, name: str, error: LongshuError | None = None) -> Response:
    table = tables.get_table(ctx.session, name)
    access.require(ctx.actor, "governance.read", table)
    scan = scans.latest_scan(ctx.session, table.name)
    run = runs.latest_run(ctx.session, table.name)
    profile = runs.get_profile(ctx.session, table.name, run.version) if run else None
    trend = runs.score_trend(ctx.session, table.name)
    history = grades.history(ctx.session, ctx.actor, table.resource_id) if table.resource_id else []
    chart = {
        "kind": "line",
        "x": [f"v{p['version']}" for p in trend],
        "y": [float(p["score"]) if p["score"] is not None else None for p in trend],
        "min": 0,
        "max": 100,
    }
    return render(
        ctx.request,
        "governance/table.html",
        {
            "table": table,
            "scan": scan,
            "run": run,
            "profile": profile.columns if profile else {},
            "histograms": {
                column: json.dumps(
                    {
                        "kind": "bar",
                        "x": [str(e) for e in facts["histogram"]["edges"][:-1]],
                        "y": facts["histogram"]["counts"],
                    },
                    ensure_ascii=False,
                )
                for column, facts in (profile.columns if profile else {}).items()
                if isinstance(facts, dict) and facts.get("histogram")
            },
            "trend": json.dumps(chart, ensure_ascii=False),
            "history": history,
            "controls": grades.controls(ctx.session, table.resource_id)
            if table.resource_id
            else None,
            "rules": rulebook.list_rules(ctx.session, ctx.actor, table),
            "issues": issues.list_issues(ctx.session, ctx.actor, table=table.name),
            "detectors": DETECTORS,
            "grades_known": list(grading.GRADES),
            "label": grading.label,
            "may_grade": bool(access.decide(ctx.actor, "governance.grade", table)),
            "may_rules": bool(access.decide(ctx.actor, "governance.rules", table)),
            "may_scan": bool(access.decide(ctx.actor, "governance.scan", table)),
            "may_report": bool(access.decide(ctx.actor, "governance.report")),
            "rule_kinds": RULE_KINDS,
            "error": error,
        },
        status_code=error.status if error else 200,
    )


@router.get("/console/governance/tables/{name}")
def table_page(name: str, ctx: Ctx = requires("governance.read")) -> Response:
    return _table_page(ctx, name)


def _back(ctx: Ctx, name: str, work: Any) -> Response:
    try:
        work()
    except LongshuError as exc:
        ctx.session.rollback()
        return _table_page(ctx, name, error=exc)
    return RedirectResponse(f"/console/governance/tables/{name}", status_code=303)


@router.post("/console/governance/tables/{name}/scan")
def scan_from_form(
    name: str,
    mode: Annotated[str, Form(max_length=10)] = "sample",
    ctx: Ctx = requires("governance.scan"),
) -> Response:
    return _back(ctx, name, lambda: scans.scan_version(ctx.session, ctx.actor, name, mode=mode))


@router.post("/console/governance/tables/{name}/run")
def run_from_form(name: str, ctx: Ctx = requires("governance.rules")) -> Response:
    return _back(ctx, name, lambda: runs.run_quality(ctx.session, ctx.actor, name))


@router.post("/console/governance/grades/{record_id}/confirm")
def confirm_from_form(
    record_id: int,
    grade: Annotated[str, Form(max_length=20)],
    reason: Annotated[str, Form(max_length=2000)] = "",
    ctx: Ctx = requires("governance.grade"),
) -> Response:
    record = grades.get_record(ctx.session, record_id)
    name = record.table_name or ""
    return _back(
        ctx, name, lambda: grades.confirm(ctx.session, ctx.actor, record_id, grade, reason)
    )


@router.post("/console/governance/tables/{name}/rules")
def add_rule_from_form(
    name: str,
    kind: Annotated[str, Form(max_length=20)],
    column: Annotated[str, Form(max_length=128)] = "",
    params: Annotated[str, Form(max_length=4000)] = "{}",
    title: Annotated[str, Form(max_length=200)] = "",
    ctx: Ctx = requires("governance.rules"),
) -> Response:
    def add() -> None:
        try:
            parsed = json.loads(params or "{}")
        except json.JSONDecodeError as exc:
            raise InvalidInput(detail="parameters must be a JSON object") from exc
        if not isinstance(parsed, dict):
            raise InvalidInput(detail="parameters must be a JSON object")
        rulebook.add_rule(ctx.session, ctx.actor, name, kind, column or None, parsed, title=title)

    return _back(ctx, name, add)


@router.post("/console/governance/rules/{rule_id}/active")
def toggle_rule(
    rule_id: int,
    table: Annotated[str, Form(max_length=63)],
    active: Annotated[bool, Form()] = False,
    ctx: Ctx = requires("governance.rules"),
) -> Response:
    return _back(ctx, table, lambda: rulebook.set_active(ctx.session, ctx.actor, rule_id, active))


# --- quality issues --------------------------------------------------------------------------


def _issues_page(ctx: Ctx, state: str | None = None, error: LongshuError | None = None) -> Response:
    return render(
        ctx.request,
        "governance/issues.html",
        {
            "issues": issues.list_issues(ctx.session, ctx.actor, state=state or None),
            "states": ISSUE_WORKFLOW.states,
            "state": state or "",
            "error": error,
        },
        status_code=error.status if error else 200,
    )


@router.get("/console/governance/issues")
def issue_list(
    state: str | None = Query(default=None, max_length=20),
    ctx: Ctx = requires("governance.report"),
) -> Response:
    """The issues the actor provides data for or reported, and the form to report one."""
    return _issues_page(ctx, state)


@router.post("/console/governance/issues")
def report_from_form(
    table: Annotated[str, Form(max_length=63)],
    title: Annotated[str, Form(max_length=200)],
    description: Annotated[str, Form(max_length=5000)] = "",
    rule_id: Annotated[str, Form(max_length=12)] = "",
    ctx: Ctx = requires("governance.report"),
) -> Response:
    try:
        issue = issues.open_issue(
            ctx.session, ctx.actor, table, title, description,
            rule_id=int(rule_id) if rule_id.isdigit() else None,
        )  # fmt: skip
    except LongshuError as exc:
        ctx.session.rollback()
        return _issues_page(ctx, error=exc)
    return RedirectResponse(f"/console/governance/issues/{issue.id}", status_code=303)


def _issue_page(ctx: Ctx, issue_id: int, error: LongshuError | None = None) -> Response:
    issue = issues.get_issue(ctx.session, ctx.actor, issue_id)
    instance = workflow.get_instance(ctx.session, issue.workflow_instance_id)
    return render(
        ctx.request,
        "governance/issue.html",
        {
            "issue": issue,
            "instance": instance,
            "state": ISSUE_WORKFLOW.state(issue.state),
            "moves": workflow.available_transitions(ctx.actor, instance),
            "history": workflow.history(ctx.session, instance),
            "error": error,
        },
        status_code=error.status if error else 200,
    )


@router.get("/console/governance/issues/{issue_id}")
def issue_page(issue_id: int, ctx: Ctx = requires("governance.report")) -> Response:
    return _issue_page(ctx, issue_id)


@router.post("/console/governance/issues/{issue_id}/move")
def move_from_form(
    issue_id: int,
    transition: Annotated[str, Form(max_length=30)],
    comment: Annotated[str, Form(max_length=2000)] = "",
    fixed_version: Annotated[str, Form(max_length=12)] = "",
    expected_version: Annotated[str, Form(max_length=12)] = "",
    ctx: Ctx = requires("governance.report"),
) -> Response:
    try:
        issues.move(
            ctx.session, ctx.actor, issue_id, transition, comment or None,
            fixed_version=int(fixed_version) if fixed_version.isdigit() else None,
            expected_version=int(expected_version) if expected_version.isdigit() else None,
        )  # fmt: skip
    except LongshuError as exc:
        ctx.session.rollback()
        return _issue_page(ctx, issue_id, error=exc)
    return RedirectResponse(f"/console/governance/issues/{issue_id}", status_code=303)


@router.get("/console/governance/ranking")
def ranking_page(ctx: Ctx = requires("governance.ranking")) -> Response:
    return render(
        ctx.request, "governance/ranking.html", {"rows": ranking.departments(ctx.session)}
    )
