"""Errors of quality rules and profiles. English templates; the Chinese text is in
``web/i18n/zh_CN/LC_MESSAGES/governance.po``."""

from __future__ import annotations

from typing import Any

from longshu.errors import InvalidInput

# The ``detail`` sentences of rule errors (translated like the messages themselves).
QUALITY_MESSAGES = {
    "params": "parameters must be an object",
    "blank_ok": "blank_ok must be true or false",
    "pattern": "pattern must be a non-empty text",
    "full": "full must be true or false",
    "long": "it is longer than 500 characters",
    "backref": "back-references are not supported",
    "lookaround": "look-ahead and look-behind are not supported",
    "atomic": "atomic groups and possessive quantifiers are not supported",
    "conditional": "conditional groups are not supported",
    "repeat": "a repeat count over 1000",
    "values": "values must be a non-empty list",
    "many": "more than 1000 values",
    "value_types": "values must be texts or numbers",
    "bounds": "min and max must be numbers or dates",
    "nan": "min and max must not be NaN",
    "no_bound": "give min, max or both",
    "mixed": "min and max must both be dates or numbers",
    "order": "min is greater than max",
    "check": "check must be id_birth_date, id_sex or region_parent",
    "id_birth_date": "id_birth_date needs date_column",
    "id_sex": "id_sex needs sex_column",
    "region_parent": "region_parent needs parent_column",
    "table": "table must name a lake table",
    "column": "column must name a column of that table",
    "version": "version must be a load number from 1",
}


class RuleInvalid(InvalidInput):
    """A quality rule cannot be used as written. Subclasses say why; a ``detail`` from
    ``QUALITY_MESSAGES`` is translated with the message."""

    key = "quality.rule_invalid"
    message = "The quality rule is not valid: {detail}"

    def render(self, gettext: Any = None) -> str:
        if gettext is None or "detail" not in self.params:
            return super().render(gettext)
        template = gettext(self.message)
        params = {**self.params, "detail": gettext(str(self.params["detail"]))}
        try:
            return template.format(**params)
        except (KeyError, IndexError):
            return template


class UnknownParams(RuleInvalid):
    key = "quality.unknown_params"
    message = "A {kind} rule takes no parameter {names}."


class RegexSyntax(RuleInvalid):
    key = "quality.regex_syntax"
    message = "The regular expression is not valid: {detail}"


class UnknownRuleKind(RuleInvalid):
    key = "quality.unknown_kind"
    message = "{kind} is not a kind of quality rule; use one of: {kinds}."


class UnknownColumn(RuleInvalid):
    key = "quality.unknown_column"
    message = "The table has no column {column}."


class ColumnRequired(RuleInvalid):
    key = "quality.column_required"
    message = "A {kind} rule applies to a column; name the column."


class BadRuleParams(RuleInvalid):
    key = "quality.bad_params"
    message = "The parameters of the {kind} rule are not valid: {detail}"


class WrongColumnType(RuleInvalid):
    key = "quality.wrong_column_type"
    message = "A {kind} rule cannot check column {column} of type {type}."


class UnsafeRegex(RuleInvalid):
    key = "quality.unsafe_regex"
    message = "The regular expression cannot be used: {detail}"


class UnknownValidator(RuleInvalid):
    key = "quality.unknown_validator"
    message = "{validator} is not a known validator; use one of: {validators}."


class UnknownPeriod(RuleInvalid):
    key = "quality.unknown_period"
    message = "{period} is not an update frequency (更新周期) code; use one of: {periods}."


class NotRowLevel(RuleInvalid):
    key = "quality.not_row_level"
    message = "A {kind} rule is about the whole table; it has no failing rows to show."
