"""Application credentials of departments' systems over HTTP: register, keys, tokens, disable.
Routes only translate; the rules are in ``credentials.py``."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field

from longshu.security.context import Ctx, requires
from longshu.security.identity.models import ApiToken, AppCredential
from longshu.security.identity.signed import live_key
from longshu.sharing import credentials

router = APIRouter(prefix="/api/v1/sharing", tags=["sharing"])


class CredentialIn(BaseModel):
    name: str = Field(min_length=1, max_length=100)
    org_id: int | None = None
    roles: list[Annotated[str, Field(max_length=40)]] = Field(
        default=["data_consumer"], max_length=5
    )


class TokenOut(BaseModel):
    id: int
    name: str
    prefix: str
    scopes: list[str]
    created_at: dt.datetime
    expires_at: dt.datetime
    revoked_at: dt.datetime | None
    last_used_at: dt.datetime | None


class CredentialOut(BaseModel):
    id: int
    name: str
    org_id: int | None
    roles: list[str]
    created_at: dt.datetime
    disabled_at: dt.datetime | None
    key_id: str | None
    public_key: str | None
    key_registered_at: dt.datetime | None
    tokens: list[TokenOut]


def _token_out(token: ApiToken) -> TokenOut:
    return TokenOut(
        id=token.id, name=token.name, prefix=token.prefix, scopes=token.scopes,
        created_at=token.created_at, expires_at=token.expires_at, revoked_at=token.revoked_at,
        last_used_at=token.last_used_at,
    )  # fmt: skip


def _out(ctx: Ctx, app: AppCredential) -> CredentialOut:
    key = live_key(ctx.session, app.id)
    return CredentialOut(
        id=app.id, name=app.name, org_id=app.org_id, roles=app.roles, created_at=app.created_at,
        disabled_at=app.disabled_at, key_id=key.key_id if key else None,
        public_key=key.public_key if key else None,
        key_registered_at=key.created_at if key else None,
        tokens=[_token_out(t) for t in credentials.tokens_of(ctx.session, app)],
    )  # fmt: skip


@router.post("/credentials", response_model=CredentialOut, status_code=201)
def create_credential(
    body: CredentialIn, ctx: Ctx = requires("sharing.credentials")
) -> CredentialOut:
    """Register a system of the department (the platform administrator: of ``org_id``)."""
    app = credentials.create(ctx.session, ctx.actor, body.name, body.org_id, body.roles)
    return _out(ctx, app)


@router.get("/credentials", response_model=list[CredentialOut])
def list_credentials(
    org_id: int | None = Query(default=None), ctx: Ctx = requires("sharing.credentials")
) -> list[CredentialOut]:
    return [_out(ctx, a) for a in credentials.list_credentials(ctx.session, ctx.actor, org_id)]


@router.get("/credentials/{app_id}", response_model=CredentialOut)
def show_credential(app_id: int, ctx: Ctx = requires("sharing.credentials")) -> CredentialOut:
    return _out(ctx, credentials.get(ctx.session, ctx.actor, app_id))


class KeyIn(BaseModel):
    public_key: str = Field(min_length=1, max_length=200)
    # hours the replaced key keeps signing (0: retired at once)
    overlap_hours: int = 0


@router.post("/credentials/{app_id}/key", response_model=CredentialOut)
def set_key(app_id: int, body: KeyIn, ctx: Ctx = requires("sharing.credentials")) -> CredentialOut:
    """Register or rotate the system's SM2 public key (hex of 04 ‖ x ‖ y); with
    ``overlap_hours`` the replaced key keeps signing that long (up to 168)."""
    credentials.set_key(ctx.session, ctx.actor, app_id, body.public_key, body.overlap_hours)
    return _out(ctx, credentials.get(ctx.session, ctx.actor, app_id))


class TokenIn(BaseModel):
    name: str = Field(default="token", max_length=100)
    days: int = Field(default=90, ge=1, le=366)
    scopes: list[Annotated[str, Field(max_length=100)]] = Field(
        default=list(credentials.DEFAULT_SCOPES), min_length=1, max_length=20
    )


class IssuedTokenOut(BaseModel):
    token: TokenOut
    secret: str  # shown this once; only its digest is stored


@router.post("/credentials/{app_id}/tokens", response_model=IssuedTokenOut, status_code=201)
def issue_token(
    app_id: int, body: TokenIn, ctx: Ctx = requires("sharing.credentials")
) -> IssuedTokenOut:
    token, secret = credentials.issue_token(
        ctx.session, ctx.actor, app_id, body.name, body.days, body.scopes
    )
    return IssuedTokenOut(token=_token_out(token), secret=secret)


class DisableIn(BaseModel):
    reason: str = Field(default="", max_length=500)


@router.post("/credentials/{app_id}/disable", response_model=CredentialOut)
def disable_credential(
    app_id: int, body: DisableIn, ctx: Ctx = requires("sharing.credentials")
) -> CredentialOut:
    """Stop the system at once: its tokens and signatures are refused from now on."""
    return _out(ctx, credentials.disable(ctx.session, ctx.actor, app_id, body.reason))
