"""The application: wires every domain's routes, the event spine and the web shell."""

from __future__ import annotations

import importlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.responses import HTMLResponse, JSONResponse, PlainTextResponse
from fastapi.routing import APIRoute
from sqlalchemy import func, select, text

from longshu import __version__, events, http, logs
from longshu.config import Settings, get_settings
from longshu.db import Database, get_database, migrate, set_database
from longshu.models import load_all
from longshu.security import access
from longshu.security.context import Ctx, requires, route_permission

# Routers in mounting order; each module exposes ``router``.
ROUTER_MODULES = [
    "longshu.security.identity.api",
    "longshu.security.identity.views",
    "longshu.security.identity.admin_views",
    "longshu.orgs.api",
    "longshu.orgs.views",
    "longshu.catalog.api",
    "longshu.catalog.portal",
    "longshu.catalog.views",
    "longshu.opendata.ckan",
    "longshu.security.ledger.api",
    "longshu.security.ledger.views",
    "longshu.security.audit.api",
    "longshu.security.audit.views",
    "longshu.lake.api",
    "longshu.ingest.api",
    "longshu.ingest.views",
    "longshu.governance.api",
    "longshu.governance.views",
    "longshu.sharing.api",
    "longshu.sharing.api_verify",
    "longshu.sharing.api_exchange",
    "longshu.sharing.api_flows",
    "longshu.sharing.api_credentials",
    "longshu.sharing.views",
    "longshu.sharing.views_grants",
    "longshu.sharing.views_verify",
    "longshu.sharing.views_exchange",
    "longshu.sharing.views_flows",
    "longshu.pages",
]

# Modules that register event subscribers when imported.
SUBSCRIBER_MODULES: list[str] = ["longshu.security.ledger.subscriber"]
SUBSCRIBER_MODULES.append("longshu.catalog.subscriber")
SUBSCRIBER_MODULES.append("longshu.governance.pipeline")
SUBSCRIBER_MODULES += [
    "longshu.sharing.grants",
    "longshu.sharing.verify_service",
    "longshu.sharing.destruction",
]


def import_all_modules() -> None:
    """Import every module of the package, so that every declaration made at import time
    (events, permissions, errors, navigation) is known — for catalogues and checks."""
    import pkgutil

    import longshu

    for module in pkgutil.walk_packages(longshu.__path__, "longshu."):
        if ".migrations" not in module.name:
            importlib.import_module(module.name)


class UndeclaredRoute(RuntimeError):
    """A route that does not declare the permission it needs."""


def undeclared_routes(app: FastAPI) -> list[str]:
    """Routes that declare no permission (``Depends(requires(...))``)."""
    missing = []
    for path, route in http.iter_routes(app):
        if isinstance(route, APIRoute) and route_permission(route) is None:
            missing.append(f"{sorted(route.methods)[0]} {path}")
    return missing


def create_app(settings: Settings | None = None, database: Database | None = None) -> FastAPI:
    settings = settings or get_settings()
    logs.configure(settings.log_level, settings.log_json)
    if database is not None:
        set_database(database)
    load_all()
    for name in SUBSCRIBER_MODULES:
        importlib.import_module(name)
    choose_dispatcher(settings)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if settings.auto_migrate:
            migrate(get_database())
        from longshu.jobs import start_embedded_worker

        worker = start_embedded_worker(settings)
        from longshu.sharing.verify_service import preload_in_background

        preload_in_background()
        try:
            yield
        finally:
            if worker is not None:
                worker.terminate()
                worker.wait(timeout=30)

    app = FastAPI(
        title="陇数 Longshu",
        version=__version__,
        description="甘肃省公共数据资源开发利用平台 — Gansu public data resource platform",
        docs_url=None,  # served below from vendored Swagger UI files
        redoc_url=None,
        openapi_url="/api/openapi.json",
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.longshu_decide = access.decide  # the navigation asks the one decision point
    from longshu import web
    from longshu.sharing.verify_fast import VerifyFastPath

    # added before web.setup: it sits inside LocaleMiddleware and PlatformMiddleware
    app.add_middleware(VerifyFastPath, max_body_bytes=settings.max_body_bytes)
    web.setup(app, default_locale=settings.default_locale)
    app.include_router(_system_router())
    for name in ROUTER_MODULES:
        app.include_router(importlib.import_module(name).router)
    missing = undeclared_routes(app)
    if missing:
        raise UndeclaredRoute(f"routes without a declared permission: {missing}")
    app.add_middleware(
        http.PlatformMiddleware,
        max_body_bytes=settings.max_body_bytes,
        cookie_secure=settings.cookie_secure,
    )
    return app


def choose_dispatcher(settings: Settings) -> None:
    """Deliver events in this process after commit, or hand them to the huey worker."""
    if settings.events_mode == "huey":
        from longshu.tasks import enqueue_delivery

        events.set_dispatcher(lambda _session: enqueue_delivery())
    else:
        events.set_dispatcher(events.inline_dispatcher)


def _system_router():  # type: ignore[no-untyped-def]
    from fastapi import APIRouter

    router = APIRouter(tags=["system"])

    @router.get("/healthz")
    def healthz(ctx: Ctx = requires("public.read")) -> JSONResponse:
        """Liveness and readiness: the database answers."""
        ctx.session.execute(text("SELECT 1"))
        return JSONResponse({"status": "ok", "version": __version__})

    @router.get("/api/docs", include_in_schema=False)
    def api_docs(ctx: Ctx = requires("public.read")) -> HTMLResponse:
        """OpenAPI documentation (Swagger UI)."""
        return HTMLResponse(
            '<!doctype html><html lang="zh-CN"><head><meta charset="utf-8">'
            "<title>陇数 Longshu API</title>"
            '<link rel="stylesheet" href="/static/vendor/swagger-ui/swagger-ui.css">'
            '</head><body><div id="swagger-ui"></div>'
            '<script src="/static/vendor/swagger-ui/swagger-ui-bundle.js"></script>'
            '<script src="/static/js/api-docs.js"></script></body></html>'
        )

    @router.get("/metrics", response_class=PlainTextResponse)
    def metrics(ctx: Ctx = requires("system.monitor")) -> PlainTextResponse:
        """Prometheus text format: HTTP traffic, events by type, undelivered events."""
        lines = [http.metrics_text().decode()]
        lines.append("# HELP longshu_events_total Events in the outbox by type\n")
        lines.append("# TYPE longshu_events_total gauge\n")
        rows = ctx.session.execute(
            select(events.Event.type, func.count()).group_by(events.Event.type)
        )
        for event_type, count in rows:
            lines.append(f'longshu_events_total{{type="{event_type}"}} {count}\n')
        lines.append("# HELP longshu_events_pending Events a subscriber has not handled yet\n")
        lines.append("# TYPE longshu_events_pending gauge\n")
        for name in sorted(events.SUBSCRIBERS):
            pending = events.pending_count(ctx.session, name)
            lines.append(f'longshu_events_pending{{subscriber="{name}"}} {pending}\n')
        return PlainTextResponse("".join(lines), media_type="text/plain; version=0.0.4")

    return router
