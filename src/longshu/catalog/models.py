"""Catalog tables: resources and their fields (信息项), revisions, provider codes, the data
element registry (一数一源) with authority claims, duty lists (应编尽编) and the search index.

A resource row is the **working copy** its department edits; every save also writes an
immutable :class:`Revision` holding a snapshot of the whole entry. Publication points the
resource at one revision (``published_revision``): the portal, search and DCAT export show
that snapshot, so a published entry stays visible, unchanged, while its next change is drafted
and reviewed.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    BigInteger,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    String,
    Text,
    UniqueConstraint,
    event,
)
from sqlalchemy.dialects.postgresql import TSVECTOR
from sqlalchemy.orm import Mapped, mapped_column, relationship

from longshu.db import Base, utcnow


class ProviderCode(Base):
    """The 3-digit department code a provider carries in its resource codes (顺序码), unique
    within its region, and the next sequence number to give."""

    __tablename__ = "catalog_provider"
    __table_args__ = (UniqueConstraint("region_code", "code", name="uq_catalog_provider_code"),)

    org_id: Mapped[int] = mapped_column(ForeignKey("organization.id"), primary_key=True)
    region_code: Mapped[str] = mapped_column(ForeignKey("region.code"))
    code: Mapped[str] = mapped_column(String(3))
    next_sequence: Mapped[int] = mapped_column(default=1)


class Resource(Base):
    """A public data resource (公共数据资源) in the catalog: the working copy."""

    __tablename__ = "catalog_resource"
    __table_args__ = (
        Index("ix_catalog_resource_org_status", "provider_org_id", "status"),
        Index("ix_catalog_resource_region_level", "region_code", "level"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    provider_org_id: Mapped[int] = mapped_column(ForeignKey("organization.id"))
    region_code: Mapped[str] = mapped_column(ForeignKey("region.code"))
    level: Mapped[str] = mapped_column(String(10))
    status: Mapped[str] = mapped_column(String(20), index=True, default="draft")
    workflow_instance_id: Mapped[int | None] = mapped_column(BigInteger)

    name: Mapped[str] = mapped_column(String(200), index=True)
    summary: Mapped[str] = mapped_column(Text, default="")
    domain: Mapped[str] = mapped_column(String(40), index=True)
    base_databases: Mapped[list[Any]] = mapped_column(JSON, default=list)
    theme_databases: Mapped[list[Any]] = mapped_column(JSON, default=list)
    share_type: Mapped[str] = mapped_column(String(20))
    share_conditions: Mapped[str | None] = mapped_column(Text)  # conditions, or legal basis
    open_type: Mapped[str] = mapped_column(String(20))
    open_conditions: Mapped[str | None] = mapped_column(Text)
    update_cycle: Mapped[str] = mapped_column(String(20))
    formats: Mapped[list[Any]] = mapped_column(JSON, default=list)
    kind: Mapped[str] = mapped_column(String(20))
    source_system: Mapped[str | None] = mapped_column(String(200))
    contact_name: Mapped[str | None] = mapped_column(String(60))
    contact_phone: Mapped[str | None] = mapped_column(String(40))
    contact_email: Mapped[str | None] = mapped_column(String(200))
    keywords: Mapped[list[Any]] = mapped_column(JSON, default=list)
    licence: Mapped[str | None] = mapped_column(String(200))

    # Facts other domains report through events (the catalog subscriber stores them).
    grade: Mapped[str | None] = mapped_column(String(40), index=True)
    quality_score: Mapped[Decimal | None] = mapped_column(Numeric(5, 2))
    lake_version: Mapped[int | None] = mapped_column(BigInteger)
    lake_rows: Mapped[int | None] = mapped_column(BigInteger)
    # a derived (fused) table's lineage: {"table", "version", "sources": [{"table", "version",
    # "resource_id", "resource_code", "title"}]} as the lake's ``lake.fused`` event reported it
    lake_lineage: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    facts_updated_at: Mapped[dt.datetime | None]

    revision: Mapped[int] = mapped_column(default=1)  # the working copy's revision number
    published_revision: Mapped[int | None]
    published_at: Mapped[dt.datetime | None]
    retired_at: Mapped[dt.datetime | None]
    retire_reason: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    version: Mapped[int] = mapped_column(Integer, default=1)

    __mapper_args__: ClassVar[dict[str, Any]] = {"version_id_col": version}

    fields: Mapped[list[ResourceField]] = relationship(
        back_populates="resource",
        order_by="ResourceField.position",
        cascade="all, delete-orphan",
    )

    @property
    def owner_org_id(self) -> int:
        """The organisation whose people edit this entry (``access.decide`` reads it)."""
        return self.provider_org_id

    @property
    def is_public(self) -> bool:
        """Listed in the public catalog: published, not retired, and not closed to the public."""
        return self.is_published and self.open_type != "none"

    @property
    def is_published(self) -> bool:
        return self.published_revision is not None and self.retired_at is None

    def __repr__(self) -> str:
        return f"<Resource {self.id} {self.code} {self.name}>"


class ResourceField(Base):
    """One field (信息项) of a resource."""

    __tablename__ = "catalog_field"
    __table_args__ = (UniqueConstraint("resource_id", "name", name="uq_catalog_field_name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    resource_id: Mapped[int] = mapped_column(
        ForeignKey("catalog_resource.id", ondelete="CASCADE"), index=True
    )
    position: Mapped[int] = mapped_column(default=0)
    name: Mapped[str] = mapped_column(String(64))  # column name, e.g. sfzh
    label: Mapped[str] = mapped_column(String(100))  # 中文名称, e.g. 公民身份号码
    data_type: Mapped[str] = mapped_column(String(20))
    length: Mapped[int | None]
    unit: Mapped[str | None] = mapped_column(String(30))
    description: Mapped[str | None] = mapped_column(Text)
    element_id: Mapped[int | None] = mapped_column(ForeignKey("catalog_element.id"), index=True)
    sensitivity: Mapped[str | None] = mapped_column(String(40))  # filled by governance
    example: Mapped[str | None] = mapped_column(String(200))

    resource: Mapped[Resource] = relationship(back_populates="fields")


class Revision(Base):
    """An immutable snapshot of a resource, written on every save (动态更新)."""

    __tablename__ = "catalog_revision"
    __table_args__ = (UniqueConstraint("resource_id", "number", name="uq_catalog_revision_number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    resource_id: Mapped[int] = mapped_column(
        ForeignKey("catalog_resource.id", ondelete="CASCADE"), index=True
    )
    number: Mapped[int]
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    actor_kind: Mapped[str] = mapped_column(String(20))
    actor_id: Mapped[int | None] = mapped_column(BigInteger)
    actor_org_id: Mapped[int | None] = mapped_column(BigInteger)
    note: Mapped[str | None] = mapped_column(String(500))
    changed: Mapped[list[Any]] = mapped_column(JSON, default=list)  # attribute names
    snapshot: Mapped[dict[str, Any]] = mapped_column(JSON)
    published_at: Mapped[dt.datetime | None]  # when this revision was published, if it was


class DataElement(Base):
    """A data element (数据元) with its one authoritative source (一数一源)."""

    __tablename__ = "catalog_element"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(20), unique=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    definition: Mapped[str] = mapped_column(Text)
    data_type: Mapped[str] = mapped_column(String(20))
    length: Mapped[int | None]
    standard: Mapped[str | None] = mapped_column(String(200))  # e.g. GB 11643-1999
    authority_org_id: Mapped[int | None] = mapped_column(ForeignKey("organization.id"))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

    claims: Mapped[list[ElementClaim]] = relationship(
        back_populates="element", order_by="ElementClaim.id", viewonly=True
    )


class ElementClaim(Base):
    """A department's claim to be the authoritative source of an element."""

    __tablename__ = "catalog_element_claim"
    __table_args__ = (UniqueConstraint("element_id", "org_id", name="uq_catalog_claim_org"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    element_id: Mapped[int] = mapped_column(ForeignKey("catalog_element.id"), index=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organization.id"))
    basis: Mapped[str | None] = mapped_column(Text)  # legal basis of the claim
    status: Mapped[str] = mapped_column(String(20), default="pending")  # pending/accepted/rejected
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    decided_at: Mapped[dt.datetime | None]

    element: Mapped[DataElement] = relationship(back_populates="claims")

    @property
    def owner_org_id(self) -> int:
        return self.org_id


class DutyItem(Base):
    """An expected resource on a department's duty list (应编尽编 责任清单)."""

    __tablename__ = "catalog_duty"
    __table_args__ = (UniqueConstraint("org_id", "name", name="uq_catalog_duty_name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organization.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    note: Mapped[str | None] = mapped_column(String(500))
    resource_id: Mapped[int | None] = mapped_column(
        ForeignKey("catalog_resource.id", ondelete="SET NULL")
    )
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class SearchDoc(Base):
    """One published resource as search sees it: the published snapshot's text and facets.

    On SQLite the text is also in the FTS5 table ``catalog_search_fts`` (rowid = resource id);
    on PostgreSQL ``search_vector`` holds weighted bigram terms under a GIN index."""

    __tablename__ = "catalog_search_doc"
    __table_args__ = (
        Index("ix_catalog_search_doc_public_published", "public", "published_at"),
        Index("ix_catalog_search_doc_vector", "search_vector", postgresql_using="gin").ddl_if(
            dialect="postgresql"
        ),
    )

    resource_id: Mapped[int] = mapped_column(
        ForeignKey("catalog_resource.id", ondelete="CASCADE"), primary_key=True
    )
    code: Mapped[str] = mapped_column(String(32))
    name: Mapped[str] = mapped_column(String(200))
    keywords: Mapped[str] = mapped_column(Text, default="")
    summary: Mapped[str] = mapped_column(Text, default="")
    fields_text: Mapped[str] = mapped_column(Text, default="")
    provider_org_id: Mapped[int] = mapped_column(BigInteger, index=True)
    region_code: Mapped[str] = mapped_column(String(6), index=True)
    level: Mapped[str] = mapped_column(String(10))
    domain: Mapped[str] = mapped_column(String(40), index=True)
    share_type: Mapped[str] = mapped_column(String(20))
    open_type: Mapped[str] = mapped_column(String(20))
    update_cycle: Mapped[str] = mapped_column(String(20))
    kind: Mapped[str] = mapped_column(String(20))
    grade: Mapped[str | None] = mapped_column(String(40))
    formats: Mapped[str] = mapped_column(String(400), default=" ")  # " CSV XLSX "
    databases: Mapped[str] = mapped_column(String(400), default=" ")  # " base:population "
    public: Mapped[bool] = mapped_column(default=False)
    published_at: Mapped[dt.datetime]
    search_vector: Mapped[Any] = mapped_column(
        Text().with_variant(TSVECTOR(), "postgresql"), nullable=True
    )


class SearchState(Base):
    """One row: a random mark renewed by every change to the search index (facets.py)."""

    __tablename__ = "catalog_search_state"

    name: Mapped[str] = mapped_column(String(20), primary_key=True)
    token: Mapped[str] = mapped_column(String(32), default="")


FTS_TABLE = "catalog_search_fts"
FTS_DDL = (
    f"CREATE VIRTUAL TABLE IF NOT EXISTS {FTS_TABLE} USING fts5("
    "name, keywords, summary, fields, tokenize = 'unicode61 remove_diacritics 2')"
)


@event.listens_for(SearchDoc.__table__, "after_create")
def _create_fts(target: Any, connection: Any, **_kw: Any) -> None:
    if connection.dialect.name == "sqlite":
        connection.exec_driver_sql(FTS_DDL)


@event.listens_for(SearchDoc.__table__, "before_drop")
def _drop_fts(target: Any, connection: Any, **_kw: Any) -> None:
    if connection.dialect.name == "sqlite":
        connection.exec_driver_sql(f"DROP TABLE IF EXISTS {FTS_TABLE}")
