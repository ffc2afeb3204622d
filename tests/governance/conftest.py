"""Fixtures of the governance tests: governance on load, a published population resource
with its lake table, and synthetic residents. The lake, the actors and ``emitted`` come from
tests/conftest.py."""

from __future__ import annotations

import random

import pyarrow as pa
import pytest

from longshu.actor import SYSTEM
from longshu.ids import random_resident_id, resident_id_birth_date, resident_id_check_char


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


SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗"
GIVEN = ["伟", "芳", "娜", "秀英", "敏", "静", "丽", "强", "磊", "军", "洋", "勇", "艳", "杰", "娟"]
REGIONS = ("620102", "620103", "620104", "620502", "620902")


def _population_rows(n: int, *, bad_ids: int = 0, seed: int = 11, offset: int = 0) -> pa.Table:
    """``n`` residents: valid ID numbers (the first ``bad_ids`` with a wrong check digit),
    names, birth dates matching the IDs, county codes and mobile numbers."""
    rng = random.Random(seed)
    ids, names, births, regions, phones = [], [], [], [], []
    for i in range(n):
        number = random_resident_id(rng, REGIONS)
        if i < bad_ids:
            number = number[:17] + ("0" if number[17] != "0" else "1")
        ids.append(number)
        names.append(rng.choice(SURNAMES) + rng.choice(GIVEN))
        born = resident_id_birth_date(number[:17] + resident_id_check_char(number[:17]))
        births.append(born)
        regions.append(number[:6])
        phones.append(
            "1" + rng.choice("3578") + "".join(rng.choice("0123456789") for _ in range(9))
        )
    return pa.table(
        {
            "id": pa.array(range(offset + 1, offset + n + 1), pa.int64()),
            "sfzh": ids,
            "xm": names,
            "csrq": pa.array(births, pa.date32()),
            "xzqh": regions,
            "sjhm": phones,
        }
    )


@pytest.fixture
def population_rows():
    """``population_rows(n, bad_ids=0, seed=11)``: a table of ``n`` synthetic residents."""
    return _population_rows


@pytest.fixture
def population(db, orgs, lake_env):
    """The police department's published resource 全省人口基础信息 and its empty lake table
    ``population`` (committed). Returns ``(resource_id, table_name, org_id)``."""
    from longshu.catalog import lifecycle, service
    from longshu.catalog.rules import FieldData, ResourceData
    from longshu.lake import tables

    data = ResourceData(
        name="全省人口基础信息",
        summary="甘肃省常住人口的公民身份号码、姓名、出生日期、户籍地行政区划和联系电话。",
        domain="social_security",
        share_type="conditional",
        share_conditions="用于政务服务身份核验",
        open_type="none",
        open_conditions="含个人信息，不予开放",
        update_cycle="monthly",
        kind="table",
        formats=["CSV"],
        keywords=["人口", "户籍"],
        fields=[
            FieldData("sfzh", "公民身份号码", "string", 18),
            FieldData("xm", "姓名", "string", 50),
            FieldData("csrq", "出生日期", "date"),
            FieldData("xzqh", "户籍地行政区划", "string", 6),
            FieldData("sjhm", "手机号码", "string", 11),
        ],
    )
    with db.session() as s:
        entry = service.create_resource(s, SYSTEM, data, provider_org_id=orgs["police"])
        for move in ("submit", "approve", "publish"):
            lifecycle.take(s, SYSTEM, entry.id, move)
        tables.create_table(
            s, SYSTEM, "population", resource_id=entry.id, owner_org_id=orgs["police"],
            key_columns=["id"],
        )  # fmt: skip
        s.commit()
        return entry.id, "population", orgs["police"]
