"""What a verification (核验) compares: normalised keys and names, and which keys are malformed.

Kinds: ``resident`` (公民身份号码 + 姓名), ``enterprise`` (统一社会信用代码 + 企业名称),
``licence`` (证照编号 + 持证人).

Normalisation, the same on build and on check:
- a key loses all whitespace, full-width characters become half-width (``６２０１…`` →
  ``6201…``), letters are upper-cased (a trailing ``x`` becomes ``X``);
- a name loses all whitespace (also the ideographic space U+3000), full-width characters become
  half-width (``（甘肃）`` → ``(甘肃)``), and the separator dots of minority names (``•``, ``・``,
  ``‧``, ``･``, ``．``) become ``·`` (U+00B7); letter case is kept.

A malformed key is a client error (``MalformedKey``, 422), not ``not_found``: a mistyped ID
would otherwise look like an unknown person. Resident IDs and credit codes are checked by
``longshu.ids`` (format, region, birth date, check character); a batch of resident IDs is
checked by ``resident_id_problems``, a vectorised form of ``ids.check_resident_id`` that the
tests hold equal to it."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from longshu import ids
from longshu.sharing.verify_errors import MalformedAttribute, MalformedKey, UnknownCheckKind

MAX_NAME = 200
MAX_LICENCE = 64

# U+FF01..U+FF5E are the full-width forms of U+0021..U+007E.
_HALF_WIDTH = {0xFF01 + i: 0x21 + i for i in range(0x5E)}
_HALF_WIDTH[0x3000] = 0x20
_DOTS = {ord(c): "·" for c in "•・‧･．"}
_NAME_TABLE = str.maketrans({**_HALF_WIDTH, **_DOTS})
_KEY_TABLE = str.maketrans(_HALF_WIDTH)


@dataclass(frozen=True)
class CheckKind:
    name: str
    key_title: str
    attribute_title: str


KINDS = {
    "resident": CheckKind("resident", "公民身份号码", "姓名"),
    "enterprise": CheckKind("enterprise", "统一社会信用代码", "企业名称"),
    "licence": CheckKind("licence", "证照编号", "持证人"),
}

LICENCE_MESSAGES = {
    "length": "A licence number has 1 to 64 characters.",
    "charset": "A licence number holds printable characters only.",
}
KEY_MESSAGES = {"not_text": "The key to verify is not text."}


def check_kind(kind: str) -> CheckKind:
    """The kind named ``kind`` or ``UnknownCheckKind``."""
    try:
        return KINDS[kind]
    except KeyError:
        raise UnknownCheckKind(kind=kind, kinds=", ".join(KINDS)) from None


def clean_key(value: str) -> str:
    """A key without whitespace, half-width, upper-case (no validity check)."""
    return "".join(value.translate(_KEY_TABLE).split()).upper()


def normalise_name(value: str) -> str:
    """A name without whitespace, half-width, with one kind of separator dot."""
    return "".join(value.translate(_NAME_TABLE).split())


def clean_keys(values: Sequence[object]) -> list[str]:
    """``clean_key`` of each value ("" for a non-text one), with a fast path for keys that are
    already ASCII letters and digits (most of them)."""
    return [
        (v.upper() if v.isascii() and v.isalnum() else clean_key(v)) if isinstance(v, str) else ""
        for v in values
    ]


def normalise_names(values: Sequence[object]) -> list[str]:
    """``normalise_name`` of each value ("" for a non-text one). Letters only, none of them
    full-width (U+FF01 up), means nothing to change: most Chinese names."""
    return [
        (v if v.isalpha() and max(v) < "\uff01" else normalise_name(v))
        if isinstance(v, str)
        else ""
        for v in values
    ]


def key_problem(kind: str, key: str) -> tuple[str, str] | None:
    """(reason, English message) if the cleaned ``key`` is malformed for ``kind``, else None."""
    if kind == "resident":
        verdict = ids.check_resident_id(key)
    elif kind == "enterprise":
        verdict = ids.check_credit_code(key)
    else:
        check_kind(kind)
        if not 1 <= len(key) <= MAX_LICENCE:
            return "length", LICENCE_MESSAGES["length"]
        if not key.isprintable():
            return "charset", LICENCE_MESSAGES["charset"]
        return None
    return None if verdict else (str(verdict.reason), verdict.message)


def normalise_key(kind: str, value: str) -> str:
    """The normalised key, or ``MalformedKey`` saying what is wrong with it."""
    if not isinstance(value, str):
        raise MalformedKey("not_text", KEY_MESSAGES["not_text"])
    key = clean_key(value)
    problem = key_problem(kind, key)
    if problem:
        raise MalformedKey(*problem)
    return key


def checked_name(value: str) -> str:
    """The normalised name, or ``MalformedAttribute`` if it is empty or too long."""
    name = normalise_name(value) if isinstance(value, str) else ""
    if not name or len(name) > MAX_NAME:
        raise MalformedAttribute(limit=MAX_NAME)
    return name


# --- many keys at once -----------------------------------------------------------------------


def key_problems(kind: str, keys: Sequence[str]) -> list[tuple[int, str]]:
    """(position, reason) of each malformed key among already cleaned ``keys``."""
    if kind == "resident":
        return resident_id_problems(keys)
    out = []
    for position, key in enumerate(keys):
        problem = key_problem(kind, key)
        if problem:
            out.append((position, problem[0]))
    return out


def resident_id_problems(
    keys: Sequence[str], today: dt.date | None = None
) -> list[tuple[int, str]]:
    """(position, reason) per malformed resident ID, with the reasons and their order of
    ``ids.check_resident_id`` (length, charset, region, birth_date, checksum), vectorised:
    the check characters by ``ids.resident_id_check_chars``, regions and birth dates once per
    distinct value."""
    n = len(keys)
    if n == 0:
        return []
    text = np.asarray(keys, dtype="<U18") if n else np.empty(0, "<U18")
    reasons = np.full(n, "", dtype="<U10")
    lengths = np.fromiter((len(k) for k in keys), dtype=np.int64, count=n)
    reasons[lengths != 18] = "length"
    codes = text.view(np.uint32).reshape(n, 18)
    body_digits = ((codes[:, :17] >= 48) & (codes[:, :17] <= 57)).all(axis=1)
    last = codes[:, 17]
    last_ok = ((last >= 48) & (last <= 57)) | (last == ord("X"))
    reasons[(reasons == "") & ~(body_digits & last_ok)] = "charset"
    # regions and birth dates as integers, each distinct one checked once by ``ids``
    todo = np.flatnonzero(reasons == "")
    digits = codes[todo, :14].astype(np.int64) - 48
    regions = digits[:, :6] @ (10 ** np.arange(5, -1, -1, dtype=np.int64))
    for region in np.unique(regions):
        code = f"{region:06d}"
        ok = code[:2] in ids.RESIDENCE_PERMIT_PREFIXES or bool(ids.check_region_code(code))
        if not ok:
            reasons[todo[regions == region]] = "region"
    # a real date between ids.EARLIEST_BIRTH and today (what ids.resident_id_birth_date and
    # check_resident_id ask), computed on the whole batch at once
    year = digits[:, 6:10] @ np.array([1000, 100, 10, 1])
    month = digits[:, 10] * 10 + digits[:, 11]
    day = digits[:, 12] * 10 + digits[:, 13]
    month_ok = (month >= 1) & (month <= 12)
    first = ((year - 1970) * 12 + np.where(month_ok, month, 1) - 1).astype("datetime64[M]")
    length = (first + 1).astype("datetime64[D]") - first.astype("datetime64[D]")
    date = first.astype("datetime64[D]") + (day - 1).astype("timedelta64[D]")
    today = np.datetime64(today or dt.date.today(), "D")
    real = month_ok & (day >= 1) & (day <= length.astype(np.int64))
    real &= (date >= np.datetime64(ids.EARLIEST_BIRTH, "D")) & (date <= today)
    spot = todo[~real]
    reasons[spot[reasons[spot] == ""]] = "birth_date"
    todo = np.flatnonzero(reasons == "")
    if todo.size:
        expected = ids.resident_id_check_chars(codes[todo, :17].astype(np.int64) - 48)
        actual = text.view("<U1").reshape(n, 18)[todo, 17]
        reasons[todo[expected != actual]] = "checksum"
    bad = np.flatnonzero(reasons != "")
    return [(int(i), str(reasons[i])) for i in bad]
