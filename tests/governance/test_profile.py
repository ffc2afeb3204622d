"""Column profiles of a lake version through lake.access: counts, bounds, top values
(sensitive columns masked, never raw), histograms, time travel."""

from __future__ import annotations

import datetime as dt

import pyarrow as pa
import pytest
from sqlalchemy import select

from longshu.events import Event
from longshu.governance.quality import profile_version
from longshu.lake import tables

ID_NUMBERS = [f"62010219{80 + i:02d}0101{i:03d}X" for i in range(10)]


@pytest.fixture
def people(lake_env, session, admin):
    table = tables.create_table(session, admin, "people", resource_id=1, owner_org_id=1)
    data = pa.table(
        {
            "id_number": ID_NUMBERS,
            "sex": ["M", "F", "M", "M", None, "F", "M", "M", "F", "M"],
            "income": pa.array([0.0, 10.0, 20.0, 30.0, 40.0, 50.0, 60.0, 70.0, 80.0, 100.0]),
            "born": pa.array([dt.date(1980 + i, 1, 1) for i in range(10)], pa.date32()),
            "tags": pa.array([["a"]] * 10, pa.list_(pa.string())),
        }
    )
    tables.write_version(session, admin, table, data)
    session.commit()
    return table


def test_counts_bounds_and_top_values(session, admin, people):
    profile = profile_version(session, admin, "people", top=2)
    sex = profile["sex"]
    assert (sex["rows"], sex["nulls"], sex["null_pct"], sex["distinct"]) == (10, 1, 10.0, 2)
    assert (sex["min"], sex["max"]) == ("F", "M")
    assert sex["top"] == [{"value": "M", "count": 6}, {"value": "F", "count": 3}]
    income = profile["income"]
    assert (income["min"], income["max"], income["distinct"]) == (0.0, 100.0, 10)
    assert income["histogram"]["edges"][0] == 0.0 and income["histogram"]["edges"][-1] == 100.0
    # ten bins of 10; 90 is missing and 100 (the maximum) falls in the last bin
    assert income["histogram"]["counts"] == [1] * 10
    born = profile["born"]
    assert (born["min"], born["max"]) == ("1980-01-01", "1989-01-01")
    assert born["histogram"]["edges"][0] == "1980-01-01" and sum(born["histogram"]["counts"]) == 10
    assert profile["tags"]["top"] == [] and profile["tags"]["distinct"] is None


def test_sensitive_columns_never_show_raw_values(session, admin, people, emitted):
    profile = profile_version(
        session, admin, "people", sensitive={"id_number": "keep_last", "income": "hash"}
    )
    ids = profile["id_number"]
    assert ids["masked"] and ids["min"] is None and ids["max"] is None and ids["distinct"] == 10
    shown = [v["value"] for v in ids["top"]]
    assert shown and all(v.startswith("*" * 14) for v in shown)
    assert not set(shown) & set(ID_NUMBERS)
    income = profile["income"]
    assert income["histogram"] is None and income["min"] is None
    assert all(len(v["value"]) == 64 for v in income["top"])  # HMAC-SM3 hex
    # the lake recorded the masked read
    reads = session.scalars(select(Event).where(Event.type == "lake.accessed")).all()
    assert any(r.payload.get("masked") == {"people": ["id_number", "income"]} for r in reads)


def test_a_profile_of_an_earlier_version(session, admin, people):
    more = pa.table(
        {
            "id_number": ["620102199001011234"],
            "sex": ["F"],
            "income": pa.array([5.0]),
            "born": pa.array([dt.date(1990, 1, 1)], pa.date32()),
        }
    )
    tables.write_version(session, admin, people, more, mode="append")
    session.commit()
    assert profile_version(session, admin, "people")["sex"]["rows"] == 11
    assert profile_version(session, admin, "people", version=1)["sex"]["rows"] == 10
