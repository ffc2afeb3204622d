"""The template renderer every domain's pages use: ``render(request, "domain/page.html", {...})``.

One Jinja2 environment (autoescaped, ``jinja2.ext.i18n``) for the whole app. The gettext
callables read the locale of the render in progress from a context variable, so ``_()`` and
``{% trans %}`` translate correctly in included and imported templates too, with or without
``with context``.
"""

from __future__ import annotations

import contextvars
import hashlib
from collections.abc import Callable, Mapping
from functools import lru_cache
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode

import jinja2
from markupsafe import Markup
from starlette.requests import Request
from starlette.templating import Jinja2Templates, _TemplateResponse

from longshu.actor import ANONYMOUS, Actor
from longshu.http import iter_routes
from longshu.web import formatting, i18n, nav

TEMPLATE_DIR = Path(__file__).parent / "templates"
STATIC_DIR = Path(__file__).parent / "static"
STATIC_PREFIX = "/static"

_render_locale: contextvars.ContextVar[str] = contextvars.ContextVar(
    "longshu_render_locale", default=i18n.DEFAULT_LOCALE
)

ContextProcessor = Callable[[Request], Mapping[str, Any]]
CONTEXT_PROCESSORS: list[ContextProcessor] = []


def context_processor(fn: ContextProcessor) -> ContextProcessor:
    """Register ``fn(request) -> dict`` whose result every page's context receives. Higher
    layers use it to offer what the shell cannot know (e.g. the organisation's name)."""
    if fn not in CONTEXT_PROCESSORS:
        CONTEXT_PROCESSORS.append(fn)
    return fn


def current_locale() -> str:
    """The locale of the template being rendered (the default outside a render)."""
    return _render_locale.get()


def _gettext(message: str) -> str:
    return i18n.translations(_render_locale.get()).gettext(message)


def _ngettext(singular: str, plural: str, n: int) -> str:
    return i18n.translations(_render_locale.get()).ngettext(singular, plural, n)


def _pgettext(context: str, message: str) -> str:
    return i18n.translations(_render_locale.get()).pgettext(context, message)


def _npgettext(context: str, singular: str, plural: str, n: int) -> str:
    return i18n.translations(_render_locale.get()).npgettext(context, singular, plural, n)


def static_url(path: str) -> str:
    """``/static/<path>?v=<content hash>``: the URL changes whenever the file does, so
    browsers may cache static files for a long time. A missing file raises (a typo in a
    template should fail its test, not show a broken page)."""
    digest = _static_digest(path, _static_mtime(path))
    return f"{STATIC_PREFIX}/{quote(path)}?v={digest}"


def _static_file(path: str) -> Path:
    candidate = (STATIC_DIR / path).resolve()
    if not candidate.is_relative_to(STATIC_DIR.resolve()) or not candidate.is_file():
        raise FileNotFoundError(f"no static file {path!r}")
    return candidate


def _static_mtime(path: str) -> int:
    return _static_file(path).stat().st_mtime_ns


@lru_cache(maxsize=512)
def _static_digest(path: str, _mtime: int) -> str:
    return hashlib.sha256(_static_file(path).read_bytes()).hexdigest()[:12]


@jinja2.pass_context
def _lang_url(context: Any, locale: str) -> str:
    """The current page's URL with ``?lang=`` set to ``locale`` (other query parameters kept)."""
    request: Request = context["request"]
    params = [(k, v) for k, v in request.query_params.multi_items() if k != "lang"]
    params.append(("lang", locale))
    return f"{request.url.path}?{urlencode(params)}"


@jinja2.pass_context
def _page_exists(context: Any, path: str) -> bool:
    """Is there a GET route at ``path`` in this app? (Link only to pages that exist.)"""
    request: Request = context["request"]
    return route_exists(request.app, path)


def route_exists(app: Any, path: str) -> bool:
    return any(
        route_path == path and "GET" in (getattr(route, "methods", None) or ())
        for route_path, route in iter_routes(app)
    )


def _localised(fn: Callable[..., str]) -> Callable[..., str]:
    def filter_(value: Any, *args: Any, **kwargs: Any) -> str:
        return fn(value, _render_locale.get(), *args, **kwargs)

    filter_.__name__ = fn.__name__
    filter_.__doc__ = fn.__doc__
    return filter_


