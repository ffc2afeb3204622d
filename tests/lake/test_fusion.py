"""Fusion: a derived table from pinned versions of several lake tables, with lineage."""

from __future__ import annotations

import datetime as dt

import pyarrow as pa
import pytest
from sqlalchemy import select

from longshu.errors import Forbidden
from longshu.lake import fusion, retention, tables
from longshu.lake.errors import (
    FunctionNotAllowed,
    FusionKeysRepeat,
    FusionSourceUnknown,
    NotASelect,
    NotDerived,
    VersionNotFound,
)
from longshu.lake.models import LakeLineage, LakeTable

DAY1, DAY2 = dt.date(2026, 10, 1), dt.date(2026, 10, 2)
SQL = """
SELECT v.rq, v.jqmc, v.xzqhdm, v.ykrs, coalesce(w.yjs, 0) AS yjs, w.yjjb
FROM v LEFT JOIN (
    SELECT rq, xzqhdm, count(*) AS yjs, max(yjjb) AS yjjb FROM w GROUP BY rq, xzqhdm
) AS w ON w.rq = v.rq AND w.xzqhdm = v.xzqhdm
"""


def visitors(day: dt.date, scale: int = 1) -> pa.Table:
    return pa.table(
        {
            "rq": [day, day],
            "jqmc": ["莫高窟", "麦积山石窟"],
            "xzqhdm": ["620982", "620503"],
            "ykrs": pa.array([6000 * scale, 8000 * scale], pa.int64()),
        }
    )


def warnings(day: dt.date) -> pa.Table:
    return pa.table(
        {
            "yjbh": [f"YJ{day:%Y%m%d}1", f"YJ{day:%Y%m%d}2"],
            "rq": [day, day],
            "xzqhdm": ["620982", "620982"],
            "yjjb": ["黄色", "橙色"],
        }
    )


@pytest.fixture
def sources(lake_env, session, admin):
    """scenic_visitors (versions 1 and 2) and weather_warnings (version 1)."""
    v = tables.create_table(session, admin, "scenic_visitors", resource_id=301, owner_org_id=7)
    tables.write_version(session, admin, v, visitors(DAY1), source="test")
    tables.write_version(session, admin, v, visitors(DAY2, 2), mode="append", source="test")
    w = tables.create_table(session, admin, "weather_warnings", resource_id=204, owner_org_id=8)
    tables.write_version(session, admin, w, warnings(DAY1), source="test")
    session.commit()
    return {"v": ("scenic_visitors", None), "w": ("weather_warnings", None)}


def _fuse(session, actor, sources, sql=SQL, keys=("rq", "jqmc"), name="scenic_conditions"):
    return fusion.fuse(
        session, actor, name, sources, sql, keys, title="景区客流与预警", resource_id=900
    )


def test_fusion_writes_a_derived_version_with_its_lineage(session, admin, sources, emitted):
    version = _fuse(session, admin, sources)
    session.commit()
    table = tables.get_table(session, "scenic_conditions")
    assert table.kind == "derived" and table.key_columns == ["rq", "jqmc"]
    assert version.number == 1 and version.rows == 4 and version.source.startswith("fusion:")
    lineage = fusion.lineage(session, admin, "scenic_conditions", 1)
    assert [(s["alias"], s["table"], s["version"], s["resource_id"]) for s in lineage] == [
        ("v", "scenic_visitors", 2, 301),
        ("w", "weather_warnings", 1, 204),
    ]
    fused = emitted("lake.fused")
    assert len(fused) == 1
    payload = fused[0].payload
    assert payload["table"] == "scenic_conditions" and payload["resource_id"] == 900
    assert [(s["table"], s["version"]) for s in payload["sources"]] == [
        ("scenic_visitors", 2),
        ("weather_warnings", 1),
    ]
    assert emitted("lake.version_loaded")[-1].payload["table"] == "scenic_conditions"


