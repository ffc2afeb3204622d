"""Chinese identifiers with check characters: validate them, and make valid synthetic ones.

- 公民身份号码 (GB 11643-1999): 6-digit address code, 8-digit birth date, 3-digit sequence
  (odd for men, even for women), ISO 7064 MOD 11-2 check character (0-9 or X).
- 统一社会信用代码 (GB 32100-2015): 登记管理部门码, 机构类别码, 6-digit 登记管理机关行政区划码,
  9-character 主体标识码 (a GB 11714 organisation code), and a MOD 31 check character, all
  from the 31-character set without I, O, Z, S, V.
- 行政区划代码 (GB/T 2260): 6 digits.

Every ``check_*`` function returns a :class:`Check` with a stable ``reason`` code and an English
sentence (the catalogue translates it); ``validate_*`` returns the normalised value or raises
:class:`InvalidIdentifier`. Generators make numbers that pass every check, for demos and tests;
:func:`synthetic_resident_ids` builds hundreds of thousands at once with numpy.

This module knows no domain: it does not know which regions exist, only what a code looks like.
"""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from longshu.errors import InvalidInput

if TYPE_CHECKING:
    import numpy as np

# --- shared ---------------------------------------------------------------------------------

# Province-level prefixes of GB/T 2260 (71 台湾, 81 香港, 82 澳门). 83 appears only on the
# 港澳台居民居住证 numbers issued to residents from Taiwan (830000), which follow GB 11643.
PROVINCE_PREFIXES = frozenset(
    [
        "11",
        "12",
        "13",
        "14",
        "15",
        "21",
        "22",
        "23",
        "31",
        "32",
        "33",
        "34",
        "35",
        "36",
        "37",
        "41",
        "42",
        "43",
        "44",
        "45",
        "46",
        "50",
        "51",
        "52",
        "53",
        "54",
        "61",
        "62",
        "63",
        "64",
        "65",
        "71",
        "81",
        "82",
    ]
)
RESIDENCE_PERMIT_PREFIXES = frozenset({"83"})


@dataclass(frozen=True)
class Check:
    """The verdict on one identifier. ``reason`` is None when valid, else a stable code."""

    valid: bool
    reason: str | None = None
    message: str = ""

    def __bool__(self) -> bool:
        return self.valid


OK = Check(True)


class InvalidIdentifier(InvalidInput):
    """An identifier failed its format or checksum rules. ``reason`` says which."""

    key = "ids.invalid"
    status = 422
    message = "The identifier is not valid."

    def __init__(self, check: Check, **params: Any) -> None:
        self.reason = check.reason
        super().__init__(check.message, **params)


def _fail(reason: str, message: str) -> Check:
    return Check(False, reason, message)


# --- 行政区划代码 ------------------------------------------------------------------------------

REGION_MESSAGES = {
    "format": "A region code is 6 digits.",
    "province": "A region code starts with a province code (11-65, 71, 81, 82).",
    "structure": "A region code ending in a 2-digit zero block must end in zeros from there on.",
}


def check_region_code(code: object) -> Check:
    """Is ``code`` shaped like a GB/T 2260 code (6 digits, a real province prefix, and no
    county digits under a missing prefecture)? Says nothing about whether the code exists."""
    if not isinstance(code, str) or len(code) != 6 or not code.isascii() or not code.isdigit():
        return _fail("format", REGION_MESSAGES["format"])
    if code[:2] not in PROVINCE_PREFIXES:
        return _fail("province", REGION_MESSAGES["province"])
    if code[2:4] == "00" and code[4:] != "00":
        return _fail("structure", REGION_MESSAGES["structure"])
    return OK


def region_level(code: str) -> str:
    """ "province" (省) for xx0000, "city" (地级, 市) for xxxx00, else "county" (县级)."""
    if code.endswith("0000"):
        return "province"
    if code.endswith("00"):
        return "city"
    return "county"


def validate_region_code(code: object) -> str:
    verdict = check_region_code(code)
    if not verdict:
        raise InvalidIdentifier(verdict)
    return str(code)


# --- 公民身份号码 (GB 11643-1999) ----------------------------------------------------------------

# Weight of position i (1-based, left to right) is 2**(18-i) mod 11.
ID_WEIGHTS = tuple(pow(2, 17 - i, 11) for i in range(17))
# Check character for (weighted sum mod 11): 0→1, 1→0, 2→X, 3→9 ... 10→2.
ID_CHECK_CHARS = "10X98765432"
EARLIEST_BIRTH = dt.date(1800, 1, 1)

