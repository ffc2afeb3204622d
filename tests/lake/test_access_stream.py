"""The streaming door: ``lake.access_batches`` returns what ``lake.access`` returns for the
same query (columns, masks, row filters), batch by batch, refuses what it refuses with the
same events, records one ``lake.accessed`` when the stream ends or is closed, runs on a
locked connection of its own, and keeps its own row cap and time limit."""

from __future__ import annotations

import datetime as dt
import threading
import time

import duckdb
import pyarrow as pa
import pytest
from tests.lake.conftest import people

from longshu import lake
from longshu.db import utcnow
from longshu.lake import tables
from longshu.lake.config import reset_lake_settings
from longshu.lake.engine import lockdown_settings, locked_connection
from longshu.lake.errors import (
    ColumnNotGranted,
    GrantNotHeld,
    GrantNotValid,
    QueryInvalid,
    QueryTimeout,
    RowLimitExceeded,
)
from longshu.lake.policy import Grant, Mask, TableGrant, rows_where

SQL = "SELECT * FROM population"
MASKS = {
    "id_number": Mask(kind="keep_last", keep=4),
    "name": Mask(kind="pseudonym"),
    "region_code": Mask(kind="hash"),
    "income": Mask(kind="null"),
    "birth_date": Mask(kind="year_only"),
}


def grant(**table: object) -> Grant:
    limits = {
        k: table.pop(k)
        for k in (
            "max_rows",
            "timeout_seconds",
            "max_stream_rows",
            "stream_timeout_seconds",
            "holder_org_id",
            "valid_until",
            "consumer",
        )
        if k in table
    }
    return Grant(
        id="sharing:1",
        consumer=str(limits.pop("consumer", "org:9")),
        tables=(TableGrant(table="population", **table),),
        **limits,
    )


def test_same_rows_masks_and_filters_as_access(population, session, consumer, emitted):
    g = grant(masks=MASKS, row_filter=rows_where("region_code", ["620102", "620202"]))
    whole = lake.access(session, consumer, g, SQL)
    stream = lake.access_batches(session, consumer, g, SQL, batch_rows=1)
    assert stream.schema == whole.data.schema
    assert stream.versions == whole.versions == {"population": 1}
    assert stream.columns == whole.columns and stream.masked == whole.masked
    assert stream.engine == "duckdb"
    batches = list(stream)
    assert len(batches) == whole.rows == 2 and all(b.num_rows == 1 for b in batches)
    assert pa.Table.from_batches(batches).to_pylist() == whole.to_pylist()
    assert {r["region_code"] for r in whole.to_pylist()} != {"620102", "620202"}  # hashed
    [query, streamed] = emitted("lake.accessed")
    assert "streamed" not in query.payload
    assert streamed.payload["streamed"] is True and streamed.payload["complete"] is True
    assert streamed.payload["rows"] == 2 and streamed.payload["query_sm3"]
    for key in ("grant_id", "consumer", "tables", "columns", "masked", "query_sm3", "purpose"):
        assert streamed.payload[key] == query.payload[key], key
    stream.close()  # after the end: nothing more
    assert len(emitted("lake.accessed")) == 2


def test_a_hidden_filter_column_and_star(population, session, consumer):
    g = grant(columns=("id", "name"), row_filter="income > 3000")
    whole = lake.access(session, consumer, g, SQL)
    streamed = lake.access_batches(session, consumer, g, SQL, batch_rows=2).read_all()
    assert streamed.column_names == ["id", "name"] and streamed.equals(whole.data)
    assert [r["id"] for r in streamed.to_pylist()] == [4, 5, 6]


