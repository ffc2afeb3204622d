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


# A resident ID number's core is packed into one BIGINT, body × 11 + check value (X = 10):
# the checks below are then integer arithmetic, several times faster in DuckDB than slicing
# text. 17 digits × 11 < 2**63.
_ID_CHECK_VALUE = "0123456789X"


def _id_digits(p: str, first: int, count: int) -> str:
    """Digits ``first``..``first+count-1`` (1-based) of the body of a packed ID, as a number."""
    shift = 11 * 10 ** (17 - (first + count - 1))
    return f"({p} // {shift} % {10**count})"


def id_birth_ymd(p: str) -> str:
    """Digits 7–14 of a packed ID as the number yyyymmdd."""
    return _id_digits(p, 7, 8)


def id_birth_valid(p: str) -> str:
    """Is yyyymmdd of a packed ID a real calendar date (any year)?"""
    ymd = id_birth_ymd(p)
    y, m, d = f"({ymd} // 10000)", f"({ymd} // 100 % 100)", f"({ymd} % 100)"
    leap = f"(CASE WHEN ({y} % 4 = 0 AND {y} % 100 <> 0) OR {y} % 400 = 0 THEN 1 ELSE 0 END)"
    days = f"(CASE WHEN {m} = 2 THEN 28 + {leap} WHEN {m} IN (4, 6, 9, 11) THEN 30 ELSE 31 END)"
    return f"({y} >= 1 AND {m} BETWEEN 1 AND 12 AND {d} BETWEEN 1 AND {days})"


def id_odd(p: str) -> str:
    """Is the sequence code of a packed ID odd (male)?"""
    return f"({_id_digits(p, 17, 1)} % 2 = 1)"


def date_ymd(value: str) -> str:
    """A DATE as the number yyyymmdd."""
    return f"(YEAR({value}) * 10000 + MONTH({value}) * 100 + DAY({value}))"


def resident_id_core(v: str) -> str:
    # Fast paths for the usual values, 18 digits (read as one number n: the packed core is
    # n + n // 10) or 17 digits and X; only other values pay for stripping white space.
    x = f"UPPER({_stripped(v, '[0-9]{17}[0-9Xx]')})"
    return (
        f"(CASE WHEN REGEXP_FULL_MATCH({v}, '[0-9]{{18}}') "
        f"THEN TRY_CAST({v} AS BIGINT) + TRY_CAST({v} AS BIGINT) // 10 "
        f"WHEN REGEXP_FULL_MATCH({v}, '[0-9]{{17}}[Xx]') "
        f"THEN TRY_CAST(LEFT({v}, 17) AS BIGINT) * 11 + 10 "
        f"ELSE TRY_CAST(LEFT({x}, 17) AS BIGINT) * 11 + "
        f"STRPOS({lit(_ID_CHECK_VALUE)}, RIGHT({x}, 1)) - 1 END)"
    )


def resident_id_fails(p: str, today: dt.date) -> str:
    # Digits come from three 32-bit chunks (one 64-bit division each, shared by DuckDB's
    # common-subexpression pass): 32-bit divisions cost about half of 64-bit ones.
    terms = []
    for first, count in ((1, 6), (7, 6), (13, 5)):
        chunk = f"CAST({_id_digits(p, first, count)} AS INTEGER)"
        for k in range(count):
            weight = ID_WEIGHTS[first - 1 + k]
            terms.append(f"({chunk} // {10 ** (count - 1 - k)} % 10) * {weight}")
    total = " + ".join(terms)
    # ID_CHECK_CHARS[s] as a value (X = 10) is (12 - s) mod 11.
    assert all(ID_CHECK_CHARS[s] == _ID_CHECK_VALUE[(12 - s) % 11] for s in range(11))
    check = f"(12 - ({total}) % 11) % 11 = {p} % 11"
    prefix, mid, tail = _id_digits(p, 1, 2), _id_digits(p, 3, 2), _id_digits(p, 5, 2)
    provinces = ", ".join(sorted(str(int(x)) for x in PROVINCE_PREFIXES))
    permits = ", ".join(sorted(str(int(x)) for x in RESIDENCE_PERMIT_PREFIXES))
    region = f"(({prefix} IN ({provinces}) AND NOT ({mid} = 0 AND {tail} <> 0)) OR {prefix} IN ({permits}))"
    earliest, latest = (int(d.strftime("%Y%m%d")) for d in (EARLIEST_BIRTH, today))
    birth = f"({id_birth_valid(p)} AND {id_birth_ymd(p)} BETWEEN {earliest} AND {latest})"
    return f"COALESCE(NOT ({region} AND {birth} AND {check}), TRUE)"


