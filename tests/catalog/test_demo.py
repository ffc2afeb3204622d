"""The demo catalog: enough realistic entries across departments, levels, databases, 领域 and
kinds, and loading it twice changes nothing."""

from __future__ import annotations

from sqlalchemy import func, select

from longshu.actor import SYSTEM
from longshu.catalog import elements, levels
from longshu.catalog.demo import load_demo_catalog
from longshu.catalog.models import Resource
from longshu.catalog.vocab import BASE_DATABASES, KINDS, THEME_DATABASES
from longshu.orgs.demo import load_demo_organisations

POLICY_DOMAINS = {
    "culture_tourism", "health", "natural_resources", "transport_logistics", "agriculture",
    "meteorology", "biomedicine", "energy_chemical", "market_regulation", "social_security",
}  # fmt: skip


def test_the_demo_catalog_covers_the_policy(db):
    with db.session() as s:
        orgs = load_demo_organisations(s, SYSTEM)
        created = load_demo_catalog(s, SYSTEM, orgs)
    assert created >= 300
    with db.session() as s:
        entries = list(s.scalars(select(Resource)))
        assert {e.level for e in entries} == {"province", "city", "county"}
        assert {e.domain for e in entries} >= POLICY_DOMAINS
        assert set(BASE_DATABASES) <= {b for e in entries for b in e.base_databases}
        assert set(THEME_DATABASES) <= {t for e in entries for t in e.theme_databases}
        assert set(KINDS) <= {e.kind for e in entries}
        published = sum(1 for e in entries if e.is_published)
        assert published >= 270 and {e.status for e in entries} >= {"draft", "pending", "approved"}
        assert levels.level_counts(s, SYSTEM)["county"] > 0
        assert [c.kind for c in elements.conflicts(s, SYSTEM)] == ["competing_claims"]
        assert any(r.missing for r in levels.completeness(s, SYSTEM))
    with db.session() as s:
        orgs = load_demo_organisations(s, SYSTEM)
        assert load_demo_catalog(s, SYSTEM, orgs) == 0
        assert s.scalar(select(func.count()).select_from(Resource)) == len(entries)