RESIDENT_ID_MESSAGES = {
    "length": "A resident ID number has 18 characters.",
    "charset": "A resident ID number is 17 digits followed by a digit or X.",
    "region": "The first 6 digits of a resident ID number must be a region code.",
    "birth_date": "Digits 7-14 of a resident ID number must be a real birth date, not in the future.",
    "checksum": "The check character of the resident ID number does not match (a digit may be mistyped).",
}


def resident_id_check_char(body: str) -> str:
    """The MOD 11-2 check character for the first 17 digits."""
    if len(body) != 17 or not body.isascii() or not body.isdigit():
        raise ValueError("the body of a resident ID number is 17 digits")
    total = sum(int(c) * w for c, w in zip(body, ID_WEIGHTS, strict=True))
    return ID_CHECK_CHARS[total % 11]


def normalise_resident_id(value: str) -> str:
    """Strip surrounding spaces and upper-case a trailing x."""
    return value.strip().upper()


def check_resident_id(value: object, today: dt.date | None = None) -> Check:
    """Is ``value`` a well-formed 18-character resident ID number with a matching check
    character? A lower-case x and surrounding spaces are accepted (see ``normalise``)."""
    if not isinstance(value, str):
        return _fail("charset", RESIDENT_ID_MESSAGES["charset"])
    number = normalise_resident_id(value)
    if len(number) != 18:
        return _fail("length", RESIDENT_ID_MESSAGES["length"])
    body, check = number[:17], number[17]
    if not (body.isascii() and body.isdigit()) or check not in "0123456789X":
        return _fail("charset", RESIDENT_ID_MESSAGES["charset"])
    permit_holder = body[:2] in RESIDENCE_PERMIT_PREFIXES
    if not (check_region_code(body[:6]) or permit_holder):
        return _fail("region", RESIDENT_ID_MESSAGES["region"])
    birth = resident_id_birth_date(number)
    today = today or dt.date.today()
    if birth is None or birth < EARLIEST_BIRTH or birth > today:
        return _fail("birth_date", RESIDENT_ID_MESSAGES["birth_date"])
    if resident_id_check_char(body) != check:
        return _fail("checksum", RESIDENT_ID_MESSAGES["checksum"])
    return OK


def is_resident_id(value: object) -> bool:
    return check_resident_id(value).valid


def validate_resident_id(value: object, today: dt.date | None = None) -> str:
    """The normalised number, or ``InvalidIdentifier`` with the reason."""
    verdict = check_resident_id(value, today)
    if not verdict:
        raise InvalidIdentifier(verdict)
    return normalise_resident_id(str(value))


def resident_id_birth_date(number: str) -> dt.date | None:
    """The birth date written in digits 7-14, or None if it is not a date."""
    try:
        return dt.date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    except ValueError:
        return None


def resident_id_sex(number: str) -> str:
    """ "M" when the sequence code (digit 17) is odd, "F" when even."""
    return "M" if int(number[16]) % 2 else "F"


def make_resident_id(region_code: str, birth: dt.date, sequence: int) -> str:
    """A valid number for a region, birth date and 3-digit sequence (odd: male)."""
    if not 0 <= sequence <= 999:
        raise ValueError("the sequence code has 3 digits")
    validate_region_code(region_code)
    body = f"{region_code}{birth:%Y%m%d}{sequence:03d}"
    return body + resident_id_check_char(body)


def random_resident_id(
    rng: random.Random,
    region_codes: list[str] | tuple[str, ...] = ("620102",),
    born_from: dt.date = dt.date(1940, 1, 1),
    born_to: dt.date = dt.date(2008, 12, 31),
    sex: str | None = None,
) -> str:
    """A synthetic valid number drawn with ``rng`` (reproducible for a seed)."""
    birth = born_from + dt.timedelta(days=rng.randrange((born_to - born_from).days + 1))
    sequence = rng.randrange(500) * 2 + (1 if sex == "M" else 0 if sex == "F" else rng.randrange(2))
    return make_resident_id(rng.choice(list(region_codes)), birth, sequence)


def resident_id_check_chars(bodies: np.ndarray) -> np.ndarray:
    """Vectorised check characters: ``bodies`` is an (n, 17) integer array of digits; returns
    an array of n one-character strings."""
    import numpy as np

    digits = np.asarray(bodies, dtype=np.int64)
    if digits.ndim != 2 or digits.shape[1] != 17:
        raise ValueError("bodies must have shape (n, 17)")
    sums = digits @ np.asarray(ID_WEIGHTS, dtype=np.int64)
    return np.asarray(list(ID_CHECK_CHARS), dtype="<U1")[sums % 11]


