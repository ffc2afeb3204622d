"""The two front doors: the public portal home and the console home.

They sit at the top layer because they gather what every domain registered (navigation,
roles); the portal's data pages belong to ``opendata``."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import Response

from longshu.security.access import ROLES
from longshu.security.context import Ctx, requires
from longshu.web import nav
from longshu.web.templating import render

router = APIRouter(include_in_schema=False)

nav.register_nav("portal-home", "首页", "Home", "/", None, "portal", order=10)
nav.register_nav("api-docs", "开发者接口", "API", "/api/docs", None, "portal", order=90)
nav.register_nav(
    "console-home", "工作台首页", "Console home", "/console", "account.self", "workspace", order=10
)


@router.get("/")
def portal_home(ctx: Ctx = requires("public.read")) -> Response:
    """The public portal's front page."""
    return render(ctx.request, "portal/home.html")


@router.get("/console")
def console_home(ctx: Ctx = requires("account.self")) -> Response:
    """Signed-in work starts here: the pages this person's roles open, grouped by section."""
    roles = [ROLES[code] for code in sorted(ctx.actor.roles) if code in ROLES]
    return render(ctx.request, "console/home.html", {"roles": roles})
