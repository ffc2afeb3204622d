"""Display formats for times, dates, numbers, money and file sizes, by locale.

Times are stored UTC-aware and shown in Asia/Shanghai (UTC+8, no daylight saving). Money is
``Decimal`` and always shown in yuan with two decimals: ``¥1,234.50``.
"""

from __future__ import annotations

import datetime as dt
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from babel.dates import format_date as babel_format_date
from babel.numbers import format_decimal

from longshu.db import SHANGHAI

CENT = Decimal("0.01")
_SIZE_UNITS = ("B", "KB", "MB", "GB", "TB", "PB")


def to_local(value: dt.datetime) -> dt.datetime:
    """An aware datetime in Asia/Shanghai. Naive values are refused: the project stores aware
    UTC times, so a naive one is a bug to fix where it was made, not to guess about here."""
    if value.tzinfo is None:
        raise ValueError("naive datetime refused: pass a timezone-aware datetime")
    return value.astimezone(SHANGHAI)


def format_date(value: dt.date | dt.datetime | None, locale: str) -> str:
    """``2026年11月28日`` in Chinese, ``28 November 2026`` in English; datetimes are first
    converted to Shanghai time (a UTC evening is the next Shanghai morning)."""
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        value = to_local(value).date()
    if locale == "en":
        return f"{value.day} {babel_format_date(value, 'MMMM', locale='en')} {value.year}"
    return f"{value.year}年{value.month}月{value.day}日"


def format_datetime(value: dt.datetime | None, locale: str, seconds: bool = False) -> str:
    """``2026年11月28日 18:05`` / ``28 November 2026 18:05`` in Shanghai time."""
    if value is None:
        return ""
    local = to_local(value)
    clock = local.strftime("%H:%M:%S" if seconds else "%H:%M")
    return f"{format_date(local, locale)} {clock}"


def format_number(
    value: int | float | Decimal | None, locale: str, digits: int | None = None
) -> str:
    """Grouped digits (``1,234,567``); ``digits`` fixes the number of decimals."""
    if value is None:
        return ""
    if digits is not None:
        quantum = Decimal(1).scaleb(-digits)
        value = _decimal(value).quantize(quantum, rounding=ROUND_HALF_UP)
        pattern = "#,##0" + ("." + "0" * digits if digits > 0 else "")
        return format_decimal(value, format=pattern, locale=_babel_locale(locale))
    return format_decimal(value, locale=_babel_locale(locale))


def format_money(value: int | Decimal | str | None, locale: str = "zh_CN") -> str:
    """Yuan with two decimals, half-up: ``¥1,234.50``, ``-¥3.00``. Floats are refused: money
    in this project is ``Decimal``, and a float here means precision was already lost."""
    if value is None:
        return ""
    if isinstance(value, float):
        raise TypeError("money must be Decimal, int or str, not float")
    amount = _decimal(value).quantize(CENT, rounding=ROUND_HALF_UP)
    sign = "-" if amount < 0 else ""
    body = format_decimal(abs(amount), format="#,##0.00", locale=_babel_locale(locale))
    return f"{sign}¥{body}"


def format_filesize(value: int | None, locale: str = "zh_CN") -> str:
    """Bytes in binary units with one decimal from KB up: ``512 B``, ``1.5 MB``."""
    if value is None:
        return ""
    size = int(value)
    if size < 0:
        raise ValueError("a file size cannot be negative")
    if size < 1024:
        return f"{size} B"
    amount = Decimal(size)
    unit = 0
    while amount >= 1024 and unit < len(_SIZE_UNITS) - 1:
        amount /= 1024
        unit += 1
    shown = format_number(amount, locale, digits=1)
    return f"{shown} {_SIZE_UNITS[unit]}"


def _decimal(value: int | float | Decimal | str) -> Decimal:
    if isinstance(value, Decimal):
        return value
    try:
        return Decimal(str(value))
    except InvalidOperation as exc:
        raise ValueError(f"not a number: {value!r}") from exc


def _babel_locale(locale: str) -> str:
    return "en" if locale == "en" else "zh_CN"
