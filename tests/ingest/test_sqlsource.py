"""The database connector against a real SQLite file and a real PostgreSQL database (created
and dropped here, on the test server): types, incremental pulls, the read-only SELECT rule,
limits, and credentials that never show — then a load into the lake read back through
``lake.access``."""

from __future__ import annotations

import datetime as dt
import os
import sqlite3
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal

import pyarrow as pa
import pytest
from sqlalchemy import create_engine, select, text
from sqlalchemy.engine import make_url

from longshu import lake
from longshu.actor import Actor
from longshu.events import Event
from longshu.ingest import service
from longshu.ingest.errors import InvalidOption
from longshu.ingest.sqlsource import (
    DatabaseUnavailable,
    QueryFailed,
    QueryInvalid,
    QueryNotSelect,
    SourceTableNotFound,
    StatementTimeout,
    TooManyRows,
    UnsupportedDatabase,
    ValueDoesNotFit,
    WatermarkMissing,
    check_query,
    masked_url,
    read_sql,
)
from longshu.lake import tables
from longshu.lake.config import reset_lake_settings
from longshu.lake.policy import Grant, TableGrant

PG_SERVER = os.environ.get(
    "LONGSHU_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)
PASSWORD = "Dunhuang#2026-secret"
UTC = dt.UTC
SHANGHAI = dt.timezone(dt.timedelta(hours=8))
REGIONS = ["620102", "620103", "620202", "620502"]


def _reading(i: int) -> tuple:
    """Row i: meter codes with leading zeros, exact amounts, Beijing read times."""
    at = dt.datetime(2026, 11, 1, 8, 0) + dt.timedelta(hours=i)
    note = "阀门:正常" if i % 2 else ("用量 50%" if i % 3 else None)
    return (i, f"{i:06d}", REGIONS[i % 4], f"{i * 12.345:.3f}", at, at.date(), note)


@dataclass
class DeptDatabase:
    """A department's database: the URL the platform is given, and a writer for the test."""

    kind: str
    url: str
    admin_url: str

    def insert(self, rows: list[tuple]) -> None:
        engine = create_engine(self.admin_url)
        with engine.begin() as conn:
            for r in rows:
                at = r[4] if self.kind == "sqlite" else r[4].replace(tzinfo=SHANGHAI)
                values = dict(zip(("i", "m", "r", "a", "t", "d", "n"), r, strict=True))
                values["t"] = str(at) if self.kind == "sqlite" else at
                values["d"] = str(r[5]) if self.kind == "sqlite" else r[5]
                conn.execute(
                    text(f"INSERT INTO {self.table} VALUES (:i, :m, :r, :a, :t, :d, :n)"),
                    values,
                )
        engine.dispose()

    @property
    def table(self) -> str:
        return "meter_reading" if self.kind == "sqlite" else "dept.meter_reading"


def _sqlite_database(folder) -> DeptDatabase:
    path = folder / "water.db"
    conn = sqlite3.connect(path)
    conn.executescript(
        """
        CREATE TABLE meter_reading (id INTEGER PRIMARY KEY, meter_code TEXT, region TEXT,
            amount DECIMAL(12, 3), read_at DATETIME, read_on DATE, note TEXT);
        CREATE VIEW region_total AS SELECT region, sum(amount) AS total FROM meter_reading
            GROUP BY region;
        """
    )
    conn.close()
    url = f"sqlite:///{path}"
    return DeptDatabase("sqlite", url, url)


@pytest.fixture(scope="module")
def pg_database() -> Iterator[DeptDatabase]:
    """A database of its own on the test PostgreSQL, read through a password-bearing role."""
    name = f"longshu_src_{uuid.uuid4().hex[:10]}"
    role = f"reader_{uuid.uuid4().hex[:8]}"
    admin = create_engine(PG_SERVER, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text(f"CREATE DATABASE \"{name}\" ENCODING 'UTF8' TEMPLATE template0"))
            conn.execute(text(f"CREATE ROLE {role} LOGIN PASSWORD '{PASSWORD}'"))
    except Exception:
        admin.dispose()
        raise  # make test starts PostgreSQL: a missing server is a failure, not a skip
    server = make_url(PG_SERVER)
    owner_url = server.set(database=name).render_as_string(hide_password=False)
    owner = create_engine(owner_url)
    with owner.begin() as conn:
        conn.execute(
            text(
                """
                CREATE SCHEMA dept;
                CREATE TABLE dept.meter_reading (id bigint PRIMARY KEY, meter_code text,
                    region varchar(6), amount numeric(12, 3), read_at timestamptz, read_on date,
                    note text);
                CREATE VIEW dept.region_total AS SELECT region, sum(amount) AS total
                    FROM dept.meter_reading GROUP BY region;
                CREATE SEQUENCE dept.ticket;
                CREATE TABLE dept.measure (id int, reading numeric, local_at timestamp,
                    payload jsonb, ok boolean);
                INSERT INTO dept.measure VALUES
                    (1, 3.25, '2026-11-01 08:00', '{"站点": "榆中"}', true),
                    (2, 0.5, '2026-11-01 09:30', NULL, false);
                """
            )
        )
        conn.execute(text(f"GRANT USAGE ON SCHEMA dept TO {role}"))
        conn.execute(text(f"GRANT SELECT ON ALL TABLES IN SCHEMA dept TO {role}"))
        conn.execute(text(f"GRANT USAGE ON ALL SEQUENCES IN SCHEMA dept TO {role}"))
    owner.dispose()
    reader = server.set(database=name, username=role, password=PASSWORD)
    yield DeptDatabase("pg", reader.render_as_string(hide_password=False), owner_url)
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(text(f"DROP ROLE IF EXISTS {role}"))
    admin.dispose()


@pytest.fixture(params=["sqlite", "pg"])
def dept(request, tmp_path) -> DeptDatabase:
    """The department's database, on SQLite and on PostgreSQL, with twelve readings."""
    if request.param == "sqlite":
        database = _sqlite_database(tmp_path)
    else:
        database = request.getfixturevalue("pg_database")
        engine = create_engine(database.admin_url)
        with engine.begin() as conn:
            conn.execute(text("DELETE FROM dept.meter_reading"))
        engine.dispose()
    database.insert([_reading(i) for i in range(1, 13)])
    return database


EXPECTED_SCHEMA = pa.schema(
    [
        ("id", pa.int64()),
        ("meter_code", pa.string()),
        ("region", pa.string()),
        ("amount", pa.decimal128(12, 3)),
        ("read_at", pa.timestamp("us", tz="UTC")),
        ("read_on", pa.date32()),
        ("note", pa.string()),
    ]
)


# --- pulling ----------------------------------------------------------------------------


def test_a_table_is_pulled_with_the_databases_types(dept):
    source = read_sql(dept.url, table=dept.table, batch_rows=5)
    assert source.rows == 12 and source.format == "sql"
    assert isinstance(source.data, pa.RecordBatchReader)
    batches = list(source.data)
    assert [b.num_rows for b in batches] == [5, 5, 2]  # streamed in batches
    table = pa.Table.from_batches(batches).sort_by("id")
    assert table.schema == EXPECTED_SCHEMA
    first = table.slice(0, 1).to_pylist()[0]
    assert first == {
        "id": 1,
        "meter_code": "000001",  # codes keep their leading zeros
        "region": "620103",
        "amount": Decimal("12.345"),
        "read_at": dt.datetime(2026, 11, 1, 1, 0, tzinfo=UTC),  # 09:00 Beijing
        "read_on": dt.date(2026, 11, 1),
        "note": "阀门:正常",
    }
    assert source.details["table"] == dept.table and source.details["columns"] == 7


def test_an_incremental_pull_reads_only_rows_after_the_watermark(dept):
    first = read_sql(dept.url, table=dept.table, watermark="read_at")
    assert first.rows == 12 and first.data.read_all().num_rows == 12
    kept = first.details["watermark"]
    assert first.details["since"] is None and first.details["watermark_column"] == "read_at"

    dept.insert([_reading(i) for i in range(13, 16)])
    second = read_sql(dept.url, table=dept.table, watermark="read_at", since=kept)
    assert second.rows == 3
    assert sorted(second.data.read_all().column("id").to_pylist()) == [13, 14, 15]
    assert second.details["since"] == kept and second.details["watermark"] != kept

    third = read_sql(
        dept.url, table=dept.table, watermark="read_at", since=second.details["watermark"]
    )
    assert third.rows == 0 and third.data.read_all().num_rows == 0
    assert third.details["watermark"] == second.details["watermark"]  # nothing newer: kept


def test_a_numeric_watermark_kept_as_text_still_compares_as_a_number(dept):
    source = read_sql(dept.url, table=dept.table, watermark="id", since="9")
    assert sorted(source.data.read_all().column("id").to_pylist()) == [10, 11, 12]
    assert source.details["watermark"] == "12"


def test_a_query_is_pulled_with_colons_and_percents_left_alone(dept):
    query = (
        "SELECT region, count(*) AS readings, sum(amount) AS total FROM "
        f"{dept.table} WHERE note LIKE '%:%' OR note LIKE '%\\%%' ESCAPE '\\' "
        "GROUP BY region ORDER BY region"
    )
    source = read_sql(dept.url, query=query)
    table = source.data.read_all()
    assert table.column_names == ["region", "readings", "total"]
    assert sum(table.column("readings").to_pylist()) == 10  # odd ids, and the 50% notes
    assert "query_sm3" in source.details and query not in str(source.details)


def test_views_can_be_pulled_as_tables(dept):
    view = "region_total" if dept.kind == "sqlite" else "dept.region_total"
    source = read_sql(dept.url, table=view)
    assert source.rows == 4 and source.data.read_all().num_rows == 4


def test_more_rows_than_the_limit_refuse_the_pull(dept):
    with pytest.raises(TooManyRows) as refused:
        read_sql(dept.url, table=dept.table, limit=10)
    assert refused.value.params == {"rows": 12, "limit": 10}
    assert read_sql(dept.url, table=dept.table, limit=12).data.read_all().num_rows == 12


def test_a_long_statement_is_stopped_at_the_timeout(dept):
    slow = (
        "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) SELECT count(*) FROM c"
        if dept.kind == "sqlite"
        else "SELECT pg_sleep(5) AS slept"
    )
    with pytest.raises(StatementTimeout):
        read_sql(dept.url, query=slow, timeout_seconds=0.5).data.read_all()


def test_missing_tables_and_watermark_columns_are_named(dept):
    with pytest.raises(SourceTableNotFound) as missing:
        read_sql(dept.url, table="no_such_table")
    assert "no_such_table" in str(missing.value)
    with pytest.raises(WatermarkMissing) as no_column:
        read_sql(dept.url, table=dept.table, watermark="updated_at")
    assert "read_at" in str(no_column.value)
    with pytest.raises(QueryFailed):
        read_sql(dept.url, query="SELECT nothing FROM no_such_table")


# --- only a read-only SELECT --------------------------------------------------------------


@pytest.mark.parametrize(
    "query",
    [
        "DELETE FROM meter_reading",
        "UPDATE meter_reading SET amount = 0",
        "DROP TABLE meter_reading",
        "SELECT 1; DELETE FROM meter_reading",
        "WITH gone AS (DELETE FROM meter_reading RETURNING *) SELECT * FROM gone",
        "SELECT * INTO stolen FROM meter_reading",
        "SELECT * FROM meter_reading FOR UPDATE",
        "SELECT * FROM meter_reading WHERE id = ?",
        "PRAGMA writable_schema = 1",
        "COPY meter_reading TO '/tmp/x'",
        "VACUUM",
        "SELECT query_to_xml('DELETE FROM meter_reading', true, true, '')",
        "SELECT pg_read_file('/etc/passwd')",
        "SELECT * FROM dblink('host=elsewhere', 'SELECT 1') AS t(x int)",
        "SELECT lo_export(16384, '/tmp/out')",
        "SELECT set_config('statement_timeout', '0', false)",
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity",
        "SELECT load_extension('evil.so')",
    ],
)
def test_anything_but_one_read_only_select_is_refused(query):
    with pytest.raises(QueryNotSelect):
        check_query(query, "postgres")


def test_sql_that_does_not_parse_is_refused():
    with pytest.raises(QueryInvalid):
        check_query("SELECT FROM WHERE (", "postgres")
    with pytest.raises(QueryInvalid):
        check_query("SELECT 1 " + " " * 20_000, "sqlite")


def test_the_database_itself_keeps_the_pull_read_only(pg_database):
    """A SELECT that would change state is stopped by the read-only transaction."""
    with pytest.raises(QueryFailed) as refused:
        read_sql(pg_database.url, query="SELECT nextval('dept.ticket') AS n").data.read_all()
    assert "read-only" in str(refused.value)


def test_the_refused_statement_never_reaches_the_file(dept):
    with pytest.raises(QueryNotSelect):
        read_sql(dept.url, query=f"DELETE FROM {dept.table}")
    assert read_sql(dept.url, table=dept.table).data.read_all().num_rows == 12


# --- PostgreSQL types ---------------------------------------------------------------------


def test_postgresql_types_map_to_arrow(pg_database):
    source = read_sql(pg_database.url, table="dept.measure", local_timezone="Asia/Shanghai")
    table = source.data.read_all()
    assert table.schema == pa.schema(
        [
            ("id", pa.int64()),
            ("reading", pa.decimal128(38, 10)),  # unconstrained numeric: exact to 10 places
            ("local_at", pa.timestamp("us", tz="UTC")),
            ("payload", pa.string()),
            ("ok", pa.bool_()),
        ]
    )
    row = table.to_pylist()[0]
    assert row["local_at"] == dt.datetime(2026, 11, 1, 0, 0, tzinfo=UTC)  # 08:00 Beijing
    assert row["payload"] == '{"站点": "榆中"}' and row["reading"] == Decimal("3.25")


def test_a_value_too_precise_for_its_type_is_refused_not_rounded(pg_database):
    precise = "CAST('0.1234567890123' AS numeric)"
    with pytest.raises(ValueDoesNotFit) as refused:
        read_sql(pg_database.url, query=f"SELECT {precise} AS reading").data.read_all()
    assert "reading" in str(refused.value) and "numeric(20,4)" in str(refused.value)
    cast = f"SELECT CAST({precise} AS numeric(20, 13)) AS reading"
    value = read_sql(pg_database.url, query=cast).data.read_all().column(0)[0].as_py()
    assert value == Decimal("0.1234567890123")


# --- credentials --------------------------------------------------------------------------


def test_the_password_never_appears_in_details_or_errors(pg_database):
    source = read_sql(pg_database.url, table="dept.measure")
    source.data.read_all()
    assert PASSWORD not in str(source.details)
    assert source.details["database"].count("***") == 1
    wrong_db = make_url(pg_database.url).set(database="no_such_database_here")
    with pytest.raises(DatabaseUnavailable) as failed:
        read_sql(wrong_db.render_as_string(hide_password=False), table="x", timeout_seconds=5)
    assert PASSWORD not in str(failed.value) and PASSWORD not in repr(failed.value.params)
    with pytest.raises(QueryFailed) as refused:
        read_sql(pg_database.url, query=f"SELECT '{PASSWORD}'::int AS x").data.read_all()
    assert PASSWORD not in str(refused.value)


def test_masked_url_hides_passwords_in_the_url_and_its_options():
    shown = masked_url("postgresql+psycopg://u:pw@h:5432/db?sslpassword=pw2&application_name=x")
    assert "pw" not in shown.replace("sslpassword", "") and "application_name=x" in shown


def test_unsupported_databases_and_bad_options_are_refused(tmp_path):
    with pytest.raises(UnsupportedDatabase):
        read_sql("mysql+pymysql://root@127.0.0.1:3306/test", table="t")
    with pytest.raises(UnsupportedDatabase):
        read_sql("postgresql+asyncpg://u@127.0.0.1/db", table="t")
    with pytest.raises(InvalidOption):
        read_sql("sqlite:///x.db", table="t", query="SELECT 1")
    with pytest.raises(InvalidOption):
        read_sql("sqlite:///x.db", table="t; DROP TABLE t")
    with pytest.raises(DatabaseUnavailable):  # a missing file is never created
        read_sql(f"sqlite:///{tmp_path / 'missing.db'}", table="t")
    assert not (tmp_path / "missing.db").exists()


# --- into the lake ------------------------------------------------------------------------


@pytest.fixture
def water_table(settings, session, monkeypatch):
    """An empty lake table ``people`` of organisation 7 under the test's own lake folder."""
    for name in ("URI", "ENGINE", "STORAGE_OPTIONS"):
        monkeypatch.delenv(f"LONGSHU_LAKE_{name}", raising=False)
    reset_lake_settings()
    admin = Actor(kind="user", id=1, name="admin", roles=frozenset({"platform_admin"}), mfa=True)
    table = tables.create_table(session, admin, "people", resource_id=101, owner_org_id=7)
    session.commit()
    yield table
    reset_lake_settings()


@pytest.fixture
def manager() -> Actor:
    """The water department's data manager (organisation 7)."""
    return Actor(kind="user", id=2, name="dept", org_id=7, roles=frozenset({"dept_data_admin"}))


def _events(session, type_: str) -> list[Event]:
    session.flush()
    return list(session.scalars(select(Event).where(Event.type == type_).order_by(Event.id)))


def _grant(table: str, version: int) -> Grant:
    return Grant(
        id="test:sql",
        consumer="org:7",
        max_rows=1000,
        timeout_seconds=30,
        tables=(
            TableGrant(table=table, versions=(version,), columns=tuple(EXPECTED_SCHEMA.names)),
        ),
    )


def test_pulls_load_as_lake_versions_and_read_back_through_the_door(
    dept, session, water_table, manager
):
    first = service.load_source(
        session,
        manager,
        water_table,
        lambda: read_sql(dept.url, table=dept.table, watermark="read_at", batch_rows=4),
        label="meter_reading@water",
        mode="snapshot",
    )
    session.commit()
    assert (first.version, first.rows, first.status) == (1, 12, "ready")
    dept.insert([_reading(i) for i in range(13, 15)])
    since = first.details["watermark"]
    second = service.load_source(
        session,
        manager,
        water_table,
        lambda: read_sql(dept.url, table=dept.table, watermark="read_at", since=since),
        label="meter_reading@water",
        mode="append",
    )
    session.commit()
    assert (second.version, second.rows, second.table_rows) == (2, 2, 14)

    result = lake.access(
        session,
        manager,
        _grant("people", 2),
        "SELECT region, count(*) AS n, sum(amount) AS total FROM people GROUP BY region "
        "ORDER BY region",
    )
    rows = result.data.to_pylist()
    assert sum(r["n"] for r in rows) == 14
    assert sum(r["total"] for r in rows) == sum(Decimal(_reading(i)[3]) for i in range(1, 15))
    one = lake.access(
        session, manager, _grant("people", 2), "SELECT * FROM people WHERE id = 14"
    ).data
    assert one.schema.field("read_at").type.tz in ("UTC", "Etc/UTC")
    assert one.to_pylist()[0]["read_at"] == dt.datetime(2026, 11, 1, 14, 0, tzinfo=UTC)
    assert one.to_pylist()[0]["meter_code"] == "000014"

    finished = _events(session, "ingest.load_finished")
    assert [e.payload["details"]["database"] for e in finished] == [masked_url(dept.url)] * 2
    assert all(PASSWORD not in str(e.payload) for e in session.scalars(select(Event)))
    loaded = _events(session, "lake.version_loaded")
    assert loaded[-1].payload["source"] == "sql:meter_reading@water"


def test_a_refused_pull_loads_nothing_and_records_the_failure_without_secrets(
    dept, session, water_table, manager
):
    with pytest.raises(TooManyRows):
        service.load_source(
            session,
            manager,
            water_table,
            lambda: read_sql(dept.url, table=dept.table, limit=5),
            label="meter_reading@water",
        )
    session.commit()
    failed = _events(session, "ingest.load_failed")
    assert len(failed) == 1 and failed[0].payload["error"] == "ingest.sql_too_many_rows"
    assert PASSWORD not in str(failed[0].payload)
    assert _events(session, "lake.version_loaded") == []


@pytest.fixture
def run_now():
    """Jobs run in this process as they are queued (huey's own test mode)."""
    from longshu.ingest import jobs

    before = jobs.huey.immediate
    jobs.huey.immediate = True
    yield jobs
    jobs.huey.immediate = before


def test_a_stored_sql_source_pulls_incrementally_and_keeps_its_watermark(
    dept, db, water_table, run_now
):
    from longshu.ingest import sources
    from longshu.ingest.models import IngestJob, IngestSource

    admin = Actor(kind="user", id=1, name="admin", roles=frozenset({"platform_admin"}), mfa=True)
    with db.session() as s:
        source = sources.create_source(
            s,
            admin,
            name="水表读数",
            connector="sql",
            table="people",
            mode="append",
            options={"url": dept.url, "table": dept.table, "watermark": "read_at"},
        )
        source_id = source.id
        assert PASSWORD not in str(source.options)  # the URL is sealed
        first_job = run_now.submit_pull(s, admin, source).id
    with db.session() as s:
        job = s.get(IngestJob, first_job)
        assert (job.status, job.version, job.rows) == ("succeeded", 1, 12)
        kept = s.get(IngestSource, source_id).watermark
        assert kept is not None
    dept.insert([_reading(i) for i in range(13, 16)])
    with db.session() as s:
        second_job = run_now.submit_pull(s, admin, source_id).id
    with db.session() as s:
        job = s.get(IngestJob, second_job)
        assert (job.status, job.version, job.rows) == ("succeeded", 2, 3)
        assert s.get(IngestSource, source_id).watermark > kept
        assert all(PASSWORD not in str(e.payload) for e in s.scalars(select(Event)))


def test_a_pull_with_nothing_new_holds_no_transaction_open(pg_database):
    reader_role = make_url(pg_database.url).username
    source = read_sql(pg_database.url, table="dept.measure", watermark="id", since=99)
    assert source.rows == 0 and source.details["watermark"] == "99"
    engine = create_engine(pg_database.admin_url)
    with engine.connect() as conn:
        open_sessions = conn.execute(
            text("SELECT count(*) FROM pg_stat_activity WHERE usename = :role"),
            {"role": reader_role},
        ).scalar()
    engine.dispose()
    assert open_sessions == 0
    assert source.data.read_all().num_rows == 0


def test_the_password_stays_out_of_the_logs(pg_database, caplog):
    import logging

    caplog.set_level(logging.DEBUG)
    for name in ("sqlalchemy.engine", "sqlalchemy.pool", "psycopg"):
        caplog.set_level(logging.DEBUG, logger=name)
    read_sql(pg_database.url, table="dept.measure").data.read_all()
    with pytest.raises(QueryFailed):
        read_sql(pg_database.url, query="SELECT * FROM dept.nothing_here")
    assert caplog.records  # the engine and pool did log
    encoded = make_url(pg_database.url).render_as_string(hide_password=False).split(":")[2]
    assert PASSWORD not in caplog.text and encoded.split("@")[0] not in caplog.text
