"""The grading rules file (分级规则, ``data/grading.yaml``): its schema, checked on load, and
the policy table per grade (分级管控). A deployment may point ``LONGSHU_GOVERNANCE_GRADING``
at its own file. The grades themselves are fixed in ``grading.GRADES``."""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal, get_args

import yaml
from pydantic import BaseModel, ConfigDict, ValidationError, model_validator

from longshu.governance.grading_errors import GradingRulesInvalid

RULES_FILE = Path(__file__).parent / "data" / "grading.yaml"
RULES_ENV = "LONGSHU_GOVERNANCE_GRADING"

ImpactObject = Literal[
    "national_security", "economic_operation", "social_order", "public_interest",
    "organisation_rights", "personal_rights",
]  # fmt: skip
ImpactDegree = Literal["particularly_serious", "serious", "general", "minor"]
MaskKind = Literal["hash", "pseudonym", "keep_last", "null", "year_only"]
Openness = Literal["unconditional", "conditional", "none"]
Role = Literal["dept_reviewer", "bureau_reviewer", "chief_data_officer"]
GradeCode = Literal["general-1", "general-2", "general-3", "general-4", "important", "core"]
OPENNESS = {"none": 0, "conditional": 1, "unconditional": 2}


class _Strict(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Title(_Strict):
    zh: str
    en: str


class Impact(_Strict):
    object: ImpactObject
    degree: ImpactDegree
    zh: str = ""


class ScaleRule(_Strict):
    code: str
    categories: tuple[str, ...]
    subjects_at_least: int
    impact: Impact
    zh: str
    coverage: tuple[str, ...] | None = None


class Findings(_Strict):
    min_confidence: float = 0.5
    min_hit_ratio: float = 0.05
    subjects: Literal["hit_ratio", "rows"] = "hit_ratio"
    type_categories: dict[str, str] = {}


class Baseline(_Strict):
    default: Impact
    open_unconditional: Impact
    share_none: Impact


class Confirmation(_Strict):
    min_reason_chars: int = 10
    lowering_min_reason_chars: int = 30
    bureau_confirms: tuple[GradeCode, ...] = ("important", "core")


class GradePolicy(_Strict):
    """What a grade implies (分级管控): default share and open types (catalog vocab codes),
    the lake mask per detector category, the roles that must each approve access (in
    order), whether it may go into an operator's sandbox, the rows one extract may hold
    (None: no limit; 0: no export) and how often it is re-graded."""

    grade: GradeCode
    share_type: Openness
    open_type: Openness
    masks: dict[str, MaskKind]
    approvers: tuple[Role, ...]
    sandbox: bool
    max_export_rows: int | None
    review_months: int

    @property
    def bureau_review(self) -> bool:
        return "bureau_reviewer" in self.approvers

    def as_dict(self) -> dict[str, Any]:
        return {**self.model_dump(mode="json"), "bureau_review": self.bureau_review}


class GradingRules(_Strict):
    """The parsed, checked ``grading.yaml``."""

    version: int
    impact_objects: dict[ImpactObject, Title]
    impact_degrees: dict[ImpactDegree, Title]
    grade_matrix: dict[ImpactObject, dict[ImpactDegree, GradeCode]]
    findings: Findings
    category_impacts: dict[str, Impact]
    baseline: Baseline
    scale_rules: tuple[ScaleRule, ...] = ()
    confirmation: Confirmation = Confirmation()
    policies: dict[GradeCode, GradePolicy]

    @model_validator(mode="before")
    @classmethod
    def _policy_grades(cls, data: Any) -> Any:
        if isinstance(data, dict) and isinstance(data.get("policies"), dict):
            data = {**data, "policies": {
                k: {**v, "grade": k} if isinstance(v, dict) else v
                for k, v in data["policies"].items()
            }}  # fmt: skip
        return data

    @model_validator(mode="after")
    def _complete(self) -> GradingRules:
        def need(name: str, have: Mapping[str, Any], wanted: Sequence[str]) -> None:
            missing = sorted(set(wanted) - set(have))
            if missing:
                raise ValueError(f"{name} lacks {', '.join(missing)}")

        need("impact_objects", self.impact_objects, get_args(ImpactObject))
        need("impact_degrees", self.impact_degrees, get_args(ImpactDegree))
        need("grade_matrix", self.grade_matrix, get_args(ImpactObject))
        for obj, row in self.grade_matrix.items():
            need(f"grade_matrix.{obj}", row, get_args(ImpactDegree))
        need("policies", self.policies, get_args(GradeCode))
        known = set(self.category_impacts)
        named = [(f"scale rule {r.code}", set(r.categories)) for r in self.scale_rules]
        named.append(("findings.type_categories", set(self.findings.type_categories.values())))
        for where, categories in named:
            if categories - known:
                raise ValueError(f"{where} names unknown categories {sorted(categories - known)}")
        return self

    def grade_of(self, impact: Impact) -> str:
        return self.grade_matrix[impact.object][impact.degree]


def load_rules(path: Path | str | None = None) -> GradingRules:
    """The grading rules of ``path``, else of ``$LONGSHU_GOVERNANCE_GRADING``, else the
    packaged ``data/grading.yaml``; raises ``GradingRulesInvalid`` saying what is wrong."""
    chosen = path or os.environ.get(RULES_ENV) or RULES_FILE
    return _load_rules(str(chosen))


@lru_cache(maxsize=8)
def _load_rules(path: str) -> GradingRules:
    try:
        data = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except OSError as exc:
        raise GradingRulesInvalid(path=path, detail=exc.strerror or str(exc)) from exc
    except yaml.YAMLError as exc:
        raise GradingRulesInvalid(path=path, detail=f"not YAML: {exc}") from exc
    if not isinstance(data, dict):
        raise GradingRulesInvalid(path=path, detail="the file must hold a mapping")
    try:
        return GradingRules.model_validate(data)
    except ValidationError as exc:
        detail = "; ".join(
            f"{'.'.join(str(p) for p in e['loc']) or '(top)'}: {e['msg']}" for e in exc.errors()
        )
        raise GradingRulesInvalid(path=path, detail=detail) from exc


def reload_rules() -> None:
    """Forget parsed rule files (after editing one in a running process or a test)."""
    _load_rules.cache_clear()
