"""Governance tables: what each scan found, the grade history, quality rules with their
per-version results and scores, column profiles, and quality issues (质量问题).

Tables and versions are referred to by the lake's ids and load numbers, resources by the
catalog's id — governance sits above both and only reads them."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Float,
    ForeignKey,
    Index,
    Numeric,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from longshu.db import Base, utcnow

SCAN_MODES = ("sample", "full")
RUN_STATUSES = ("done", "failed")
GRADE_STATUSES = ("proposed", "confirmed", "superseded")
RULE_ORIGINS = ("suggested", "user")


class ScanRun(Base):
    """One sensitive-data scan of a table version (敏感数据识别)."""

    __tablename__ = "governance_scan"
    __table_args__ = (Index("ix_governance_scan_table_version", "table_id", "version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    table_id: Mapped[int] = mapped_column(BigInteger)
    table_name: Mapped[str] = mapped_column(String(63))
    resource_id: Mapped[int | None] = mapped_column(BigInteger, index=True)
    version: Mapped[int]
    mode: Mapped[str] = mapped_column(String(10))
    rows_checked: Mapped[int] = mapped_column(BigInteger, default=0)
    status: Mapped[str] = mapped_column(String(10), default="done")
    error: Mapped[str | None] = mapped_column(Text)
    started_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[dt.datetime | None]
    created_by: Mapped[int | None] = mapped_column(BigInteger)

    findings: Mapped[list[ScanFinding]] = relationship(
        back_populates="scan", order_by="ScanFinding.id", cascade="all, delete-orphan"
    )


class ScanFinding(Base):
    """One kind of sensitive data found in one column: how often, how sure, masked examples."""

    __tablename__ = "governance_finding"

    id: Mapped[int] = mapped_column(primary_key=True)
    scan_id: Mapped[int] = mapped_column(ForeignKey("governance_scan.id"), index=True)
    column: Mapped[str] = mapped_column(String(128))
    type: Mapped[str] = mapped_column(String(40))
    category: Mapped[str] = mapped_column(String(40))
    checked: Mapped[int] = mapped_column(BigInteger)
    hits: Mapped[int] = mapped_column(BigInteger)
    hit_ratio: Mapped[float] = mapped_column(Float)
    confidence: Mapped[float] = mapped_column(Float)
    method: Mapped[str] = mapped_column(String(20))
    examples: Mapped[list[Any]] = mapped_column(JSON, default=list)  # masked

    scan: Mapped[ScanRun] = relationship(back_populates="findings")

    def as_dict(self) -> dict[str, Any]:
        return {
            "column": self.column,
            "type": self.type,
            "category": self.category,
            "checked": self.checked,
            "hits": self.hits,
            "hit_ratio": self.hit_ratio,
            "confidence": self.confidence,
            "method": self.method,
            "examples": list(self.examples or []),
        }


class GradeRecord(Base):
    """A grade of a resource (分级) as proposed from a scan and confirmed by a person with a
    reason. The confirmed record in force has status ``confirmed``; earlier ones become
    ``superseded``, so the list is the grade history."""

    __tablename__ = "governance_grade"
    __table_args__ = (Index("ix_governance_grade_resource_status", "resource_id", "status"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    resource_id: Mapped[int] = mapped_column(BigInteger)
    table_name: Mapped[str | None] = mapped_column(String(63))
    version: Mapped[int | None]
    scan_id: Mapped[int | None] = mapped_column(ForeignKey("governance_scan.id"))
    category_code: Mapped[str | None] = mapped_column(String(60))
    proposed_grade: Mapped[str] = mapped_column(String(20))
    proposal: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)  # reasons, factors
    grade: Mapped[str | None] = mapped_column(String(20))  # the confirmed grade
    status: Mapped[str] = mapped_column(String(12), default="proposed")
    reason: Mapped[str | None] = mapped_column(Text)
    field_labels: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    confirmed_at: Mapped[dt.datetime | None]
    confirmed_by: Mapped[int | None] = mapped_column(BigInteger)


class QualityRule(Base):
    """A quality rule attached to a resource's table (and a column, for column rules)."""

    __tablename__ = "governance_rule"
    __table_args__ = (Index("ix_governance_rule_table_active", "table_name", "active"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    resource_id: Mapped[int | None] = mapped_column(BigInteger, index=True)
    table_name: Mapped[str] = mapped_column(String(63))
    kind: Mapped[str] = mapped_column(String(20))
    column: Mapped[str | None] = mapped_column(String(128))
    params: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    title: Mapped[str] = mapped_column(String(200), default="")
    origin: Mapped[str] = mapped_column(String(12), default="user")
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    created_by: Mapped[int | None] = mapped_column(BigInteger)


class QualityRun(Base):
    """The rules of a table evaluated on one version, and the resulting score (0–100)."""

    __tablename__ = "governance_quality_run"
    __table_args__ = (Index("ix_governance_quality_run_table_version", "table_name", "version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    table_name: Mapped[str] = mapped_column(String(63))
    resource_id: Mapped[int | None] = mapped_column(BigInteger, index=True)
    owner_org_id: Mapped[int | None] = mapped_column(BigInteger, index=True)
    version: Mapped[int]
    rows: Mapped[int] = mapped_column(BigInteger, default=0)
    score: Mapped[Decimal | None] = mapped_column(Numeric(5, 2))
    status: Mapped[str] = mapped_column(String(10), default="done")
    error: Mapped[str | None] = mapped_column(Text)
    started_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[dt.datetime | None]

    results: Mapped[list[QualityResult]] = relationship(
        back_populates="run", order_by="QualityResult.id", cascade="all, delete-orphan"
    )


class QualityResult(Base):
    """One rule's outcome on one version."""

    __tablename__ = "governance_quality_result"

    id: Mapped[int] = mapped_column(primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("governance_quality_run.id"), index=True)
    rule_id: Mapped[int | None] = mapped_column(ForeignKey("governance_rule.id"), index=True)
    kind: Mapped[str] = mapped_column(String(20))
    column: Mapped[str | None] = mapped_column(String(128))
    checked: Mapped[int] = mapped_column(BigInteger)
    failed: Mapped[int] = mapped_column(BigInteger)
    passed_ratio: Mapped[float] = mapped_column(Float)
    error: Mapped[str | None] = mapped_column(Text)

    run: Mapped[QualityRun] = relationship(back_populates="results")


class ColumnProfile(Base):
    """The profile (画像) of a version's columns: nulls, distinct values, bounds, top values
    (masked where sensitive) and histograms."""

    __tablename__ = "governance_profile"
    __table_args__ = (
        UniqueConstraint("table_name", "version", name="uq_governance_profile_table_version"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    table_name: Mapped[str] = mapped_column(String(63))
    version: Mapped[int]
    columns: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class QualityIssue(Base):
    """质量问题: a problem in a resource's data, opened by a rule or a data user, fixed by the
    provider with a new version and re-checked on it. Its state lives in the shared
    workflow (``governance.quality_issue``); ``state`` mirrors it for lists and rankings."""

    __tablename__ = "governance_issue"
    __table_args__ = (Index("ix_governance_issue_provider_state", "provider_org_id", "state"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    resource_id: Mapped[int | None] = mapped_column(BigInteger, index=True)
    table_name: Mapped[str] = mapped_column(String(63))
    provider_org_id: Mapped[int | None] = mapped_column(BigInteger)
    rule_id: Mapped[int | None] = mapped_column(ForeignKey("governance_rule.id"))
    found_version: Mapped[int]
    fixed_version: Mapped[int | None]
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    column: Mapped[str | None] = mapped_column(String(128))
    sample: Mapped[list[Any]] = mapped_column(JSON, default=list)  # failing rows, masked
    failed: Mapped[int | None] = mapped_column(BigInteger)  # failing rows when opened
    recheck: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)  # the last re-check
    source: Mapped[str] = mapped_column(String(10), default="user")  # "rule" | "user"
    state: Mapped[str] = mapped_column(String(20), default="open", index=True)
    reporter_id: Mapped[int | None] = mapped_column(BigInteger)
    reporter_org_id: Mapped[int | None] = mapped_column(BigInteger)
    workflow_instance_id: Mapped[int | None] = mapped_column(BigInteger)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    closed_at: Mapped[dt.datetime | None]

    @property
    def owner_org_id(self) -> int | None:
        """The organisation that must act on the issue (the provider)."""
        return self.provider_org_id