# The same checks over *staged* columns: a quality statement computes the packed core once,
# then its parts (yyyymmdd, three digit chunks, the check value) as columns of a projection,
# then year, month, day and province from those — each once per row. DuckDB does not reliably
# share the repeated sub-expressions of the inline forms above; staged, the checks cost half.


def _col(base: str, part: str) -> str:
    return f'"{base}_{part}"'


def id_stages(base: str) -> list[dict[str, str]]:
    """Two projection levels of named parts of the packed core in column ``base``."""
    p = f'"{base}"'
    first = {
        f"{base}_ymd": f"CAST({id_birth_ymd(p)} AS INTEGER)",
        f"{base}_a": f"CAST({_id_digits(p, 1, 6)} AS INTEGER)",
        f"{base}_b": f"CAST({_id_digits(p, 7, 6)} AS INTEGER)",
        f"{base}_c": f"CAST({_id_digits(p, 13, 5)} AS INTEGER)",
        f"{base}_k": f"CAST({p} % 11 AS INTEGER)",
    }
    ymd, a = _col(base, "ymd"), _col(base, "a")
    second = {
        f"{base}_y": f"{ymd} // 10000",
        f"{base}_m": f"{ymd} // 100 % 100",
        f"{base}_d": f"{ymd} % 100",
        f"{base}_pre": f"{a} // 10000",
    }
    return [first, second]


def staged_birth_ymd(base: str) -> str:
    return _col(base, "ymd")


def staged_birth_valid(base: str) -> str:
    y, m, d = _col(base, "y"), _col(base, "m"), _col(base, "d")
    leap = f"(CASE WHEN ({y} % 4 = 0 AND {y} % 100 <> 0) OR {y} % 400 = 0 THEN 1 ELSE 0 END)"
    days = f"(CASE WHEN {m} = 2 THEN 28 + {leap} WHEN {m} IN (4, 6, 9, 11) THEN 30 ELSE 31 END)"
    return f"({y} >= 1 AND {m} BETWEEN 1 AND 12 AND {d} BETWEEN 1 AND {days})"


def staged_odd(base: str) -> str:
    return f"({_col(base, 'c')} % 2 = 1)"


def staged_resident_id_fails(base: str, today: dt.date) -> str:
    terms = []
    for part, count, offset in (("a", 6, 0), ("b", 6, 6), ("c", 5, 12)):
        chunk = _col(base, part)
        for k in range(count):
            terms.append(f"({chunk} // {10 ** (count - 1 - k)} % 10) * {ID_WEIGHTS[offset + k]}")
    check = f"(12 - ({' + '.join(terms)}) % 11) % 11 = {_col(base, 'k')}"
    a, pre = _col(base, "a"), _col(base, "pre")
    provinces = ", ".join(sorted(str(int(x)) for x in PROVINCE_PREFIXES))
    permits = ", ".join(sorted(str(int(x)) for x in RESIDENCE_PERMIT_PREFIXES))
    region = (
        f"(({pre} IN ({provinces}) AND NOT ({a} // 100 % 100 = 0 AND {a} % 100 <> 0)) "
        f"OR {pre} IN ({permits}))"
    )
    earliest, latest = (int(d.strftime("%Y%m%d")) for d in (EARLIEST_BIRTH, today))
    birth = f"({staged_birth_valid(base)} AND {_col(base, 'ymd')} BETWEEN {earliest} AND {latest})"
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
    return f"(CASE WHEN REGEXP_FULL_MATCH({v}, '[0-9]{{6}}') THEN TRY_CAST({v} AS INTEGER) END)"


def region_code_fails(r: str, today: dt.date) -> str:
    del today
    provinces = ", ".join(sorted(str(int(x)) for x in PROVINCE_PREFIXES))
    ok = f"({r} // 10000 IN ({provinces}) AND NOT ({r} // 100 % 100 = 0 AND {r} % 100 <> 0))"
    return f"COALESCE(NOT {ok}, TRUE)"


@dataclass(frozen=True)
class Validator:
    """A checksum validator: its name (a rule's ``validator`` parameter) and its SQL."""

    name: str
    core: Callable[[str], str]
    fails: Callable[[str, dt.date], str]
    # optional staged form: projection levels over the core's column, and the test over them
    stages: Callable[[str], list[dict[str, str]]] | None = None
    staged_fails: Callable[[str, dt.date], str] | None = None


VALIDATORS: dict[str, Validator] = {
    v.name: v
    for v in (
        Validator(
            "resident_id", resident_id_core, resident_id_fails, id_stages, staged_resident_id_fails
        ),
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
