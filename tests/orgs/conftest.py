"""Fixtures of the organisations tests: regions loaded, and actors with and without rights."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from longshu.actor import Actor
from longshu.events import Event
from longshu.orgs.regions import load_regions


@pytest.fixture
def regions(session):
    """A session whose region table holds Gansu's divisions."""
    load_regions(session)
    session.commit()
    return session


@pytest.fixture
def admin() -> Actor:
    return Actor(kind="user", id=1, name="admin", roles=frozenset({"platform_admin"}), mfa=True)


@pytest.fixture
def staff() -> Actor:
    return Actor(kind="user", id=2, name="dept", org_id=5, roles=frozenset({"dept_data_admin"}))


@pytest.fixture
def citizen() -> Actor:
    return Actor(kind="user", id=3, name="citizen", roles=frozenset({"public"}))


@pytest.fixture
def emitted(session):
    """``emitted("orgs.created")``: events of one type, oldest first."""

    def of_type(type_: str) -> list[Event]:
        return list(session.scalars(select(Event).where(Event.type == type_).order_by(Event.id)))

    return of_type


# --- HTTP -------------------------------------------------------------------------------------


@pytest.fixture
def api(settings, db):
    """A client of the whole application (lifespan not run: the test schema is in place)."""
    from fastapi.testclient import TestClient

    from longshu.app import create_app

    return TestClient(create_app(settings, db), follow_redirects=False)
