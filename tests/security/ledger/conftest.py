from __future__ import annotations

import pytest

from longshu import events


@pytest.fixture
def ledger_env(var_dir, db, monkeypatch):
    """Keys under a temporary var dir, small checkpoint interval, the ledger subscriber on."""
    monkeypatch.setenv("LONGSHU_LEDGER_CHECKPOINT_EVERY", "4")
    monkeypatch.setenv("LONGSHU_LEDGER_CHECKPOINT_SECONDS", "3600")
    from longshu.security.ledger import subscriber

    before = events.SUBSCRIBERS.get("ledger")
    events.subscribe("*", name="ledger")(subscriber.record_event)
    yield db
    if before is None:
        events.SUBSCRIBERS.pop("ledger", None)
    else:
        events.SUBSCRIBERS["ledger"] = before


@pytest.fixture
def client(ledger_env, settings):
    """The whole application, with the ledger's routers mounted if the app does not yet. While
    the web shell is still being built (``longshu.web.setup`` missing), a bare app with the
    error mapping stands in for it."""
    from fastapi import FastAPI, Request
    from fastapi.responses import JSONResponse
    from fastapi.testclient import TestClient

    from longshu.errors import LongshuError
    from longshu.security.ledger import api, views

    try:
        from longshu.app import create_app

        app = create_app(settings, ledger_env)
    except (AttributeError, ImportError):
        app = FastAPI()

        @app.exception_handler(LongshuError)
        def _domain_error(request: Request, exc: LongshuError) -> JSONResponse:
            return JSONResponse({"error": exc.key, "message": exc.render()}, status_code=exc.status)

    mounted = {getattr(r, "path", None) for r in app.routes}
    for module, probe in ((api, "/api/v1/ledger/public-keys"), (views, "/ledger/verify")):
        if probe not in mounted:
            app.include_router(module.router)
    return TestClient(app, follow_redirects=False)
