"""Shapes of identity's JSON API."""

from __future__ import annotations

import datetime as dt

from pydantic import BaseModel, ConfigDict, Field


class RoleOut(BaseModel):
    code: str
    title_zh: str
    title_en: str


class UserOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    username: str
    display_name: str
    org_id: int | None
    is_active: bool
    totp_enabled: bool
    roles: list[str]
    created_at: dt.datetime


class MeOut(BaseModel):
    kind: str
    id: int | None
    name: str
    org_id: int | None
    roles: list[str]
    scopes: list[str] | None
    second_factor: bool


class UserIn(BaseModel):
    username: str = Field(min_length=3, max_length=64)
    display_name: str = Field(min_length=1, max_length=100)
    password: str | None = Field(default=None, max_length=256)
    org_id: int | None = None
    roles: list[str] = Field(default_factory=list, max_length=20)
    email: str | None = Field(default=None, max_length=200)


class RolesIn(BaseModel):
    roles: list[str] = Field(max_length=20)


class PasswordResetIn(BaseModel):
    password: str = Field(max_length=256)


class PasswordChangeIn(BaseModel):
    old_password: str = Field(max_length=256)
    new_password: str = Field(max_length=256)


class TokenIn(BaseModel):
    name: str = Field(min_length=1, max_length=100)
    scopes: list[str] = Field(min_length=1, max_length=50)
    days: int = Field(default=90, ge=1, le=366)


class TokenOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    name: str
    prefix: str
    scopes: list[str]
    created_at: dt.datetime
    expires_at: dt.datetime
    revoked_at: dt.datetime | None
    last_used_at: dt.datetime | None


class TokenCreated(TokenOut):
    token: str = Field(description="The secret, shown once.")


class AppIn(BaseModel):
    name: str = Field(min_length=1, max_length=100)
    org_id: int | None = None
    roles: list[str] = Field(max_length=20)


class AppOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    name: str
    org_id: int | None
    roles: list[str]
    created_at: dt.datetime


class AppTokenIn(TokenIn):
    pass
