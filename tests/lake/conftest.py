"""Fixtures of the lake tests: a lake folder under the test's ./var, actors, and tables
with real Delta versions."""

from __future__ import annotations

import datetime as dt

import pyarrow as pa
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
def consumer() -> Actor:
    """A data-using department's staff (organisation 9)."""
    return Actor(kind="user", id=3, name="user", org_id=9, roles=frozenset({"data_consumer"}))


@pytest.fixture
def emitted(session):
    def of_type(type_: str) -> list[Event]:
        session.flush()
        return list(session.scalars(select(Event).where(Event.type == type_).order_by(Event.id)))

    return of_type


def people(n: int = 6, offset: int = 0) -> pa.Table:
    """A small population table: ID numbers, names, birth dates, regions, incomes."""
    regions = ["620102", "620103", "620202", "620502", "620702", "620902"]
    return pa.table(
        {
            "id": pa.array(range(offset + 1, offset + n + 1), pa.int64()),
            "id_number": [
                f"62010219{80 + i % 20:02d}0101{i % 1000:03d}{i % 10}"
                for i in range(offset, offset + n)
            ],
            "name": [f"居民{i}" for i in range(offset, offset + n)],
            "birth_date": [
                dt.date(1980 + i % 20, 1 + i % 12, 1 + i % 28) for i in range(offset, offset + n)
            ],
            "region_code": [regions[i % len(regions)] for i in range(offset, offset + n)],
            "income": pa.array([1000.0 * (i + 1) for i in range(offset, offset + n)], pa.float64()),
        }
    )


@pytest.fixture
def population(lake_env, session, admin):
    """Table ``population`` with one version of six rows (resource 101, organisation 7)."""
    table = tables.create_table(
        session, admin, "population", resource_id=101, owner_org_id=7, key_columns=["id"]
    )
    tables.write_version(session, admin, table, people(), source="test")
    session.commit()
    return table


def pytest_configure(config):
    config.addinivalue_line(
        "markers", "spark: runs a query on Apache Spark in local mode (needs the 'spark' extra)"
    )
