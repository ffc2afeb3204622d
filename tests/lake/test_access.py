"""The one door: ``lake.access`` returns only what the grant allows, masked and filtered,
refuses everything else with a typed error, and records every read and refusal."""

from __future__ import annotations

import datetime as dt

import pytest
from tests.lake.conftest import people

from longshu import lake
from longshu.db import utcnow
from longshu.lake import tables
from longshu.lake.errors import (
    ColumnNotGranted,
    ConstructNotAllowed,
    FunctionNotAllowed,
    GrantNotHeld,
    GrantNotValid,
    NotASelect,
    QueryInvalid,
    QueryTimeout,
    QueryTooLong,
    RowLimitExceeded,
    TableNotGranted,
    VersionNotGranted,
)
from longshu.lake.policy import Grant, Mask, TableGrant, rows_where
from longshu.security.crypto import pseudonymizer


def grant(**table: object) -> Grant:
    limits = {
        k: table.pop(k)
        for k in ("max_rows", "timeout_seconds", "holder_org_id", "valid_until", "consumer")
        if k in table
    }
    return Grant(
        id="sharing:1",
        consumer=str(limits.pop("consumer", "org:9")),
        tables=(TableGrant(table="population", **table),),
        **limits,
    )


def test_aggregate_over_a_granted_table(population, session, consumer, emitted):
    result = lake.access(
        session,
        consumer,
        grant(),
        "SELECT region_code, count(*) AS n FROM population GROUP BY 1 ORDER BY 1",
    )
    assert result.rows == 6 and result.versions == {"population": 1} and result.engine == "duckdb"
    [event] = emitted("lake.accessed")
    assert event.payload["grant_id"] == "sharing:1" and event.payload["rows"] == 6
    assert (
        event.payload["tables"][0]["version"] == 1
        and event.payload["tables"][0]["resource_id"] == 101
    )
    assert event.payload["columns"] == {"population": ["region_code"]}
    assert len(event.payload["query_sm3"]) == 64
    assert "SELECT" not in str(event.payload)  # never the query text


def test_star_shows_only_permitted_columns(population, session, consumer):
    result = lake.access(
        session, consumer, grant(columns=("id", "region_code")), "SELECT * FROM population"
    )
    assert result.data.column_names == ["id", "region_code"]


def test_a_column_outside_the_grant_is_refused(population, session, consumer, emitted):
    g = grant(columns=("id", "region_code"))
    for sql in (
        "SELECT name FROM population",
        "SELECT id FROM population WHERE income > 0",
        "SELECT p.id FROM population p ORDER BY p.name",
        'SELECT "id_number"" --" FROM population',
    ):
        with pytest.raises(ColumnNotGranted):
            lake.access(session, consumer, g, sql)
    refused = emitted("lake.access_refused")
    assert [e.payload["reason"] for e in refused] == ["column"] * 4
    assert all(e.payload["query_sm3"] for e in refused)


def test_masks(population, session, consumer):
    g = grant(
        masks={
            "id_number": Mask(kind="keep_last", keep=4),
            "name": Mask(kind="pseudonym"),
            "region_code": Mask(kind="hash"),
            "income": Mask(kind="null"),
            "birth_date": Mask(kind="year_only"),
        }
    )
    rows = lake.access(session, consumer, g, "SELECT * FROM population ORDER BY id").to_pylist()
    raw = people().to_pylist()
    first = rows[0]
    assert first["id_number"] == "*" * 14 + raw[0]["id_number"][-4:]
    assert first["name"] == pseudonymizer("lake.population", "org:9")(raw[0]["name"])
    assert first["region_code"] == pseudonymizer("lake.population", "*")(raw[0]["region_code"])
    assert first["income"] is None
    assert first["birth_date"] == dt.date(raw[0]["birth_date"].year, 1, 1)


def test_pseudonyms_differ_between_consumers_and_hashes_do_not(population, session, consumer):
    masks = {"name": Mask(kind="pseudonym"), "region_code": Mask(kind="hash")}
    sql = "SELECT name, region_code FROM population ORDER BY id"
    mine = lake.access(session, consumer, grant(masks=masks), sql).to_pylist()
    theirs = lake.access(session, consumer, grant(masks=masks, consumer="org:10"), sql).to_pylist()
    again = lake.access(session, consumer, grant(masks=masks), sql).to_pylist()
    assert mine == again
    assert all(a["name"] != b["name"] for a, b in zip(mine, theirs, strict=True))
    assert [a["region_code"] for a in mine] == [b["region_code"] for b in theirs]


def test_filters_see_masked_values_not_raw_ones(population, session, consumer):
    raw_id = people().column("id_number")[0].as_py()
    g = grant(masks={"id_number": Mask(kind="keep_last", keep=4)})
    sql = f"SELECT count(*) AS n FROM population WHERE id_number = '{raw_id}' OR id_number LIKE '6201%'"
    assert lake.access(session, consumer, g, sql).to_pylist() == [{"n": 0}]


