"""Account administration pages for the platform administrator (用户管理)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Query
from fastapi.responses import RedirectResponse, Response

from longshu.errors import InvalidInput, LongshuError
from longshu.security.access.roles import ROLES
from longshu.security.context import Ctx, requires
from longshu.security.identity import service
from longshu.security.identity.directory import org_names
from longshu.web import render
from longshu.web.nav import register_nav

router = APIRouter(include_in_schema=False)

register_nav(
    "users", "用户管理", "Users", "/console/admin/users", "users.manage", "admin", order=10
)


def _list_page(ctx: Ctx, q: str, role: str, status: str, page: int, **extra: object) -> Response:
    active = {"active": True, "disabled": False}.get(status)
    found = service.list_users(ctx.session, ctx.actor, q, role or None, active, page)
    context = {
        "found": found,
        "roles": ROLES,
        "orgs": org_names(ctx.session),
        "selected": {"q": q, "role": role, "status": status},
        "error": None,
        "form": {},
        **extra,
    }
    error = extra.get("error")
    return render(
        ctx.request,
        "identity/users.html",
        context,
        status_code=error.status if isinstance(error, LongshuError) else 200,
    )


@router.get("/console/admin/users")
def users_page(
    q: Annotated[str, Query(max_length=64)] = "",
    role: Annotated[str, Query(max_length=40)] = "",
    status: Annotated[str, Query(pattern="^(|active|disabled)$")] = "",
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
    ctx: Ctx = requires("users.manage"),
) -> Response:
    """Accounts with filters, and the form to create one."""
    return _list_page(ctx, q, role, status, page)


@router.post("/console/admin/users")
def users_create(
    username: Annotated[str, Form(max_length=64)],
    display_name: Annotated[str, Form(min_length=1, max_length=100)],
    password: Annotated[str, Form(max_length=256)],
    roles: Annotated[list[str], Form(max_length=len(ROLES))] = [],  # noqa: B006 — FastAPI form default
    org_id: Annotated[str, Form(max_length=12)] = "",
    ctx: Ctx = requires("users.manage"),
) -> Response:
    try:
        chosen = int(org_id) if org_id.isdigit() else None
        if chosen is not None and chosen not in org_names(ctx.session):
            raise InvalidInput(detail=f"org_id={chosen}")
        user = service.create_user(
            ctx.session,
            ctx.actor,
            username.strip(),
            password,
            display_name.strip(),
            org_id=chosen,
            roles=roles,
        )
    except LongshuError as error:
        ctx.session.rollback()
        form = {
            "username": username,
            "display_name": display_name,
            "roles": roles,
            "org_id": org_id,
        }
        return _list_page(ctx, "", "", "", 1, error=error, form=form)
    return RedirectResponse(f"/console/admin/users/{user.id}?created=1", status_code=303)


def _user_page(ctx: Ctx, user_id: int, **extra: object) -> Response:
    user = service.get_user(ctx.session, user_id)
    error = extra.get("error")
    return render(
        ctx.request,
        "identity/user.html",
        {
            "user": user,
            "roles": ROLES,
            "orgs": org_names(ctx.session),
            "error": None,
            "notice": ctx.request.query_params.get("done"),
            **extra,
        },
        status_code=error.status if isinstance(error, LongshuError) else 200,
    )


@router.get("/console/admin/users/{user_id}")
def user_page(user_id: int, ctx: Ctx = requires("users.manage")) -> Response:
    """One account: roles, status, password reset."""
    return _user_page(ctx, user_id)


@router.post("/console/admin/users/{user_id}/roles")
def user_roles(
    user_id: int,
    roles: Annotated[list[str], Form(max_length=len(ROLES))] = [],  # noqa: B006
    ctx: Ctx = requires("users.manage"),
) -> Response:
    try:
        service.set_roles(ctx.session, ctx.actor, service.get_user(ctx.session, user_id), roles)
    except LongshuError as error:
        ctx.session.rollback()
        return _user_page(ctx, user_id, error=error)
    return RedirectResponse(f"/console/admin/users/{user_id}?done=roles", status_code=303)


@router.post("/console/admin/users/{user_id}/status")
def user_status(
    user_id: int,
    active: Annotated[bool, Form()],
    ctx: Ctx = requires("users.manage"),
) -> Response:
    service.set_active(ctx.session, ctx.actor, service.get_user(ctx.session, user_id), active)
    return RedirectResponse(f"/console/admin/users/{user_id}?done=status", status_code=303)


@router.post("/console/admin/users/{user_id}/password")
def user_password(
    user_id: int,
    password: Annotated[str, Form(max_length=256)],
    ctx: Ctx = requires("users.manage"),
) -> Response:
    try:
        service.reset_password(
            ctx.session, ctx.actor, service.get_user(ctx.session, user_id), password
        )
    except LongshuError as error:
        ctx.session.rollback()
        return _user_page(ctx, user_id, error=error)
    return RedirectResponse(f"/console/admin/users/{user_id}?done=password", status_code=303)
