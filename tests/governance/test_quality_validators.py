"""The SQL checksum validators give the same verdict as the Python validators of longshu.ids,
value for value (hypothesis), in the exact SQL text lake.access would run (parsed, checked
and printed again by its sqlglot policy), and through lake.access itself."""

from __future__ import annotations

import datetime as dt
import random
import re

import duckdb
import pyarrow as pa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from longshu import ids, lake
from longshu.governance.quality import RuleSpec, evaluate
from longshu.governance.quality.validators import MOBILE_PATTERN, VALIDATORS, fails_inline
from longshu.lake import tables
from longshu.lake.policy import Grant, TableGrant
from longshu.lake.rewrite import parse_query

TODAY = dt.date(2026, 11, 29)
PY_SPACE = "".join(chr(c) for c in range(0x3001) if chr(c).isspace())


def luhn_ok(value: str) -> bool:
    """Reference: 13–19 ASCII digits (surrounding white space stripped) with a Luhn sum ≡ 0."""
    text = value.strip()
    if not (13 <= len(text) <= 19 and text.isascii() and text.isdigit()):
        return False
    total = 0
    for i, ch in enumerate(reversed(text)):
        d = int(ch)
        total += (d * 2 - 9 if d * 2 > 9 else d * 2) if i % 2 else d
    return total % 10 == 0


def mobile_ok(value: str) -> bool:
    return re.fullmatch(MOBILE_PATTERN, value.strip(), flags=re.ASCII) is not None


PYTHON = {
    "resident_id": lambda v: ids.check_resident_id(v, TODAY).valid,
    "credit_code": lambda v: ids.check_credit_code(v).valid,
    "bank_card": luhn_ok,
    "mobile": mobile_ok,
    "region_code": lambda v: ids.check_region_code(v).valid,
}


def sql_verdicts(name: str, values: list[str]) -> list[bool]:
    """TRUE where the value passes, computed by DuckDB on the SQL lake.access would run."""
    query = f"SELECT NOT ({fails_inline(name, 'v', TODAY)}) AS ok FROM t ORDER BY i"
    printed = parse_query(query, 1_000_000).sql(dialect="duckdb")  # the lake's policy accepts it
    con = duckdb.connect()
    con.register("t", pa.table({"i": list(range(len(values))), "v": values}))
    try:
        return [row[0] for row in con.execute(printed).fetchall()]
    finally:
        con.close()


# --- value strategies: valid values, near misses, and arbitrary text ----------------------

digits = st.text("0123456789", min_size=0, max_size=22)


@st.composite
def resident_ids(draw) -> str:
    rng = random.Random(draw(st.integers(0, 2**32)))
    region = draw(st.sampled_from(["620102", "110101", "830000", "710000", "620000", "621200"]))
    born = draw(st.dates(dt.date(1790, 1, 1), dt.date(2030, 12, 31)))
    body = f"{region}{born:%Y%m%d}{rng.randrange(1000):03d}"
    return body + ids.resident_id_check_char(body)


@st.composite
def credit_codes(draw) -> str:
    rng = random.Random(draw(st.integers(0, 2**32)))
    return ids.random_credit_code(rng, draw(st.sampled_from(["620100", "110000", "620102"])))


@st.composite
def bank_cards(draw) -> str:
    body = draw(st.text("0123456789", min_size=12, max_size=18))
    for check in "0123456789":
        if luhn_ok(body + check):
            return body + check
    raise AssertionError("a Luhn check digit always exists")


@st.composite
def mutated(draw, base) -> str:
    value = draw(base)
    how = draw(st.sampled_from(["keep", "char", "swap", "case", "space", "cut", "extend"]))
    if how == "char" and value:
        i = draw(st.integers(0, len(value) - 1))
        value = value[:i] + draw(st.characters(codec="utf-8")) + value[i + 1 :]
    elif how == "swap" and len(value) > 1:
        i = draw(st.integers(0, len(value) - 2))
        value = value[:i] + value[i + 1] + value[i] + value[i + 2 :]
    elif how == "case":
        value = value.lower()
    elif how == "space":
        value = draw(st.text(PY_SPACE, max_size=3)) + value + draw(st.text(PY_SPACE, max_size=3))
    elif how == "cut" and value:
        value = value[: draw(st.integers(0, len(value) - 1))]
    elif how == "extend":
        value += draw(st.text("0123456789X", min_size=1, max_size=2))
    return value


