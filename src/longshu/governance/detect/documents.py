"""Travel documents and vehicle plates, recognised by their issued shapes (no check character
is public for them, so these are pattern detectors):

- 护照 (ordinary passports of the PRC): E or G + 8 digits; since 2017 E + a letter (not I/O)
  + 7 digits.
- 港澳居民来往内地通行证 (回乡证): H (Hong Kong) or M (Macao) + 8 or 10 digits; 往来港澳通行证
  (mainland residents): C + 8 digits, or C + a letter (not I/O) + 7 digits.
- 台湾居民来往大陆通行证 (台胞证): 8 digits — a shape shared with countless serials, so it counts
  only in a column named for it (see ``cue_only``); 往来台湾通行证: L + 8 digits.
- 机动车号牌 (GA 36): a province abbreviation, the office letter (not I), then 5 letters
  and digits (not I/O);
  new-energy plates have 6 (D/F then 5, or 5 digits then D/F); 警/学/挂/领/港/澳/试/超 plates end
  with that character after 4."""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from longshu.governance.detect.arrays import regex_mask, squeeze
from longshu.governance.detect.base import Detector

_LETTER = "[A-HJ-NP-Z]"  # capital letters without I and O


def match_passport(values: pa.Array) -> np.ndarray:
    return regex_mask(squeeze(values, separators=""), f"^(?:[EG]\\d{{8}}|E{_LETTER}\\d{{7}})$")


def match_hk_macao_permit(values: pa.Array) -> np.ndarray:
    pattern = f"^(?:[HM](?:\\d{{8}}|\\d{{10}})|C\\d{{8}}|C{_LETTER}\\d{{7}})$"
    return regex_mask(squeeze(values, separators=""), pattern)


def match_taiwan_permit(values: pa.Array) -> np.ndarray:
    """往来台湾通行证 (L + 8 digits) and the 8-digit 台胞证 shape; the column level counts the
    latter only under a name cue (:func:`taiwan_permit_shape_only`)."""
    return regex_mask(squeeze(values, separators=""), r"^L?\d{8}$")


def taiwan_permit_shape_only(values: pa.Array) -> np.ndarray:
    """Values that are a 台胞证 by shape alone (8 digits): evidence only under a name cue."""
    return regex_mask(squeeze(values, separators=""), r"^\d{8}$")


PROVINCES = "京津沪渝冀豫云辽黑湘皖鲁新苏浙赣鄂桂甘晋蒙陕吉闽贵粤青藏川宁琼"
_PLATE_BODY = (
    f"(?:{_LETTER}|\\d){{5}}"  # ordinary
    f"|[DF](?:{_LETTER}|\\d)\\d{{4}}"  # small new-energy
    "|\\d{5}[DF]"  # large new-energy
    f"|(?:{_LETTER}|\\d){{4}}[警学挂领港澳试超]"
)
# The issuing-office letter may be O (公安 in some provinces: 京O, 粤O), never I.
_PLATE = f"^[{PROVINCES}][A-HJ-Z](?:{_PLATE_BODY})$"


def match_plate(values: pa.Array) -> np.ndarray:
    # 甘A·12345 and 甘A 12345 are how plates are often written
    return regex_mask(squeeze(values, separators=r"[\s·•\-]"), _PLATE)


PASSPORT = Detector(
    code="passport",
    title_zh="护照号码",
    title_en="Passport number",
    category="sensitive_personal",
    default_mask="keep_last",
    checksum_backed=False,
    match=match_passport,
    name_cues=(r"护照", r"passport", r"hzhm", r"hz$"),
)
HK_MACAO_PERMIT = Detector(
    code="hk_macao_permit",
    title_zh="港澳通行证号码",
    title_en="Hong Kong / Macao travel permit number",
    category="sensitive_personal",
    default_mask="keep_last",
    checksum_backed=False,
    match=match_hk_macao_permit,
    name_cues=(r"港澳", r"回乡证", r"通行证", r"txz", r"permit"),
)
TAIWAN_PERMIT = Detector(
    code="taiwan_permit",
    title_zh="台湾通行证号码",
    title_en="Taiwan travel permit number",
    category="sensitive_personal",
    default_mask="keep_last",
    checksum_backed=False,
    match=match_taiwan_permit,
    name_cues=(r"台胞证", r"台湾", r"来往大陆", r"通行证", r"tbz", r"twtxz", r"permit"),
)
PLATE = Detector(
    code="plate",
    title_zh="机动车号牌",
    title_en="Vehicle plate number",
    category="personal",
    default_mask="keep_last",
    checksum_backed=False,
    match=match_plate,
    name_cues=(r"车牌", r"号牌", r"cph", r"hphm", r"plate"),
)

DOCUMENT_DETECTORS = (PASSPORT, HK_MACAO_PERMIT, TAIWAN_PERMIT, PLATE)