def test_year_only_on_text(lake_env, session, admin, consumer):
    import pyarrow as pa

    table = tables.create_table(session, admin, "licences")
    tables.write_version(session, admin, table, pa.table({"issued": ["2019-03-02", None]}))
    g = Grant(
        id="g",
        consumer="c",
        tables=(TableGrant(table="licences", masks={"issued": Mask(kind="year_only")}),),
    )
    assert lake.access(session, consumer, g, "SELECT issued FROM licences").to_pylist() == [
        {"issued": "2019"},
        {"issued": None},
    ]


def test_row_filter(population, session, consumer):
    g = grant(row_filter=rows_where("region_code", ["620102", "620202"]))
    rows = lake.access(session, consumer, g, "SELECT region_code FROM population").to_pylist()
    assert {r["region_code"] for r in rows} == {"620102", "620202"} and len(rows) == 2
    # the filter applies inside every reference, including self-joins and subqueries
    sql = "SELECT count(*) AS n FROM population a JOIN population b ON a.id <> b.id WHERE a.id IN (SELECT id FROM population)"
    assert lake.access(session, consumer, g, sql).to_pylist() == [{"n": 2}]


def test_row_filter_on_a_hidden_column(population, session, consumer):
    g = grant(columns=("id",), row_filter=rows_where("region_code", ["620102"]))
    assert lake.access(session, consumer, g, "SELECT id FROM population").to_pylist() == [{"id": 1}]


def test_row_filter_values_cannot_inject(population, session, consumer):
    g = grant(row_filter=rows_where("region_code", ["620102') OR (1=1", "x' OR 'a'='a"]))
    assert lake.access(
        session, consumer, g, "SELECT count(*) AS n FROM population"
    ).to_pylist() == [{"n": 0}]


@pytest.mark.parametrize(
    "sql",
    [
        "INSERT INTO population VALUES (1)",
        "DELETE FROM population",
        "UPDATE population SET name = 'x'",
        "DROP TABLE population",
        "CREATE TABLE x AS SELECT * FROM population",
        "COPY population TO 'out.csv'",
        "PRAGMA database_list",
        "SET threads = 8",
        "ATTACH 'other.db'",
        "INSTALL httpfs",
        "LOAD httpfs",
        "EXPORT DATABASE 'x'",
        "DESCRIBE population",
        "SELECT 1; SELECT 2",
        "SELECT 1; DROP TABLE population",
    ],
)
def test_only_one_select(population, session, consumer, sql):
    with pytest.raises((NotASelect, QueryInvalid)):
        lake.access(session, consumer, grant(), sql)


@pytest.mark.parametrize(
    ("sql", "error"),
    [
        ("SELECT * FROM credit", TableNotGranted),
        ("SELECT * FROM main.population", TableNotGranted),
        ('SELECT * FROM "Population"', TableNotGranted),
        ("SELECT * FROM '/etc/passwd'", TableNotGranted),
        ("SELECT * FROM 'population.csv'", TableNotGranted),
        ('SELECT * FROM "population; DROP TABLE x"', TableNotGranted),
        ("SELECT * FROM population, other", TableNotGranted),
        ("SELECT * FROM population WHERE id IN (SELECT id FROM secret)", TableNotGranted),
        ("WITH x AS (SELECT * FROM secret) SELECT * FROM x", TableNotGranted),
        ("SELECT * FROM read_csv('/etc/passwd')", FunctionNotAllowed),
        ("SELECT * FROM read_parquet('x.parquet')", FunctionNotAllowed),
        ("SELECT read_text('/etc/passwd')", FunctionNotAllowed),
        ("SELECT * FROM query_table('__ls_r0')", (ConstructNotAllowed, FunctionNotAllowed)),
        ("SELECT * FROM query('SELECT 1')", (ConstructNotAllowed, FunctionNotAllowed)),
        ("SELECT * FROM glob('/*')", (ConstructNotAllowed, FunctionNotAllowed)),
        ("SELECT * FROM duckdb_tables()", (ConstructNotAllowed, FunctionNotAllowed)),
        ("SELECT * FROM range(10)", (ConstructNotAllowed, FunctionNotAllowed)),
        ("SELECT current_setting('threads')", FunctionNotAllowed),
        ("SELECT getenv('HOME')", FunctionNotAllowed),
        ("SELECT * FROM __ls_r0", ConstructNotAllowed),
        ("SELECT __ls_hash_r0(name) FROM population", (ConstructNotAllowed, FunctionNotAllowed)),
        ("SELECT id AS __ls_x FROM population", ConstructNotAllowed),
        ("SELECT id INTO newtable FROM population", ConstructNotAllowed),
        ("SELECT * FROM population WHERE id = ?", ConstructNotAllowed),
        ("SELECT * FROM population WHERE id = $1", ConstructNotAllowed),
        ("SELEC * FROM population", QueryInvalid),
        ("SELECT * FROM population WHERE (", QueryInvalid),
        ("", QueryInvalid),
    ],
)
def test_bad_queries_are_refused(population, session, consumer, sql, error):
    with pytest.raises(error):
        lake.access(session, consumer, grant(), sql)


