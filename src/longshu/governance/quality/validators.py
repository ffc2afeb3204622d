"""The checksum validators of quality rules as DuckDB SQL, verdict for verdict the same as the
Python validators of ``longshu.ids`` (tests/governance/test_quality_validators.py proves it
with hypothesis).

Each validator is two pieces of SQL over a text value ``v``:

- ``core(v)``: the part the checks read (the value stripped of surrounding white space and
  normalised as ``longshu.ids`` does), or NULL when its shape is already wrong. A quality pass
  computes it once per row in an inner projection, so the checks below do not repeat it.
- ``fails(c)``: TRUE when the value fails, given its core ``c`` (NULL core → fails).

Only functions ``lake.access`` allows are used (substring, ascii, strpos, lpad, regexp_*,
TRY_CAST): no list lambdas, whose ``list_reduce`` the lake's SQL policy refuses.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

from sqlglot import exp

from longshu.ids import (
    CREDIT_CHARSET,
    CREDIT_WEIGHTS,
    EARLIEST_BIRTH,
    ID_CHECK_CHARS,
    ID_WEIGHTS,
    PROVINCE_PREFIXES,
    REGISTRATION_AUTHORITIES,
    RESIDENCE_PERMIT_PREFIXES,
)

# The characters Python's str.strip() removes (str.isspace), as an RE2 class: ids.py strips
# with it, so the SQL must too.
WS = (
    r"[\t-\r\x{1c}-\x{20}\x{85}\x{a0}\x{1680}\x{2000}-\x{200a}\x{2028}\x{2029}\x{202f}"
    r"\x{205f}\x{3000}]"
)
MOBILE_PATTERN = r"(?:(?:\+|00)?86[ -]?)?1[3-9][0-9]{9}"
BANK_CARD_DIGITS = (13, 19)


def lit(value: str) -> str:
    """A SQL string literal (quotes doubled; DuckDB keeps backslashes as written)."""
    return exp.Literal.string(value).sql(dialect="duckdb")


def _in(expr: str, values: list[str] | frozenset[str]) -> str:
    return f"{expr} IN ({', '.join(lit(v) for v in sorted(values))})"


def _stripped(v: str, body: str) -> str:
    """The part of ``v`` matching ``body`` once surrounding white space is stripped, or NULL."""
    return f"NULLIF(REGEXP_EXTRACT({v}, {lit(f'^{WS}*({body}){WS}*$')}, 1), '')"


def _digit(c: str, i: int) -> str:
    return f"(ASCII(SUBSTRING({c}, {i}, 1)) - 48)"


def region_ok(code: str) -> str:
    """``check_region_code`` on a 6-character text known to be ASCII digits."""
    return (
        f"({_in(f'SUBSTRING({code}, 1, 2)', PROVINCE_PREFIXES)} AND NOT "
        f"(SUBSTRING({code}, 3, 2) = '00' AND SUBSTRING({code}, 5, 2) <> '00'))"
    )


def id_birth_date(c: str) -> str:
    """The birth date written in digits 7–14 of an ID core, or NULL if it is not a date."""
    return (
        f"TRY_CAST(SUBSTRING({c}, 7, 4) || '-' || SUBSTRING({c}, 11, 2) || '-' || "
        f"SUBSTRING({c}, 13, 2) AS DATE)"
    )


def resident_id_core(v: str) -> str:
    return f"UPPER({_stripped(v, '[0-9]{17}[0-9Xx]')})"


def resident_id_fails(c: str, today: dt.date) -> str:
    total = " + ".join(f"{_digit(c, i + 1)} * {w}" for i, w in enumerate(ID_WEIGHTS))
    region = f"({region_ok(c)} OR {_in(f'SUBSTRING({c}, 1, 2)', RESIDENCE_PERMIT_PREFIXES)})"
    birth = (
        f"({id_birth_date(c)} BETWEEN DATE {lit(EARLIEST_BIRTH.isoformat())} "
        f"AND DATE {lit(today.isoformat())})"
    )
    check = f"SUBSTRING({lit(ID_CHECK_CHARS)}, ({total}) % 11 + 1, 1) = SUBSTRING({c}, 18, 1)"
    return f"COALESCE(NOT ({region} AND {birth} AND {check}), TRUE)"


def credit_code_core(v: str) -> str:
    return f"UPPER({_stripped(v, '[0-9A-Za-z]{18}')})"


def credit_code_fails(c: str, today: dt.date) -> str:
    del today
    charset = lit(CREDIT_CHARSET)
    values = [f"(STRPOS({charset}, SUBSTRING({c}, {i + 1}, 1)) - 1)" for i in range(17)]
    total = " + ".join(f"{v} * {w}" for v, w in zip(values, CREDIT_WEIGHTS, strict=True))
    pairs = [a + k for a, (_, categories) in REGISTRATION_AUTHORITIES.items() for k in categories]
    region = f"SUBSTRING({c}, 3, 6)"
    checks = [
        f"REGEXP_FULL_MATCH({c}, {lit('[0-9A-HJ-NP-RTUW-Y]{18}')})",
        _in(f"SUBSTRING({c}, 1, 2)", pairs),
        f"({region} = '100000' OR (REGEXP_FULL_MATCH({region}, '[0-9]{{6}}') AND "
        f"{region_ok(region)}))",
        f"SUBSTRING({charset}, (31 - ({total}) % 31) % 31 + 1, 1) = SUBSTRING({c}, 18, 1)",
    ]
    return f"COALESCE(NOT ({' AND '.join(checks)}), TRUE)"


def bank_card_core(v: str) -> str:
    low, high = BANK_CARD_DIGITS
    # Leading zeros do not change a Luhn sum: padding to 19 gives every card the same terms.
    return f"LPAD({_stripped(v, f'[0-9]{{{low},{high}}}')}, {high}, '0')"


def bank_card_fails(c: str, today: dt.date) -> str:
    del today
    width = BANK_CARD_DIGITS[1]
    terms = []
    for j in range(1, width + 1):
        if (width + 1 - j) % 2 == 0:  # every second digit from the right is doubled
            terms.append(f"(ASCII(SUBSTRING('0246813579', {_digit(c, j)} + 1, 1)) - 48)")
        else:
            terms.append(_digit(c, j))
    return f"COALESCE(NOT (({' + '.join(terms)}) % 10 = 0), TRUE)"


def mobile_core(v: str) -> str:
    return _stripped(v, MOBILE_PATTERN)


def mobile_fails(c: str, today: dt.date) -> str:
    del today
    return f"({c} IS NULL)"


def region_code_core(v: str) -> str:
    # check_region_code does not strip: the value itself must be the 6 digits.
    return f"CASE WHEN REGEXP_FULL_MATCH({v}, '[0-9]{{6}}') THEN {v} END"


def region_code_fails(c: str, today: dt.date) -> str:
    del today
    return f"COALESCE(NOT {region_ok(c)}, TRUE)"


@dataclass(frozen=True)
class Validator:
    """A checksum validator: its name (a rule's ``validator`` parameter) and its SQL."""

    name: str
    core: Callable[[str], str]
    fails: Callable[[str, dt.date], str]


VALIDATORS: dict[str, Validator] = {
    v.name: v
    for v in (
        Validator("resident_id", resident_id_core, resident_id_fails),
        Validator("credit_code", credit_code_core, credit_code_fails),
        Validator("bank_card", bank_card_core, bank_card_fails),
        Validator("mobile", mobile_core, mobile_fails),
        Validator("region_code", region_code_core, region_code_fails),
    )
}


def fails_inline(name: str, v: str, today: dt.date) -> str:
    """One condition, TRUE when the text ``v`` fails validator ``name`` (for row filters,
    where no inner projection can hold the core)."""
    validator = VALIDATORS[name]
    return validator.fails(f"({validator.core(v)})", today)
