"""Shapes of the regions and organisations JSON API."""

from __future__ import annotations

import datetime as dt

from pydantic import BaseModel, ConfigDict, Field


class TermOut(BaseModel):
    code: str
    title_zh: str
    title_en: str


class RegionOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    code: str
    name: str
    short_name: str
    level: str
    parent_code: str | None
    kind: str
    official: bool


class RegionDetailOut(RegionOut):
    path: list[RegionOut]  # province first, this region last
    children: list[RegionOut]


class RegionNodeOut(RegionOut):
    children: list[RegionNodeOut] = Field(default_factory=list)


class OrganizationOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    name: str
    short_name: str | None
    kind: str
    region_code: str
    region_name: str
    level: str
    parent_id: int | None
    credit_code: str | None
    contact_name: str | None
    contact_phone: str | None
    contact_email: str | None
    active: bool
    created_at: dt.datetime
    updated_at: dt.datetime
    deactivated_at: dt.datetime | None


class OrganizationPage(BaseModel):
    items: list[OrganizationOut]
    total: int
    limit: int
    offset: int


# Input sizes are bounded generously here; the service applies the exact rules and says why.
class OrganizationIn(BaseModel):
    name: str = Field(max_length=400)
    kind: str = Field(max_length=40)
    region_code: str = Field(max_length=40)
    short_name: str | None = Field(default=None, max_length=120)
    level: str | None = Field(default=None, max_length=40)
    parent_id: int | None = None
    credit_code: str | None = Field(default=None, max_length=40)
    contact_name: str | None = Field(default=None, max_length=120)
    contact_phone: str | None = Field(default=None, max_length=80)
    contact_email: str | None = Field(default=None, max_length=400)


class OrganizationPatch(BaseModel):
    """Only the fields sent are changed; ``null`` clears an optional field."""

    model_config = ConfigDict(extra="forbid")

    name: str | None = Field(default=None, max_length=400)
    kind: str | None = Field(default=None, max_length=40)
    region_code: str | None = Field(default=None, max_length=40)
    short_name: str | None = Field(default=None, max_length=120)
    level: str | None = Field(default=None, max_length=40)
    parent_id: int | None = None
    credit_code: str | None = Field(default=None, max_length=40)
    contact_name: str | None = Field(default=None, max_length=120)
    contact_phone: str | None = Field(default=None, max_length=80)
    contact_email: str | None = Field(default=None, max_length=400)


class DeactivateIn(BaseModel):
    reason: str | None = Field(default=None, max_length=200)
