"""Tables of return flows (数据回流) and duty lists (共享责任清单).

A return flow is one province-level resource's configuration for offering its rows back to
city and county departments; each receiving department has a member row pointing at its
standing grant (an ordinary ``ShareGrant``). A duty list edition is a dated snapshot of what
each department must share against what it shares, compiled and then published."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Date,
    ForeignKey,
    Numeric,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from longshu.db import Base, utcnow

RECEIVER_KINDS = ("line", "list")  # the provider's line of business below it, or a list
RECEIVING_LEVELS = ("city", "county")
MEMBER_STATUSES = ("active", "revoked", "withdrawn")  # withdrawn: its grant was revoked by hand


class ReturnFlow(Base):
    """数据回流配置: which fields and modes of a province-level resource go back to which
    city and county departments, each limited to its own region's rows."""

    __tablename__ = "sharing_return_flow"

    id: Mapped[int] = mapped_column(primary_key=True)
    resource_id: Mapped[int] = mapped_column(BigInteger, unique=True)
    provider_org_id: Mapped[int] = mapped_column(BigInteger, index=True)
    enabled: Mapped[bool] = mapped_column(default=False)
    fields: Mapped[list[Any]] = mapped_column(JSON, default=list)
    modes: Mapped[list[Any]] = mapped_column(JSON, default=list)
    levels: Mapped[list[Any]] = mapped_column(JSON, default=list)  # city and/or county
    receivers: Mapped[str] = mapped_column(String(10), default="line")
    receiver_org_ids: Mapped[list[Any]] = mapped_column(JSON, default=list)  # for "list"
    region_column: Mapped[str] = mapped_column(String(63))
    days: Mapped[int] = mapped_column(default=3660)  # validity of each standing grant
    updated_by: Mapped[int | None] = mapped_column(BigInteger)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    applied_at: Mapped[dt.datetime | None]

    members: Mapped[list[ReturnFlowMember]] = relationship(
        back_populates="flow", order_by="ReturnFlowMember.id", cascade="all, delete-orphan"
    )

    @property
    def owner_org_id(self) -> int:
        """The resource's department decides (the bureau may too)."""
        return self.provider_org_id


class ReturnFlowMember(Base):
    """One receiving department of a flow: its region and its current standing grant (made
    through a share request "数据回流" of that department, granted by the platform)."""

    __tablename__ = "sharing_return_flow_member"
    __table_args__ = (UniqueConstraint("flow_id", "org_id", name="uq_sharing_flow_member"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    flow_id: Mapped[int] = mapped_column(ForeignKey("sharing_return_flow.id"), index=True)
    org_id: Mapped[int] = mapped_column(BigInteger, index=True)
    region_code: Mapped[str] = mapped_column(String(6))
    request_id: Mapped[int] = mapped_column(BigInteger)
    grant_id: Mapped[int | None] = mapped_column(BigInteger)
    status: Mapped[str] = mapped_column(String(10), default="active")
    reason: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

    flow: Mapped[ReturnFlow] = relationship(back_populates="members")


class DutyEdition(Base):
    """共享责任清单 edition: the figures of every department over one period (request
    figures for requests filed in [period_start, period_end), grants as of period_end),
    compiled as a draft and published by the bureau. Published editions never change."""

    __tablename__ = "sharing_duty_edition"
    __table_args__ = (
        UniqueConstraint("period_start", "period_end", "number", name="uq_sharing_duty_edition"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    period_start: Mapped[dt.date] = mapped_column(Date)  # China dates, end exclusive
    period_end: Mapped[dt.date] = mapped_column(Date)
    number: Mapped[int] = mapped_column(default=1)  # editions of the same period
    status: Mapped[str] = mapped_column(String(10), default="draft", index=True)
    compiled_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    compiled_by: Mapped[int | None] = mapped_column(BigInteger)
    published_at: Mapped[dt.datetime | None]
    published_by: Mapped[int | None] = mapped_column(BigInteger)

    entries: Mapped[list[DutyEntry]] = relationship(
        back_populates="edition", order_by="DutyEntry.position", cascade="all, delete-orphan"
    )


class DutyEntry(Base):
    """One department's line in an edition."""

    __tablename__ = "sharing_duty_entry"
    __table_args__ = (UniqueConstraint("edition_id", "org_id", name="uq_sharing_duty_entry"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    edition_id: Mapped[int] = mapped_column(ForeignKey("sharing_duty_edition.id"), index=True)
    position: Mapped[int] = mapped_column(default=0)
    org_id: Mapped[int] = mapped_column(BigInteger)
    org_name: Mapped[str] = mapped_column(String(200))
    region_code: Mapped[str] = mapped_column(String(6))
    level: Mapped[str] = mapped_column(String(10))
    # what it must share
    resources_unconditional: Mapped[int] = mapped_column(default=0)
    resources_conditional: Mapped[int] = mapped_column(default=0)
    duty_items: Mapped[int] = mapped_column(default=0)  # catalog duty items (应编尽编)
    duty_items_fulfilled: Mapped[int] = mapped_column(default=0)
    # what it shares
    grants_active: Mapped[int] = mapped_column(default=0)
    requests_received: Mapped[int] = mapped_column(default=0)
    auto_granted: Mapped[int] = mapped_column(default=0)  # 无条件共享, granted by the platform
    approved: Mapped[int] = mapped_column(default=0)
    refused: Mapped[int] = mapped_column(default=0)
    pending: Mapped[int] = mapped_column(default=0)
    withdrawn: Mapped[int] = mapped_column(default=0)
    overdue: Mapped[int] = mapped_column(default=0)
    median_days: Mapped[Decimal | None] = mapped_column(Numeric(8, 1))
    p90_days: Mapped[Decimal | None] = mapped_column(Numeric(8, 1))
    on_time_ratio: Mapped[Decimal | None] = mapped_column(Numeric(5, 4))
    never_requested: Mapped[int] = mapped_column(default=0)
    # names, for the published page: resources never requested, duty items not catalogued
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)

    edition: Mapped[DutyEdition] = relationship(back_populates="entries")