@pytest.mark.parametrize(
    ("make", "sql", "error"),
    [
        (
            lambda: grant(columns=("id", "region_code")),
            "SELECT name FROM population",
            ColumnNotGranted,
        ),
        (lambda: grant(holder_org_id=8), SQL, GrantNotHeld),
        (lambda: grant(valid_until=utcnow() - dt.timedelta(seconds=1)), SQL, GrantNotValid),
        (lambda: grant(), "SELECT FROM WHERE", QueryInvalid),
    ],
)
def test_refusals_are_the_same_with_their_events(
    population, session, consumer, emitted, make, sql, error
):
    with pytest.raises(error):
        lake.access(session, consumer, make(), sql)
    with pytest.raises(error):
        lake.access_batches(session, consumer, make(), sql)
    by_query, by_stream = emitted("lake.access_refused")
    assert by_stream.payload["reason"] == by_query.payload["reason"] == error.reason
    assert by_stream.payload["error"] == by_query.payload["error"] == error.key
    assert by_stream.payload["query_sm3"] == by_query.payload["query_sm3"]
    assert by_stream.payload["streamed"] is True and by_stream.payload["rows_delivered"] == 0
    assert emitted("lake.accessed") == []


def test_closing_early_records_the_rows_delivered_once(population, session, consumer, emitted):
    with lake.access_batches(session, consumer, grant(), SQL, batch_rows=2) as stream:
        first = next(stream)
        assert first.num_rows == 2 and stream.rows == 2
    assert stream.ended and list(stream) == []  # closed: nothing more comes
    stream.close()
    [event] = emitted("lake.accessed")
    assert event.payload["rows"] == 2 and event.payload["complete"] is False
    assert event.payload["streamed"] is True and event.payload["bytes"] == first.nbytes


def test_an_unread_stream_closed_records_zero_rows(population, session, consumer, emitted):
    lake.access_batches(session, consumer, grant(), SQL).close()
    [event] = emitted("lake.accessed")
    assert event.payload["rows"] == 0 and event.payload["complete"] is False


def test_the_consumers_error_closes_the_stream(population, session, consumer, emitted):
    stream = lake.access_batches(session, consumer, grant(), SQL, batch_rows=4)
    with pytest.raises(ZeroDivisionError), stream:
        for batch in stream:
            batch.num_rows / 0
    assert stream.ended
    [event] = emitted("lake.accessed")
    assert event.payload["rows"] == 4 and event.payload["complete"] is False


def test_the_stream_has_its_own_locked_connection(population, session, consumer):
    with lake.access_batches(session, consumer, grant(), SQL, batch_rows=1) as stream:
        engine = stream._stream
        settings = engine.settings()
        assert settings == lockdown_settings(locked_connection())
        assert settings["enable_external_access"] == "false"
        assert settings["lock_configuration"] == "true"
        con = engine._con.cursor()  # the same database, as locked
        for sql in (
            "SELECT * FROM read_csv('/etc/passwd')",
            "COPY (SELECT 1) TO '/tmp/longshu-stream-probe.csv'",
            "SET enable_external_access = true",
        ):
            with pytest.raises(duckdb.Error):
                con.execute(sql)
        next(stream)
    assert engine.closed


def test_an_open_stream_does_not_block_a_read_in_another_thread(
    population, db, session, consumer, emitted
):
    stream = lake.access_batches(session, consumer, grant(), SQL, batch_rows=1)
    assert next(stream).num_rows == 1  # the stream is running, mid-way
    answers: list[object] = []

    def read() -> None:
        with db.sessionmaker() as other:
            try:
                answers.append(lake.access(other, consumer, grant(), SQL).rows)
            except Exception as exc:  # reported below
                answers.append(exc)

    worker = threading.Thread(target=read)
    worker.start()
    worker.join(120)  # a guard against a deadlock, not a timing assertion
    assert not worker.is_alive() and answers == [6]
    assert len(list(stream)) == 5  # and the stream goes on
    assert emitted("lake.accessed")[0].payload["rows"] == 6


