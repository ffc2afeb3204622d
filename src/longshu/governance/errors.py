"""Errors of governance's services (scans, grades, rules, runs, issues). English templates;
the Chinese text is in ``web/i18n/zh_CN/LC_MESSAGES/governance.po``."""

from __future__ import annotations

from longshu.errors import Conflict, InvalidInput, NotFound


class ScanModeUnknown(InvalidInput):
    key = "governance.scan_mode_unknown"
    message = "Scan mode {mode} is not known; use sample or full."


class GradeRecordNotFound(NotFound):
    key = "governance.grade_not_found"
    message = "Grade record {record} does not exist."


class GradeAlreadyDecided(Conflict):
    key = "governance.grade_decided"
    message = "Grade record {record} is no longer a proposal awaiting confirmation."


class BureauMustConfirm(InvalidInput):
    key = "governance.bureau_must_confirm"
    status = 403
    message = "Grade {grade} must be confirmed by the data bureau."


class RuleNotFound(NotFound):
    key = "governance.rule_not_found"
    message = "Quality rule {rule} does not exist."


class IssueNotFound(NotFound):
    key = "governance.issue_not_found"
    message = "Quality issue {issue} does not exist."


class IssueTextInvalid(InvalidInput):
    key = "governance.issue_text_invalid"
    message = "The issue needs a title of 2 to 200 characters and a description of at most 5,000."


class IssueRuleMismatch(InvalidInput):
    key = "governance.issue_rule_mismatch"
    message = "Quality rule {rule} does not belong to table {table}."


class FixVersionInvalid(InvalidInput):
    key = "governance.fix_version_invalid"
    message = "Version {version} is not a ready version of {table} newer than the one the issue was found on ({found})."


class RecheckedByRule(Conflict):
    key = "governance.rechecked_by_rule"
    message = "Issue {issue} is re-checked by its rule on the fixed version, not by hand."
