"""Identifiers with a check character (校验位): 公民身份号码 (GB 11643), 统一社会信用代码
(GB 32100) and 银行卡号 (Luhn). Each matcher pre-filters by shape with one RE2 pass, then
checks region, calendar and check character as numpy arithmetic over all candidates — the same
rules as :mod:`longshu.ids`, which stays the reference for one value (the property tests hold
the two to each other)."""

from __future__ import annotations

import datetime as dt
from functools import lru_cache

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from longshu import ids
from longshu.governance.detect.arrays import (
    days_in_month,
    digits_of,
    fixed_width_bytes,
    luhn_valid,
    refine,
    squeeze,
)
from longshu.governance.detect.base import Detector
from longshu.orgs.regions import region_data

# Prefectures (地区) of Gansu before the 1985-2004 reforms: people born then still carry them.
_GANSU_FORMER_PREFECTURES = frozenset(f"62{n}" for n in range(21, 29))


@lru_cache
def gansu_prefectures() -> frozenset[str]:
    """First four digits a Gansu region code may have: the prefectures (市州) of the list the
    orgs package ships, plus the former 地区 codes (6221-6228) older ID numbers carry."""
    shipped = {r["code"][:4] for r in region_data()["regions"]}
    return frozenset(shipped | _GANSU_FORMER_PREFECTURES)


@lru_cache
def _prefix_tables() -> tuple[np.ndarray, np.ndarray]:
    """Lookup tables by number: valid province prefixes (0-99) and, under 62, prefectures."""
    provinces = np.zeros(100, dtype=bool)
    for code in ids.PROVINCE_PREFIXES | ids.RESIDENCE_PERMIT_PREFIXES:
        provinces[int(code)] = True
    gansu = np.zeros(100, dtype=bool)
    for code in gansu_prefectures():
        gansu[int(code[2:])] = True
    return provinces, gansu


def resident_id_rows(chars: np.ndarray, today: dt.date | None = None) -> np.ndarray:
    """Which rows of an (n, 18) byte matrix (upper-cased) are valid 公民身份号码: region
    prefix (province, county digits under a prefecture, Gansu prefectures known), a real birth
    date between 1800-01-01 and ``today``, and the MOD 11-2 check character."""
    today = today or dt.date.today()
    body = digits_of(chars[:, :17])
    provinces, gansu = _prefix_tables()
    province = body[:, 0] * 10 + body[:, 1]
    prefecture = body[:, 2] * 10 + body[:, 3]
    county = body[:, 4] * 10 + body[:, 5]
    permit = province == 83  # 港澳台居民居住证: 830000 + the usual rest
    region_ok = provinces[province] & ~((prefecture == 0) & (county != 0))
    region_ok &= (province != 62) | gansu[prefecture]
    region_ok |= permit
    year = body[:, 6:10] @ np.array([1000, 100, 10, 1])
    month = body[:, 10] * 10 + body[:, 11]
    day = body[:, 12] * 10 + body[:, 13]
    date_ok = (year >= ids.EARLIEST_BIRTH.year) & (day >= 1) & (day <= days_in_month(year, month))
    date_ok &= (
        year * 10_000 + month * 100 + day <= today.year * 10_000 + today.month * 100 + today.day
    )
    sums = body @ np.asarray(ids.ID_WEIGHTS, dtype=np.int64)
    expected = np.frombuffer(ids.ID_CHECK_CHARS.encode("ascii"), dtype=np.uint8)[sums % 11]
    return region_ok & date_ok & (chars[:, 17] == expected)


def id_shaped_rows(chars: np.ndarray) -> np.ndarray:
    """Rows of an (n, >=14) matrix of digits (as ASCII) with a province prefix, then 19xx or
    20xx and what reads as a month and day (0-1 then a digit, 0-3 then a digit — shape, not
    calendar, so a mistyped or impossible birth date still counts): a 公民身份号码, perhaps
    invalid, more likely than a card or a credit code (whose digits fall so about once in
    600)."""
    body = digits_of(chars[:, :14])
    provinces, _ = _prefix_tables()
    century = body[:, 6] * 10 + body[:, 7]
    month = body[:, 10] * 10 + body[:, 11]
    day = body[:, 12] * 10 + body[:, 13]
    dated = ((century == 19) | (century == 20)) & (month <= 19) & (day <= 39)
    return provinces[body[:, 0] * 10 + body[:, 1]] & dated


def match_resident_id(values: pa.Array) -> np.ndarray:
    text = squeeze(values, separators="")
    return refine(text, r"^\d{17}[\dX]$", lambda c: resident_id_rows(fixed_width_bytes(c, 18)))


_CREDIT_LOOKUP = np.full(256, -1, dtype=np.int64)
_CREDIT_LOOKUP[np.frombuffer(ids.CREDIT_CHARSET.encode("ascii"), dtype=np.uint8)] = np.arange(31)
_CREDIT_CHARS = np.frombuffer(ids.CREDIT_CHARSET.encode("ascii"), dtype=np.uint8)
_CREDIT_CLASS = "[0-9A-HJ-NPQRTUWXY]"


@lru_cache
def _authority_categories() -> np.ndarray:
    """(256, 256) bool: is (登记管理部门码, 机构类别码) a pair GB 32100 defines?"""
    table = np.zeros((256, 256), dtype=bool)
    for authority, (_, categories) in ids.REGISTRATION_AUTHORITIES.items():
        for category in categories:
            table[ord(authority), ord(category)] = True
    return table


