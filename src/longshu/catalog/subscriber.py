"""What other domains report back about catalog entries, through events (they sit above the
catalog and never call it). The payloads these handlers read are the contract:

- ``governance.grade_confirmed``: ``resource_id``, ``grade`` (e.g. ``"一般-2"``), optional
  ``fields`` → ``{field name: sensitivity label}``;
- ``governance.quality_scored``: ``resource_id``, ``score`` (0-100, a decimal string);
- ``lake.version_loaded``: ``resource_id``, ``version``, ``rows``;
- ``lake.fused``: ``resource_id``, ``table``, ``version``, ``sources`` (each ``table``,
  ``title``, ``version``, ``rows``, ``resource_id``, ``resource_code``) — the lineage.

Each stores the summary on the entry (and the grade on the search index), so catalog pages
show grade, quality and the latest loaded version without importing upwards."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from sqlalchemy.orm import Session

from longshu import events
from longshu.catalog import search
from longshu.catalog.models import Resource
from longshu.db import utcnow
from longshu.events import Event


def _resource(session: Session, event: Event) -> Resource | None:
    ident = event.payload.get("resource_id")
    return (
        session.get(Resource, int(ident))
        if isinstance(ident, int | str) and str(ident).isdigit()
        else None
    )


@events.subscribe("governance.grade_confirmed", name="catalog.grades")
def grade_confirmed(session: Session, event: Event) -> None:
    resource = _resource(session, event)
    if resource is None:
        return
    grade = str(event.payload.get("grade") or "")[:40] or None
    resource.grade = grade
    labels = event.payload.get("fields") or {}
    for item in resource.fields:
        if item.name in labels:
            item.sensitivity = str(labels[item.name])[:40] or None
    resource.facts_updated_at = utcnow()
    search.set_grade(session, resource.id, grade)


@events.subscribe("governance.quality_scored", name="catalog.quality")
def quality_scored(session: Session, event: Event) -> None:
    resource = _resource(session, event)
    if resource is None:
        return
    try:
        score = Decimal(str(event.payload.get("score"))).quantize(Decimal("0.01"))
    except (InvalidOperation, ValueError):
        return
    if Decimal(0) <= score <= Decimal(100):
        resource.quality_score = score
        resource.facts_updated_at = utcnow()


@events.subscribe("lake.version_loaded", name="catalog.versions")
def version_loaded(session: Session, event: Event) -> None:
    resource = _resource(session, event)
    if resource is None:
        return
    resource.lake_version = int(event.payload.get("version") or 0) or None
    rows = event.payload.get("rows")
    resource.lake_rows = int(rows) if isinstance(rows, int) else resource.lake_rows
    resource.facts_updated_at = utcnow()


@events.subscribe("lake.fused", name="catalog.lineage")
def fused(session: Session, event: Event) -> None:
    """A derived (fused) table's new version: keep which source versions it was built from."""
    resource = _resource(session, event)
    if resource is None:
        return
    keep = ("table", "title", "version", "rows", "resource_id", "resource_code")
    resource.lake_lineage = {
        "table": str(event.payload.get("table") or "")[:63],
        "version": event.payload.get("version"),
        "sources": [
            {k: s.get(k) for k in keep}
            for s in (event.payload.get("sources") or [])[:50]
            if isinstance(s, dict)
        ],
    }
    resource.facts_updated_at = utcnow()
