"""Contact details: 手机号, 固定电话, e-mail.

- 手机号: 11 digits in the allocated ranges 13x, 14[5-9], 15[0-35-9], 16[2567], 17[0-8],
  18x, 19x, optionally after +86, 86 or 0086; spaces and hyphens between groups are ignored.
  Serials starting 10 or 12 (and 154, 160 …) are not phones.
- 固定电话: 0 + area code (010, 02x, or 0 + 3 digits from 3-9) + a 7-8 digit number not
  starting 0 or 1, the area code optionally in brackets or followed by - or a space, and an
  optional extension after -, 转, # or ext.
- e-mail: local@domain with a dotted domain ending in a 2+ letter top-level label."""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from longshu.governance.detect.arrays import regex_mask, squeeze
from longshu.governance.detect.base import Detector

_MOBILE = r"^(?:\+?86|0086)?1(?:3\d|4[5-9]|5[0-35-9]|6[2567]|7[0-8]|8\d|9\d)\d{8}$"
_LANDLINE = (
    r"^(?:\+?86)?(?:\(0(?:10|2\d|[3-9]\d{2})\)|（0(?:10|2\d|[3-9]\d{2})）|0(?:10|2\d|[3-9]\d{2}))"
    r"[\- ]?[2-9]\d{6,7}(?:(?:-|转|#|EXT\.?)\d{1,6})?$"
)
_EMAIL = r"^[A-Z0-9._%+\-]+@[A-Z0-9](?:[A-Z0-9\-]*[A-Z0-9])?(?:\.[A-Z0-9](?:[A-Z0-9\-]*[A-Z0-9])?)*\.[A-Z]{2,}$"


def match_mobile(values: pa.Array) -> np.ndarray:
    return regex_mask(squeeze(values, separators=r"[\s\-]"), _MOBILE)


def match_landline(values: pa.Array) -> np.ndarray:
    # only surrounding spaces go: the separator after the area code is part of the shape
    return regex_mask(squeeze(values, separators=""), _LANDLINE)


def match_email(values: pa.Array) -> np.ndarray:
    return regex_mask(squeeze(values, separators=""), _EMAIL)


MOBILE = Detector(
    code="mobile",
    title_zh="手机号码",
    title_en="Mobile phone number",
    category="personal",
    default_mask="keep_last",
    checksum_backed=False,
    match=match_mobile,
    name_cues=(r"手机", r"电话", r"联系方式", r"sjh", r"lxdh", r"mobile", r"phone", r"tel"),
)
LANDLINE = Detector(
    code="landline",
    title_zh="固定电话",
    title_en="Landline phone number",
    category="personal",
    default_mask="keep_last",
    checksum_backed=False,
    match=match_landline,
    name_cues=(r"电话", r"座机", r"固话", r"联系方式", r"lxdh", r"dh$", r"phone", r"tel"),
)
EMAIL = Detector(
    code="email",
    title_zh="电子邮箱",
    title_en="E-mail address",
    category="personal",
    default_mask="hash",
    checksum_backed=False,
    match=match_email,
    name_cues=(r"邮箱", r"邮件", r"e-?mail", r"yx$", r"dzyx"),
)

CONTACT_DETECTORS = (MOBILE, LANDLINE, EMAIL)
