"""What happens to every new version (``lake.version_loaded``): a sample scan for sensitive
data, a proposed grade, the column profile, rules suggested for a table that has none, a
quality run and score, and the re-check of quality issues waiting for a fix.

Each step stands alone: a step that fails is logged (without values) and recorded on the
scan or run it belongs to, and the others still run — the event queue never stalls on one
table's odd data."""

from __future__ import annotations

import logging
from typing import Any

from sqlalchemy.orm import Session

from longshu import events
from longshu.actor import SYSTEM, Actor
from longshu.errors import LongshuError
from longshu.events import Event
from longshu.governance import grades, issues, rulebook, runs, scans
from longshu.governance.config import governance_settings
from longshu.lake import tables
from longshu.lake.models import LakeTable

log = logging.getLogger("longshu.governance")


def govern_version(session: Session, actor: Actor, table: LakeTable, number: int) -> dict[str, Any]:
    """Run every governance step on one version; returns what each step produced (ids) or
    the error key it failed with."""
    outcome: dict[str, Any] = {"table": table.name, "version": number}
    version = tables.readable_version(session, table, number)
    scan = _step(
        outcome, "scan", session,
        lambda: scans.scan_version(
            session, actor, table, number, sample_rows=governance_settings().sample_rows
        ),
    )  # fmt: skip
    if scan is not None:
        _step(outcome, "grade", session, lambda: grades.propose(session, actor, scan))
    profile = _step(
        outcome, "profile", session, lambda: runs.store_profile(session, actor, table, version)
    )
    findings = [f.as_dict() for f in scan.findings] if scan is not None else []
    _step(
        outcome, "rules", session,
        lambda: rulebook.adopt_suggestions(
            session, actor, table, version, profile.columns if profile else {}, findings
        ),
    )  # fmt: skip
    _step(outcome, "quality", session, lambda: runs.run_quality(session, actor, table, number))
    _step(
        outcome, "recheck", session,
        lambda: issues.recheck_on_new_version(session, table.name, number),
    )  # fmt: skip
    return outcome


def _step(outcome: dict[str, Any], name: str, session: Session, work: Any) -> Any:
    savepoint = session.begin_nested()
    try:
        result = work()
    except LongshuError as exc:
        savepoint.rollback()
        outcome[name] = {"error": exc.key}
        log.warning(
            "governance step failed",
            extra={"step": name, "table": outcome["table"], "error": exc.key},
        )
        return None
    except Exception:  # odd data must not stall the event queue for every other table
        savepoint.rollback()
        outcome[name] = {"error": "internal"}
        log.exception("governance step crashed", extra={"step": name, "table": outcome["table"]})
        return None
    savepoint.commit()
    outcome[name] = getattr(result, "id", result if isinstance(result, int) else None)
    return result


@events.subscribe("lake.version_loaded", name="governance.versions")
def version_loaded(session: Session, event: Event) -> None:
    if not governance_settings().on_load:
        return
    table = session.get(LakeTable, int(event.payload.get("table_id") or 0))
    number = event.payload.get("version")
    if table is None or not isinstance(number, int):
        return
    govern_version(session, SYSTEM, table, number)
