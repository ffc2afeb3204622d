"""Quality rules (数据质量规则), scores and column profiles: pure library code the governance
service calls. Every read of data goes through ``lake.access``; all rules of a table run as
one SQL aggregate (compile.py). See docs/governance.md."""

from longshu.governance.quality.errors import (
    BadRuleParams,
    ColumnRequired,
    NotRowLevel,
    RuleInvalid,
    UnknownColumn,
    UnknownPeriod,
    UnknownRuleKind,
    UnknownValidator,
    UnsafeRegex,
    WrongColumnType,
)
from longshu.governance.quality.profile import profile_version
from longshu.governance.quality.rules import DIMENSIONS, KINDS, RuleSpec, check_rule
from longshu.governance.quality.run import (
    RuleOutcome,
    evaluate,
    failing_rows,
    outcome_dict,
    score,
)
from longshu.governance.quality.suggest import suggest_rules
from longshu.governance.quality.timeliness import Timeliness, due_date, timeliness

__all__ = [
    "DIMENSIONS",
    "KINDS",
    "BadRuleParams",
    "ColumnRequired",
    "NotRowLevel",
    "RuleInvalid",
    "RuleOutcome",
    "RuleSpec",
    "Timeliness",
    "UnknownColumn",
    "UnknownPeriod",
    "UnknownRuleKind",
    "UnknownValidator",
    "UnsafeRegex",
    "WrongColumnType",
    "check_rule",
    "due_date",
    "evaluate",
    "failing_rows",
    "outcome_dict",
    "profile_version",
    "score",
    "suggest_rules",
    "timeliness",
]
