"""The web shell: layout, static files, translations, error pages. Knows no domain.

Domains render pages with ``render(request, "domain/page.html", {...})``; ``setup(app)`` mounts
the static files, chooses each request's language and turns every error into a translated
answer — JSON under ``/api``, a friendly page elsewhere.
"""

from __future__ import annotations

import logging
from typing import Any
from urllib.parse import quote

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException

from longshu.errors import LongshuError, NotSignedIn, PayloadTooLarge
from longshu.http import record_refusal
from longshu.web import i18n
from longshu.web.locale import LocaleMiddleware
from longshu.web.templating import STATIC_DIR, STATIC_PREFIX, render, render_string

__all__ = ["api_path", "render", "render_string", "setup"]

log = logging.getLogger("longshu.web")

# Messages for conditions the framework raises before any domain code runs.
HTTP_MESSAGES: dict[int, tuple[str, str]] = {
    400: ("bad_request", i18n.N_("The request could not be understood.")),
    404: ("not_found", i18n.N_("There is no page or resource at this address.")),
    405: ("method_not_allowed", i18n.N_("This address does not accept that kind of request.")),
    413: ("payload_too_large", i18n.N_("The request body is too large.")),
    422: ("invalid_input", i18n.N_("The input is not valid: {detail}")),
    500: ("internal_error", i18n.N_("Something went wrong on our side. The error was recorded.")),
}
TITLES: dict[int, str] = {
    400: i18n.N_("Bad request"),
    401: i18n.N_("Please sign in"),
    403: i18n.N_("Not allowed"),
    404: i18n.N_("Page not found"),
    405: i18n.N_("Not allowed"),
    409: i18n.N_("Conflict"),
    413: i18n.N_("Too large"),
    422: i18n.N_("Invalid input"),
    429: i18n.N_("Too many requests"),
    500: i18n.N_("Server error"),
}


def api_path(path: str) -> bool:
    """Machine clients (JSON errors) use these prefixes; browsers get pages elsewhere."""
    return path.startswith(("/api/", "/metrics", "/healthz"))


def setup(app: FastAPI, default_locale: str = i18n.DEFAULT_LOCALE) -> None:
    """Mount static files, the locale middleware and the error handlers on ``app``."""
    app.mount(STATIC_PREFIX, StaticFiles(directory=STATIC_DIR), name="static")
    secure = bool(getattr(getattr(app.state, "settings", None), "cookie_secure", False))
    app.add_middleware(LocaleMiddleware, default=default_locale, secure=secure)
    app.add_exception_handler(LongshuError, _domain_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(Exception, _unexpected_error)


def _locale(request: Request) -> str:
    return getattr(request.state, "locale", None) or i18n.DEFAULT_LOCALE


def _answer(request: Request, status: int, key: str, message: str, detail: Any = None) -> Response:
    request_id = getattr(request.state, "request_id", "")
    if api_path(request.url.path):
        body: dict[str, Any] = {"error": {"key": key, "message": message}, "request_id": request_id}
        if detail is not None:
            body["error"]["fields"] = detail
        return JSONResponse(body, status_code=status)
    title = i18n.translate(TITLES.get(status, "Error"), _locale(request))
    return render(
        request,
        "errors/error.html",
        {
            "status": status,
            "error_key": key,
            "title": title,
            "message": message,
            "request_id": request_id,
        },
        status_code=status,
    )


async def _domain_error(request: Request, error: Exception) -> Response:
    assert isinstance(error, LongshuError)
    if (
        isinstance(error, NotSignedIn)
        and not api_path(request.url.path)
        and request.method == "GET"
    ):
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        return RedirectResponse("/login?next=" + quote(target, safe="/"), status_code=303)
    if not error.recorded:  # every refusal leaves a trace (the route's own work rolled back)
        record_refusal(request.scope, error.key)
    message = i18n.error_message(error, _locale(request))
    response = _answer(request, error.status, error.key, message)
    # an error may tell the caller more, e.g. a rate limit's Retry-After
    for name, value in (getattr(error, "headers", None) or {}).items():
        response.headers[name] = value
    return response


async def _validation_error(request: Request, error: Exception) -> Response:
    assert isinstance(error, RequestValidationError)
    record_refusal(request.scope, "invalid_input")
    locale = _locale(request)
    fields = [
        {"field": ".".join(str(p) for p in e.get("loc", ()) if p != "body"), "type": e.get("type")}
        for e in error.errors()
    ]
    names = ", ".join(f["field"] for f in fields if f["field"]) or "-"
    message = i18n.translate(HTTP_MESSAGES[422][1], locale, detail=names)
    return _answer(request, 422, "invalid_input", message, detail=fields)


async def _http_error(request: Request, error: Exception) -> Response:
    assert isinstance(error, StarletteHTTPException)
    limit = getattr(request.state, "body_too_large", None)
    if limit is not None:  # FastAPI turned our PayloadTooLarge into "error parsing the body"
        return await _domain_error(request, PayloadTooLarge(limit=limit))
    key, text = HTTP_MESSAGES.get(
        error.status_code, ("http_error", "The request could not be completed.")
    )
    if error.status_code in (404, 405):  # probing for routes is worth seeing in supervision
        record_refusal(request.scope, key)
    response = _answer(
        request, error.status_code, key, i18n.translate(text, _locale(request), detail="-")
    )
    for name, value in (error.headers or {}).items():
        response.headers[name] = value
    return response


async def _unexpected_error(request: Request, error: Exception) -> Response:
    log.exception("unhandled error", extra={"path": request.url.path})
    key, text = HTTP_MESSAGES[500]
    return _answer(request, 500, key, i18n.translate(text, _locale(request)))
