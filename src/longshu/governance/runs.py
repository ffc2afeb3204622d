"""Quality runs (质量检测): a table's active rules evaluated on one version in as few passes
as the engine allows, each rule's outcome stored, the version scored 0–100 and the score
sent to the catalog (``governance.quality_scored``); the version's column profile beside it.

Timeliness (及时性) is not a query: it compares the version's load time with the previous
version's and the resource's declared update cycle (更新周期)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from longshu import events
from longshu.actor import Actor
from longshu.catalog.models import Resource
from longshu.db import utcnow
from longshu.governance.models import ColumnProfile, QualityResult, QualityRun
from longshu.governance.quality import RuleOutcome, RuleSpec, evaluate, profile_version, score
from longshu.governance.quality import timeliness as freshness
from longshu.governance.rulebook import active_rules, spec_of
from longshu.governance.scans import sensitive_columns
from longshu.lake import tables
from longshu.lake.models import LakeTable, LakeVersion
from longshu.security import access

SCORED = events.define("governance.quality_scored", "质量评分完成", "Quality scored")


def run_quality(
    session: Session, actor: Actor, table: LakeTable | str, number: int | None = None
) -> QualityRun:
    """Evaluate the table's active rules on a version (the newest ready one unless
    ``number``), store the outcomes and the score, emit ``governance.quality_scored``."""
    found = tables.get_table(session, table)
    access.require(actor, "governance.rules", found)
    version = tables.readable_version(session, found, number)
    rules = active_rules(session, found.name)
    specs = [spec_of(rule) for rule in rules]
    query_specs = [s for s in specs if s.kind != "timeliness"]
    rows, outcomes = (
        evaluate(session, actor, found.name, query_specs, version=version.number)
        if query_specs
        else (version.rows, [])
    )
    outcomes = list(outcomes)
    outcomes += [
        _timeliness(session, found, version, spec) for spec in specs if spec.kind == "timeliness"
    ]
    run = QualityRun(
        table_name=found.name,
        resource_id=found.resource_id,
        owner_org_id=found.owner_org_id,
        version=version.number,
        rows=rows,
        score=score(outcomes) if outcomes else None,
        finished_at=utcnow(),
    )
    run.results = [
        QualityResult(
            rule_id=o.rule.id,
            kind=o.rule.kind,
            column=o.rule.column,
            checked=o.checked,
            failed=o.failed,
            passed_ratio=float(o.passed_ratio),
            error=o.error,
        )
        for o in outcomes
    ]
    session.add(run)
    session.flush()
    events.emit(
        session,
        SCORED,
        actor,
        subject=run,
        resource_id=found.resource_id,
        table=found.name,
        version=version.number,
        rows=rows,
        rules=len(outcomes),
        score=str(run.score) if run.score is not None else None,
    )
    return run


def _timeliness(
    session: Session, table: LakeTable, version: LakeVersion, spec: RuleSpec
) -> RuleOutcome:
    """Was this version loaded within the declared cycle after the previous one?"""
    previous = session.scalar(
        select(LakeVersion.created_at)
        .where(LakeVersion.table_id == table.id, LakeVersion.number < version.number)
        .order_by(LakeVersion.number.desc())
        .limit(1)
    )
    period = spec.params.get("period") or _declared_cycle(session, table)
    result = freshness(previous or version.created_at, str(period), now=version.created_at)
    return RuleOutcome(
        rule=spec,
        checked=result.checked,
        failed=result.failed,
        passed_ratio=result.passed_ratio,
        error=result.error,
    )


def _declared_cycle(session: Session, table: LakeTable) -> str:
    resource = session.get(Resource, table.resource_id) if table.resource_id else None
    return resource.update_cycle if resource else "irregular"


def store_profile(
    session: Session, actor: Actor, table: LakeTable, version: LakeVersion
) -> ColumnProfile:
    """Profile every column of the version (top values of sensitive columns masked)."""
    columns = profile_version(
        session,
        actor,
        table.name,
        version=version.number,
        sensitive=sensitive_columns(session, table.name),
    )
    profile = session.scalar(
        select(ColumnProfile).where(
            ColumnProfile.table_name == table.name, ColumnProfile.version == version.number
        )
    )
    if profile is None:
        profile = ColumnProfile(table_name=table.name, version=version.number)
        session.add(profile)
    profile.columns = columns
    session.flush()
    return profile


def get_profile(session: Session, table_name: str, version: int) -> ColumnProfile | None:
    return session.scalar(
        select(ColumnProfile).where(
            ColumnProfile.table_name == table_name, ColumnProfile.version == version
        )
    )


def score_trend(session: Session, table_name: str, limit: int = 50) -> list[dict[str, Any]]:
    """The latest run of each version, oldest first: the points of the quality chart."""
    newest = (
        select(func.max(QualityRun.id))
        .where(QualityRun.table_name == table_name)
        .group_by(QualityRun.version)
    )
    runs = session.scalars(
        select(QualityRun)
        .where(QualityRun.id.in_(newest))
        .order_by(QualityRun.version.desc())
        .limit(limit)
    )
    return [
        {"version": r.version, "score": str(r.score) if r.score is not None else None}
        for r in sorted(runs, key=lambda r: r.version)
    ]


def latest_run(session: Session, table_name: str) -> QualityRun | None:
    return session.scalars(
        select(QualityRun)
        .where(QualityRun.table_name == table_name)
        .order_by(QualityRun.id.desc())
        .limit(1)
    ).first()


def department_scores(session: Session) -> dict[int, Decimal]:
    """Each provider's mean latest score over its tables (the quality ranking's base)."""
    newest = select(func.max(QualityRun.id)).group_by(QualityRun.table_name)
    scores: dict[int, list[Decimal]] = {}
    for run in session.scalars(
        select(QualityRun).where(QualityRun.id.in_(newest), QualityRun.score.is_not(None))
    ):
        if run.owner_org_id is not None and run.score is not None:
            scores.setdefault(run.owner_org_id, []).append(run.score)
    return {
        org: (sum(values, Decimal(0)) / len(values)).quantize(Decimal("0.01"))
        for org, values in scores.items()
    }
