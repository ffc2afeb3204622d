"""Verification (核验) tables: how a resource's verification is set up (which columns are the
key and the attribute) and which index files exist for which table versions.

One setup per resource, configured by the providing department; each build of a version is
a ``VerifyIndexRecord``: ``building`` → ``ready`` (the one the serving path uses) →
``retired`` when a newer version's index is ready (its file is then removed), or ``failed``."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import BigInteger, Float, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from longshu.db import Base, utcnow

INDEX_STATUSES = ("building", "ready", "retired", "failed")


class VerifySetup(Base):
    """核验配置: which table of a resource is verified, as which kind, on which columns."""

    __tablename__ = "sharing_verify_setup"

    id: Mapped[int] = mapped_column(primary_key=True)
    resource_id: Mapped[int] = mapped_column(BigInteger, unique=True)
    provider_org_id: Mapped[int] = mapped_column(BigInteger, index=True)
    table_name: Mapped[str] = mapped_column(String(63), index=True)
    kind: Mapped[str] = mapped_column(String(20))  # resident | enterprise | licence
    key_column: Mapped[str] = mapped_column(String(128))
    attribute_column: Mapped[str] = mapped_column(String(128))
    # kept per record so region-limited grants can verify (None: the table has no region field)
    region_column: Mapped[str | None] = mapped_column(String(128))
    configured_by: Mapped[int | None] = mapped_column(BigInteger)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

    @property
    def owner_org_id(self) -> int:
        return self.provider_org_id


class VerifyIndexRecord(Base):
    """One index file built from one table version (see ``verify_index``)."""

    __tablename__ = "sharing_verify_index"
    __table_args__ = (Index("ix_sharing_verify_index_resource_status", "resource_id", "status"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    setup_id: Mapped[int] = mapped_column(ForeignKey("sharing_verify_setup.id"), index=True)
    resource_id: Mapped[int] = mapped_column(BigInteger)
    table_name: Mapped[str] = mapped_column(String(63))
    version: Mapped[int]
    kind: Mapped[str] = mapped_column(String(20))
    key_column: Mapped[str] = mapped_column(String(128))
    attribute_column: Mapped[str] = mapped_column(String(128))
    region_column: Mapped[str | None] = mapped_column(String(128))
    index_id: Mapped[str | None] = mapped_column(String(200))
    path: Mapped[str | None] = mapped_column(Text)
    records: Mapped[int | None] = mapped_column(BigInteger)
    bytes: Mapped[int | None] = mapped_column(BigInteger)
    skipped_malformed: Mapped[int | None] = mapped_column(BigInteger)
    build_seconds: Mapped[float | None] = mapped_column(Float)
    status: Mapped[str] = mapped_column(String(10), default="building", index=True)
    error: Mapped[str | None] = mapped_column(String(100))  # an error key, never a value
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    built_at: Mapped[dt.datetime | None]
    retired_at: Mapped[dt.datetime | None]