def test_stream_cap_is_its_own(population, session, consumer, emitted):
    # the query's cap does not bind a stream that has its own
    g = grant(max_rows=2, max_stream_rows=6)
    with pytest.raises(RowLimitExceeded):
        lake.access(session, consumer, g, SQL)
    assert lake.access_batches(session, consumer, g, SQL).read_all().num_rows == 6
    # without one, the query's cap applies
    with pytest.raises(RowLimitExceeded):
        lake.access_batches(session, consumer, grant(max_rows=5), SQL).read_all()
    # a stream past its cap stops before the batch that would pass it
    stream = lake.access_batches(session, consumer, grant(max_stream_rows=3), SQL, batch_rows=2)
    assert next(stream).num_rows == 2
    with pytest.raises(RowLimitExceeded) as caught:
        next(stream)
    assert caught.value.params["limit"] == 3 and stream.ended and stream._stream.closed
    refused = [e.payload for e in emitted("lake.access_refused") if e.payload.get("streamed")]
    assert [(p["reason"], p["rows_delivered"]) for p in refused] == [("rows", 0), ("rows", 2)]
    [accessed] = [e for e in emitted("lake.accessed") if e.payload.get("streamed")]
    assert accessed.payload["rows"] == 6  # refused streams are not also "accessed"


def test_stream_cap_bounds():
    from pydantic import ValidationError

    assert grant(max_rows=7).stream_rows == 7 and grant(timeout_seconds=3).stream_seconds == 3
    assert grant(max_stream_rows=100_000_000).stream_rows == 100_000_000
    with pytest.raises(ValidationError):
        grant(max_stream_rows=100_000_001)
    with pytest.raises(ValidationError):
        grant(stream_timeout_seconds=0)
    with pytest.raises(ValueError):
        lake.access_batches(None, None, grant(), SQL, batch_rows=0)  # type: ignore[arg-type]


def test_timeout_while_the_consumer_dawdles(population, session, consumer, emitted):
    g = grant(stream_timeout_seconds=0.05, timeout_seconds=600)
    stream = lake.access_batches(session, consumer, g, SQL, batch_rows=1)
    next(stream)
    time.sleep(0.5)  # past the stream's time: the next batch is refused
    with pytest.raises(QueryTimeout):
        next(stream)
    [event] = emitted("lake.access_refused")
    assert event.payload["reason"] == "timeout" and event.payload["rows_delivered"] == 1
    assert stream._stream.closed


def test_timeout_of_a_long_query(population, session, consumer, emitted):
    joins = ", ".join(f"population t{i}" for i in range(14))
    with pytest.raises(QueryTimeout):
        g = grant(stream_timeout_seconds=0.3)
        lake.access_batches(session, consumer, g, f"SELECT count(*) AS n FROM {joins}").read_all()
    assert emitted("lake.access_refused")[0].payload["reason"] == "timeout"


def test_versions_and_a_configured_spark_engine(population, session, admin, consumer, monkeypatch):
    tables.write_version(session, admin, population, people(2, offset=6), mode="append")
    monkeypatch.setenv("LONGSHU_LAKE_ENGINE", "spark")
    reset_lake_settings()
    try:
        old = lake.access_batches(session, consumer, grant(), SQL, at={"population": 1})
        assert old.versions == {"population": 1} and old.engine == "duckdb"
        assert old.read_all().num_rows == 6
        new = lake.access_batches(session, consumer, grant(), SQL)
        assert new.versions == {"population": 2} and new.read_all().num_rows == 8
    finally:
        monkeypatch.delenv("LONGSHU_LAKE_ENGINE")
        reset_lake_settings()


def test_a_table_read_twice_in_one_query(population, session, consumer):
    g = grant(columns=("id", "name", "region_code"), masks={"name": Mask(kind="pseudonym")})
    for sql in (
        "SELECT a.id, b.name FROM population a JOIN population b ON a.region_code = b.region_code"
        " ORDER BY a.id, b.id",
        "SELECT id FROM population UNION ALL SELECT id FROM population ORDER BY id",
        "SELECT id FROM population WHERE id IN (SELECT max(id) FROM population)",
    ):
        whole = lake.access(session, consumer, g, sql)
        streamed = lake.access_batches(session, consumer, g, sql, batch_rows=2).read_all()
        assert streamed.num_rows > 0 and streamed.equals(whole.data), sql
