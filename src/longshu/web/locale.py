"""Locale middleware: ``request.state.locale`` for every request; ``?lang=`` is remembered."""

from __future__ import annotations

from http.cookies import CookieError, SimpleCookie
from urllib.parse import parse_qsl

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from longshu.web import i18n

COOKIE_MAX_AGE = 365 * 24 * 3600


class LocaleMiddleware:
    """Pure ASGI (so streaming responses pass untouched). Order of choice: ``?lang=``,
    the ``longshu_lang`` cookie, ``Accept-Language``, the configured default."""

    def __init__(self, app: ASGIApp, default: str = i18n.DEFAULT_LOCALE, secure: bool = False):
        self.app = app
        self.default = default
        self.secure = secure

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        query = dict(parse_qsl(scope.get("query_string", b"").decode("latin-1")))
        cookies = _cookies(headers.get("cookie", ""))
        locale, remember = i18n.negotiate(
            query, cookies, headers.get("accept-language"), default=self.default
        )
        scope.setdefault("state", {})["locale"] = locale

        async def send_with_locale(message: Message) -> None:
            if message["type"] == "http.response.start":
                out = MutableHeaders(scope=message)
                if remember:
                    cookie = (
                        f"{i18n.COOKIE_NAME}={remember}; Path=/; Max-Age={COOKIE_MAX_AGE}; "
                        "SameSite=Lax"
                    )
                    out.append("set-cookie", cookie + ("; Secure" if self.secure else ""))
                # caches must keep one copy per language
                out.add_vary_header("Accept-Language")
                out.add_vary_header("Cookie")
            await send(message)

        await self.app(scope, receive, send_with_locale)


def _cookies(header: str) -> dict[str, str]:
    jar = SimpleCookie()
    try:
        jar.load(header)
    except CookieError:  # a malformed Cookie header must not break the page: ignore it
        return {}
    return {key: morsel.value for key, morsel in jar.items()}
