"""Fixtures of the ingest tests: a lake under the test's ./var, a department's data manager,
an empty table to load into, and the events a test emitted."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from longshu.actor import Actor
from longshu.events import Event
from longshu.lake import tables
from longshu.lake.config import reset_lake_settings


@pytest.fixture
def lake_env(settings, monkeypatch):
    """Settings whose lake is the test's own ``var/lake``."""
    for name in ("URI", "ENGINE", "STORAGE_OPTIONS"):
        monkeypatch.delenv(f"LONGSHU_LAKE_{name}", raising=False)
    reset_lake_settings()
    yield settings
    reset_lake_settings()


@pytest.fixture
def admin() -> Actor:
    return Actor(kind="user", id=1, name="admin", roles=frozenset({"platform_admin"}), mfa=True)


@pytest.fixture
def loader() -> Actor:
    """A department's data manager (organisation 7)."""
    return Actor(kind="user", id=2, name="dept", org_id=7, roles=frozenset({"dept_data_admin"}))


@pytest.fixture
def outsider() -> Actor:
    """Another department's data manager (organisation 8)."""
    return Actor(kind="user", id=4, name="other", org_id=8, roles=frozenset({"dept_data_admin"}))


@pytest.fixture
def target(lake_env, session, admin):
    """An empty lake table ``people`` of organisation 7 (resource 101, key ``id``)."""
    table = tables.create_table(
        session, admin, "people", resource_id=101, owner_org_id=7, key_columns=["id"]
    )
    session.commit()
    return table


@pytest.fixture
def emitted(session):
    def of_type(type_: str) -> list[Event]:
        session.flush()
        return list(session.scalars(select(Event).where(Event.type == type_).order_by(Event.id)))

    return of_type
