"""Shapes of the catalog JSON API. Sizes are bounded generously here; the service applies the
exact rules (rules.py) and names the attribute that breaks one."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from longshu.catalog.rules import FieldData, ResourceData


class FieldIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(max_length=100)
    label: str = Field(max_length=200)
    data_type: str = Field(default="string", max_length=40)
    length: int | None = None
    unit: str | None = Field(default=None, max_length=60)
    description: str | None = Field(default=None, max_length=2000)
    element_id: int | None = None
    example: str | None = Field(default=None, max_length=400)


class ResourceIn(BaseModel):
    """A catalog entry as a department writes it."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(max_length=400)
    summary: str = Field(max_length=8000)
    domain: str = Field(max_length=40)
    share_type: str = Field(max_length=40)
    open_type: str = Field(max_length=40)
    update_cycle: str = Field(max_length=40)
    kind: str = Field(max_length=40)
    formats: list[str] = Field(default_factory=list, max_length=30)
    base_databases: list[str] = Field(default_factory=list, max_length=10)
    theme_databases: list[str] = Field(default_factory=list, max_length=10)
    share_conditions: str | None = Field(default=None, max_length=4000)
    open_conditions: str | None = Field(default=None, max_length=4000)
    source_system: str | None = Field(default=None, max_length=400)
    contact_name: str | None = Field(default=None, max_length=120)
    contact_phone: str | None = Field(default=None, max_length=80)
    contact_email: str | None = Field(default=None, max_length=400)
    keywords: list[str] = Field(default_factory=list, max_length=40)
    licence: str | None = Field(default=None, max_length=400)
    fields: list[FieldIn] = Field(default_factory=list, max_length=600)

    def data(self) -> ResourceData:
        values = {k: getattr(self, k) for k in ResourceIn.model_fields if k != "fields"}
        return ResourceData(**values, fields=[FieldData(**f.model_dump()) for f in self.fields])


class NewResourceIn(ResourceIn):
    provider_org_id: int | None = None  # default: the caller's department
    code: str | None = Field(default=None, max_length=60)  # an existing code being brought in
    sub_category: str = Field(default="001", max_length=10)  # 目 of the classification


class ResourceUpdateIn(ResourceIn):
    version: int  # the version the editor loaded (optimistic concurrency)
    note: str | None = Field(default=None, max_length=500)


class MoveIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    transition: str = Field(max_length=40)
    comment: str | None = Field(default=None, max_length=4000)
    version: int | None = None


class ReopenIn(BaseModel):
    comment: str | None = Field(default=None, max_length=4000)


class FieldOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    name: str
    label: str
    data_type: str
    length: int | None
    unit: str | None
    description: str | None
    element_id: int | None
    example: str | None
    sensitivity: str | None = None


class EntryOut(BaseModel):
    """What the catalog says about an entry (working copy or published snapshot)."""

    id: int
    code: str
    provider_org_id: int
    provider_name: str
    region_code: str
    region_name: str
    level: str
    name: str
    summary: str
    domain: str
    base_databases: list[str]
    theme_databases: list[str]
    share_type: str
    share_conditions: str | None
    open_type: str
    open_conditions: str | None
    update_cycle: str
    formats: list[str]
    kind: str
    source_system: str | None
    contact_name: str | None
    contact_phone: str | None
    contact_email: str | None
    keywords: list[str]
    licence: str | None
    fields: list[FieldOut]
    revision: int
    grade: str | None
    quality_score: Decimal | None
    published_at: dt.datetime | None


class WorkingEntryOut(EntryOut):
    status: str
    version: int
    published_revision: int | None
    retired_at: dt.datetime | None
    retire_reason: str | None
    created_at: dt.datetime
    updated_at: dt.datetime
    moves: list[str]  # transitions the caller may take now


class WorkingPage(BaseModel):
    items: list[WorkingEntryOut]
    total: int
    limit: int
    offset: int


class RevisionOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    number: int
    created_at: dt.datetime
    actor_kind: str
    actor_id: int | None
    note: str | None
    changed: list[str]
    published_at: dt.datetime | None


class AttributeChangeOut(BaseModel):
    attribute: str
    before: Any
    after: Any


class FieldChangeOut(BaseModel):
    name: str
    change: str
    attributes: list[str]
    before: dict[str, Any] | None
    after: dict[str, Any] | None


class DiffOut(BaseModel):
    number: int
    against: int
    attributes: list[AttributeChangeOut]
    fields: list[FieldChangeOut]


class HistoryOut(BaseModel):
    kind: str  # step | comment | attachment
    at: dt.datetime
    actor_kind: str
    actor_id: int | None
    transition: str | None = None
    from_state: str | None = None
    to_state: str | None = None
    comment: str | None = None


class HitOut(BaseModel):
    id: int
    code: str
    name: str
    summary: str
    provider_org_id: int
    provider_name: str
    region_code: str
    region_name: str
    level: str
    domain: str
    share_type: str
    open_type: str
    formats: list[str]
    published_at: dt.datetime | None
    score: float | None


class FacetValueOut(BaseModel):
    value: str
    label: str
    count: int


class SearchOut(BaseModel):
    total: int
    limit: int
    offset: int
    items: list[HitOut]
    facets: dict[str, list[FacetValueOut]]


class TermOut(BaseModel):
    code: str
    title_zh: str
    title_en: str


class ImportOut(BaseModel):
    created: list[str]  # codes
    updated: list[str]
    unchanged: list[str]
