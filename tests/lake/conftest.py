"""Fixtures of the lake tests: a lake folder under the test's ./var, actors, and tables
with real Delta versions."""

from __future__ import annotations

import datetime as dt

import pyarrow as pa
import pytest

from longshu.lake import tables


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
