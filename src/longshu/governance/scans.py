"""Sensitive-data discovery on a lake version (敏感数据识别): every column is read through
``lake.access`` and tested by every detector; what is found is stored with the scan.

Two modes: ``sample`` (the default on every new version: a repeatable reservoir sample of
``SAMPLE_ROWS`` rows, so a 25-million-row table is scanned in seconds) and ``full`` (every
row, one column at a time in batches, so memory stays bounded by one column)."""

from __future__ import annotations

from typing import Any

import pyarrow as pa
from sqlalchemy import select
from sqlalchemy.orm import Session

from longshu import events
from longshu.actor import Actor
from longshu.db import utcnow
from longshu.governance import permissions  # noqa: F401  (declares the permissions)
from longshu.governance.detect import DETECTORS, ColumnScan, Finding, detect_column
from longshu.governance.errors import ScanModeUnknown
from longshu.governance.models import SCAN_MODES, ScanFinding, ScanRun
from longshu.governance.reading import read_columns
from longshu.lake import tables
from longshu.lake.models import LakeTable, LakeVersion
from longshu.security import access

SAMPLE_ROWS = 20_000
BATCH_ROWS = 65_536
# Arrow types a detector can read (text, and integers that may be phone or card numbers);
# floats only for coordinates, which the detectors recognise by the column's name.
_SCANNABLE = (pa.types.is_string, pa.types.is_large_string, pa.types.is_integer)

SCANNED = events.define("governance.scanned", "敏感数据识别完成", "Sensitive-data scan finished")


def scannable(schema: list[dict[str, Any]]) -> list[str]:
    """The columns of a version's stored schema that detectors can read."""
    names = []
    for column in schema:
        kind = str(column.get("type", ""))
        if (
            kind in ("string", "large_string", "utf8")
            or kind.startswith(("int", "uint"))
            or (kind in ("double", "float") and _coordinate_name(column["name"]))
        ):
            names.append(column["name"])
    return names


def _coordinate_name(name: str) -> bool:
    lowered = name.lower()
    return any(cue in lowered for cue in ("lng", "lon", "lat", "经度", "纬度", "jd", "wd"))


def scan_version(
    session: Session,
    actor: Actor,
    table: LakeTable | int | str,
    number: int | None = None,
    *,
    mode: str = "sample",
    sample_rows: int = SAMPLE_ROWS,
) -> ScanRun:
    """Scan one version (the newest ready one unless ``number``) for sensitive data.
    Emits ``governance.scanned`` with the kinds found per column (no values)."""
    if mode not in SCAN_MODES:
        raise ScanModeUnknown(mode=str(mode)[:20])
    found = tables.get_table(session, table)
    access.require(actor, "governance.scan", found)
    version = tables.readable_version(session, found, number)
    columns = scannable(version.schema)
    run = ScanRun(
        table_id=found.id,
        table_name=found.name,
        resource_id=found.resource_id,
        version=version.number,
        mode=mode,
        created_by=actor.id,
    )
    findings: list[Finding] = []
    if columns and mode == "sample":
        data = read_columns(
            session, actor, found, version, columns, purpose="scan", limit=sample_rows
        )
        run.rows_checked = data.num_rows
        for name in columns:
            findings.extend(detect_column(name, data.column(name)))
    elif columns:
        run.rows_checked = version.rows
        for name in columns:
            findings.extend(_full_column(session, actor, found, version, name))
    run.finished_at = utcnow()
    run.findings = [_stored(f) for f in findings]
    session.add(run)
    session.flush()
    events.emit(
        session,
        SCANNED,
        actor,
        subject=run,
        table=found.name,
        resource_id=found.resource_id,
        version=version.number,
        mode=mode,
        rows_checked=run.rows_checked,
        findings=[
            {"column": f.column, "type": f.type, "hit_ratio": round(f.hit_ratio, 4)}
            for f in findings
        ],
    )
    return run


def _full_column(
    session: Session, actor: Actor, table: LakeTable, version: LakeVersion, name: str
) -> list[Finding]:
    data = read_columns(session, actor, table, version, [name], purpose="scan")
    scan = ColumnScan([name])
    for batch in data.to_batches(max_chunksize=BATCH_ROWS):
        scan.feed(batch)
    return scan.findings()


def _stored(finding: Finding) -> ScanFinding:
    detector = DETECTORS.get(finding.type)
    return ScanFinding(
        column=finding.column,
        type=finding.type,
        category=detector.category if detector else "personal",
        checked=finding.checked,
        hits=finding.hits,
        hit_ratio=float(finding.hit_ratio),
        confidence=float(finding.confidence),
        method=finding.method,
        examples=list(finding.examples)[:3],
    )


def latest_scan(session: Session, table_name: str, version: int | None = None) -> ScanRun | None:
    """The newest scan of a table (of one version, if given)."""
    query = select(ScanRun).where(ScanRun.table_name == table_name, ScanRun.status == "done")
    if version is not None:
        query = query.where(ScanRun.version == version)
    return session.scalars(query.order_by(ScanRun.id.desc()).limit(1)).first()


def sensitive_columns(session: Session, table_name: str) -> dict[str, str]:
    """Column → the default mask of the most confident kind found in it by the latest scan
    (what grants apply unless they say otherwise)."""
    scan = latest_scan(session, table_name)
    masks: dict[str, tuple[float, str]] = {}
    for finding in scan.findings if scan else []:
        detector = DETECTORS.get(finding.type)
        if detector is None:
            continue
        best = masks.get(finding.column)
        if best is None or finding.confidence > best[0]:
            masks[finding.column] = (finding.confidence, detector.default_mask)
    return {column: mask for column, (_, mask) in masks.items()}