def _error_text(error: Any) -> str:
    """A domain error's message in the page's language (``{{ error|error_text }}``)."""
    return str(error.render(_gettext))


def _title(obj: Any) -> str:
    """A bilingual object's title (``title_zh``/``title_en`` or ``.title(locale)``)."""
    locale = _render_locale.get()
    if callable(getattr(obj, "title", None)):
        return str(obj.title(locale))
    zh, en = getattr(obj, "title_zh", ""), getattr(obj, "title_en", "")
    return str(en or zh) if locale == "en" else str(zh or en)


def build_environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(TEMPLATE_DIR)),
        autoescape=True,
        trim_blocks=True,
        lstrip_blocks=True,
        extensions=["jinja2.ext.i18n"],
    )
    env.install_gettext_callables(  # type: ignore[attr-defined]
        _gettext, _ngettext, newstyle=True, pgettext=_pgettext, npgettext=_npgettext
    )
    env.globals.update(
        static_url=static_url,
        lang_url=_lang_url,
        page_exists=_page_exists,
        locale_names=i18n.LOCALE_NAMES,
        nav_groups=nav.grouped,
        bilingual=_title,
    )
    env.filters.update(
        datetime_local=_localised(formatting.format_datetime),
        date_local=_localised(formatting.format_date),
        number=_localised(formatting.format_number),
        money=_localised(formatting.format_money),
        filesize=_localised(formatting.format_filesize),
        bilingual=_title,
        error_text=_error_text,
    )
    return env


templates = Jinja2Templates(env=build_environment())
environment = templates.env


def _can_for(request: Request, actor: Actor, context: Mapping[str, Any]) -> nav.Can:
    """Who decides what the navigation shows: the caller's ``can``, else one the app set on
    the request, else the app's decide function (``setup(app, decide=...)``), else nothing
    guarded is shown."""
    if callable(context.get("can")):
        return context["can"]
    state_can = getattr(request.state, "can", None)
    if callable(state_can):
        return state_can
    decide = getattr(request.app.state, "longshu_decide", None) if "app" in request.scope else None
    if callable(decide):
        return lambda permission: bool(decide(actor, permission))
    return nav.public_only


def page_context(request: Request, context: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """The context every page gets, overlaid with the caller's ``context``."""
    given = dict(context or {})
    actor = given.get("current_user") or getattr(request.state, "actor", None) or ANONYMOUS
    locale = given.get("locale") or getattr(request.state, "locale", None) or i18n.DEFAULT_LOCALE
    can = _can_for(request, actor, given)
    base: dict[str, Any] = {
        "request": request,
        "locale": locale,
        "current_user": actor,
        "csrf_token": getattr(request.state, "csrf_token", None) or "",
        "can": can,
        "nav": nav.visible_nav(can),
    }
    for processor in CONTEXT_PROCESSORS:
        base.update(processor(request))
    base.update(given)
    base["locale"] = locale
    base["current_user"] = actor
    base["can"] = can
    return base


def render(
    request: Request,
    template_name: str,
    context: Mapping[str, Any] | None = None,
    status_code: int = 200,
    headers: Mapping[str, str] | None = None,
) -> _TemplateResponse:
    """Render ``template_name`` for this request: translated into the request's locale, with
    ``locale``, ``current_user``, ``csrf_token``, ``can`` and ``nav`` in the context."""
    full = page_context(request, context)
    token = _render_locale.set(full["locale"])
    try:
        response = templates.TemplateResponse(
            request, template_name, full, status_code=status_code, headers=headers
        )
    finally:
        _render_locale.reset(token)
    response.headers.setdefault("Content-Language", "en" if full["locale"] == "en" else "zh-CN")
    return response


def render_string(template_name: str, context: Mapping[str, Any], locale: str) -> Markup:
    """Render a template outside a request (e-mails, tests of fragments)."""
    token = _render_locale.set(locale)
    try:
        return Markup(environment.get_template(template_name).render({**context, "locale": locale}))
    finally:
        _render_locale.reset(token)
