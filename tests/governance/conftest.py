"""Fixtures of the governance tests: a lake under the test's ./var, actors of two
departments and of the bureau, and the events a test emitted. (Shared by every governance
test file: add fixtures here, do not copy them into test files.)"""

from __future__ import annotations

import pytest
from sqlalchemy import select

from longshu.actor import Actor
from longshu.events import Event
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
def dept_reviewer() -> Actor:
    """A department's reviewer (organisation 7)."""
    return Actor(kind="user", id=5, name="rev", org_id=7, roles=frozenset({"dept_reviewer"}))


@pytest.fixture
def bureau() -> Actor:
    """The data bureau's reviewer."""
    return Actor(kind="user", id=6, name="bureau", org_id=1, roles=frozenset({"bureau_reviewer"}))


@pytest.fixture
def consumer() -> Actor:
    """A data-using department's staff (organisation 9)."""
    return Actor(kind="user", id=3, name="user", org_id=9, roles=frozenset({"data_consumer"}))


@pytest.fixture
def outsider() -> Actor:
    """Another department's data manager (organisation 8)."""
    return Actor(kind="user", id=4, name="other", org_id=8, roles=frozenset({"dept_data_admin"}))


@pytest.fixture
def emitted(session):
    def of_type(type_: str) -> list[Event]:
        session.flush()
        return list(session.scalars(select(Event).where(Event.type == type_).order_by(Event.id)))

    return of_type
