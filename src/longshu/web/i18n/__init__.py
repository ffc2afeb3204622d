"""Translations: Simplified Chinese first, English second.

Source strings are English. ``zh_CN/LC_MESSAGES/messages.po`` carries Chinese for every string;
``en`` may leave translations empty (gettext then falls back to the English source). Catalogues
are compiled in memory the first time a locale is used (no ``.mo`` build step) and cached.
"""

from __future__ import annotations

import io
from collections.abc import Mapping
from functools import lru_cache
from pathlib import Path
from typing import Any

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import Translations

from longshu.errors import LongshuError

CATALOGUE_DIR = Path(__file__).parent
DOMAIN = "messages"
LOCALES: tuple[str, ...] = ("zh_CN", "en")
DEFAULT_LOCALE = "zh_CN"
LOCALE_NAMES: dict[str, str] = {"zh_CN": "中文", "en": "English"}
COOKIE_NAME = "longshu_lang"


def N_(message: str) -> str:
    """Mark a string for extraction without translating it where it is defined."""
    return message


def po_path(locale: str) -> Path:
    return CATALOGUE_DIR / locale / "LC_MESSAGES" / f"{DOMAIN}.po"


def po_files(locale: str) -> list[Path]:
    """Every catalogue file of ``locale``: ``messages.po`` (the shell) first, then one file per
    domain (``catalog.po``, ``ledger.po``…), so domains translate their strings without
    editing a shared file."""
    folder = po_path(locale).parent
    others = sorted(p for p in folder.glob("*.po") if p.name != f"{DOMAIN}.po")
    return [po_path(locale), *others]


@lru_cache(maxsize=len(LOCALES))
def translations(locale: str) -> Translations:
    """The compiled, merged catalogues of ``locale`` (a supported locale; others get the
    default's). A string translated in two files keeps the first file's translation."""
    locale = locale if locale in LOCALES else DEFAULT_LOCALE
    merged: Translations | None = None
    for path in po_files(locale):
        with path.open("rb") as fh:
            catalog = read_po(fh, locale=locale, domain=DOMAIN)
        buffer = io.BytesIO()
        write_mo(buffer, catalog)  # fuzzy entries are left out, as msgfmt does
        buffer.seek(0)
        part = Translations(fp=buffer, domain=DOMAIN)
        if merged is None:
            merged = part
        else:
            for key, value in part._catalog.items():
                merged._catalog.setdefault(key, value)
    assert merged is not None
    return merged


def reload_catalogues() -> None:
    """Forget compiled catalogues (after editing a .po file in a running process or a test)."""
    translations.cache_clear()


def translate(message: str, locale: str, **params: Any) -> str:
    """``message`` (an English source string) in ``locale``, with ``{param}``s filled in."""
    text = translations(locale).gettext(message)
    if not params:
        return text
    try:
        return text.format(**params)
    except (KeyError, IndexError):
        return text


def ntranslate(singular: str, plural: str, n: int, locale: str, **params: Any) -> str:
    """Plural-aware ``translate``; ``{n}`` is available to the template."""
    text = translations(locale).ngettext(singular, plural, n)
    try:
        return text.format(n=n, **params)
    except (KeyError, IndexError):
        return text


def error_message(error: LongshuError, locale: str) -> str:
    """A domain error's message in ``locale``."""
    return error.render(translations(locale).gettext)


def normalize_locale(value: str | None) -> str | None:
    """Map a language tag (``zh``, ``zh-CN``, ``zh-Hans-CN``, ``en-GB``…) to a supported locale.

    Every Chinese variant maps to ``zh_CN`` (the only Chinese catalogue): a reader of
    Traditional Chinese is better served by Simplified Chinese than by English."""
    if not value:
        return None
    tag = value.strip().replace("_", "-").lower()
    if not tag or len(tag) > 35:
        return None
    primary = tag.split("-", 1)[0]
    if primary == "zh":
        return "zh_CN"
    if primary == "en":
        return "en"
    return None


def parse_accept_language(header: str | None) -> list[str]:
    """Supported locales named by an ``Accept-Language`` header, best first (q-values honoured,
    ``q=0`` excluded, order kept among equals)."""
    if not header:
        return []
    ranked: list[tuple[float, int, str]] = []
    for position, part in enumerate(header[:1000].split(",")):
        pieces = part.strip().split(";")
        locale = normalize_locale(pieces[0])
        if locale is None:
            continue
        quality = 1.0
        for param in pieces[1:]:
            name, _, value = param.strip().partition("=")
            if name.strip().lower() == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        if quality > 0:
            ranked.append((-quality, position, locale))
    seen: list[str] = []
    for _q, _pos, locale in sorted(ranked):
        if locale not in seen:
            seen.append(locale)
    return seen


def negotiate(
    query: Mapping[str, str],
    cookies: Mapping[str, str],
    accept_language: str | None,
    default: str = DEFAULT_LOCALE,
) -> tuple[str, str | None]:
    """Choose the locale: ``?lang=`` first, then the ``longshu_lang`` cookie, then
    ``Accept-Language``, then ``default``. Returns ``(locale, locale_to_remember)`` where the
    second is set when ``?lang=`` named a supported locale (the caller stores it in the cookie)."""
    chosen = normalize_locale(query.get("lang"))
    if chosen:
        return chosen, chosen
    from_cookie = normalize_locale(cookies.get(COOKIE_NAME))
    if from_cookie:
        return from_cookie, None
    accepted = parse_accept_language(accept_language)
    if accepted:
        return accepted[0], None
    return (default if default in LOCALES else DEFAULT_LOCALE), None
