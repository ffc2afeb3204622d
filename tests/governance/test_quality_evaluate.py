"""Quality rules run on real lake tables through lake.access: one statement for all rules,
outcomes per rule, failing rows masked, referential rules against another table."""

from __future__ import annotations

import datetime as dt
import random
from decimal import Decimal

import pyarrow as pa
import pytest
from sqlalchemy import select

from longshu import ids
from longshu.events import Event
from longshu.governance.quality import (
    NotRowLevel,
    RuleSpec,
    evaluate,
    failing_rows,
    score,
)
from longshu.lake import tables

TODAY = dt.date(2026, 11, 29)


def people() -> pa.Table:
    """Ten residents; row 3 has a wrong check digit, row 5 a birth date that disagrees with
    the ID, row 7 a duplicate ID, row 8 no name, row 9 an unknown region and a bad code."""
    rng = random.Random(7)
    births = [dt.date(1950 + 5 * i, 1 + i, 1 + 2 * i) for i in range(10)]
    regions = ["620102", "620103", "620202", "620102", "620502", "620103", "620702", "620102"]
    regions += ["620902", "629999"]
    numbers = [
        ids.make_resident_id(regions[i][:6] if i != 9 else "620902", births[i], 10 + i)
        for i in range(10)
    ]
    numbers[3] = numbers[3][:-1] + ("0" if numbers[3][-1] != "0" else "1")
    numbers[7] = numbers[6]
    birth_dates = list(births)
    birth_dates[5] = dt.date(1999, 9, 9)
    birth_dates[7] = births[6]
    return pa.table(
        {
            "id": pa.array(range(1, 11), pa.int64()),
            "id_number": numbers,
            "name": [f"居民{i}" if i != 8 else None for i in range(10)],
            "birth_date": pa.array(birth_dates, pa.date32()),
            "sex": [ids.resident_id_sex(n) for n in numbers],
            "region_code": regions,
            "income": pa.array([1000.0 * (i + 1) for i in range(10)], pa.float64()),
            "credit": [ids.random_credit_code(rng) for _ in range(9)] + ["91620100MA00000000"],
        }
    )


@pytest.fixture
def population(lake_env, session, admin):
    table = tables.create_table(session, admin, "population", resource_id=101, owner_org_id=7)
    tables.write_version(session, admin, table, people(), source="test")
    regions = tables.create_table(session, admin, "regions", resource_id=102, owner_org_id=1)
    codes = ["620000", "620100", "620102", "620103", "620200", "620202", "620502", "620702"]
    tables.write_version(session, admin, regions, pa.table({"code": [*codes, "620902"]}))
    session.commit()
    return table


RULES = [
    RuleSpec("completeness", "name"),
    RuleSpec("uniqueness", "id_number"),
    RuleSpec("regex", "region_code", {"pattern": r"^62\d{4}$"}),
    RuleSpec("enum", "sex", {"values": ["M", "F"]}),
    RuleSpec("range", "income", {"min": 1000, "max": 8000}),
    RuleSpec("checksum", "id_number", {"validator": "resident_id"}),
    RuleSpec("checksum", "credit", {"validator": "credit_code"}),
    RuleSpec("consistency", "id_number", {"check": "id_birth_date", "date_column": "birth_date"}),
    RuleSpec("consistency", "id_number", {"check": "id_sex", "sex_column": "sex"}),
    RuleSpec("referential", "region_code", {"table": "regions", "column": "code"}),
    RuleSpec("timeliness", None, {"period": "daily"}),
]


