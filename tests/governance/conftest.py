"""Fixtures of the governance tests: governance on load, a published population resource
with its lake table, and synthetic residents. The lake, the actors and ``emitted`` come from
tests/conftest.py."""

from __future__ import annotations

import pytest


@pytest.fixture
def governance_on_load(db, monkeypatch):
    """Every loaded version is scanned, graded, profiled and scored (as in ``make run``)."""
    import longshu.catalog.subscriber
    import longshu.governance.pipeline  # noqa: F401
    from longshu.governance.config import reset_governance_settings

    monkeypatch.setenv("LONGSHU_GOVERNANCE_ON_LOAD", "true")
    reset_governance_settings()
    yield
    reset_governance_settings()


@pytest.fixture
def population(make_population):
    """The police department's published resource 全省人口基础信息 (有条件共享) and its empty
    lake table ``population``. Returns ``(resource_id, table_name, org_id)``."""
    return make_population()
