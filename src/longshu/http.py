"""HTTP plumbing every request passes: request ids, body size limit, security headers,
the CSRF cookie, and Prometheus metrics. Knows no domain."""

from __future__ import annotations

import re
import time
import uuid
from collections.abc import Iterator
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from longshu import events
from longshu.actor import ANONYMOUS
from longshu.errors import PayloadTooLarge
from longshu.logs import reset_request_id, set_request_id

REQUEST_REFUSED = events.define("http.request_refused", "拒绝请求", "Request refused")

REGISTRY = CollectorRegistry(auto_describe=True)
REQUESTS = Counter(
    "longshu_http_requests_total", "HTTP requests", ["method", "route", "status"], registry=REGISTRY
)
LATENCY = Histogram(
    "longshu_http_request_duration_seconds",
    "HTTP request duration",
    ["method", "route"],
    registry=REGISTRY,
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)

_REQUEST_ID = re.compile(r"[A-Za-z0-9._-]{8,64}")

SECURITY_HEADERS = [
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"same-origin"),
    (
        b"content-security-policy",
        b"default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; "
        b"script-src 'self'; frame-ancestors 'none'; form-action 'self'",
    ),
]


def iter_routes(app: Any) -> Iterator[tuple[str, Any]]:
    """Every route of ``app`` as ``(full path, route)``, looking inside included routers
    (FastAPI ≥ 0.130 keeps them as wrappers in ``app.routes``)."""
    for route in getattr(app, "routes", ()):
        contexts = getattr(route, "effective_route_contexts", None)
        if callable(contexts):
            for context in contexts():
                yield context.path, context.original_route
        else:
            yield getattr(route, "path", ""), route


def metrics_text() -> bytes:
    return generate_latest(REGISTRY)


class PlatformMiddleware:
    """Outermost middleware: tags the request with an id, limits the body, adds headers,
    hands the browser a CSRF cookie, and counts the request."""

    def __init__(self, app: ASGIApp, max_body_bytes: int, cookie_secure: bool) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes
        self.cookie_secure = cookie_secure

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        from longshu.security.identity import csrf

        headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in scope["headers"]}
        incoming = headers.get("x-request-id", "")
        request_id = incoming if _REQUEST_ID.fullmatch(incoming) else uuid.uuid4().hex
        token = set_request_id(request_id)
        scope.setdefault("state", {})["request_id"] = request_id
        cookie_header = headers.get("cookie", "")
        csrf_value = _cookie(cookie_header, csrf.CSRF_COOKIE)
        set_csrf = None
        if not csrf_value or not 20 <= len(csrf_value) <= 100:
            csrf_value = csrf.new_token()
            set_csrf = csrf_value
        scope["state"]["csrf_token"] = csrf_value
        status_holder = {"status": 500}
        started = time.perf_counter()

        declared = headers.get("content-length")
        limit = self.max_body_bytes
        received = 0

        async def limited_receive() -> Message:
            nonlocal received
            if declared and declared.isdigit() and int(declared) > limit:
                record_refusal(scope, "body_too_large", int(declared))
                scope["state"]["body_too_large"] = limit  # frameworks may rewrap the error
                raise PayloadTooLarge(limit=limit)
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    record_refusal(scope, "body_too_large", received)
                    scope["state"]["body_too_large"] = limit
                    raise PayloadTooLarge(limit=limit)
            return message

        async def send_wrapper(message: Message) -> None:
            if message["type"] == "http.response.start":
                status_holder["status"] = message["status"]
                extra = [(b"x-request-id", request_id.encode())]
                extra += [h for h in SECURITY_HEADERS if not _has(message, h[0])]
                if set_csrf:
                    flags = "; Path=/; SameSite=Lax" + ("; Secure" if self.cookie_secure else "")
                    extra.append((b"set-cookie", f"{csrf.CSRF_COOKIE}={set_csrf}{flags}".encode()))
                message["headers"] = [*message.get("headers", []), *extra]
            await send(message)

        try:
            await self.app(scope, limited_receive, send_wrapper)
        finally:
            route = scope.get("route")
            path = getattr(route, "path", "unmatched")
            REQUESTS.labels(scope["method"], path, str(status_holder["status"])).inc()
            LATENCY.labels(scope["method"], path).observe(time.perf_counter() - started)
            reset_request_id(token)


def _has(message: Message, name: bytes) -> bool:
    return any(k.lower() == name for k, _ in message.get("headers", []))


def _cookie(header: str, name: str) -> str | None:
    for part in header.split(";"):
        key, _, value = part.strip().partition("=")
        if key == name:
            return value
    return None


def record_refusal(scope: Scope, reason: str, size: int = 0) -> None:
    """Leave an `http.request_refused` event (who asked what, why it was refused)."""
    from longshu.db import get_database

    try:
        with get_database().session() as session:
            events.emit(
                session,
                REQUEST_REFUSED,
                ANONYMOUS,
                reason=reason,
                size=size,
                method=scope["method"],
                path=scope["path"][:200],
            )
    except Exception:  # the refusal itself must still reach the client
        import logging

        logging.getLogger("longshu.http").exception("could not record refused request")
