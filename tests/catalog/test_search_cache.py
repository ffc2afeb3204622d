"""Broad matches kept per index generation: the same answers as the index gives, and never
staler than the index — a publication or retirement shows in the next search."""

from __future__ import annotations

import pytest
from tests.catalog.conftest import published

from longshu.actor import SYSTEM, Actor
from longshu.catalog import lifecycle, search
from longshu.catalog.search import SearchQuery

PUBLIC = Actor(kind="anonymous", roles=frozenset({"public"}))


@pytest.fixture
def cached(monkeypatch):
    """Keep every match, however narrow (the real threshold is thousands of ids)."""
    search.forget_matches()
    monkeypatch.setattr(search, "MATCH_CACHE_MIN_IDS", 1)
    yield
    search.forget_matches()


def found(session, q: str, **options) -> tuple[list[int], int]:
    result = search.search(session, PUBLIC, SearchQuery(q=q, **options))
    return [h.resource_id for h in result.hits], result.total


def test_a_kept_match_answers_as_the_index_does(session, orgs, cached, monkeypatch):
    for i in range(3):
        published(session, orgs["transport"], name=f"交通流量监测{i}", keywords=["交通"])
    session.commit()
    first = found(session, "交通")
    assert first[1] == 3 and len(search._match_cache) == 1
    again = found(session, "交通")
    assert again == first
    assert found(session, "交通", sort="name")[1] == 3
    monkeypatch.setattr(search, "MATCH_CACHE_BYTES", 0)
    search.forget_matches()
    assert found(session, "交通") == first  # uncached: the same answer


def test_a_publication_or_retirement_is_seen_at_once(session, orgs, cached):
    entry = published(session, orgs["transport"], name="公交线路站点", keywords=["交通"])
    session.commit()
    assert found(session, "交通")[1] == 1
    second = published(session, orgs["transport"], name="交通违法处罚", keywords=["交通"])
    session.commit()
    assert found(session, "交通")[1] == 2
    lifecycle.take(session, SYSTEM, entry.id, "retire", comment="停用")
    session.commit()
    ids, total = found(session, "交通")
    assert total == 1 and ids == [second.id]
    # only the newest generation of a database is kept
    assert all(key[1] == search.facets.generation(session) for key in search._match_cache)
