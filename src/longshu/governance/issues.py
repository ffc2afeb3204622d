"""The quality feedback loop (质量问题反馈 → 整改 → 复核).

A rule's failure or a data user opens an issue on a table, with a sample of failing rows
read through ``lake.access`` and masked; the providing department acknowledges it and fixes
the data with a new version; the issue is re-checked on that version automatically (a rule
issue by its rule, a user's issue by the reporter) and closed, or sent back to fixing.

    open ──acknowledge──► fixing ──mark_fixed──► rechecking ──pass──► closed
      │                     ▲  │                     │
      │                     │  └──dispute──► disputed ──uphold──► closed
      └──dispute────────────┼──────────────────┘  └──overrule──► fixing
                            └──────fail──────────────┘

Deadlines count working days: 3 to acknowledge, 10 to fix, 3 for the bureau to rule on a
dispute."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from longshu import events, workflow
from longshu.actor import SYSTEM, Actor
from longshu.db import utcnow
from longshu.errors import Forbidden
from longshu.governance.errors import (
    FixVersionInvalid,
    IssueNotFound,
    IssueRuleMismatch,
    IssueTextInvalid,
    RecheckedByRule,
    RuleNotFound,
)
from longshu.governance.models import QualityIssue, QualityResult, QualityRule, QualityRun
from longshu.governance.quality import evaluate, failing_rows
from longshu.governance.rulebook import spec_of
from longshu.governance.scans import sensitive_columns
from longshu.lake import tables
from longshu.lake.models import LakeTable
from longshu.security import access
from longshu.security.access.roles import STAFF_ROLES
from longshu.workflow import State, Transition, Workflow

PROVIDER = {"dept_data_admin"}
BUREAU = {"bureau_reviewer", "platform_admin"}
# who sees every department's issues
OVERSEERS = BUREAU | {"chief_data_officer", "auditor", "assessor"}

ISSUE_WORKFLOW = Workflow(
    name="governance.quality_issue",
    title_zh="数据质量问题",
    title_en="Data quality issue",
    states=[
        State("open", "待受理", "Awaiting acknowledgement"),
        State("fixing", "整改中", "Being fixed"),
        State("rechecking", "待复核", "Awaiting re-check"),
        State("disputed", "有异议", "Disputed"),
        State("closed", "已关闭", "Closed", terminal=True),
    ],
    transitions=[
        Transition(
            "acknowledge", "open", "fixing", PROVIDER, "受理", "Acknowledge",
            deadline_working_days=10, own_org=True,
        ),
        Transition(
            "mark_fixed", "fixing", "rechecking", PROVIDER, "已整改", "Mark fixed",
            deadline_working_days=3, own_org=True,
        ),
        # The re-check: by the rule for a rule issue (the platform), by the reporter for
        # a user's issue (``move`` checks who) — any role may have reported it.
        Transition(
            "pass", "rechecking", "closed", STAFF_ROLES, "复核通过", "Re-check passed",
        ),
        Transition(
            "fail", "rechecking", "fixing", STAFF_ROLES, "复核未通过", "Re-check failed",
            deadline_working_days=10, requires_comment=True,
        ),
        Transition(
            "dispute", ("open", "fixing"), "disputed", PROVIDER, "提出异议", "Dispute",
            deadline_working_days=3, requires_comment=True, own_org=True,
        ),
        Transition(
            "uphold", "disputed", "closed", BUREAU, "异议成立", "Uphold the dispute",
            requires_comment=True,
        ),
        Transition(
            "overrule", "disputed", "fixing", BUREAU, "异议不成立", "Overrule the dispute",
            deadline_working_days=10, requires_comment=True,
        ),
    ],
    initial="open",
    initial_deadline_working_days=3,
)  # fmt: skip

OPENED = events.define("governance.issue_opened", "质量问题已提出", "Quality issue opened")
RECHECKED = events.define(
    "governance.issue_rechecked", "质量问题已复核", "Quality issue re-checked"
)

SAMPLE_ROWS = 20


def _clean(title: str, description: str) -> tuple[str, str]:
    title, description = (title or "").strip(), (description or "").strip()
    if not 2 <= len(title) <= 200 or len(description) > 5000:
        raise IssueTextInvalid()
    return title, description


def open_issue(
    session: Session,
    actor: Actor,
    table: LakeTable | str,
    title: str,
    description: str = "",
    *,
    rule_id: int | None = None,
    column: str | None = None,
    version: int | None = None,
) -> QualityIssue:
    """Report a problem in a table's data (any member of staff who uses it, or the platform
    for a failing rule). With a rule, a masked sample of the rows failing it is attached
    and the fix is re-checked by the rule. Emits ``governance.issue_opened``."""
    access.require(actor, "governance.report")
    found = tables.get_table(session, table)
    title, description = _clean(title, description)
    current = tables.readable_version(session, found, version)
    rule = None
    if rule_id is not None:
        rule = session.get(QualityRule, rule_id)
        if rule is None:
            raise RuleNotFound(rule=rule_id)
        if rule.table_name != found.name:
            raise IssueRuleMismatch(rule=rule_id, table=found.name)
    issue = QualityIssue(
        resource_id=found.resource_id,
        table_name=found.name,
        provider_org_id=found.owner_org_id,
        rule_id=rule.id if rule else None,
        found_version=current.number,
        title=title,
        description=description,
        column=(rule.column if rule else column) or None,
        source="rule" if actor.kind == "system" else "user",
        reporter_id=actor.id,
        reporter_org_id=actor.org_id,
    )
    if rule is not None:
        issue.sample, issue.failed = _failing_sample(session, found, rule, current.number)
    session.add(issue)
    session.flush()
    instance = workflow.start(
        session, actor, ISSUE_WORKFLOW, issue, found.owner_org_id, comment=description or title
    )
    issue.workflow_instance_id = instance.id
    events.emit(
        session, OPENED, actor, subject=issue, table=found.name, resource_id=found.resource_id,
        version=current.number, rule_id=issue.rule_id, provider_org_id=found.owner_org_id,
        source=issue.source,
    )  # fmt: skip
    return issue


def _failing_sample(
    session: Session, table: LakeTable, rule: QualityRule, version: int
) -> tuple[list[dict[str, Any]], int | None]:
    spec = spec_of(rule)
    rows = failing_rows(
        session,
        SYSTEM,
        table.name,
        spec,
        version=version,
        limit=SAMPLE_ROWS,
        masks=sensitive_columns(session, table.name),
    )
    _, outcomes = evaluate(session, SYSTEM, table.name, [spec], version=version)
    failed = outcomes[0].failed if outcomes else None
    return [_json_row(r) for r in rows.to_pylist()], failed


def _json_row(row: dict[str, Any]) -> dict[str, Any]:
    return {
        k: v if isinstance(v, int | float | str | bool) or v is None else str(v)
        for k, v in row.items()
    }


def get_issue(session: Session, actor: Actor, issue_id: int) -> QualityIssue:
    issue = session.get(QualityIssue, issue_id)
    if issue is None:
        raise IssueNotFound(issue=issue_id)
    if not (
        access.decide(actor, "governance.read", issue)
        or (actor.id is not None and actor.id == issue.reporter_id)
    ):
        access.require(actor, "governance.read", issue)
    return issue


def move(
    session: Session,
    actor: Actor,
    issue_id: int,
    transition: str,
    comment: str | None = None,
    *,
    fixed_version: int | None = None,
    expected_version: int | None = None,
) -> QualityIssue:
    """Take a step of the issue's workflow. ``mark_fixed`` names the version that fixes it
    (default: the newest) and, for a rule issue, re-checks the rule on it at once."""
    issue = get_issue(session, actor, issue_id)
    table = tables.get_table(session, issue.table_name)
    if transition in ("pass", "fail") and actor.kind != "system" and not actor.roles & BUREAU:
        if issue.rule_id is not None:
            raise RecheckedByRule(issue=issue.id)
        if actor.id is None or actor.id != issue.reporter_id:
            raise Forbidden()
    workflow.move(
        session, actor, issue.workflow_instance_id, transition, comment,
        expected_version=expected_version,
    )  # fmt: skip
    if transition == "mark_fixed":  # after the move: a refused move says why first
        issue.fixed_version = _fix_version(session, table, issue, fixed_version)
    _mirror(session, issue)
    if transition == "mark_fixed" and issue.rule_id is not None:
        recheck(session, issue, issue.fixed_version)
    return issue


def _fix_version(
    session: Session, table: LakeTable, issue: QualityIssue, number: int | None
) -> int:
    try:
        version = tables.readable_version(session, table, number)
    except Exception as exc:  # not found, purged or blocked: all the same to the provider
        raise FixVersionInvalid(
            version=number, table=table.name, found=issue.found_version
        ) from exc
    if version.number <= issue.found_version:
        raise FixVersionInvalid(version=version.number, table=table.name, found=issue.found_version)
    return version.number


def _mirror(session: Session, issue: QualityIssue) -> None:
    instance = workflow.get_instance(session, issue.workflow_instance_id)
    issue.state = instance.state
    issue.closed_at = instance.closed_at


def recheck(session: Session, issue: QualityIssue, version: int) -> bool:
    """Re-check a rule issue on ``version``: the rule must find no failing row. Moves the
    issue to closed or back to fixing (as the platform); emits ``governance.issue_rechecked``."""
    rule = session.get(QualityRule, issue.rule_id) if issue.rule_id else None
    if rule is None:
        return False
    outcome = _stored_outcome(session, issue.table_name, rule.id, version)
    if outcome is None:  # the rule has not run on this version yet (or was switched off)
        _, outcomes = evaluate(session, SYSTEM, issue.table_name, [spec_of(rule)], version=version)
        outcome = outcomes[0]
    passed = outcome.error is None and outcome.failed == 0
    issue.recheck = {
        "version": version, "failed": outcome.failed, "checked": outcome.checked,
        "passed": passed, "at": utcnow().isoformat(),
    }  # fmt: skip
    instance = workflow.get_instance(session, issue.workflow_instance_id)
    if instance.state == "fixing":  # a new version arrived before the provider said "fixed"
        issue.fixed_version = version
        workflow.move(session, SYSTEM, instance, "mark_fixed", "新版本已加载，自动复核")
    comment = (
        f"版本 {version} 复核通过"
        if passed
        else f"版本 {version} 仍有 {outcome.failed} 行不符合规则"
    )
    workflow.move(session, SYSTEM, instance, "pass" if passed else "fail", comment)
    _mirror(session, issue)
    events.emit(
        session, RECHECKED, SYSTEM, subject=issue, table=issue.table_name, version=version,
        passed=passed, failed=outcome.failed,
    )  # fmt: skip
    return passed


def _stored_outcome(
    session: Session, table_name: str, rule_id: int, version: int
) -> QualityResult | None:
    """The rule's result in the newest quality run of that version (the pipeline runs the
    table's rules before it re-checks issues, so the version is not read twice)."""
    return session.scalars(
        select(QualityResult)
        .join(QualityRun)
        .where(
            QualityRun.table_name == table_name,
            QualityRun.version == version,
            QualityResult.rule_id == rule_id,
        )
        .order_by(QualityRun.id.desc())
        .limit(1)
    ).first()


