"""Batch exchange deliveries (批量交换交付): one row per package built for a grant, from the
request to the destruction confirmation (销毁确认). The package's files live under
``<var_dir>/exchange/<package_id>/``; the signed manifest and the consumer's signed records are
also kept here, so they outlive the files."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, BigInteger, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from longshu.db import Base, utcnow

# building → built → downloaded → received → destruction_due → destroyed
#                                              destruction_due → overdue → destroyed
# building → failed (nothing was delivered)
DELIVERY_STATES = (
    "building",
    "failed",
    "built",
    "downloaded",
    "received",
    "destruction_due",
    "overdue",
    "destroyed",
)
DELIVERED = ("built", "downloaded", "received")  # a package exists at the consumer (or may)
AWAITING_DESTRUCTION = ("destruction_due", "overdue")


class Delivery(Base):
    """One package of a grant's rows for its consuming department."""

    __tablename__ = "sharing_delivery"
    __table_args__ = (
        Index("ix_sharing_delivery_consumer_state", "consumer_org_id", "state"),
        Index("ix_sharing_delivery_state_due", "state", "due_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    package_id: Mapped[str] = mapped_column(String(100), unique=True)
    grant_id: Mapped[int] = mapped_column(ForeignKey("sharing_grant.id"), index=True)
    consumer_org_id: Mapped[int] = mapped_column(BigInteger)
    provider_org_id: Mapped[int] = mapped_column(BigInteger, index=True)
    requested_by: Mapped[int | None] = mapped_column(BigInteger)
    # who the build job reads the lake as (the requesting staff member): kind, id, org, roles
    requester: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    format: Mapped[str] = mapped_column(String(10))
    recipient_key: Mapped[str] = mapped_column(String(130))  # SM2 point, hex: encrypts
    recipient_key_id: Mapped[str] = mapped_column(String(16))
    signer_key: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)  # PublicKey JSON
    state: Mapped[str] = mapped_column(String(20), default="building", index=True)
    error: Mapped[str | None] = mapped_column(String(100))  # error key of a failed build
    manifest: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    manifest_sm3: Mapped[str | None] = mapped_column(String(64))
    rows: Mapped[int | None] = mapped_column(BigInteger)
    files: Mapped[list[Any]] = mapped_column(JSON, default=list)  # [{name, bytes, sm3}]
    downloads: Mapped[int] = mapped_column(default=0)
    receipt: Mapped[dict[str, Any] | None] = mapped_column(JSON)  # signed, verified record
    destruction: Mapped[dict[str, Any] | None] = mapped_column(JSON)  # signed, verified record
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    built_at: Mapped[dt.datetime | None]
    downloaded_at: Mapped[dt.datetime | None]
    received_at: Mapped[dt.datetime | None]
    grant_ended_at: Mapped[dt.datetime | None]  # when the grant was found ended
    due_at: Mapped[dt.datetime | None]  # destruction deadline (working days after the end)
    reminded_at: Mapped[dt.datetime | None]
    escalated_at: Mapped[dt.datetime | None]
    destroyed_at: Mapped[dt.datetime | None]
    files_removed_at: Mapped[dt.datetime | None]
    note: Mapped[str | None] = mapped_column(Text)

    @property
    def owner_org_id(self) -> int:
        """The department whose data it is (the provider), for access decisions."""
        return self.provider_org_id