def credit_code_rows(chars: np.ndarray) -> np.ndarray:
    """Which rows of an (n, 18) byte matrix of code-set characters are valid 统一社会信用代码:
    a defined authority and category, a region code (or 100000 for central registrations) and
    the MOD 31 check character. The GB 11714 check of the embedded organisation code is not
    required, as in ``ids.check_credit_code``.

    Codes of 17 digits (+ check) that read as a 公民身份号码 (see :func:`id_shaped_rows`), or
    that start 62, are left out: 62 is 旅游/港澳台 tourism offices, a handful of codes, and
    the prefix of every 银联 card."""
    valid = np.zeros(len(chars), dtype=bool)
    numeric = (chars[:, :17] <= ord("9")).all(axis=1)
    card = (chars[:, 0] == ord("6")) & (chars[:, 1] == ord("2"))
    left_out = numeric & card
    left_out[numeric] |= id_shaped_rows(chars[numeric])
    rows = np.flatnonzero(~left_out)  # an ID column leaves nothing to check further
    if len(rows):
        valid[rows] = _credit_checks(chars[rows])
    return valid


def _credit_checks(chars: np.ndarray) -> np.ndarray:
    pair_ok = _authority_categories()[chars[:, 0], chars[:, 1]]
    region = digits_of(chars[:, 2:8])
    provinces, _ = _prefix_tables()
    province = region[:, 0] * 10 + region[:, 1]
    central = (region[:, 0] == 1) & (region[:, 1:] == [0, 0, 0, 0, 0]).all(axis=1)
    structure = ~((region[:, 2] == 0) & (region[:, 3] == 0) & ((region[:, 4] + region[:, 5]) > 0))
    region_ok = central | (provinces[province] & (province != 83) & structure)
    values = _CREDIT_LOOKUP[chars[:, :17]]
    total = values @ np.asarray(ids.CREDIT_WEIGHTS, dtype=np.int64)
    return pair_ok & region_ok & (chars[:, 17] == _CREDIT_CHARS[(31 - total % 31) % 31])


def match_credit_code(values: pa.Array) -> np.ndarray:
    text = squeeze(values, separators="")
    pattern = f"^{_CREDIT_CLASS}{{2}}\\d{{6}}{_CREDIT_CLASS}{{10}}$"
    return refine(text, pattern, lambda c: credit_code_rows(fixed_width_bytes(c, 18)))


# Issuer prefixes (BIN) of cards used in China: 银联 62, Visa 4, Mastercard 51-55 and 2221-2720,
# JCB 35, Discover 60/64/65, and the older domestic debit cards of the big banks (95…).
_CARD_PATTERN = r"^(?:4\d{15,18}|(?:62|5[1-5]|2[2-7]|35|6[045]|95)\d{14,17})$"


def card_rows(chars: np.ndarray) -> np.ndarray:
    """Rows of an (n, w) matrix of ASCII digits (w 16-19) that pass Luhn and are not an
    invalid 公民身份号码 (ID-shaped, see :func:`id_shaped_rows`, but failing its checks). A
    valid ID that passes Luhn stays a candidate: the column level decides between the two."""
    valid = luhn_valid(chars - np.uint8(ord("0")))
    if chars.shape[1] == 18:
        doubtful = valid & id_shaped_rows(chars)
        valid[doubtful] = resident_id_rows(chars[doubtful])
    if len(chars):
        head = digits_of(chars[:, :4]) @ np.array([1000, 100, 10, 1])
        mastercard_2 = (head >= 2221) & (head <= 2720)
        valid &= (chars[:, 0] != ord("2")) | mastercard_2
    return valid


def match_bank_card(values: pa.Array) -> np.ndarray:
    text = squeeze(values)

    def check(candidates: pa.Array) -> np.ndarray:
        lengths = np.asarray(pc.binary_length(candidates).to_numpy(), dtype=np.int64)
        widths = np.unique(lengths)
        if len(widths) == 1:  # a column of one card length needs no regrouping
            return card_rows(fixed_width_bytes(candidates, int(widths[0])))
        verdict = np.zeros(len(candidates), dtype=bool)
        for width in widths:
            rows = np.flatnonzero(lengths == width)
            chars = fixed_width_bytes(candidates.take(pa.array(rows)), int(width))
            verdict[rows] = card_rows(chars)
        return verdict

    return refine(text, _CARD_PATTERN, check)


RESIDENT_ID = Detector(
    code="resident_id",
    title_zh="居民身份证号",
    title_en="Resident ID number",
    category="sensitive_personal",
    default_mask="keep_last",
    checksum_backed=True,
    match=match_resident_id,
    name_cues=(r"身份证", r"证件号", r"公民身份", r"sfz", r"id_?card", r"id_?no", r"zjhm"),
)
CREDIT_CODE = Detector(
    code="credit_code",
    title_zh="统一社会信用代码",
    title_en="Unified social credit code",
    category="organisation",
    default_mask="keep_last",
    checksum_backed=True,
    match=match_credit_code,
    name_cues=(r"信用代码", r"tyshxydm", r"xydm", r"credit_?code", r"uscc"),
)
BANK_CARD = Detector(
    code="bank_card",
    title_zh="银行卡号",
    title_en="Bank card number",
    category="sensitive_personal",
    default_mask="keep_last",
    checksum_backed=True,
    match=match_bank_card,
    name_cues=(r"银行卡", r"卡号", r"账号", r"账户", r"yhk", r"kh$", r"card", r"account"),
)

IDENTIFIER_DETECTORS = (RESIDENT_ID, CREDIT_CODE, BANK_CARD)
