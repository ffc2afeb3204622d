"""数据分级 (GB/T 43697-2024 §6): the grades, a proposed grade from a scan's findings and a
resource's facts, what a grade implies (分级管控), and the rules a person's confirmation obeys.

Grades, lowest first: ``general-1`` … ``general-4`` (一般数据 1–4 级, labels ``一般-1`` …
``一般-4`` as the catalog stores them), ``important`` (重要), ``core`` (核心). The numbers —
thresholds, the impact matrix, the policy per grade — live in ``data/grading.yaml`` with their
sources; a deployment may point ``LONGSHU_GOVERNANCE_GRADING`` at its own file."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

from longshu.governance.grading_errors import (
    GradeBelowFloor,
    GradeBelowProposal,
    GradeReasonRequired,
    GradeUnknown,
)
from longshu.governance.grading_rules import (
    OPENNESS,
    GradePolicy,
    GradingRules,
    Impact,
    load_rules,
    reload_rules,
)

__all__ = [
    "GRADES", "ConfirmationCheck", "Grade", "GradePolicy", "GradeProposal", "GradingRules",
    "at_least", "compare", "grade_code", "grade_policy", "label", "load_rules", "needs_bureau",
    "propose_grade", "reload_rules", "validate_confirmation",
]  # fmt: skip

if TYPE_CHECKING:
    from longshu.governance.taxonomy import Category


@dataclass(frozen=True)
class Grade:
    code: str
    rank: int
    label_zh: str
    label_en: str


# Ordered lowest first; the labels are what the catalog stores (catalog/subscriber.py,
# opendata/datastore.py: "一般-2", "重要", "核心").
GRADES: dict[str, Grade] = {
    g.code: g
    for g in (
        Grade("general-1", 1, "一般-1", "General, level 1"),
        Grade("general-2", 2, "一般-2", "General, level 2"),
        Grade("general-3", 3, "一般-3", "General, level 3"),
        Grade("general-4", 4, "一般-4", "General, level 4"),
        Grade("important", 5, "重要", "Important"),
        Grade("core", 6, "核心", "Core"),
    )
}


def _aliases() -> dict[str, str]:
    names: dict[str, str] = {}
    for g in GRADES.values():
        for name in (g.code, g.label_zh, g.label_en):
            names[name.casefold()] = g.code
        if g.code.startswith("general-"):
            n = g.code[-1]
            for name in (f"一般数据{n}级", f"一般{n}级", f"一般数据-{n}", f"L{n}"):
                names[name.casefold()] = g.code
    names.update({"重要数据": "important", "核心数据": "core"})
    return names


_ALIASES = _aliases()


def grade_code(value: str) -> str:
    """The code of a grade given as a code (``general-2``) or a label (``一般-2``, ``重要``,
    ``一般数据2级``); raises ``GradeUnknown`` otherwise."""
    code = _ALIASES.get(str(value or "").strip().casefold())
    if code is None:
        raise GradeUnknown(grade=value, grades=", ".join(g.label_zh for g in GRADES.values()))
    return code


def label(grade: str) -> str:
    """The Chinese label the catalog stores (``一般-2``, ``重要``, ``核心``)."""
    return GRADES[grade_code(grade)].label_zh


def compare(a: str, b: str) -> int:
    """-1, 0 or 1 as grade ``a`` is lower than, equal to or higher than ``b``."""
    ra, rb = GRADES[grade_code(a)].rank, GRADES[grade_code(b)].rank
    return (ra > rb) - (ra < rb)


def at_least(grade: str, floor: str | None) -> str:
    """``grade`` raised to ``floor`` where it is lower (a code either way)."""
    code = grade_code(grade)
    if floor is None:
        return code
    return code if compare(code, floor) >= 0 else grade_code(floor)


def grade_policy(grade: str, rules: GradingRules | None = None) -> GradePolicy:
    """What ``grade`` (code or label) implies: see ``GradePolicy``."""
    return (rules or load_rules()).policies[grade_code(grade)]  # type: ignore[index]


def needs_bureau(grade: str, rules: GradingRules | None = None) -> bool:
    """Whether confirming ``grade`` is for the data bureau (重要, 核心 by default)."""
    return grade_code(grade) in (rules or load_rules()).confirmation.bureau_confirms


# --- proposal -----------------------------------------------------------------------------


@dataclass(frozen=True)
class GradeProposal:
    """A proposed grade with why: ``reasons`` in Chinese and ``codes`` (machine codes, same
    order); the deciding impact object and degree; ``factors`` — what was weighed."""

    grade: str
    reasons: tuple[str, ...]
    codes: tuple[str, ...]
    impact_object: str
    impact_degree: str
    factors: dict[str, Any] = field(default_factory=dict)

    @property
    def label(self) -> str:
        return GRADES[self.grade].label_zh

    def as_dict(self) -> dict[str, Any]:
        return {**asdict(self), "reasons": list(self.reasons), "codes": list(self.codes),
                "label": self.label}  # fmt: skip


@dataclass(frozen=True)
class _Weighed:
    code: str
    impact: Impact
    grade: str
    reason: str


def _ratio(value: Any) -> float:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return 0.0
    return min(1.0, number) if number > 0 else 0.0  # NaN and negatives count as nothing


def _counted(findings: Sequence[Mapping[str, Any]], rules: GradingRules):  # type: ignore[no-untyped-def]
    """Category → (highest hit ratio, finding types, columns) of the findings that count."""
    cfg = rules.findings
    seen: dict[str, tuple[float, set[str], set[str]]] = {}
    for finding in findings:
        ratio, sure = _ratio(finding.get("hit_ratio")), _ratio(finding.get("confidence"))
        if ratio < cfg.min_hit_ratio or sure < cfg.min_confidence or ratio == 0:
            continue
        kind = str(finding.get("type") or "")
        # The detector's category and the one the rules give its type both count, so a rule
        # file can raise a kind (to 敏感个人信息) but never hide what a detector reported.
        for cat in {str(finding.get("category") or ""), cfg.type_categories.get(kind, "")}:
            if cat in rules.category_impacts:
                best, kinds, columns = seen.get(cat, (0.0, set(), set()))
                kinds.add(kind)
                if finding.get("column"):
                    columns.add(str(finding["column"]))
                seen[cat] = (max(best, ratio), kinds, columns)
    return seen


def _impact_text(rules: GradingRules, impact: Impact, grade: str) -> str:
    return (
        f"{rules.impact_objects[impact.object].zh}·{rules.impact_degrees[impact.degree].zh}"
        f" → {GRADES[grade].label_zh}"
    )


def _weigh(rules: GradingRules, code: str, impact: Impact, text: str) -> _Weighed:
    grade = rules.grade_of(impact)
    return _Weighed(code, impact, grade, f"{text}：{_impact_text(rules, impact, grade)}")


def _baseline(
    rules: GradingRules, found: bool, open_type: str | None, share_type: str | None
) -> list[_Weighed]:
    base, out = rules.baseline, []
    if share_type == "none":
        out.append(_weigh(rules, "baseline_share_none", base.share_none, "声明为不予共享"))
    if open_type == "unconditional" and not found:
        text = "未发现敏感数据，且声明为无条件开放"
        out.append(_weigh(rules, "baseline_open", base.open_unconditional, text))
    else:
        text = "政务数据" if found else "政务数据，未声明无条件开放"
        out.append(_weigh(rules, "baseline", base.default, text))
    return out


def _categories(rules: GradingRules, counted) -> list[_Weighed]:  # type: ignore[no-untyped-def]
    out = []
    for cat, (_ratio, kinds, columns) in sorted(counted.items()):
        impact = rules.category_impacts[cat]
        where = "、".join(sorted(columns)[:5])
        text = f"{impact.zh}（{'、'.join(sorted(kinds))}{'；字段 ' + where if where else ''}）"
        out.append(_weigh(rules, f"category_{cat}", impact, text))
    return out


def _scale(rules: GradingRules, subjects: dict[str, int], coverage: str | None) -> list[_Weighed]:
    out = []
    for rule in rules.scale_rules:
        reach = max((subjects[c] for c in rule.categories if c in subjects), default=None)
        if reach is None or reach < rule.subjects_at_least:
            continue
        if rule.coverage is not None and coverage not in rule.coverage:
            continue
        out.append(_weigh(rules, rule.code, rule.impact, f"{rule.zh}（估计 {reach:,} 个主体）"))
    return out


def propose_grade(
    *,
    findings: Sequence[Mapping[str, Any]],
    rows: int,
    category: Category | None = None,
    coverage: str | None = None,
    open_type: str | None = None,
    share_type: str | None = None,
    rules: GradingRules | None = None,
) -> GradeProposal:
    """Propose a grade (GB/T 43697-2024 §6): each impact the findings, the declared
    share/open types, the scale and the coverage imply is mapped to a grade through the
    impact matrix; the highest wins (就高从严), raised to the category's floor. Adding a
    finding or rows never lowers the result. ``findings`` are the detectors' dicts (``type``,
    ``category``, ``hit_ratio``, ``confidence``, optional ``column``); ``coverage`` is
    ``province``, ``city`` or ``county``; types are catalog vocab codes."""
    rules = rules or load_rules()
    rows = max(0, int(rows or 0))
    counted = _counted(findings, rules)
    subjects = {
        cat: rows if rules.findings.subjects == "rows" else round(rows * ratio)
        for cat, (ratio, _kinds, _columns) in counted.items()
    }
    weighed = [
        *_baseline(rules, bool(counted), open_type, share_type),
        *_categories(rules, counted),
        *_scale(rules, subjects, coverage),
    ]
    objects, degrees = list(rules.impact_objects), list(rules.impact_degrees)
    top = max(
        weighed,
        key=lambda w: (GRADES[w.grade].rank, -objects.index(w.impact.object),
                       -degrees.index(w.impact.degree)),
    )  # fmt: skip
    grade = top.grade
    ordered = sorted(weighed, key=lambda w: -GRADES[w.grade].rank)
    reasons = [w.reason for w in ordered]
    codes = [w.code for w in ordered]
    floor = category.grade_floor if category else None
    if floor and compare(floor, grade) > 0:
        grade = grade_code(floor)
        reasons.insert(0, f"分类「{category.title_zh}」的最低级别为{GRADES[grade].label_zh}")  # type: ignore[union-attr]
        codes.insert(0, "category_floor")

    policy = rules.policies[grade]  # type: ignore[index]
    declared = {
        "open_type": (open_type, policy.open_type),
        "share_type": (share_type, policy.share_type),
    }
    conflicts = [
        f"{name}_exceeds_grade"
        for name, (said, allowed) in declared.items()
        if said in OPENNESS and OPENNESS[said] > OPENNESS[allowed]
    ]
    factors = {
        "rows": rows,
        "subjects": subjects,
        "categories": sorted(counted),
        "coverage": coverage,
        "open_type": open_type,
        "share_type": share_type,
        "category": category.code if category else None,
        "floor": grade_code(floor) if floor else None,
        "impacts": [
            {"code": w.code, "object": w.impact.object, "degree": w.impact.degree, "grade": w.grade}
            for w in ordered
        ],
        "conflicts": conflicts,
        "rules_version": rules.version,
    }
    return GradeProposal(
        grade=grade,
        reasons=tuple(reasons),
        codes=tuple(codes),
        impact_object=top.impact.object,
        impact_degree=top.impact.degree,
        factors=factors,
    )


# --- confirmation -------------------------------------------------------------------------


@dataclass(frozen=True)
class ConfirmationCheck:
    """A confirmation that passed: whether it lowers the proposal or goes below the floor
    (both allowed with a fuller reason, and flagged for review)."""

    grade: str
    below_proposal: bool
    below_floor: bool

    @property
    def flagged(self) -> bool:
        return self.below_proposal or self.below_floor


def validate_confirmation(
    proposed: str,
    chosen: str,
    reason: str,
    *,
    floor: str | None = None,
    rules: GradingRules | None = None,
) -> ConfirmationCheck:
    """Check a person's confirmation of ``chosen`` against the proposal (and the category's
    ``floor``): a reason is always required; lowering needs a fuller one. Raises
    ``GradeReasonRequired``, ``GradeBelowProposal``, ``GradeBelowFloor`` or ``GradeUnknown``."""
    cfg = (rules or load_rules()).confirmation
    chosen_code, proposed_code = grade_code(chosen), grade_code(proposed)
    floor_code = grade_code(floor) if floor else None
    text = " ".join(str(reason or "").split())
    if len(text) < cfg.min_reason_chars:
        raise GradeReasonRequired(minimum=cfg.min_reason_chars)
    below_proposal = compare(chosen_code, proposed_code) < 0
    below_floor = floor_code is not None and compare(chosen_code, floor_code) < 0
    if below_floor and len(text) < cfg.lowering_min_reason_chars:
        raise GradeBelowFloor(
            chosen=label(chosen_code),
            floor=label(floor_code),
            minimum=cfg.lowering_min_reason_chars,  # type: ignore[arg-type]
        )
    if below_proposal and len(text) < cfg.lowering_min_reason_chars:
        raise GradeBelowProposal(
            chosen=label(chosen_code), proposed=label(proposed_code),
            minimum=cfg.lowering_min_reason_chars,
        )  # fmt: skip
    return ConfirmationCheck(chosen_code, below_proposal, below_floor)
