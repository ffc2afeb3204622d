"""check_rule: the one gate a quality rule passes before it becomes SQL — kinds, columns,
parameters, column types and regular-expression safety, each refused with its own error and a
Chinese message."""

from __future__ import annotations

import pyarrow as pa
import pytest

from longshu.governance.quality import (
    BadRuleParams,
    ColumnRequired,
    RuleSpec,
    UnknownColumn,
    UnknownPeriod,
    UnknownRuleKind,
    UnknownValidator,
    UnsafeRegex,
    WrongColumnType,
    check_rule,
)
from longshu.governance.quality.errors import RegexSyntax, UnknownParams
from longshu.web import i18n

COLUMNS = {
    "id_number": pa.string(),
    "income": pa.float64(),
    "age": pa.int32(),
    "born": pa.date32(),
    "seen": pa.timestamp("us", tz="UTC"),
    "flag": pa.bool_(),
    "tags": pa.list_(pa.string()),
    "blob": pa.binary(),
    "sex": pa.string(),
}


def test_a_good_rule_comes_back_normalised():
    rule = check_rule(RuleSpec("range", "income", {"min": "0", "max": 10}), COLUMNS)
    assert rule.params == {"min": "0", "max": 10}
    rule = check_rule(RuleSpec("range", "born", {"min": "1900-01-01"}), COLUMNS)
    assert rule.params == {"min": "1900-01-01", "max": None}
    rule = check_rule(RuleSpec("enum", "sex", {"values": ["M", "F", "M"]}), COLUMNS)
    assert rule.params == {"values": ["M", "F"]}
    assert check_rule(RuleSpec("completeness", "sex"), COLUMNS).params == {"blank_ok": False}
    rule = check_rule(RuleSpec("timeliness", "ignored", {"period": "monthly"}), COLUMNS)
    assert rule.column is None and rule.as_dict()["params"] == {"period": "monthly"}


@pytest.mark.parametrize(
    ("spec", "error"),
    [
        (RuleSpec("freshness", "sex"), UnknownRuleKind),
        (RuleSpec("completeness", "nope"), UnknownColumn),
        (RuleSpec("completeness", None), ColumnRequired),
        (RuleSpec("completeness", "sex", {"colour": 1}), UnknownParams),
        (RuleSpec("completeness", "sex", {"blank_ok": "yes"}), BadRuleParams),
        (RuleSpec("regex", "sex", {"pattern": 5}), BadRuleParams),
        (RuleSpec("regex", "sex", {"pattern": "a", "full": 1}), BadRuleParams),
        (RuleSpec("enum", "sex", {"values": "MF"}), BadRuleParams),
        (RuleSpec("enum", "sex", {"values": []}), BadRuleParams),
        (RuleSpec("enum", "sex", {"values": [["M"]]}), BadRuleParams),
        (RuleSpec("enum", "sex", {"values": list(range(1001))}), BadRuleParams),
        (RuleSpec("range", "income", {}), BadRuleParams),
        (RuleSpec("range", "income", {"min": "ten"}), BadRuleParams),
        (RuleSpec("range", "income", {"min": [1]}), BadRuleParams),
        (RuleSpec("range", "income", {"min": True}), BadRuleParams),
        (RuleSpec("range", "income", {"min": 5, "max": 1}), BadRuleParams),
        (RuleSpec("range", "income", {"min": float("nan")}), BadRuleParams),
        (RuleSpec("range", "income", {"min": 1, "max": "2020-01-01"}), BadRuleParams),
        (RuleSpec("range", "income", {"min": "2020-01-01"}), WrongColumnType),
        (RuleSpec("range", "born", {"min": 1}), WrongColumnType),
        (RuleSpec("range", "flag", {"min": 1}), WrongColumnType),
        (RuleSpec("uniqueness", "tags"), WrongColumnType),
        (RuleSpec("regex", "blob", {"pattern": "a"}), WrongColumnType),
        (RuleSpec("checksum", "id_number", {"validator": "passport"}), UnknownValidator),
        (RuleSpec("checksum", "id_number", {}), UnknownValidator),
        (RuleSpec("consistency", "id_number", {"check": "id_age"}), BadRuleParams),
        (RuleSpec("consistency", "id_number", {"check": "id_birth_date"}), BadRuleParams),
        (
            RuleSpec("consistency", "id_number", {"check": "id_birth_date", "date_column": "x"}),
            UnknownColumn,
        ),
        (
            RuleSpec("consistency", "id_number", {"check": "id_birth_date", "date_column": "age"}),
            WrongColumnType,
        ),
        (RuleSpec("referential", "sex", {"table": "Bad Name", "column": "c"}), BadRuleParams),
        (RuleSpec("referential", "sex", {"table": "codes"}), BadRuleParams),
        (
            RuleSpec("referential", "sex", {"table": "codes", "column": "c", "version": 0}),
            BadRuleParams,
        ),
        (RuleSpec("timeliness", None, {"period": "hourly"}), UnknownPeriod),
        (RuleSpec("timeliness", None, {}), UnknownPeriod),
        (RuleSpec("regex", "sex", "not a mapping"), BadRuleParams),  # type: ignore[arg-type]
    ],
)
def test_bad_rules_are_refused_with_their_own_error(spec, error):
    with pytest.raises(error) as caught:
        check_rule(spec, COLUMNS)
    chinese = caught.value.render(lambda text: i18n.translate(text, "zh_CN"))
    assert chinese != caught.value.render()  # a translated message, not the English one
    assert any("\u4e00" <= ch <= "\u9fff" for ch in chinese)


@pytest.mark.parametrize(
    ("pattern", "error"),
    [
        (r"(a)\1", UnsafeRegex),  # back-reference
        (r"(?P<x>a)(?P=x)", UnsafeRegex),
        (r"foo(?=bar)", UnsafeRegex),  # look-ahead
        (r"(?<!\d)\d{6}", UnsafeRegex),  # look-behind
        (r"(?>a+)b", UnsafeRegex),  # atomic group
        (r"a++", UnsafeRegex),  # possessive
        (r"a{2000}", UnsafeRegex),  # RE2 refuses repeats over 1000
        ("a" * 501, UnsafeRegex),  # too long to review
        (r"(unclosed", RegexSyntax),
        (r"[z-a]", RegexSyntax),
    ],
)
def test_patterns_re2_cannot_run_are_refused(pattern, error):
    with pytest.raises(error):
        check_rule(RuleSpec("regex", "sex", {"pattern": pattern}), COLUMNS)


@pytest.mark.parametrize(
    "pattern",
    [r"^(a+)+$", r"^\p{Han}{2,4}$", r"^62\d{4}$", r"\\1 is text", r"^[\x{4e00}-\x{9fa5}]+$"],
)
def test_patterns_re2_runs_in_linear_time_are_accepted(pattern):
    assert (
        check_rule(RuleSpec("regex", "sex", {"pattern": pattern}), COLUMNS).params["pattern"]
        == pattern
    )


def test_unknown_kinds_list_the_known_ones():
    with pytest.raises(UnknownRuleKind) as caught:
        check_rule(RuleSpec("freshness", "sex"), COLUMNS)
    assert "completeness" in str(caught.value) and "timeliness" in str(caught.value)