def test_case_of_unquoted_names_does_not_matter(population, session, consumer):
    assert lake.access(
        session, consumer, grant(), "SELECT COUNT(*) AS n FROM POPULATION"
    ).to_pylist() == [{"n": 6}]


def test_a_cte_may_shadow_nothing_it_is_not_granted(population, session, consumer):
    sql = "WITH population AS (SELECT 1 AS one) SELECT one FROM population"
    assert lake.access(session, consumer, grant(), sql).to_pylist() == [{"one": 1}]
    sql = "WITH p AS (SELECT id FROM population WHERE id < 3) SELECT count(*) AS n FROM p"
    assert lake.access(session, consumer, grant(), sql).to_pylist() == [{"n": 2}]


def test_too_long(population, session, consumer):
    with pytest.raises(QueryTooLong):
        lake.access(session, consumer, grant(), "SELECT 1" + " " * 30_000)


def test_row_limit(population, session, consumer, emitted):
    with pytest.raises(RowLimitExceeded):
        lake.access(session, consumer, grant(max_rows=5), "SELECT id FROM population")
    assert lake.access(session, consumer, grant(max_rows=6), "SELECT id FROM population").rows == 6
    assert emitted("lake.access_refused")[0].payload["reason"] == "rows"


def test_timeout(population, session, consumer):
    joins = ", ".join(f"population t{i}" for i in range(14))
    with pytest.raises(QueryTimeout):
        lake.access(session, consumer, grant(timeout_seconds=0.3), f"SELECT count(*) FROM {joins}")


def test_grant_validity_and_holder(population, session, consumer):
    with pytest.raises(GrantNotValid):
        lake.access(
            session,
            consumer,
            grant(valid_until=utcnow() - dt.timedelta(seconds=1)),
            "SELECT 1 AS x FROM population",
        )
    with pytest.raises(GrantNotHeld):
        lake.access(session, consumer, grant(holder_org_id=8), "SELECT 1 AS x FROM population")
    assert (
        lake.access(session, consumer, grant(holder_org_id=9), "SELECT id FROM population").rows
        == 6
    )


def test_versions_covered(population, session, admin, consumer):
    tables.write_version(session, admin, population, people(2, offset=6), mode="append")
    latest = lake.access(session, consumer, grant(), "SELECT count(*) AS n FROM population")
    assert latest.to_pylist() == [{"n": 8}] and latest.versions == {"population": 2}
    pinned = lake.access(
        session, consumer, grant(versions=(1,)), "SELECT count(*) AS n FROM population"
    )
    assert pinned.to_pylist() == [{"n": 6}] and pinned.versions == {"population": 1}
    old = lake.access(
        session, consumer, grant(), "SELECT count(*) AS n FROM population", at={"population": 1}
    )
    assert old.to_pylist() == [{"n": 6}]
    with pytest.raises(VersionNotGranted):
        lake.access(
            session,
            consumer,
            grant(versions=(1,)),
            "SELECT 1 AS x FROM population",
            at={"population": 2},
        )


def test_join_of_two_granted_tables(population, session, admin, consumer):
    import pyarrow as pa

    credit = tables.create_table(session, admin, "credit")
    tables.write_version(
        session, admin, credit, pa.table({"person_id": [1, 2, 2], "score": [90, 70, 75]})
    )
    g = Grant(
        id="g",
        consumer="org:9",
        tables=(TableGrant(table="population", columns=("id", "name")), TableGrant(table="credit")),
    )
    sql = "SELECT p.name, max(c.score) AS best FROM population p JOIN credit c ON c.person_id = p.id GROUP BY p.name ORDER BY p.name"
    result = lake.access(session, consumer, g, sql)
    assert result.to_pylist() == [{"name": "居民0", "best": 90}, {"name": "居民1", "best": 75}]
    assert result.versions == {"population": 1, "credit": 1}


def test_engine_errors_do_not_reveal_internal_names(population, session, consumer):
    from longshu.lake.errors import QueryFailed

    with pytest.raises(QueryFailed) as caught:
        lake.access(session, consumer, grant(), "SELECT id + 'x' FROM population")
    assert "__ls" not in str(caught.value)


def test_grant_objects_check_themselves():
    from pydantic import ValidationError

    with pytest.raises(ValidationError):
        TableGrant(table="population", columns=("id",), masks={"name": Mask(kind="null")})
    with pytest.raises(ValidationError):
        TableGrant(table="../x")
    with pytest.raises(ValidationError):
        Mask(kind="rot13")  # type: ignore[arg-type]
    with pytest.raises(ValidationError):
        Grant(id="g", consumer="c", tables=(TableGrant(table="a"), TableGrant(table="a")))
    for bad in ("id IN (SELECT id FROM secret)", "read_text('/etc/passwd') = ''", "id = ?", "(("):
        with pytest.raises(ValidationError):
            TableGrant(table="population", row_filter=bad)
    g = grant(masks={"name": Mask(kind="keep_last", keep=2)}, row_filter="income > 100")
    assert Grant.model_validate_json(g.model_dump_json()) == g
