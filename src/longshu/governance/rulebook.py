"""The quality rules attached to a table (质量规则): added by data managers, or suggested
from a version's profile and findings when a table has none, changed and retired — each
change an event."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import pyarrow as pa
from sqlalchemy import select
from sqlalchemy.orm import Session

from longshu import events, lake
from longshu.actor import Actor
from longshu.governance.errors import RuleNotFound
from longshu.governance.models import QualityRule
from longshu.governance.quality import RuleSpec, check_rule, suggest_rules
from longshu.governance.reading import platform_grant
from longshu.lake import tables
from longshu.lake.models import LakeTable, LakeVersion
from longshu.security import access

RULE_ADDED = events.define("governance.rule_added", "质量规则已添加", "Quality rule added")
RULE_CHANGED = events.define("governance.rule_changed", "质量规则已变更", "Quality rule changed")


def column_types(
    session: Session, actor: Actor, table: LakeTable, version: LakeVersion
) -> dict[str, pa.DataType]:
    """The version's columns and their Arrow types, asked through the one door (no rows)."""
    grant = platform_grant("rules", table.name)
    empty = lake.access(
        session, actor, grant, f"SELECT * FROM {table.name} LIMIT 0",
        at={table.name: version.number},
    )  # fmt: skip
    return {field.name: field.type for field in empty.data.schema}


def spec_of(rule: QualityRule) -> RuleSpec:
    return RuleSpec(kind=rule.kind, column=rule.column, params=dict(rule.params), id=rule.id)


def active_rules(session: Session, table_name: str) -> list[QualityRule]:
    return list(
        session.scalars(
            select(QualityRule)
            .where(QualityRule.table_name == table_name, QualityRule.active.is_(True))
            .order_by(QualityRule.id)
        )
    )


def list_rules(session: Session, actor: Actor, table: LakeTable | str) -> list[QualityRule]:
    found = tables.get_table(session, table)
    access.require(actor, "governance.read", found)
    return list(
        session.scalars(
            select(QualityRule).where(QualityRule.table_name == found.name).order_by(QualityRule.id)
        )
    )


def add_rule(
    session: Session,
    actor: Actor,
    table: LakeTable | str,
    kind: str,
    column: str | None,
    params: Mapping[str, Any] | None = None,
    *,
    title: str = "",
    origin: str = "user",
) -> QualityRule:
    """Attach a rule to a table after checking it against the newest version's columns
    (unknown columns, bad parameters and unsafe patterns are refused)."""
    found = tables.get_table(session, table)
    access.require(actor, "governance.rules", found)
    version = tables.readable_version(session, found)
    spec = check_rule(
        RuleSpec(kind=kind, column=column, params=dict(params or {})),
        column_types(session, actor, found, version),
    )
    rule = QualityRule(
        resource_id=found.resource_id,
        table_name=found.name,
        kind=spec.kind,
        column=spec.column,
        params=dict(spec.params),
        title=title.strip()[:200],
        origin=origin,
        created_by=actor.id,
    )
    session.add(rule)
    session.flush()
    events.emit(
        session, RULE_ADDED, actor, subject=rule, table=found.name, kind=rule.kind,
        column=rule.column, origin=origin,
    )  # fmt: skip
    return rule


def set_active(session: Session, actor: Actor, rule_id: int, active: bool) -> QualityRule:
    rule = session.get(QualityRule, rule_id)
    if rule is None:
        raise RuleNotFound(rule=rule_id)
    access.require(actor, "governance.rules", tables.get_table(session, rule.table_name))
    rule.active = active
    events.emit(session, RULE_CHANGED, actor, subject=rule, table=rule.table_name, active=active)
    return rule


def adopt_suggestions(
    session: Session,
    actor: Actor,
    table: LakeTable,
    version: LakeVersion,
    profile: Mapping[str, Mapping[str, Any]],
    findings: Sequence[Mapping[str, Any]],
) -> list[QualityRule]:
    """A table without rules gets the rules its first profiled version suggests, so that
    every version has a score from the start; data managers then refine them."""
    if session.scalar(select(QualityRule.id).where(QualityRule.table_name == table.name)):
        return []
    types = column_types(session, actor, table, version)
    added = []
    for spec in suggest_rules(types, profile, findings):
        checked = check_rule(spec, types)
        rule = QualityRule(
            resource_id=table.resource_id,
            table_name=table.name,
            kind=checked.kind,
            column=checked.column,
            params=dict(checked.params),
            origin="suggested",
            created_by=actor.id,
        )
        session.add(rule)
        added.append(rule)
    session.flush()
    for rule in added:
        events.emit(
            session, RULE_ADDED, actor, subject=rule, table=table.name, kind=rule.kind,
            column=rule.column, origin="suggested",
        )  # fmt: skip
    return added
