"""Sharing tables: share requests and their items (one per resource), the grants approved
items become, and the daily use of each grant (for quotas and the duty lists).

Resources and lake tables are referred to by id and name: sharing sits above the catalog, the
lake and governance and only reads them."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Date,
    ForeignKey,
    Index,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from longshu.db import Base, utcnow

MODES = ("query", "verify", "batch")  # 查询, 核验, 批量交换
GRANT_STATUSES = ("active", "revoked", "expired")


class ShareRequest(Base):
    """共享申请: a using department asks for one or more resources for one service scenario
    (高效办成一件事), with its purpose and legal basis."""

    __tablename__ = "sharing_request"

    id: Mapped[int] = mapped_column(primary_key=True)
    requester_org_id: Mapped[int] = mapped_column(BigInteger, index=True)
    requester_id: Mapped[int | None] = mapped_column(BigInteger)
    scenario: Mapped[str] = mapped_column(String(200))
    purpose: Mapped[str] = mapped_column(Text)
    legal_basis: Mapped[str] = mapped_column(Text)
    days: Mapped[int]  # how long the grants should last
    expected_volume: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

    items: Mapped[list[ShareRequestItem]] = relationship(
        back_populates="request", order_by="ShareRequestItem.id", cascade="all, delete-orphan"
    )


class ShareRequestItem(Base):
    """One resource of a request: which fields, which rows (regions), which modes. Its state
    lives in the workflow ``sharing.request_item`` (the provider reviews; the bureau too for
    grades that need it); ``state`` mirrors it for lists."""

    __tablename__ = "sharing_request_item"
    __table_args__ = (Index("ix_sharing_item_provider_state", "provider_org_id", "state"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("sharing_request.id"), index=True)
    resource_id: Mapped[int] = mapped_column(BigInteger, index=True)
    provider_org_id: Mapped[int] = mapped_column(BigInteger)
    table_name: Mapped[str] = mapped_column(String(63))
    fields: Mapped[list[Any]] = mapped_column(JSON, default=list)
    regions: Mapped[list[Any]] = mapped_column(JSON, default=list)  # 行政区划 codes; [] = all
    modes: Mapped[list[Any]] = mapped_column(JSON, default=list)
    share_type: Mapped[str] = mapped_column(String(20))  # as the catalog said when asked
    grade: Mapped[str | None] = mapped_column(String(20))  # the grade in force when asked
    state: Mapped[str] = mapped_column(String(20), default="pending_provider", index=True)
    workflow_instance_id: Mapped[int | None] = mapped_column(BigInteger)
    decided_at: Mapped[dt.datetime | None]
    reason: Mapped[str | None] = mapped_column(Text)

    request: Mapped[ShareRequest] = relationship(back_populates="items")

    @property
    def owner_org_id(self) -> int:
        """The organisation that decides (the provider)."""
        return self.provider_org_id


class ShareGrant(Base):
    """共享授权: what an approved item lets the using department read, how, how much and
    until when. Every use goes through ``lake.access`` with the grant built from this row."""

    __tablename__ = "sharing_grant"
    __table_args__ = (Index("ix_sharing_grant_consumer_status", "consumer_org_id", "status"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("sharing_request_item.id"), unique=True)
    consumer_org_id: Mapped[int] = mapped_column(BigInteger)
    provider_org_id: Mapped[int] = mapped_column(BigInteger, index=True)
    resource_id: Mapped[int] = mapped_column(BigInteger, index=True)
    table_name: Mapped[str] = mapped_column(String(63))
    fields: Mapped[list[Any]] = mapped_column(JSON, default=list)
    masks: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)  # column → mask kind
    region_column: Mapped[str | None] = mapped_column(String(63))
    regions: Mapped[list[Any]] = mapped_column(JSON, default=list)
    modes: Mapped[list[Any]] = mapped_column(JSON, default=list)
    purpose: Mapped[str] = mapped_column(Text)
    rate_per_minute: Mapped[int] = mapped_column(default=600)
    daily_quota: Mapped[int] = mapped_column(BigInteger, default=100_000)  # rows a day
    valid_from: Mapped[dt.datetime]
    valid_until: Mapped[dt.datetime]
    status: Mapped[str] = mapped_column(String(10), default="active", index=True)
    revoked_at: Mapped[dt.datetime | None]
    revoke_reason: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

    @property
    def owner_org_id(self) -> int:
        return self.provider_org_id


class GrantUsage(Base):
    """A grant's use on one day (China time): calls, rows returned, verifications."""

    __tablename__ = "sharing_grant_usage"
    __table_args__ = (UniqueConstraint("grant_id", "day", name="uq_sharing_usage_grant_day"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    grant_id: Mapped[int] = mapped_column(ForeignKey("sharing_grant.id"), index=True)
    day: Mapped[dt.date] = mapped_column(Date)
    calls: Mapped[int] = mapped_column(BigInteger, default=0)
    rows: Mapped[int] = mapped_column(BigInteger, default=0)
    checks: Mapped[int] = mapped_column(BigInteger, default=0)
