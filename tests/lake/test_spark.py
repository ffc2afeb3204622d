"""The scale path: the same ``lake.access`` on Apache Spark (local mode) returns what DuckDB
returns — masks, row filters, joins, the version a grant pins — and keeps the limits."""

from __future__ import annotations

import datetime as dt

import pyarrow as pa
import pytest

from longshu import lake
from longshu.lake import tables
from longshu.lake.errors import ColumnNotGranted, QueryTimeout, RowLimitExceeded
from longshu.lake.policy import Grant, Mask, TableGrant, rows_prefix

pytestmark = pytest.mark.spark


@pytest.fixture(scope="module", autouse=True)
def _spark_stopped_after():
    yield
    from longshu.lake.spark import stop_spark

    stop_spark()


def _same(a: pa.Table, b: pa.Table) -> None:
    assert a.column_names == b.column_names
    assert a.to_pylist() == b.to_pylist()


@pytest.fixture
def visits(population, session, admin):
    table = tables.create_table(session, admin, "scenic_visits")
    tables.write_version(
        session,
        admin,
        table,
        pa.table(
            {
                "spot": ["莫高窟", "鸣沙山月牙泉", "嘉峪关", "麦积山", "张掖丹霞", "莫高窟"],
                "region_code": ["620982", "620982", "620200", "620502", "620702", "620982"],
                "day": [dt.date(2026, 10, d) for d in (1, 1, 2, 2, 3, 3)],
                "visitors": pa.array([12000, 9000, 7000, 5000, 8000, 11000], pa.int64()),
                "person_id": pa.array([1, 2, 3, 4, 5, 6], pa.int64()),
            }
        ),
    )
    session.commit()
    return table


def test_end_to_end_query_on_spark_equals_duckdb(
    visits, population, session, admin, consumer, emitted
):
    grant = Grant(
        id="sharing:7",
        consumer="org:9",
        tables=(
            TableGrant(
                table="scenic_visits",
                row_filter=rows_prefix("region_code", ["6209", "6202", "6207"]),
            ),
            TableGrant(
                table="population",
                columns=("id", "name", "id_number", "birth_date"),
                masks={
                    "name": Mask(kind="pseudonym"),
                    "id_number": Mask(kind="keep_last", keep=4),
                    "birth_date": Mask(kind="year_only"),
                },
            ),
        ),
    )
    sql = (
        "SELECT v.spot, sum(v.visitors) AS visitors, count(DISTINCT p.name) AS people, "
        "min(p.id_number) AS sample_id, max(p.birth_date) AS latest_year "
        "FROM scenic_visits v JOIN population p ON p.id = v.person_id "
        "WHERE v.day >= DATE '2026-10-01' GROUP BY v.spot ORDER BY visitors DESC, v.spot"
    )
    on_duckdb = lake.access(session, consumer, grant, sql, engine="duckdb")
    on_spark = lake.access(session, consumer, grant, sql, engine="spark")
    assert on_spark.engine == "spark" and on_duckdb.engine == "duckdb"
    assert on_duckdb.rows == 4  # 麦积山 (620502) is outside the row filter
    _same(on_duckdb.data, on_spark.data)
    masked = "SELECT id, name, id_number, birth_date FROM population ORDER BY id"
    _same(
        lake.access(session, consumer, grant, masked, engine="duckdb").data,
        lake.access(session, consumer, grant, masked, engine="spark").data,
    )
    assert [e.payload["engine"] for e in emitted("lake.accessed")] == ["duckdb", "spark"] * 2


def test_spark_reads_the_version_the_grant_pins(population, session, admin, consumer):
    from tests.lake.conftest import people

    tables.write_version(session, admin, population, people(4, offset=6), mode="append")
    pinned = Grant(id="g", consumer="c", tables=(TableGrant(table="population", versions=(1,)),))
    sql = "SELECT count(*) AS n, sum(income) AS total FROM population"
    _same(
        lake.access(session, consumer, pinned, sql, engine="duckdb").data,
        lake.access(session, consumer, pinned, sql, engine="spark").data,
    )
    assert lake.access(session, consumer, pinned, sql, engine="spark").to_pylist()[0]["n"] == 6


def test_spark_keeps_the_limits(population, session, consumer):
    grant = Grant(
        id="g", consumer="c", max_rows=3, tables=(TableGrant(table="population", columns=("id",)),)
    )
    with pytest.raises(RowLimitExceeded):
        lake.access(session, consumer, grant, "SELECT id FROM population", engine="spark")
    with pytest.raises(ColumnNotGranted):
        lake.access(session, consumer, grant, "SELECT name FROM population", engine="spark")
    slow = Grant(
        id="g", consumer="c", timeout_seconds=0.5, tables=(TableGrant(table="population"),)
    )
    joins = ", ".join(f"population t{i}" for i in range(14))
    with pytest.raises(QueryTimeout):
        lake.access(session, consumer, slow, f"SELECT count(*) AS n FROM {joins}", engine="spark")
