"""Grade, quality and loaded versions arrive by events from the domains above the catalog."""

from __future__ import annotations

from decimal import Decimal

import pytest
from tests.catalog.conftest import sample

from longshu import events
from longshu.actor import SYSTEM
from longshu.catalog import lifecycle, search, service, subscriber  # noqa: F401 — registers handlers
from longshu.catalog.models import Resource
from longshu.catalog.search import SearchQuery
from longshu.governance.grades import CONFIRMED as GRADE
from longshu.governance.runs import SCORED as QUALITY
from longshu.lake.tables import VERSION_LOADED as LOADED


@pytest.fixture
def entry_id(db, orgs):
    with db.session() as s:
        entry = service.create_resource(
            s, SYSTEM, sample(), provider_org_id=orgs["culture_tourism"]
        )
        for move in ("submit", "approve", "publish"):
            lifecycle.take(s, SYSTEM, entry.id, move)
        return entry.id


def test_facts_reported_by_events_land_on_the_entry(db, entry_id, people):
    with db.session() as s:
        events.emit(
            s, GRADE, SYSTEM, resource_id=entry_id, grade="一般-2", fields={"jqmc": "public"}
        )
        events.emit(s, QUALITY, SYSTEM, resource_id=entry_id, score="93.456")
        events.emit(s, LOADED, SYSTEM, resource_id=entry_id, version=4, rows=1200)
        events.emit(s, QUALITY, SYSTEM, resource_id=999999, score="50")  # unknown: ignored
    with db.session() as s:
        entry = s.get(Resource, entry_id)
        assert entry.grade == "一般-2" and entry.quality_score == Decimal("93.46")
        assert (entry.lake_version, entry.lake_rows) == (4, 1200)
        assert entry.fields[0].sensitivity == "public"
        found = search.search(s, people["public"], SearchQuery(grade="一般-2"))
        assert [h.resource_id for h in found.hits] == [entry_id]