def test_every_rule_gets_its_count_in_one_read(session, admin, population):
    rows, outcomes = evaluate(session, admin, "population", RULES, today=TODAY)
    assert rows == 10
    found = {(o.rule.kind, o.rule.column, o.rule.params.get("check")): o for o in outcomes}
    assert [o.error for o in outcomes] == [None] * len(RULES)
    assert found[("completeness", "name", None)].failed == 1
    assert found[("uniqueness", "id_number", None)].failed == 1
    assert found[("regex", "region_code", None)].failed == 0
    assert found[("enum", "sex", None)].failed == 0
    assert found[("range", "income", None)].failed == 2  # 9000 and 10000
    assert found[("checksum", "id_number", None)].failed == 1  # row 3
    assert found[("checksum", "credit", None)].failed == 1
    assert found[("consistency", "id_number", "id_birth_date")].failed == 1  # row 5
    assert found[("consistency", "id_number", "id_sex")].failed == 0
    assert found[("referential", "region_code", None)].failed == 1  # 629999
    assert found[("timeliness", None, None)].failed == 0
    checksum = found[("checksum", "id_number", None)]
    assert checksum.checked == 10 and checksum.passed_ratio == pytest.approx(0.9)
    # one read for the schema, one for all SQL rules
    reads = session.scalars(select(Event).where(Event.type == "lake.accessed")).all()
    assert len(reads) == 2
    assert {t["table"] for t in reads[-1].payload["tables"]} == {"population", "regions"}
    assert Decimal("0") < score(outcomes) < Decimal("100")


def test_failing_rows_are_masked_and_only_the_failing_ones(session, admin, population):
    rule = RuleSpec("checksum", "id_number", {"validator": "resident_id"})
    sample = failing_rows(
        session,
        admin,
        "population",
        rule,
        masks={"id_number": "keep_last", "name": "hash"},
        today=TODAY,
    )
    assert sample.num_rows == 1
    row = sample.to_pylist()[0]
    assert row["id"] == 4
    assert row["id_number"].startswith("**************") and len(row["id_number"]) == 18
    assert row["name"] != "居民3" and len(row["name"]) == 64


def test_failing_rows_of_uniqueness_and_referential(session, admin, population):
    dupes = failing_rows(
        session,
        admin,
        "population",
        RuleSpec("uniqueness", "id_number"),
        masks={"id_number": "hash"},
    )
    assert sorted(dupes.column("id").to_pylist()) == [7, 8]
    assert len(set(dupes.column("id_number").to_pylist())) == 1  # the same value, hashed
    orphans = failing_rows(
        session,
        admin,
        "population",
        RuleSpec("referential", "region_code", {"table": "regions", "column": "code"}),
    )
    assert orphans.column("region_code").to_pylist() == ["629999"]


def test_no_failures_gives_an_empty_sample(session, admin, population):
    sample = failing_rows(
        session, admin, "population", RuleSpec("enum", "sex", {"values": ["M", "F"]})
    )
    assert sample.num_rows == 0 and "id_number" in sample.column_names


def test_timeliness_has_no_rows(session, admin, population):
    with pytest.raises(NotRowLevel):
        failing_rows(
            session, admin, "population", RuleSpec("timeliness", None, {"period": "daily"})
        )


def test_a_rule_that_no_longer_fits_gets_an_error_and_the_rest_run(session, admin, population):
    rules = [RuleSpec("completeness", "gone"), RuleSpec("completeness", "name")]
    rows, outcomes = evaluate(session, admin, "population", rules)
    assert rows == 10
    assert outcomes[0].error and "gone" in outcomes[0].error
    assert outcomes[1].error is None and outcomes[1].failed == 1


def test_a_failing_referential_table_does_not_hide_other_results(session, admin, population):
    rules = [
        RuleSpec("referential", "region_code", {"table": "no_such_table", "column": "code"}),
        RuleSpec("completeness", "name"),
    ]
    rows, outcomes = evaluate(session, admin, "population", rules)
    assert outcomes[0].error is not None and "no_such_table" in outcomes[0].error
    assert outcomes[1].failed == 1 and rows == 10


def test_versions_are_evaluated_as_they_were(session, admin, population):
    fixed = people().set_column(2, "name", pa.array([f"居民{i}" for i in range(10)]))
    tables.write_version(session, admin, population, fixed, source="test")
    session.commit()
    rule = [RuleSpec("completeness", "name")]
    assert evaluate(session, admin, "population", rule, version=1)[1][0].failed == 1
    assert evaluate(session, admin, "population", rule)[1][0].failed == 0
