"""Errors of classification and grading (分类分级): the taxonomy and grading-rule files, grade
codes and a person's confirmation. English templates; the Chinese text is in
``web/i18n/zh_CN/LC_MESSAGES/governance.po``."""

from __future__ import annotations

from longshu.errors import InvalidInput, NotFound


class TaxonomyInvalid(InvalidInput):
    key = "governance.taxonomy_invalid"
    message = "The classification file {path} is not valid: {detail}"


class CategoryUnknown(NotFound):
    key = "governance.category_unknown"
    message = "There is no category {code} in the classification."


class GradingRulesInvalid(InvalidInput):
    key = "governance.grading_rules_invalid"
    message = "The grading rules file {path} is not valid: {detail}"


class GradeUnknown(InvalidInput):
    key = "governance.grade_unknown"
    message = "{grade} is not a data grade; use one of: {grades}."


class GradeReasonRequired(InvalidInput):
    key = "governance.grade_reason_required"
    message = "Confirming a grade needs a reason of at least {minimum} characters."


class GradeBelowProposal(GradeReasonRequired):
    key = "governance.grade_below_proposal"
    message = "Grade {chosen} is below the proposed grade {proposed}: lowering it needs a reason of at least {minimum} characters."


class GradeBelowFloor(GradeReasonRequired):
    key = "governance.grade_below_floor"
    message = "Grade {chosen} is below the lowest grade of the category, {floor}: it needs a reason of at least {minimum} characters."
