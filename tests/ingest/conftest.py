"""Fixtures of the ingest tests: a lake under the test's ./var, a department's data manager,
an empty table to load into, and the events a test emitted."""

from __future__ import annotations

import pytest

from longshu.lake import tables


@pytest.fixture
def target(lake_env, session, admin):
    """An empty lake table ``people`` of organisation 7 (resource 101, key ``id``)."""
    table = tables.create_table(
        session, admin, "people", resource_id=101, owner_org_id=7, key_columns=["id"]
    )
    session.commit()
    return table