def test_the_fused_rows_join_by_day_and_county(session, admin, sources):
    from longshu import lake
    from longshu.lake.policy import Grant, TableGrant

    _fuse(session, admin, sources)
    grant = Grant(id="t:1", consumer="org:1", tables=(TableGrant(table="scenic_conditions"),))
    result = lake.access(
        session,
        admin,
        grant,
        "SELECT rq, jqmc, ykrs, yjs, yjjb FROM scenic_conditions ORDER BY rq, jqmc",
    )
    assert result.to_pylist() == [
        {"rq": DAY1, "jqmc": "莫高窟", "ykrs": 6000, "yjs": 2, "yjjb": "黄色"},
        {"rq": DAY1, "jqmc": "麦积山石窟", "ykrs": 8000, "yjs": 0, "yjjb": None},
        {"rq": DAY2, "jqmc": "莫高窟", "ykrs": 12000, "yjs": 0, "yjjb": None},
        {"rq": DAY2, "jqmc": "麦积山石窟", "ykrs": 16000, "yjs": 0, "yjjb": None},
    ]


def test_a_pinned_source_version_is_read_not_the_newest(session, admin, sources):
    pinned = {**sources, "v": ("scenic_visitors", 1)}
    version = _fuse(session, admin, pinned)
    assert version.rows == 2
    assert fusion.lineage(session, admin, "scenic_conditions", 1)[0]["version"] == 1


def test_each_fusion_is_a_new_version_and_holds_its_sources(session, admin, sources):
    _fuse(session, admin, {**sources, "v": ("scenic_visitors", 1)})
    second = _fuse(session, admin, sources)
    session.commit()
    assert second.number == 2
    rows = session.scalars(select(LakeLineage).where(LakeLineage.version_id == second.id)).all()
    assert {(r.source.table.name, r.source.number) for r in rows} == {
        ("scenic_visitors", 2),
        ("weather_warnings", 1),
    }
    v1 = tables.get_version(session, tables.get_table(session, "scenic_visitors"), 1)
    assert retention.holders(session, v1) == ["derived:scenic_conditions:1"]


def test_a_loaded_version_has_no_lineage(session, admin, sources):
    assert fusion.lineage(session, admin, "scenic_visitors", 1) == []
    with pytest.raises(VersionNotFound):
        fusion.lineage(session, admin, "scenic_visitors", 9)


@pytest.mark.parametrize(
    ("sql", "error"),
    [
        ("DELETE FROM v", NotASelect),
        ("SELECT * FROM v; SELECT * FROM w", NotASelect),
        ("SELECT * FROM population", FusionSourceUnknown),
        ("SELECT * FROM read_csv('/etc/passwd')", FunctionNotAllowed),
    ],
)
def test_only_a_select_over_the_sources_runs(session, admin, sources, sql, error):
    with pytest.raises(error):
        _fuse(session, admin, sources, sql=sql)
    assert session.scalar(select(LakeTable).where(LakeTable.name == "scenic_conditions")) is None


def test_keys_must_identify_each_fused_row(session, admin, sources):
    with pytest.raises(FusionKeysRepeat):
        _fuse(session, admin, sources, keys=("jqmc",))


def test_fusion_never_overwrites_a_loaded_table(session, admin, sources):
    with pytest.raises(NotDerived):
        _fuse(session, admin, sources, name="weather_warnings")
    assert tables.version_count(session, tables.get_table(session, "weather_warnings")) == 1


def test_only_the_platform_fuses(session, loader, sources):
    with pytest.raises(Forbidden):
        _fuse(session, loader, sources)


def test_lineage_over_the_api(client, db, bearer, lake_env, admin):
    with db.session() as s:
        v = tables.create_table(s, admin, "scenic_visitors", resource_id=301)
        tables.write_version(s, admin, v, visitors(DAY1), source="test")
        w = tables.create_table(s, admin, "weather_warnings", resource_id=204)
        tables.write_version(s, admin, w, warnings(DAY1), source="test")
        _fuse(s, admin, {"v": ("scenic_visitors", 1), "w": ("weather_warnings", 1)})
    url = "/api/v1/lake/tables/scenic_conditions/versions/1/lineage"
    response = client.get(url, headers=bearer("data_consumer", org_id=9))
    assert response.status_code == 200
    body = response.json()
    assert body["version"] == 1
    assert [(s["table"], s["version"]) for s in body["sources"]] == [
        ("scenic_visitors", 1),
        ("weather_warnings", 1),
    ]
    assert client.get(url).status_code in (401, 403)
