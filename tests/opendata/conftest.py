"""Fixtures of the open data tests: a small catalog with open, conditionally open, closed,
draft and retired entries (the catalog tests' factories)."""

from __future__ import annotations

import pytest
from tests.catalog.conftest import published, sample

from longshu.actor import SYSTEM


@pytest.fixture
def catalog(db, orgs):
    """Entries by key: ``open`` and ``conditional`` are visible; the others are not."""
    from longshu.catalog import lifecycle, service

    with db.session() as s:
        made = {
            "open": published(s, orgs["culture_tourism"]),
            "conditional": published(
                s,
                orgs["weather"],
                name="逐日气象观测数据",
                summary="全省国家级气象站逐日气温、降水和风速观测。",
                domain="meteorology",
                open_type="conditional",
                open_conditions="注册并签署数据使用协议。",
                formats=["JSON", "API"],
                kind="api",
                update_cycle="daily",
                keywords=["气象", "降水"],
                theme_databases=["emergency"],
                base_databases=["geospatial"],
                licence=None,
            ),
            "closed": published(
                s,
                orgs["culture_tourism"],
                name="导游人员执业信息",
                open_type="none",
                keywords=["导游"],
            ),
            "retired": published(
                s, orgs["transport"], name="已下线的客运班线", domain="transport_logistics"
            ),
        }
        made["draft"] = service.create_resource(
            s, SYSTEM, sample(name="景区草稿目录"), provider_org_id=orgs["culture_tourism"]
        )
        lifecycle.take(s, SYSTEM, made["retired"].id, "retire", comment="停用")
        return {key: (entry.id, entry.code) for key, entry in made.items()}