def values_for(base) -> st.SearchStrategy[list[str]]:
    one = st.one_of(mutated(base), digits, st.text(max_size=25))
    return st.lists(one, min_size=1, max_size=40)


PROPERTY = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
MOBILES = st.builds(
    lambda prefix, n: prefix + n,
    st.sampled_from(["", "+86", "86", "0086", "+86 ", "86-"]),
    st.from_regex(r"\A1[0-9]{10}\Z"),
)
REGIONS = st.from_regex(r"\A[0-9]{6}\Z")


@PROPERTY
@given(values_for(resident_ids()))
def test_resident_id_sql_matches_python(values):
    assert sql_verdicts("resident_id", values) == [PYTHON["resident_id"](v) for v in values]


@PROPERTY
@given(values_for(credit_codes()))
def test_credit_code_sql_matches_python(values):
    assert sql_verdicts("credit_code", values) == [PYTHON["credit_code"](v) for v in values]


@PROPERTY
@given(values_for(bank_cards()))
def test_bank_card_sql_matches_python(values):
    assert sql_verdicts("bank_card", values) == [luhn_ok(v) for v in values]


@PROPERTY
@given(values_for(MOBILES))
def test_mobile_sql_matches_python(values):
    assert sql_verdicts("mobile", values) == [mobile_ok(v) for v in values]


@PROPERTY
@given(values_for(REGIONS))
def test_region_code_sql_matches_python(values):
    assert sql_verdicts("region_code", values) == [PYTHON["region_code"](v) for v in values]


def test_known_verdicts():
    good = ids.make_resident_id("620102", dt.date(1990, 2, 28), 123)
    assert sql_verdicts(
        "resident_id", [good, good[:-1] + "0" if good[-1] != "0" else good[:-1] + "1"]
    ) == [True, False]
    leap = "62010219000229" + "123"  # 1900 is not a leap year
    assert sql_verdicts("resident_id", [leap + ids.resident_id_check_char(leap)]) == [False]
    assert sql_verdicts("bank_card", ["4111111111111111", "4111111111111112"]) == [True, False]
    assert sql_verdicts("region_code", ["620102", "620012", "990000"]) == [True, False, False]


def test_every_validator_runs_through_lake_access(lake_env, session, admin):
    """A column per validator, mixed valid and invalid values, counted by one evaluate()."""
    rng = random.Random(11)
    samples = {
        "resident_id": [ids.random_resident_id(rng) for _ in range(30)],
        "credit_code": [ids.random_credit_code(rng) for _ in range(30)],
        "bank_card": ["4111111111111111", "6222020200112233445"] * 15,
        "mobile": ["13912345678", "+86 13912345678"] * 15,
        "region_code": ["620102", "620000"] * 15,
    }
    broken = {name: [v[:-2] + v[-1] + v[-2] for v in vs[:10]] for name, vs in samples.items()}
    broken["mobile"] = [v[:-1] for v in samples["mobile"][:10]]
    broken["region_code"] = ["99" + v[2:] for v in samples["region_code"][:10]]
    columns = {name: samples[name] + broken[name] for name in samples}
    table = tables.create_table(session, admin, "validated", resource_id=1, owner_org_id=1)
    tables.write_version(session, admin, table, pa.table(columns))
    session.commit()
    rules = [RuleSpec("checksum", name, {"validator": name}) for name in VALIDATORS]
    rows, outcomes = evaluate(session, admin, "validated", rules, today=TODAY)
    assert rows == 40
    for outcome in outcomes:
        name = outcome.rule.column
        expected = sum(not PYTHON[name](v) for v in columns[name])
        assert outcome.error is None and outcome.failed == expected > 0, name
    # and the statement the lake ran is the one-pass aggregate
    grant = Grant(id="t", consumer="t", tables=(TableGrant(table="validated"),))
    again = lake.access(session, admin, grant, "SELECT COUNT(*) AS n FROM validated")
    assert again.to_pylist() == [{"n": 40}]
