"""The lake's control-plane tables: which lake tables exist, every version loaded into them,
the references that keep old versions from removal, and the content-addressed objects.

The data itself is in the lake folder (Delta tables, object files); these rows say what is
there, so the catalog, sharing and supervision never need to open the folder."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, BigInteger, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from longshu.db import Base, utcnow

# kinds of lake table
TABLE_KINDS = ("table", "collection", "derived")
# how a version was written
LOAD_MODES = ("snapshot", "append", "upsert")
# ready: readable; blocked: breaking schema drift awaits a data manager; purged: files removed
VERSION_STATUSES = ("ready", "blocked", "purged")


class LakeTable(Base):
    """One Delta table in the lake. ``name`` is the identifier queries use and names its
    folder; it never changes. ``resource_id``/``resource_code`` point at the catalog entry
    (by id only: the catalog sits below the lake and never learns of this table directly)."""

    __tablename__ = "lake_table"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(63), unique=True)
    kind: Mapped[str] = mapped_column(String(20), default="table")
    title: Mapped[str] = mapped_column(String(200), default="")
    resource_id: Mapped[int | None] = mapped_column(BigInteger, index=True)
    resource_code: Mapped[str | None] = mapped_column(String(40), index=True)
    owner_org_id: Mapped[int | None] = mapped_column(BigInteger, index=True)
    key_columns: Mapped[list[Any]] = mapped_column(JSON, default=list)
    # retention: keep at least the newest N versions / versions younger than N days
    # (None: no rule of that kind); held versions and the newest ready version always stay
    retain_versions: Mapped[int | None]
    retain_days: Mapped[int | None]
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    created_by: Mapped[int | None] = mapped_column(BigInteger)

    versions: Mapped[list[LakeVersion]] = relationship(
        back_populates="table", order_by="LakeVersion.number"
    )

    def __repr__(self) -> str:
        return f"<LakeTable {self.name}>"


class LakeVersion(Base):
    """One load of a table: a Delta commit, with what the catalog records about it.

    ``number`` counts loads from 1 and is what people and grants cite; ``delta_version``
    is the Delta log's own version (it also counts restores and maintenance commits)."""

    __tablename__ = "lake_version"
    __table_args__ = (
        UniqueConstraint("table_id", "number", name="uq_lake_version_table_number"),
        Index("ix_lake_version_table_status", "table_id", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    table_id: Mapped[int] = mapped_column(ForeignKey("lake_table.id"))
    number: Mapped[int]
    delta_version: Mapped[int] = mapped_column(BigInteger)
    mode: Mapped[str] = mapped_column(String(10))
    status: Mapped[str] = mapped_column(String(10), default="ready")
    rows: Mapped[int] = mapped_column(BigInteger)  # rows in the table at this version
    rows_written: Mapped[int] = mapped_column(BigInteger)  # rows this load brought
    bytes: Mapped[int] = mapped_column(BigInteger)  # Parquet bytes of the version
    files: Mapped[int]
    checksum: Mapped[str] = mapped_column(String(64))  # SM3 over the version's file manifest
    checksum_algorithm: Mapped[str] = mapped_column(String(10), default="sm3")
    # [{"path", "size", "sm3", "rows"}] of every data file the version reads, sorted by path
    manifest: Mapped[list[Any]] = mapped_column(JSON, default=list)
    schema: Mapped[list[Any]] = mapped_column(JSON, default=list)  # [{"name", "type", "nullable"}]
    drift: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    load_id: Mapped[str] = mapped_column(String(64), index=True)
    source: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    created_by: Mapped[int | None] = mapped_column(BigInteger)
    accepted_at: Mapped[dt.datetime | None]
    accepted_by: Mapped[int | None] = mapped_column(BigInteger)
    purged_at: Mapped[dt.datetime | None]

    table: Mapped[LakeTable] = relationship(back_populates="versions")
    holds: Mapped[list[LakeHold]] = relationship(back_populates="version")

    def __repr__(self) -> str:
        return f"<LakeVersion {self.table_id}#{self.number} {self.status}>"


class LakeHold(Base):
    """A reference that keeps a version from removal: a grant, a batch delivery, a
    registration certificate, a derived table's lineage. Released holds stay as history."""

    __tablename__ = "lake_hold"
    __table_args__ = (Index("ix_lake_hold_holder", "holder_kind", "holder_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    version_id: Mapped[int] = mapped_column(ForeignKey("lake_version.id"), index=True)
    holder_kind: Mapped[str] = mapped_column(String(30))
    holder_id: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    released_at: Mapped[dt.datetime | None]

    version: Mapped[LakeVersion] = relationship(back_populates="holds")


class LakeObject(Base):
    """A stored document, image, audio or video file, addressed by the SM3 digest of its
    content (the same bytes are stored once). What a collection says about an object
    (name, title, extracted metadata) lives in the collection's rows, not here."""

    __tablename__ = "lake_object"

    digest: Mapped[str] = mapped_column(String(64), primary_key=True)  # SM3, hex
    size: Mapped[int] = mapped_column(BigInteger)
    media_type: Mapped[str] = mapped_column(String(100))
    encrypted: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    created_by: Mapped[int | None] = mapped_column(BigInteger)


class LakeLineage(Base):
    """血缘: one source of a derived version — the version of another table it was built
    from (``alias`` is the name the fusion query gave that source)."""

    __tablename__ = "lake_lineage"
    __table_args__ = (
        UniqueConstraint("version_id", "source_version_id", name="uq_lake_lineage_pair"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    version_id: Mapped[int] = mapped_column(ForeignKey("lake_version.id"), index=True)
    source_version_id: Mapped[int] = mapped_column(ForeignKey("lake_version.id"), index=True)
    alias: Mapped[str] = mapped_column(String(63))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

    version: Mapped[LakeVersion] = relationship(foreign_keys=[version_id])
    source: Mapped[LakeVersion] = relationship(foreign_keys=[source_version_id])
