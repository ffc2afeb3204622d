"""The quality score (weighted mean of passed ratios per dimension), timeliness against the
catalog's update frequencies, and rules suggested from profiles and detector findings."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pyarrow as pa
import pytest

from longshu.catalog.vocab import UPDATE_CYCLES
from longshu.governance.quality import (
    RuleOutcome,
    RuleSpec,
    UnknownPeriod,
    due_date,
    score,
    suggest_rules,
    timeliness,
)

UTC = dt.UTC


def outcome(kind: str, checked: int, failed: int, error: str | None = None) -> RuleOutcome:
    column = None if kind == "timeliness" else "c"
    result = RuleOutcome.of(RuleSpec(kind, column), checked, failed)
    return result if error is None else RuleOutcome.failed_to_run(result.rule, error)


def test_score_averages_rules_within_a_dimension_then_dimensions():
    outcomes = [
        outcome("completeness", 100, 10),  # completeness 0.9
        outcome("regex", 100, 0),  # validity: mean(1.0, 0.5) = 0.75
        outcome("checksum", 100, 50),
        outcome("uniqueness", 0, 0),  # nothing checked: 1.0
    ]
    assert score(outcomes) == Decimal("88.33")  # (0.9 + 0.75 + 1.0) / 3
    weighted = score(outcomes, {"validity": Decimal(2)})
    assert weighted == Decimal("85.00")  # (0.9 + 2 × 0.75 + 1.0) / 4
    assert isinstance(weighted, Decimal) and weighted.as_tuple().exponent == -2


def test_rules_that_could_not_run_do_not_count():
    outcomes = [outcome("completeness", 10, 5), outcome("regex", 0, 0, error="bad")]
    assert score(outcomes) == Decimal("50.00")
    assert score([]) == Decimal("100.00")
    assert score([outcome("regex", 0, 0, error="bad")]) == Decimal("100.00")
    assert score([outcome("completeness", 3, 3)]) == Decimal("0.00")


def test_timeliness_per_update_frequency():
    loaded = dt.datetime(2026, 1, 31, 8, 0, tzinfo=UTC)
    assert due_date(loaded, "daily") == dt.datetime(2026, 2, 1, 8, 0, tzinfo=UTC)
    assert due_date(loaded, "weekly") == dt.datetime(2026, 2, 7, 8, 0, tzinfo=UTC)
    assert due_date(loaded, "monthly") == dt.datetime(2026, 2, 28, 8, 0, tzinfo=UTC)
    assert due_date(loaded, "quarterly") == dt.datetime(2026, 4, 30, 8, 0, tzinfo=UTC)
    assert due_date(loaded, "half_yearly") == dt.datetime(2026, 7, 31, 8, 0, tzinfo=UTC)
    assert due_date(loaded, "yearly") == dt.datetime(2027, 1, 31, 8, 0, tzinfo=UTC)
    assert due_date(loaded, "realtime") == dt.datetime(2026, 1, 31, 9, 0, tzinfo=UTC)
    assert due_date(loaded, "irregular") is None and due_date(loaded, "static") is None
    fresh = timeliness(loaded, "monthly", now=dt.datetime(2026, 2, 27, tzinfo=UTC))
    stale = timeliness(loaded, "monthly", now=dt.datetime(2026, 3, 1, tzinfo=UTC))
    assert (fresh.fresh, fresh.failed, fresh.passed_ratio) == (True, 0, 1.0)
    assert (stale.fresh, stale.failed, stale.passed_ratio) == (False, 1, 0.0)
    assert stale.due == dt.datetime(2026, 2, 28, 8, 0, tzinfo=UTC)
    never = timeliness(loaded, "static", now=dt.datetime(2030, 1, 1, tzinfo=UTC))
    assert never.fresh and never.due is None


def test_every_catalog_update_frequency_is_known_and_naive_times_are_utc():
    loaded = dt.datetime(2026, 1, 1, 0, 0)  # naive, as the database returns it
    for code in UPDATE_CYCLES:
        verdict = timeliness(loaded, code, now=dt.datetime(2026, 1, 1, 0, 30, tzinfo=UTC))
        assert verdict.fresh, code
    with pytest.raises(UnknownPeriod):
        timeliness(loaded, "fortnightly")


COLUMNS = {
    "id": pa.int64(),
    "id_number": pa.string(),
    "csrq": pa.date32(),
    "性别": pa.string(),
    "region_code": pa.string(),
    "income": pa.float64(),
    "note": pa.string(),
}


def facts(rows: int, nulls: int, distinct: int, **more) -> dict:
    return {"rows": rows, "nulls": nulls, "distinct": distinct, "distinct_exact": True} | more


PROFILE = {
    "id": facts(1000, 0, 1000, min=1, max=1000),
    "id_number": facts(1000, 0, 1000, masked=True),
    "性别": facts(1000, 0, 2, top=[{"value": "男", "count": 520}, {"value": "女", "count": 480}]),
    "income": facts(1000, 10, 900, min=0.0, max=98000.5),
    "note": facts(1000, 700, 250),
    "region_code": facts(1000, 0, 14, top=[{"value": "620102", "count": 900}], masked=False),
}


def kinds(rules: list[RuleSpec]) -> set[tuple]:
    return {(r.kind, r.column, r.params.get("validator") or r.params.get("check")) for r in rules}


def test_suggestions_from_a_profile():
    rules = suggest_rules(COLUMNS, PROFILE)
    found = kinds(rules)
    assert ("completeness", "id", None) in found and ("uniqueness", "id", None) in found
    assert ("range", "id", None) not in found  # a key: its range says nothing
    assert ("enum", "性别", None) in found
    enum = next(r for r in rules if r.kind == "enum")
    assert enum.params["values"] == ["男", "女"]
    income = next(r for r in rules if r.kind == "range")
    assert (income.column, income.params) == ("income", {"min": 0.0, "max": 98000.5})
    assert not any(r.column == "note" for r in rules)  # 70 % missing, no pattern
    # region_code's top values do not cover it: no enum from a partial list
    assert ("enum", "region_code", None) not in found


def test_suggestions_from_findings():
    findings = [
        {"type": "resident_id", "column": "id_number", "hit_ratio": 0.99},
        {"type": "region_code", "column": "region_code"},
        {"type": "bank_card", "column": "missing_column"},
    ]
    found = kinds(suggest_rules(COLUMNS, {}, findings))
    assert found == {
        ("checksum", "id_number", "resident_id"),
        ("consistency", "id_number", "id_birth_date"),
        ("consistency", "id_number", "id_sex"),
        ("checksum", "region_code", "region_code"),
    }
    referential = suggest_rules(COLUMNS, {}, findings[1:2], region_table=("regions", "code"))
    assert [(r.kind, r.params["table"]) for r in referential] == [("referential", "regions")]


def test_suggestions_do_not_repeat():
    findings = [{"type": "resident_id", "column": "id_number"}] * 3
    rules = suggest_rules(COLUMNS, PROFILE, findings)
    keys = [(r.kind, r.column, repr(sorted(r.params.items()))) for r in rules]
    assert len(keys) == len(set(keys))
