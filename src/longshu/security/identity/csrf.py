"""CSRF protection: a double-submit token (with SameSite=Lax, HttpOnly session cookies).

Every browser gets a random token in the ``longshu_csrf`` cookie; forms carry it in a hidden
``csrf_token`` field and scripts in the ``X-CSRF-Token`` header. A state-changing request that
could ride on the browser's cookies (it has our session cookie, or it is a form post) must
present the same token. Bearer-token API calls carry no ambient authority and need none.
"""

from __future__ import annotations

import hmac
import secrets

from fastapi import Request

from longshu.security.identity.errors import CsrfFailed

CSRF_COOKIE = "longshu_csrf"
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "x-csrf-token"
SAFE_METHODS = {"GET", "HEAD", "OPTIONS", "TRACE"}
FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")


def new_token() -> str:
    return secrets.token_urlsafe(32)


def cookie_token(request: Request) -> str | None:
    value = request.cookies.get(CSRF_COOKIE)
    if value and 20 <= len(value) <= 100:
        return value
    return None


def needs_check(request: Request) -> bool:
    if request.method in SAFE_METHODS:
        return False
    if request.headers.get("authorization", "").lower().startswith("bearer "):
        return False
    from longshu.security.identity.service import SESSION_COOKIE

    content_type = request.headers.get("content-type", "")
    return SESSION_COOKIE in request.cookies or content_type.startswith(FORM_TYPES)


async def check(request: Request) -> None:
    """Raise ``CsrfFailed`` unless the request presents the browser's CSRF token."""
    if not needs_check(request):
        return
    expected = cookie_token(request)
    presented = request.headers.get(CSRF_HEADER)
    if presented is None and request.headers.get("content-type", "").startswith(FORM_TYPES):
        form = await request.form()
        value = form.get(CSRF_FIELD)
        presented = value if isinstance(value, str) else None
    if not expected or not presented or not hmac.compare_digest(expected, presented):
        raise CsrfFailed()