def synthetic_resident_ids(
    n: int,
    rng: np.random.Generator,
    region_codes: list[str] | tuple[str, ...] = ("620102",),
    born_from: dt.date = dt.date(1940, 1, 1),
    born_to: dt.date = dt.date(2008, 12, 31),
    sexes: np.ndarray | None = None,
) -> np.ndarray:
    """``n`` valid synthetic numbers at once (an array of 18-character strings).

    Regions are drawn uniformly from ``region_codes`` and birth dates uniformly between the
    bounds; ``sexes`` (an array of "M"/"F", optional) fixes the parity of the sequence code.
    Numbers may repeat for very large ``n`` in one region and day; callers needing uniqueness
    (a population register) should draw again for duplicates."""
    import numpy as np

    for code in region_codes:
        validate_region_code(code)
    regions = np.asarray([int(c) for c in region_codes], dtype=np.int64)[
        rng.integers(0, len(region_codes), n)
    ]
    epoch = np.datetime64(born_from, "D")
    span = (born_to - born_from).days + 1
    births = epoch + rng.integers(0, span, n).astype("timedelta64[D]")
    years = births.astype("datetime64[Y]").astype(np.int64) + 1970
    months = births.astype("datetime64[M]").astype(np.int64) % 12 + 1
    days = (births - births.astype("datetime64[M]")).astype(np.int64) + 1
    sequence = rng.integers(0, 500, n) * 2
    if sexes is None:
        sequence += rng.integers(0, 2, n)
    else:
        sequence += (np.asarray(sexes) == "M").astype(np.int64)
    body = ((regions * 10_000 + years) * 100 + months) * 100 + days
    body = body * 1000 + sequence
    powers = 10 ** np.arange(16, -1, -1, dtype=np.int64)
    digits = (body[:, None] // powers) % 10
    checks = resident_id_check_chars(digits)
    return np.char.add(np.char.zfill(body.astype("<U17"), 17), checks)


# --- 统一社会信用代码 (GB 32100-2015) -------------------------------------------------------------

CREDIT_CHARSET = "0123456789ABCDEFGHJKLMNPQRTUWXY"  # 31 characters: no I, O, Z, S, V
CREDIT_VALUES = {c: i for i, c in enumerate(CREDIT_CHARSET)}
CREDIT_WEIGHTS = tuple(pow(3, i, 31) for i in range(17))  # 1, 3, 9, 27, 19, 26, ...

# 登记管理部门码 → {机构类别码: title} (GB 32100-2015 Table 1; Y "其他" uses 1 only).
REGISTRATION_AUTHORITIES: dict[str, tuple[str, dict[str, str]]] = {
    "1": (
        "机构编制",
        {"1": "机关", "2": "事业单位", "3": "中央编办直接管理机构编制的群众团体", "9": "其他"},
    ),
    "2": ("外交", {"1": "外国常驻新闻机构", "9": "其他"}),
    "3": (
        "司法行政",
        {
            "1": "律师执业机构",
            "2": "公证处",
            "3": "基层法律服务所",
            "4": "司法鉴定机构",
            "5": "仲裁委员会",
            "9": "其他",
        },
    ),
    "4": ("文化", {"1": "外国在华文化中心", "9": "其他"}),
    "5": ("民政", {"1": "社会团体", "2": "民办非企业单位", "3": "基金会", "9": "其他"}),
    "6": (
        "旅游",
        {
            "1": "外国旅游部门常驻代表机构",
            "2": "港澳台地区旅游部门常驻内地（大陆）代表机构",
            "9": "其他",
        },
    ),
    "7": ("宗教", {"1": "宗教活动场所", "2": "宗教院校", "9": "其他"}),
    "8": ("工会", {"1": "基层工会", "9": "其他"}),
    "9": ("工商", {"1": "企业", "2": "个体工商户", "3": "农民专业合作社"}),
    "A": ("中央军委改革和编制办公室", {"1": "军队事业单位", "9": "其他"}),
    "N": (
        "农业",
        {"1": "组级集体经济组织", "2": "村级集体经济组织", "3": "乡镇级集体经济组织", "9": "其他"},
    ),
    "Y": ("其他", {"1": "其他"}),
}

# GB 11714 organisation code (主体标识码): 8 body characters, weights, check 0-9 or X.
ORG_CODE_WEIGHTS = (3, 7, 9, 10, 5, 8, 4, 2)

CREDIT_CODE_MESSAGES = {
    "length": "A unified social credit code has 18 characters.",
    "charset": "A unified social credit code uses digits and capital letters except I, O, Z, S and V.",
    "authority": "The first character of a unified social credit code must be a registration authority code (1-9, A, N or Y).",
    "category": "The second character of a unified social credit code is not an organisation category of its registration authority.",
    "region": "Characters 3-8 of a unified social credit code must be a region code.",
    "organization_code": "Characters 9-17 of a unified social credit code are not a valid organisation code.",
    "checksum": "The check character of the unified social credit code does not match (a character may be mistyped).",
}


def credit_code_check_char(body: str) -> str:
    """The MOD 31 check character for the first 17 characters."""
    if len(body) != 17 or any(c not in CREDIT_VALUES for c in body):
        raise ValueError("the body of a credit code is 17 characters of the code set")
    total = sum(CREDIT_VALUES[c] * w for c, w in zip(body, CREDIT_WEIGHTS, strict=True))
    return CREDIT_CHARSET[(31 - total % 31) % 31]


def organization_code_check_char(body: str) -> str:
    """The GB 11714 check character for an 8-character organisation code body."""
    total = sum(_org_value(c) * w for c, w in zip(body, ORG_CODE_WEIGHTS, strict=True))
    value = 11 - total % 11
    return "0" if value == 11 else "X" if value == 10 else str(value)


def _org_value(char: str) -> int:
    if char.isdigit():
        return int(char)
    return ord(char) - ord("A") + 10


def normalise_credit_code(value: str) -> str:
    """Strip surrounding spaces and upper-case."""
    return value.strip().upper()


def check_credit_code(value: object, strict: bool = False) -> Check:
    """Is ``value`` a well-formed unified social credit code with a matching check character?

    ``strict`` also checks the GB 11714 check character of the embedded organisation code;
    it is off by default because some codes issued in practice do not satisfy it."""
    if not isinstance(value, str):
        return _fail("charset", CREDIT_CODE_MESSAGES["charset"])
    code = normalise_credit_code(value)
    if len(code) != 18:
        return _fail("length", CREDIT_CODE_MESSAGES["length"])
    if any(c not in CREDIT_VALUES for c in code):
        return _fail("charset", CREDIT_CODE_MESSAGES["charset"])
    authority = REGISTRATION_AUTHORITIES.get(code[0])
    if authority is None:
        return _fail("authority", CREDIT_CODE_MESSAGES["authority"])
    if code[1] not in authority[1]:
        return _fail("category", CREDIT_CODE_MESSAGES["category"])
    # Registrations by central authorities carry 100000 (全国).
    if code[2:8] != "100000" and not check_region_code(code[2:8]):
        return _fail("region", CREDIT_CODE_MESSAGES["region"])
    if strict and organization_code_check_char(code[8:16]) != code[16]:
        return _fail("organization_code", CREDIT_CODE_MESSAGES["organization_code"])
    if credit_code_check_char(code[:17]) != code[17]:
        return _fail("checksum", CREDIT_CODE_MESSAGES["checksum"])
    return OK


def is_credit_code(value: object) -> bool:
    return check_credit_code(value).valid


def validate_credit_code(value: object, strict: bool = False) -> str:
    """The normalised code, or ``InvalidIdentifier`` with the reason."""
    verdict = check_credit_code(value, strict)
    if not verdict:
        raise InvalidIdentifier(verdict)
    return normalise_credit_code(str(value))


def describe_credit_code(code: str) -> dict[str, str]:
    """The parts of a valid code: authority, category (titles in Chinese), region, org code."""
    code = validate_credit_code(code)
    authority, categories = REGISTRATION_AUTHORITIES[code[0]]
    return {
        "authority": authority,
        "category": categories[code[1]],
        "region_code": code[2:8],
        "organization_code": code[8:17],
    }


# Organisation code bodies drawn for synthetic codes use only characters of the credit-code set.
_ORG_BODY_CHARS = CREDIT_CHARSET


def make_credit_code(
    region_code: str, organization_body: str, authority: str = "9", category: str = "1"
) -> str:
    """A valid code from its parts; ``organization_body`` is the 8-character organisation code
    body, whose GB 11714 check character (0-9 or X) is computed here."""
    if category not in REGISTRATION_AUTHORITIES.get(authority, ("", {}))[1]:
        raise ValueError("unknown registration authority or category")
    validate_region_code(region_code)
    if len(organization_body) != 8 or any(c not in CREDIT_VALUES for c in organization_body):
        raise ValueError("an organisation code body is 8 characters of the credit-code set")
    org_check = organization_code_check_char(organization_body)
    body = f"{authority}{category}{region_code}{organization_body}{org_check}"
    return body + credit_code_check_char(body)


def random_credit_code(
    rng: random.Random, region_code: str = "620100", authority: str = "9", category: str = "1"
) -> str:
    """A synthetic valid code (strict check included) drawn with ``rng``."""
    # Synthetic bodies start with "MA" like codes assigned since 2015, then 6 random characters.
    body = "MA" + "".join(rng.choice(_ORG_BODY_CHARS) for _ in range(6))
    return make_credit_code(region_code, body, authority, category)
