"""Regions (行政区划) and organisations (departments, operators, enterprises) — the tables and
the fixed vocabularies their columns use."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from longshu.db import Base, utcnow


class Term:
    """A code with its Chinese and English titles."""

    __slots__ = ("code", "title_en", "title_zh")

    def __init__(self, code: str, title_zh: str, title_en: str) -> None:
        self.code, self.title_zh, self.title_en = code, title_zh, title_en

    def title(self, locale: str = "zh_CN") -> str:
        return self.title_zh if locale.startswith("zh") else self.title_en


def _terms(*terms: Term) -> dict[str, Term]:
    return {t.code: t for t in terms}


# 层级: the level of government a region or an organisation belongs to.
LEVELS = _terms(
    Term("province", "省级", "Province"),
    Term("city", "市级", "City / prefecture"),
    Term("county", "县级", "County"),
)
LEVEL_ORDER = ("province", "city", "county")

REGION_KINDS = _terms(
    Term("province", "省", "Province"),
    Term("prefecture_city", "地级市", "Prefecture-level city"),
    Term("autonomous_prefecture", "自治州", "Autonomous prefecture"),
    Term("district", "市辖区", "City district"),
    Term("county", "县", "County"),
    Term("autonomous_county", "自治县", "Autonomous county"),
    Term("county_city", "县级市", "County-level city"),
    Term("functional_area", "功能区", "Functional area"),
)

# 机构类别. "assessor" (第三方评估机构) is ours: supervision needs to tell assessors apart.
ORG_KINDS = _terms(
    Term("data_authority", "数据主管部门", "Data authority"),
    Term("data_provider", "数据提供部门", "Data-providing department"),
    Term("data_consumer", "数据使用部门", "Data-using department"),
    Term("implementer", "实施机构", "Implementing agency"),
    Term("operator", "运营机构", "Authorised operator"),
    Term("assessor", "第三方评估机构", "Third-party assessor"),
    Term("enterprise", "企业", "Enterprise"),
    Term("public", "公众", "The public"),
)


class Region(Base):
    """One administrative division (or the platform's functional area 兰州新区)."""

    __tablename__ = "region"

    code: Mapped[str] = mapped_column(String(6), primary_key=True)
    name: Mapped[str] = mapped_column(String(60))
    short_name: Mapped[str] = mapped_column(String(30))
    level: Mapped[str] = mapped_column(String(10), index=True)
    parent_code: Mapped[str | None] = mapped_column(ForeignKey("region.code"), index=True)
    kind: Mapped[str] = mapped_column(String(30))
    # False for codes the platform assigns itself (not in the Ministry of Civil Affairs list).
    official: Mapped[bool] = mapped_column(default=True)
    position: Mapped[int] = mapped_column(default=0)  # order of the published list

    parent: Mapped[Region | None] = relationship(remote_side="Region.code")

    def __repr__(self) -> str:
        return f"<Region {self.code} {self.name}>"


class Organization(Base):
    """A department, operator, enterprise or other body that acts on the platform."""

    __tablename__ = "organization"
    __table_args__ = (UniqueConstraint("region_code", "name", name="uq_organization_region_name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    short_name: Mapped[str | None] = mapped_column(String(60))
    kind: Mapped[str] = mapped_column(String(30), index=True)
    region_code: Mapped[str] = mapped_column(ForeignKey("region.code"), index=True)
    level: Mapped[str] = mapped_column(String(10), index=True)
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("organization.id"), index=True)
    credit_code: Mapped[str | None] = mapped_column(String(18), unique=True)
    contact_name: Mapped[str | None] = mapped_column(String(60))
    contact_phone: Mapped[str | None] = mapped_column(String(40))
    contact_email: Mapped[str | None] = mapped_column(String(200))
    active: Mapped[bool] = mapped_column(default=True, index=True)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    deactivated_at: Mapped[dt.datetime | None]

    region: Mapped[Region] = relationship(lazy="joined")

    def __repr__(self) -> str:
        return f"<Organization {self.id} {self.name}>"
