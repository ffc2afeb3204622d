"""Fixtures shared by the sharing tests."""

from __future__ import annotations

import pytest

from longshu.actor import SYSTEM
from longshu.governance import pipeline
from longshu.lake import tables


@pytest.fixture
def registry(db, make_population, population_rows):
    """The police department's ``registry`` (有条件共享), 120 residents, scanned."""
    resource_id, table, police = make_population("registry", "conditional")
    with db.session() as s:
        tables.write_version(s, SYSTEM, table, population_rows(120))
        pipeline.govern_version(s, SYSTEM, tables.get_table(s, table), 1)
        s.commit()
    return resource_id, police
