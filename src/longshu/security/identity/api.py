"""Identity's JSON API: who am I, tokens, users and application credentials."""

from __future__ import annotations

from fastapi import APIRouter, Query, Response

from longshu.security.access.roles import ROLES
from longshu.security.context import Ctx, requires
from longshu.security.identity import service
from longshu.security.identity.errors import UserNotFound
from longshu.security.identity.models import AppCredential, User
from longshu.security.identity.schemas import (
    AppIn,
    AppOut,
    AppTokenIn,
    MeOut,
    PasswordChangeIn,
    PasswordResetIn,
    RoleOut,
    RolesIn,
    TokenCreated,
    TokenIn,
    TokenOut,
    UserIn,
    UserOut,
)

router = APIRouter(prefix="/api/v1", tags=["identity"])


def _user_out(user: User) -> UserOut:
    return UserOut(
        id=user.id,
        username=user.username,
        display_name=user.display_name,
        org_id=user.org_id,
        is_active=user.is_active,
        totp_enabled=user.totp_enabled,
        roles=sorted(user.role_codes),
        created_at=user.created_at,
    )


@router.get("/roles", response_model=list[RoleOut])
def list_roles(ctx: Ctx = requires("public.read")) -> list[RoleOut]:
    return [RoleOut(code=r.code, title_zh=r.title_zh, title_en=r.title_en) for r in ROLES.values()]


@router.get("/me", response_model=MeOut)
def me(ctx: Ctx = requires("account.self")) -> MeOut:
    a = ctx.actor
    return MeOut(
        kind=a.kind,
        id=a.id,
        name=a.name,
        org_id=a.org_id,
        roles=sorted(a.roles),
        scopes=sorted(a.scopes) if a.scopes is not None else None,
        second_factor=a.mfa,
    )


@router.post("/me/password", status_code=204)
def change_password(body: PasswordChangeIn, ctx: Ctx = requires("account.self")) -> None:
    service.change_password(ctx.session, ctx.actor, body.old_password, body.new_password)


@router.get("/tokens", response_model=list[TokenOut])
def list_tokens(ctx: Ctx = requires("account.self")) -> list[TokenOut]:
    return [TokenOut.model_validate(t) for t in service.list_tokens(ctx.session, ctx.actor)]


@router.post("/tokens", response_model=TokenCreated, status_code=201)
def create_token(body: TokenIn, ctx: Ctx = requires("account.self")) -> TokenCreated:
    token, secret = service.create_token(ctx.session, ctx.actor, body.name, body.scopes, body.days)
    return TokenCreated(**TokenOut.model_validate(token).model_dump(), token=secret)


@router.delete("/tokens/{token_id}", response_model=TokenOut)
def revoke_token(token_id: int, ctx: Ctx = requires("account.self")) -> TokenOut:
    return TokenOut.model_validate(service.revoke_token(ctx.session, ctx.actor, token_id))


@router.get("/users", response_model=list[UserOut])
def list_users(
    response: Response,
    q: str = Query(default="", max_length=64),
    role: str | None = Query(default=None, max_length=40),
    active: bool | None = None,
    page: int = Query(default=1, ge=1, le=100_000),
    per_page: int = Query(default=50, ge=1, le=500),
    ctx: Ctx = requires("users.manage"),
) -> list[UserOut]:
    """Accounts, newest first; the total is in the ``X-Total-Count`` header."""
    found = service.list_users(ctx.session, ctx.actor, q, role, active, page, per_page)
    response.headers["X-Total-Count"] = str(found.total)
    return [_user_out(u) for u in found.items]


@router.post("/users", response_model=UserOut, status_code=201)
def create_user(body: UserIn, ctx: Ctx = requires("users.manage")) -> UserOut:
    user = service.create_user(
        ctx.session,
        ctx.actor,
        body.username,
        body.password,
        body.display_name,
        org_id=body.org_id,
        roles=body.roles,
        email=body.email,
    )
    return _user_out(user)


@router.get("/users/{user_id}", response_model=UserOut)
def get_user(user_id: int, ctx: Ctx = requires("users.manage")) -> UserOut:
    return _user_out(service.get_user(ctx.session, user_id))


@router.put("/users/{user_id}/roles", response_model=UserOut)
def set_roles(user_id: int, body: RolesIn, ctx: Ctx = requires("users.manage")) -> UserOut:
    user = service.get_user(ctx.session, user_id)
    return _user_out(service.set_roles(ctx.session, ctx.actor, user, body.roles))


@router.post("/users/{user_id}/disable", response_model=UserOut)
def disable_user(user_id: int, ctx: Ctx = requires("users.manage")) -> UserOut:
    user = service.get_user(ctx.session, user_id)
    return _user_out(service.set_active(ctx.session, ctx.actor, user, False))


@router.post("/users/{user_id}/enable", response_model=UserOut)
def enable_user(user_id: int, ctx: Ctx = requires("users.manage")) -> UserOut:
    user = service.get_user(ctx.session, user_id)
    return _user_out(service.set_active(ctx.session, ctx.actor, user, True))


@router.post("/users/{user_id}/password", status_code=204)
def reset_password(
    user_id: int, body: PasswordResetIn, ctx: Ctx = requires("users.manage")
) -> None:
    user = service.get_user(ctx.session, user_id)
    service.reset_password(ctx.session, ctx.actor, user, body.password)


@router.post("/apps", response_model=AppOut, status_code=201)
def create_app_credential(body: AppIn, ctx: Ctx = requires("users.manage")) -> AppOut:
    app = service.create_app_credential(ctx.session, ctx.actor, body.name, body.org_id, body.roles)
    return AppOut.model_validate(app)


@router.post("/apps/{app_id}/tokens", response_model=TokenCreated, status_code=201)
def create_app_token(
    app_id: int, body: AppTokenIn, ctx: Ctx = requires("users.manage")
) -> TokenCreated:
    app = ctx.session.get(AppCredential, app_id)
    if app is None:
        raise UserNotFound()
    token, secret = service.create_token(
        ctx.session, ctx.actor, body.name, body.scopes, body.days, app=app
    )
    return TokenCreated(**TokenOut.model_validate(token).model_dump(), token=secret)
