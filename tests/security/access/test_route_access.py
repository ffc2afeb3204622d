"""Every route × every role against the declared table in ``route_table/``.

Each domain lists its routes there with the roles (and ``anonymous``) that get through. A route
missing from the table, a table entry for a route that no longer exists, or a role let in or
kept out against the table fails this test."""

from __future__ import annotations

import importlib.util
import re
import sys
import types
from pathlib import Path

import pytest
from fastapi import APIRouter
from starlette.routing import Mount
from tests.conftest import csrf_of
from tests.security.access.route_sets import ROLE_CODES

from longshu import app as app_module
from longshu import events
from longshu.http import iter_routes
from longshu.security.context import Ctx, requires

TABLE_DIR = Path(__file__).parent / "route_table"
PATH_PARAM = re.compile(r"\{[^}]+\}")


def declared_table() -> dict[str, set[str]]:
    table: dict[str, set[str]] = {}
    for path in sorted(TABLE_DIR.glob("*.py")):
        spec = importlib.util.spec_from_file_location(f"route_table_{path.stem}", path)
        assert spec and spec.loader
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        for key, roles in module.ROUTES.items():
            assert key not in table, f"{key} is declared in two route table files"
            table[key] = set(roles)
    return table


def registered(app) -> list[str]:
    keys = []
    for path, route in iter_routes(app):
        if isinstance(route, Mount):
            continue
        for method in sorted(set(getattr(route, "methods", None) or ()) - {"HEAD"}):
            keys.append(f"{method} {path}")
    return keys


def table_gaps(app, table: dict[str, set[str]]) -> tuple[list[str], list[str]]:
    """(routes the table does not declare, table entries with no route)."""
    routes = registered(app)
    return sorted(set(routes) - set(table)), sorted(set(table) - set(routes))


def test_every_route_is_declared_in_the_table(app):
    missing, stale = table_gaps(app, declared_table())
    assert missing == [], f"add these routes to tests/security/access/route_table/: {missing}"
    assert stale == [], f"these table entries have no route any more: {stale}"


def test_a_route_added_without_a_table_entry_is_caught(app):
    router = APIRouter()

    @router.get("/console/brand-new-page")
    def brand_new_page(ctx: Ctx = requires("console.use")) -> dict[str, str]:
        return {}

    app.include_router(router)
    missing, _stale = table_gaps(app, declared_table())
    assert missing == ["GET /console/brand-new-page"]


def test_a_route_without_a_declared_permission_stops_the_app(settings, db, monkeypatch):
    router = APIRouter()

    @router.get("/console/undeclared")
    def undeclared() -> dict[str, str]:
        return {}

    module = types.ModuleType("longshu_test_undeclared_routes")
    module.router = router  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, module.__name__, module)
    monkeypatch.setattr(app_module, "ROUTER_MODULES", [*app_module.ROUTER_MODULES, module.__name__])
    with pytest.raises(app_module.UndeclaredRoute, match="/console/undeclared"):
        app_module.create_app(settings, db)


def _denied(response) -> bool:
    if response.status_code in (401, 403):
        return True
    location = response.headers.get("location", "")
    # a page asking an anonymous visitor to sign in first (the NotSignedIn handler)
    return response.status_code in (302, 303) and location.startswith("/login?next=")


def test_every_route_answers_every_role_as_declared(client, bearer):
    # ~4,000 requests, most refused, each refusal an event: they stay queued here (delivery
    # to the ledger and the other subscribers is tested where it matters, not 4,000 times)
    events.set_dispatcher(None)
    table = declared_table()
    headers_of = {"anonymous": {}} | {role: bearer(role) for role in ROLE_CODES}
    csrf = csrf_of(client)
    wrong = []
    for key in registered(client.app):
        method, path = key.split(" ", 1)
        url = PATH_PARAM.sub("999999", path)
        for role, headers in headers_of.items():
            if method == "GET":
                response = client.get(url, headers=headers)
            elif path.startswith("/api/"):
                response = client.request(method, url, headers=headers, json={})
            else:
                response = client.request(method, url, headers=headers, data={"csrf_token": csrf})
            allowed = not _denied(response)
            if allowed != (role in table[key]):
                wrong.append(f"{key} as {role}: {response.status_code}")
    assert wrong == []
