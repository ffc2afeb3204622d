"""Bad input gives clear results, never a crash: mixed-type columns, all-null columns, one-row
tables, huge text cells, a catastrophic-backtracking regex, rules that do not fit."""

from __future__ import annotations

import datetime as dt

import pyarrow as pa
import pytest

from longshu.governance.quality import RuleSpec, evaluate, failing_rows, profile_version, score
from longshu.lake import tables


def load(session, actor, name: str, data: pa.Table):
    table = tables.create_table(session, actor, name, resource_id=1, owner_org_id=1)
    tables.write_version(session, actor, table, data)
    session.commit()
    return table


def test_range_on_a_mixed_type_column_counts_unreadable_values_as_failures(
    lake_env,
    session,
    admin,
):
    # A column of numbers and words loads as text; range reads each value with TRY_CAST.
    load(session, admin, "mixed", pa.table({"v": ["1", "9.5", "12", "abc", "", None, " 3 "]}))
    rows, [outcome] = evaluate(
        session, admin, "mixed", [RuleSpec("range", "v", {"min": 0, "max": 10})]
    )
    assert rows == 7
    assert (outcome.checked, outcome.failed) == (6, 3)  # "12", "abc", ""
    sample = failing_rows(session, admin, "mixed", RuleSpec("range", "v", {"min": 0, "max": 10}))
    assert sorted(sample.column("v").to_pylist()) == ["", "12", "abc"]
    rows, [dates] = evaluate(
        session, admin, "mixed", [RuleSpec("range", "v", {"min": "2000-01-01"})]
    )
    assert dates.failed == 6  # no value reads as a date


def test_all_null_columns(lake_env, session, admin):
    load(
        session,
        admin,
        "empty_cols",
        pa.table({"t": pa.array([None] * 4, pa.string()), "n": pa.array([None] * 4, pa.float64())}),
    )
    rules = [
        RuleSpec("completeness", "t"),
        RuleSpec("uniqueness", "t"),
        RuleSpec("regex", "t", {"pattern": "^x$"}),
        RuleSpec("range", "n", {"min": 0}),
        RuleSpec("checksum", "t", {"validator": "resident_id"}),
    ]
    rows, outcomes = evaluate(session, admin, "empty_cols", rules)
    assert rows == 4
    assert [(o.checked, o.failed) for o in outcomes] == [(4, 4), (0, 0), (0, 0), (0, 0), (0, 0)]
    assert [o.passed_ratio for o in outcomes] == [0.0, 1.0, 1.0, 1.0, 1.0]
    profile = profile_version(session, admin, "empty_cols")
    assert profile["n"] | {"top": None} == profile["n"] | {
        "nulls": 4,
        "null_pct": 100.0,
        "distinct": 0,
        "min": None,
        "max": None,
        "histogram": None,
        "top": None,
    }
    assert profile["t"]["top"] == []


def test_a_one_row_table(lake_env, session, admin):
    load(session, admin, "single", pa.table({"x": [5], "d": pa.array([dt.date(2020, 1, 1)])}))
    rules = [RuleSpec("uniqueness", "x"), RuleSpec("range", "x", {"min": 0, "max": 10})]
    rows, outcomes = evaluate(session, admin, "single", rules)
    assert rows == 1 and [o.failed for o in outcomes] == [0, 0]
    assert score(outcomes) == 100
    profile = profile_version(session, admin, "single")
    assert profile["x"]["histogram"] == {"edges": [5.0, 6.0], "counts": [1]}
    assert profile["d"]["histogram"]["counts"] == [1]


def test_an_empty_table(lake_env, session, admin):
    load(session, admin, "nothing", pa.table({"x": pa.array([], pa.int64())}))
    rows, [outcome] = evaluate(session, admin, "nothing", [RuleSpec("completeness", "x")])
    assert rows == 0 and outcome.checked == 0 and outcome.passed_ratio == 1.0
    assert profile_version(session, admin, "nothing")["x"]["null_pct"] == 0.0


def test_huge_cells_and_a_catastrophic_backtracking_pattern(lake_env, session, admin):
    # (a+)+$ backtracks exponentially in a backtracking engine on "aaa…b"; DuckDB's RE2 is
    # linear, so this returns (no timing asserted: that it returns the right verdict).
    evil = "a" * 100_000 + "b"
    fine = "a" * 100_000
    load(session, admin, "huge", pa.table({"s": [evil, fine, "aaa"]}))
    rule = RuleSpec("regex", "s", {"pattern": "^(a+)+$"})
    _, [outcome] = evaluate(session, admin, "huge", [rule])
    assert (outcome.checked, outcome.failed) == (3, 1)
    [row] = failing_rows(session, admin, "huge", rule, masks={"s": "keep_last"}).to_pylist()
    assert row["s"].endswith("aaab") and "*" * 1000 in row["s"]
    profile = profile_version(session, admin, "huge")
    assert len(profile["s"]["max"]) == 200
    assert sorted(len(v["value"]) for v in profile["s"]["top"]) == [3, 200, 200]


def test_a_pattern_that_slips_past_the_checks_fails_alone(lake_env, session, admin):
    # RE2 refuses what Python accepts here ((?i) inside a class is literal for Python);
    # whatever the engine refuses costs only its own rule, never the others.
    load(session, admin, "slip", pa.table({"s": ["a", None]}))
    rules = [RuleSpec("regex", "s", {"pattern": r"\Z"}), RuleSpec("completeness", "s")]
    rows, outcomes = evaluate(session, admin, "slip", rules)
    assert outcomes[0].error is not None  # RE2 has no \Z
    assert outcomes[1].error is None and outcomes[1].failed == 1
    assert rows == 2


@pytest.mark.parametrize("blank_ok", [False, True])
def test_blank_text_counts_as_missing_unless_allowed(lake_env, session, admin, blank_ok):
    load(session, admin, "blanks", pa.table({"s": ["x", "", " \u3000", None]}))
    rule = RuleSpec("completeness", "s", {"blank_ok": blank_ok})
    assert evaluate(session, admin, "blanks", [rule])[1][0].failed == (1 if blank_ok else 3)
