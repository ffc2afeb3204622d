"""Sign-in pages: password, second factor (TOTP), sign-out, the account page with tokens."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import quote, urlsplit

from fastapi import APIRouter, Form
from fastapi.responses import RedirectResponse, Response

from longshu.config import get_settings
from longshu.errors import LongshuError
from longshu.security.context import Ctx, requires
from longshu.security.identity import service, sso
from longshu.security.identity.errors import PasswordsDiffer
from longshu.security.identity.service import SESSION_COOKIE
from longshu.web import render
from longshu.web.nav import register_nav

router = APIRouter(include_in_schema=False)

register_nav(
    "account", "账户与令牌", "Account and tokens", "/console/account", "account.self", "account"
)


def _safe_next(target: str | None) -> str:
    """Only local paths: an open redirect would let a phishing page borrow our sign-in."""
    if not target or not target.startswith("/") or target.startswith("//"):
        return "/console"
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or "\\" in target:
        return "/console"
    return target


def _set_session_cookie(response: Response, value: str) -> None:
    settings = get_settings()
    response.set_cookie(
        SESSION_COOKIE,
        value,
        max_age=settings.session_hours * 3600,
        httponly=True,
        secure=settings.cookie_secure,
        samesite="lax",
        path="/",
    )


@router.get("/login")
def login_form(next: str | None = None, ctx: Ctx = requires("public.read")) -> Response:
    return render(
        ctx.request,
        "identity/login.html",
        {"next": _safe_next(next), "error": None, "sso": bool(get_settings().oidc_issuer)},
    )


@router.post("/login")
def login(
    username: Annotated[str, Form(max_length=64)],
    password: Annotated[str, Form(max_length=256)],
    next: Annotated[str | None, Form(max_length=500)] = None,
    ctx: Ctx = requires("public.read"),
) -> Response:
    try:
        user = service.authenticate(ctx.session, username.strip(), password)
    except LongshuError as error:
        ctx.session.commit()  # failed attempts count towards the lockout
        return render(
            ctx.request,
            "identity/login.html",
            {
                "next": _safe_next(next),
                "error": error,
                "username": username,
                "sso": bool(get_settings().oidc_issuer),
            },
            status_code=error.status,
        )
    cookie = service.start_session(ctx.session, user, ctx.request.headers.get("user-agent"))
    target = _safe_next(next)
    if service.needs_second_factor(user):
        if not user.totp_enabled:
            service.begin_totp_enrolment_for(ctx.session, user)
        target = "/login/totp?next=" + quote(target, safe="/")
    response = RedirectResponse(target, status_code=303)
    _set_session_cookie(response, cookie)
    return response


@router.get("/login/totp")
def totp_form(next: str | None = None, ctx: Ctx = requires("public.read")) -> Response:
    login = ctx.request.state.login
    if login is None:
        return RedirectResponse("/login", status_code=303)
    user = login.user
    enrolling = not user.totp_enabled
    return render(
        ctx.request,
        "identity/totp.html",
        {
            "next": _safe_next(next),
            "error": None,
            "enrolling": enrolling,
            "secret": service.totp_secret(user) if enrolling else None,
            "uri": service.totp_uri(user) if enrolling and user.totp_secret else None,
        },
    )


@router.post("/login/totp")
def totp_verify(
    code: Annotated[str, Form(max_length=12)],
    next: Annotated[str | None, Form(max_length=500)] = None,
    ctx: Ctx = requires("public.read"),
) -> Response:
    cookie = ctx.request.cookies.get(SESSION_COOKIE)
    try:
        service.verify_second_factor(ctx.session, cookie, code)
    except LongshuError as error:
        ctx.session.commit()
        login = ctx.request.state.login
        enrolling = bool(login and not login.user.totp_enabled)
        return render(
            ctx.request,
            "identity/totp.html",
            {
                "next": _safe_next(next),
                "error": error,
                "enrolling": enrolling,
                "secret": service.totp_secret(login.user) if enrolling else None,
                "uri": service.totp_uri(login.user)
                if enrolling and login.user.totp_secret
                else None,
            },
            status_code=error.status,
        )
    return RedirectResponse(_safe_next(next), status_code=303)


@router.post("/logout")
def logout(ctx: Ctx = requires("public.read")) -> Response:
    service.end_session(ctx.session, ctx.request.cookies.get(SESSION_COOKIE))
    response = RedirectResponse("/", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


@router.get("/console/account")
def account(ctx: Ctx = requires("account.self")) -> Response:
    return render(
        ctx.request,
        "identity/account.html",
        {
            "user": service.get_user(ctx.session, ctx.actor.id or 0),
            "tokens": service.list_tokens(ctx.session, ctx.actor),
            "new_token": None,
            "error": None,
        },
    )


@router.post("/console/account/tokens")
def account_create_token(
    name: Annotated[str, Form(max_length=100)],
    scopes: Annotated[str, Form(max_length=2000)],
    days: Annotated[int, Form(ge=1, le=366)] = 90,
    ctx: Ctx = requires("account.self"),
) -> Response:
    wanted = [s for s in scopes.replace(",", " ").split() if s]
    new_token, error = None, None
    try:
        _, new_token = service.create_token(ctx.session, ctx.actor, name, wanted, days)
    except LongshuError as exc:
        error = exc
    return render(
        ctx.request,
        "identity/account.html",
        {
            "user": service.get_user(ctx.session, ctx.actor.id or 0),
            "tokens": service.list_tokens(ctx.session, ctx.actor),
            "new_token": new_token,
            "error": error,
        },
        status_code=201 if new_token else (error.status if error else 200),
    )


@router.post("/console/account/password")
def account_change_password(
    current: Annotated[str, Form(max_length=256)],
    new: Annotated[str, Form(max_length=256)],
    confirm: Annotated[str, Form(max_length=256)],
    ctx: Ctx = requires("account.self"),
) -> Response:
    try:
        if new != confirm:
            raise PasswordsDiffer()
        service.change_password(ctx.session, ctx.actor, current, new)
    except LongshuError as error:
        ctx.session.rollback()
        return render(
            ctx.request,
            "identity/account.html",
            {
                "user": service.get_user(ctx.session, ctx.actor.id or 0),
                "tokens": service.list_tokens(ctx.session, ctx.actor),
                "new_token": None,
                "error": error,
            },
            status_code=error.status,
        )
    return RedirectResponse("/console/account?done=password", status_code=303)


@router.post("/console/account/tokens/{token_id}/revoke")
def account_revoke_token(token_id: int, ctx: Ctx = requires("account.self")) -> Response:
    service.revoke_token(ctx.session, ctx.actor, token_id)
    return RedirectResponse("/console/account", status_code=303)


def _sso_redirect_uri() -> str:
    return get_settings().base_url.rstrip("/") + "/login/sso/callback"


@router.get("/login/sso")
def sso_begin(next: str | None = None, ctx: Ctx = requires("public.read")) -> Response:
    settings = get_settings()
    url, state_cookie = sso.begin(settings, _sso_redirect_uri(), _safe_next(next))
    response = RedirectResponse(url, status_code=303)
    response.set_cookie(
        sso.STATE_COOKIE,
        state_cookie,
        max_age=sso.STATE_MAX_AGE,
        httponly=True,
        secure=settings.cookie_secure,
        samesite="lax",
        path="/login/sso",
    )
    return response


@router.get("/login/sso/callback")
def sso_callback(ctx: Ctx = requires("public.read")) -> Response:
    settings = get_settings()
    params = {k: v[:2000] for k, v in ctx.request.query_params.items()}
    try:
        user, target = sso.finish(
            ctx.session,
            settings,
            _sso_redirect_uri(),
            ctx.request.cookies.get(sso.STATE_COOKIE),
            params,
        )
    except LongshuError as error:
        ctx.session.commit()
        return render(
            ctx.request,
            "identity/login.html",
            {"next": "/console", "error": error, "sso": True},
            status_code=error.status,
        )
    cookie = service.start_session(ctx.session, user, ctx.request.headers.get("user-agent"))
    if service.needs_second_factor(user):
        if not user.totp_enabled:
            service.begin_totp_enrolment_for(ctx.session, user)
        target = "/login/totp?next=" + quote(target, safe="/")
    response = RedirectResponse(_safe_next(target), status_code=303)
    _set_session_cookie(response, cookie)
    response.delete_cookie(sso.STATE_COOKIE, path="/login/sso")
    return response
