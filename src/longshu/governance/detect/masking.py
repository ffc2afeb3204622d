"""Masked examples (脱敏示例) for findings: enough to recognise the kind, never the value.

What each kind shows (the rest becomes ``*``, at most 12 stars; a value too short for the
rule — fewer hidden characters than half the shown ones — is starred entirely):

==================  ====================================================  ==================
kind                shown                                                 example
==================  ====================================================  ==================
resident_id         region code (first 6) + last 2                        620102**********1X
credit_code         authority, category and region (first 8) + last 2     91620100********3K
bank_card           issuer BIN (first 6) + last 4 (as PCI DSS allows)     622202*********0123
mobile              first 3 + last 4 (138****5678); +86 dropped           138****5678
landline            area code + last 2                                    0931-******78
passport, permits   the leading letter(s) + last 2                        E*******78
taiwan_permit       last 2                                                ******78
plate               province and letter + last 1                          甘A****5
email               first character of the mailbox + the domain           z***@163.com
ip                  the first half (two IPv4 octets, two IPv6 groups)     10.12.*.*
coordinate          each number to one decimal (about 10 km)              103.8*,36.0*
person_name         the surname (first character)                         张**
address             the first 6 characters (province, city)               甘肃省兰州市****
other kinds         nothing (one * per character, at most 8)              ****
==================  ====================================================  ==================
"""

from __future__ import annotations

import re

STAR = "*"
MAX_STARS = 12


def _keep(value: str, head: int, tail: int) -> str:
    hidden = len(value) - head - tail
    if hidden < max(head + tail, 1) // 2 or hidden <= 0:
        return STAR * min(len(value), MAX_STARS) or STAR
    return value[:head] + STAR * min(hidden, MAX_STARS) + (value[-tail:] if tail else "")


def _mobile(value: str) -> str:
    digits = re.sub(r"\D", "", value)
    digits = digits[-11:] if len(digits) > 11 else digits
    return _keep(digits, 3, 4)


def _landline(value: str) -> str:
    match = re.match(r"^[(（]?(0(?:10|2\d|[3-9]\d{2}))[)）]?[\- ]?(\d+)", value)
    if not match:
        return _keep(value, 0, 2)
    number = match.group(2)
    return f"{match.group(1)}-{_keep(number, 0, 2)}"


def _email(value: str) -> str:
    local, _, domain = value.rpartition("@")
    if not local:
        return _keep(value, 0, 0)
    return f"{local[0]}{STAR * 3}@{domain[:64]}"


def _ip(value: str) -> str:
    if "." in value and ":" not in value:
        octets = value.split(".")
        return ".".join(octets[:2] + [STAR] * max(len(octets) - 2, 0))
    groups = value.split(":")
    return ":".join(groups[:2]) + ":" + STAR * 4


def _coordinate(value: str) -> str:
    return re.sub(r"(-?\d+\.\d)\d*", lambda m: m.group(1) + STAR, value[:64])


def _document(value: str) -> str:
    letters = len(value) - len(value.lstrip("ABCDEFGHIJKLMNOPQRSTUVWXYZ"))
    return _keep(value, min(letters, 2), 2)


_RULES = {
    "resident_id": lambda v: _keep(v.upper(), 6, 2),
    "credit_code": lambda v: _keep(v.upper(), 8, 2),
    "bank_card": lambda v: _keep(re.sub(r"[\s\-]", "", v), 6, 4),
    "mobile": _mobile,
    "landline": _landline,
    "email": _email,
    "ip": _ip,
    "coordinate": _coordinate,
    "passport": lambda v: _document(v.upper()),
    "hk_macao_permit": lambda v: _document(v.upper()),
    "taiwan_permit": lambda v: _document(v.upper()),
    "plate": lambda v: _keep(re.sub(r"[\s·•\-]", "", v).upper(), 2, 1),
    "person_name": lambda v: _keep(v, 1, 0),
    "address": lambda v: _keep(v, 6, 0),
}


def mask_example(kind: str, value: str) -> str:
    """``value`` masked as ``kind`` shows it (see the module table); unknown kinds show no
    character of the value. Never returns the value itself unless it is all stars."""
    text = value.strip()[:256]
    rule = _RULES.get(kind)
    if rule is None:
        return STAR * max(1, min(len(text), 8))
    masked = rule(text)
    # a value already holding stars where the mask puts them would come back as it is
    return masked if masked != text or not text else STAR * max(1, min(len(text), 8))