def recheck_on_new_version(session: Session, table_name: str, version: int) -> int:
    """A new version of a table: re-check every rule issue being fixed or awaiting re-check.
    Returns how many were re-checked."""
    pending = session.scalars(
        select(QualityIssue).where(
            QualityIssue.table_name == table_name,
            QualityIssue.rule_id.is_not(None),
            QualityIssue.state.in_(("fixing", "rechecking")),
            QualityIssue.found_version < version,
        )
    )
    count = 0
    for issue in list(pending):
        recheck(session, issue, version)
        count += 1
    return count


def list_issues(
    session: Session,
    actor: Actor,
    *,
    state: str | None = None,
    table: str | None = None,
    mine: bool = False,
    limit: int = 100,
) -> list[QualityIssue]:
    """Issues the actor may see: their organisation's as provider, those they reported, or
    all of them for the bureau."""
    query = select(QualityIssue)
    if not actor.roles & OVERSEERS:
        query = query.where(
            (QualityIssue.provider_org_id == actor.org_id) | (QualityIssue.reporter_id == actor.id)
        )
    if mine:
        query = query.where(QualityIssue.reporter_id == actor.id)
    if state:
        query = query.where(QualityIssue.state == state)
    if table:
        query = query.where(QualityIssue.table_name == table)
    return list(session.scalars(query.order_by(QualityIssue.id.desc()).limit(limit)))


def issue_counts(session: Session) -> dict[int, dict[str, int]]:
    """Per provider: open issues, overdue ones and closed ones (for the ranking)."""
    counts: dict[int, dict[str, int]] = {}
    rows = session.execute(
        select(QualityIssue.provider_org_id, QualityIssue.state, func.count())
        .where(QualityIssue.provider_org_id.is_not(None))
        .group_by(QualityIssue.provider_org_id, QualityIssue.state)
    )
    for org, state, n in rows:
        entry = counts.setdefault(int(org), {"open": 0, "closed": 0, "overdue": 0})
        entry["closed" if state == "closed" else "open"] += int(n)
    for instance in workflow.overdue(session, workflow=ISSUE_WORKFLOW.name):
        if instance.org_id is not None:
            entry = counts.setdefault(int(instance.org_id), {"open": 0, "closed": 0, "overdue": 0})
            entry["overdue"] += 1
    return counts
