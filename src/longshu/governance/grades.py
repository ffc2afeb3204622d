"""Classification and grading of a resource (分类分级), as GB/T 43697-2024 asks: a grade is
proposed from a scan's findings and the resource's facts, and always confirmed by a person
with a reason. Every proposal and confirmation is kept (grade history); the confirmed grade
in force reaches the catalog through ``governance.grade_confirmed``.

Core and important data (核心数据, 重要数据) are confirmed by the data bureau; general data by
the department's reviewer or the bureau."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from longshu import events
from longshu.actor import Actor
from longshu.catalog.models import Resource
from longshu.db import utcnow
from longshu.governance import grading, taxonomy
from longshu.governance.detect import DETECTORS
from longshu.governance.errors import (
    BureauMustConfirm,
    GradeAlreadyDecided,
    GradeRecordNotFound,
)
from longshu.governance.models import GradeRecord, ScanRun
from longshu.governance.permissions import BUREAU
from longshu.lake.models import LakeVersion
from longshu.security import access

PROPOSED = events.define("governance.grade_proposed", "数据分级已建议", "Data grade proposed")
CONFIRMED = events.define("governance.grade_confirmed", "数据分级已确认", "Data grade confirmed")


def _resource_facts(session: Session, resource_id: int | None) -> dict[str, Any]:
    resource = session.get(Resource, resource_id) if resource_id else None
    if resource is None:
        return {"title": "", "tags": [], "fields": []}
    return {
        "title": resource.name,
        "tags": [str(k) for k in resource.keywords or []] + [resource.domain],
        "fields": [f.label for f in resource.fields] + [f.name for f in resource.fields],
        "open_type": resource.open_type,
        "share_type": resource.share_type,
    }


def propose(session: Session, actor: Actor, scan: ScanRun) -> GradeRecord | None:
    """Propose a grade for the scanned table's resource from the scan's findings. An earlier
    proposal still awaiting confirmation is superseded. Returns None for a table that is
    not a catalog resource. Emits ``governance.grade_proposed``."""
    if scan.resource_id is None:
        return None
    facts = _resource_facts(session, scan.resource_id)
    findings = [f.as_dict() for f in scan.findings]
    tax = taxonomy.load_taxonomy()
    ranked = taxonomy.suggest_category(
        tax,
        title=facts["title"],
        tags=facts["tags"],
        field_names=facts["fields"] + [f["column"] for f in findings],
        finding_types=[f["type"] for f in findings],
    )
    category = ranked[0][0] if ranked else None
    version = session.scalar(
        select(LakeVersion).where(
            LakeVersion.table_id == scan.table_id, LakeVersion.number == scan.version
        )
    )
    proposal = grading.propose_grade(
        findings=findings,
        rows=version.rows if version else scan.rows_checked,
        category=category,
        coverage=None,  # the department's level is not the data's coverage: not known here
        open_type=facts.get("open_type"),
        share_type=facts.get("share_type"),
    )
    for earlier in session.scalars(
        select(GradeRecord).where(
            GradeRecord.resource_id == scan.resource_id, GradeRecord.status == "proposed"
        )
    ):
        earlier.status = "superseded"
    record = GradeRecord(
        resource_id=scan.resource_id,
        table_name=scan.table_name,
        version=scan.version,
        scan_id=scan.id,
        category_code=category.code if category else None,
        proposed_grade=proposal.grade,
        proposal=proposal.as_dict(),
        field_labels=field_labels(findings),
    )
    session.add(record)
    session.flush()
    events.emit(
        session,
        PROPOSED,
        actor,
        subject=record,
        resource_id=scan.resource_id,
        table=scan.table_name,
        version=scan.version,
        grade=proposal.grade,
        category=record.category_code,
    )
    return record


def field_labels(findings: list[dict[str, Any]]) -> dict[str, str]:
    """Column → the Chinese title of the most confident kind found in it (the catalog
    shows it as the field's sensitivity)."""
    best: dict[str, tuple[float, str]] = {}
    for finding in findings:
        detector = DETECTORS.get(finding["type"])
        title = detector.title_zh if detector else finding["type"]
        current = best.get(finding["column"])
        if current is None or finding["confidence"] > current[0]:
            best[finding["column"]] = (finding["confidence"], title)
    return {column: title for column, (_, title) in best.items()}


def get_record(session: Session, record_id: int) -> GradeRecord:
    record = session.get(GradeRecord, record_id)
    if record is None:
        raise GradeRecordNotFound(record=record_id)
    return record


def confirm(
    session: Session,
    actor: Actor,
    record_id: int,
    grade: str,
    reason: str,
    *,
    category_code: str | None = None,
) -> GradeRecord:
    """A person confirms (or changes) a proposed grade, always with a reason. Core and
    important grades need the bureau. The confirmed grade replaces the one in force and is
    sent to the catalog (``governance.grade_confirmed``)."""
    record = get_record(session, record_id)
    access.require(actor, "governance.grade", session.get(Resource, record.resource_id))
    if record.status != "proposed":
        raise GradeAlreadyDecided(record=record_id)
    tax = taxonomy.load_taxonomy()
    if category_code:
        tax.get(category_code)  # raises for an unknown category
        record.category_code = category_code
    floor = tax.get(record.category_code).grade_floor if record.category_code else None
    check = grading.validate_confirmation(record.proposed_grade, grade, reason, floor=floor)
    grade = grading.grade_code(grade)
    if grading.needs_bureau(grade) and not actor.roles.intersection(BUREAU):
        raise BureauMustConfirm(grade=grading.label(grade))
    # Claim the proposal with a conditional UPDATE: of two reviewers confirming it at the same
    # moment, the second finds it decided (PostgreSQL re-reads the row after the first commits).
    claimed = session.execute(
        update(GradeRecord)
        .where(GradeRecord.id == record.id, GradeRecord.status == "proposed")
        .values(status="confirmed")
        .execution_options(synchronize_session=False)
    )
    if claimed.rowcount != 1:
        session.expire(record)
        raise GradeAlreadyDecided(record=record_id)
    for earlier in session.scalars(
        select(GradeRecord).where(
            GradeRecord.resource_id == record.resource_id,
            GradeRecord.status == "confirmed",
            GradeRecord.id != record.id,
        )
    ):
        earlier.status = "superseded"
    record.status = "confirmed"
    record.grade = grade
    record.reason = reason.strip()
    # a grade below the proposal or the category's floor stays visible to reviewers
    record.proposal = {**record.proposal, "confirmation_flagged": check.flagged}
    record.confirmed_at = utcnow()
    record.confirmed_by = actor.id
    session.flush()
    events.emit(
        session,
        CONFIRMED,
        actor,
        subject=record,
        resource_id=record.resource_id,
        grade=grading.label(grade),
        grade_code=grade,
        proposed=record.proposed_grade,
        flagged=check.flagged,
        category=record.category_code,
        fields=record.field_labels,
    )
    return record


def history(session: Session, actor: Actor, resource_id: int) -> list[GradeRecord]:
    """Every proposal and confirmation of a resource, newest first."""
    access.require(actor, "governance.read", session.get(Resource, resource_id))
    return list(
        session.scalars(
            select(GradeRecord)
            .where(GradeRecord.resource_id == resource_id)
            .order_by(GradeRecord.id.desc())
        )
    )


def grade_in_force(session: Session, resource_id: int) -> GradeRecord | None:
    return session.scalars(
        select(GradeRecord)
        .where(GradeRecord.resource_id == resource_id, GradeRecord.status == "confirmed")
        .order_by(GradeRecord.id.desc())
        .limit(1)
    ).first()


def controls(session: Session, resource_id: int) -> dict[str, Any] | None:
    """What the grade in force implies for a resource (分级管控): the grade's policy, the
    mask each sensitive column gets by default (the policy's mask for the column's kind of
    data, else the detector's own), and where the catalog entry is more open than the grade
    allows. Sharing and opening read this; None while no grade is confirmed."""
    record = grade_in_force(session, resource_id)
    if record is None or record.grade is None:
        return None
    policy = grading.grade_policy(record.grade)
    masks: dict[str, str] = {}
    scan = session.get(ScanRun, record.scan_id) if record.scan_id else None
    for finding in scan.findings if scan else []:
        detector = DETECTORS.get(finding.type)
        mask = policy.masks.get(finding.category) or (detector.default_mask if detector else None)
        if mask and finding.column not in masks:
            masks[finding.column] = mask
    resource = session.get(Resource, resource_id)
    conflicts = []
    if resource is not None:
        for name, declared, allowed in (
            ("share_type", resource.share_type, policy.share_type),
            ("open_type", resource.open_type, policy.open_type),
        ):
            if grading.OPENNESS.get(declared, 0) > grading.OPENNESS.get(allowed, 0):
                conflicts.append({"field": name, "declared": declared, "allowed": allowed})
    return {
        "grade": record.grade,
        "label": grading.label(record.grade),
        "policy": policy.as_dict(),
        "masks": masks,
        "conflicts": conflicts,
    }
