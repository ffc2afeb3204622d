"""The departments' quality ranking (部门数据质量排名): each providing department's mean
latest quality score over its tables, with its open, overdue and closed quality issues.
Ties are broken by fewer overdue issues, then fewer open ones."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from longshu.governance.issues import issue_counts
from longshu.governance.runs import department_scores
from longshu.orgs.models import Organization


def departments(session: Session) -> list[dict[str, Any]]:
    """One row per department that provides data, best first, with its rank."""
    scores = department_scores(session)
    counts = issue_counts(session)
    ids = set(scores) | set(counts)
    names: dict[int, str] = {}
    if ids:
        query = select(Organization.id, Organization.name).where(Organization.id.in_(ids))
        names = {org_id: name for org_id, name in session.execute(query)}
    rows = []
    for org in ids:
        issue = counts.get(org, {"open": 0, "closed": 0, "overdue": 0})
        score = scores.get(org)
        rows.append(
            {
                "org_id": org,
                "name": names.get(org, str(org)),
                "score": str(score) if score is not None else None,
                "open_issues": issue["open"],
                "overdue_issues": issue["overdue"],
                "closed_issues": issue["closed"],
            }
        )
    rows.sort(
        key=lambda r: (
            -(Decimal(r["score"]) if r["score"] is not None else Decimal(-1)),
            r["overdue_issues"],
            r["open_issues"],
            r["name"],
        )
    )
    for rank, row in enumerate(rows, start=1):
        row["rank"] = rank
    return rows
