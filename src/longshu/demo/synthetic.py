"""Vectorised building blocks of the synthetic Gansu data: valid 公民身份号码 and 统一社会信用代码
by the million, Chinese names and addresses drawn from small faker pools, fixed-width codes.

Everything is drawn from a ``numpy.random.Generator``: the same seed gives the same data.
faker (``zh_CN``) is called only to fill small pools (a few hundred names and streets);
rows pick from the pools by numpy index and are assembled by Arrow's compute kernels, so a
million rows cost a fraction of a second and never a million Python calls."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from faker import Faker

from longshu import ids
from longshu.orgs.regions import region_data

SLOTS = 500  # 3-digit sequence codes per region, birth day and sex (odd men, even women)
_CREDIT_VALUES = np.frombuffer(ids.CREDIT_CHARSET.encode("ascii"), dtype=np.uint8)


@dataclass(frozen=True)
class Place:
    """A county-level region (区县) with its city, as ``orgs`` lists them."""

    code: str
    name: str
    city_code: str
    city_name: str


def gansu_places() -> list[Place]:
    """Gansu's official county-level regions, plus 嘉峪关市 (a city without districts)."""
    regions = region_data()["regions"]
    names = {r["code"]: r["name"] for r in regions}
    places = [
        Place(r["code"], r["name"], r["parent"], names[r["parent"]])
        for r in regions
        if r["level"] == "county" and r["official"]
    ]
    places.append(Place("620200", "嘉峪关市", "620200", "嘉峪关市"))
    return sorted(places, key=lambda p: p.code)


def strings_from_bytes(matrix: np.ndarray) -> pa.StringArray:
    """An (n, w) array of ASCII bytes → n strings of width w, without a Python loop."""
    matrix = np.ascontiguousarray(matrix, dtype=np.uint8)
    n, width = matrix.shape
    offsets = np.arange(0, (n + 1) * width, width, dtype=np.int64)
    return pa.LargeStringArray.from_buffers(
        n, pa.py_buffer(offsets), pa.py_buffer(matrix.tobytes())
    ).cast(pa.string())


def decimal_digits(values: np.ndarray, width: int) -> np.ndarray:
    """Non-negative integers → their ``width`` decimal digits (n, width), zero-padded."""
    powers = 10 ** np.arange(width - 1, -1, -1, dtype=np.int64)
    return (np.asarray(values, dtype=np.int64)[:, None] // powers) % 10


class ResidentIds:
    """Draws unique valid 公民身份号码 across any number of batches.

    Within one region, birth day and sex the 3-digit sequence codes are handed out in turn
    (scrambled by a bijection mod 500, so they do not all start at 000), so no number repeats
    however many batches are drawn; the check digit is ``ids.resident_id_check_chars``."""

    def __init__(self, region_codes: list[str], born_from: dt.date, born_to: dt.date) -> None:
        for code in region_codes:
            ids.validate_region_code(code)
        self.regions = np.asarray([int(c) for c in region_codes], dtype=np.int64)
        self.born_from = np.datetime64(born_from, "D")
        self.days = (born_to - born_from).days + 1
        self.used = np.zeros(len(region_codes) * self.days * 2, dtype=np.int32)

    def draw(
        self, region_index: np.ndarray, birth_day: np.ndarray, male: np.ndarray
    ) -> pa.StringArray:
        """Numbers for people of the given region (index into the codes), birth day
        (days after ``born_from``) and sex."""
        cell = (region_index.astype(np.int64) * self.days + birth_day) * 2 + male
        order = np.argsort(cell, kind="stable")
        ordered = cell[order]
        n = len(cell)
        first = np.ones(n, dtype=bool)
        first[1:] = ordered[1:] != ordered[:-1]
        starts = np.maximum.accumulate(np.where(first, np.arange(n), 0))
        rank = np.empty(n, dtype=np.int64)
        rank[order] = np.arange(n) - starts
        turn = self.used[cell] + rank
        if n and int(turn.max()) >= SLOTS:
            raise ValueError("more than 500 people of one sex born on one day in one region")
        self.used += np.bincount(cell, minlength=len(self.used)).astype(np.int32)
        slot = (turn * 137 + cell) % SLOTS  # 137 is prime to 500: still one slot per turn
        births = self.born_from + birth_day.astype("timedelta64[D]")
        years = births.astype("datetime64[Y]").astype(np.int64) + 1970
        months = births.astype("datetime64[M]").astype(np.int64) % 12 + 1
        days = (births - births.astype("datetime64[M]")).astype(np.int64) + 1
        body = ((self.regions[region_index] * 10_000 + years) * 100 + months) * 100 + days
        body = body * 1000 + slot * 2 + male
        digits = decimal_digits(body, 17)
        checks = ids.resident_id_check_chars(digits).view(np.uint32).astype(np.uint8)
        chars = np.empty((n, 18), dtype=np.uint8)
        chars[:, :17] = digits + ord("0")
        chars[:, 17] = checks
        return strings_from_bytes(chars)


def credit_codes(
    rng: np.random.Generator,
    region_codes: np.ndarray,
    authority: str = "9",
    categories: np.ndarray | None = None,
) -> pa.StringArray:
    """Unique valid 统一社会信用代码 (strict check included) for the given 6-digit region
    codes: organisation bodies "MA" + 6 characters drawn without repetition, the GB 11714
    check character, then the MOD 31 check character — all as array arithmetic."""
    n = len(region_codes)
    if categories is None:
        categories = np.full(n, "1")
    serial = rng.choice(31**6, size=n, replace=False)
    body_values = np.empty((n, 8), dtype=np.int64)
    body_values[:, 0] = ids.CREDIT_VALUES["M"]
    body_values[:, 1] = ids.CREDIT_VALUES["A"]
    for i in range(6):
        body_values[:, 7 - i] = serial % 31
        serial //= 31
    body_chars = _CREDIT_VALUES[body_values]
    # GB 11714: digits count as themselves, letters as A=10, B=11, …
    org_values = np.where(body_chars <= ord("9"), body_chars - ord("0"), body_chars - ord("A") + 10)
    org_sum = org_values.astype(np.int64) @ np.asarray(ids.ORG_CODE_WEIGHTS, dtype=np.int64)
    org_check = 11 - org_sum % 11
    org_char = np.where(
        org_check == 11, ord("0"), np.where(org_check == 10, ord("X"), org_check + ord("0"))
    ).astype(np.uint8)
    chars = np.empty((n, 18), dtype=np.uint8)
    chars[:, 0] = ord(authority)
    chars[:, 1] = np.frombuffer("".join(categories).encode("ascii"), dtype=np.uint8)
    chars[:, 2:8] = decimal_digits(np.asarray(region_codes, dtype=np.int64), 6) + ord("0")
    chars[:, 8:16] = body_chars
    chars[:, 16] = org_char
    lookup = np.zeros(256, dtype=np.int64)
    lookup[_CREDIT_VALUES] = np.arange(31)
    total = lookup[chars[:, :17]] @ np.asarray(ids.CREDIT_WEIGHTS, dtype=np.int64)
    chars[:, 17] = _CREDIT_VALUES[(31 - total % 31) % 31]
    return strings_from_bytes(chars)


class Pools:
    """Small faker ``zh_CN`` pools, drawn once per seed; rows pick from them by index."""

    def __init__(self, seed: int, size: int = 400) -> None:
        fake = Faker("zh_CN")
        fake.seed_instance(seed)
        # repeats are kept: common surnames come up as often as faker makes them
        self.surnames = pa.array([fake.last_name() for _ in range(size)])
        self.given = pa.array([fake.first_name_male() for _ in range(size // 2)] +
                              [fake.first_name_female() for _ in range(size // 2)])  # fmt: skip
        self.streets = pa.array(sorted({fake.street_name() for _ in range(size)}))
        self.companies = pa.array(
            sorted({p for p in (fake.company_prefix() for _ in range(size)) if "公司" not in p})
        )

    def names(self, rng: np.random.Generator, n: int, male: np.ndarray | None = None) -> pa.Array:
        half = len(self.given) // 2
        given = rng.integers(0, half, n)
        if male is not None:
            given = given + np.where(male, 0, half)
        else:
            given = rng.integers(0, len(self.given), n)
        return pc.binary_join_element_wise(
            self.surnames.take(rng.integers(0, len(self.surnames), n)), self.given.take(given), ""
        )

    def addresses(self, rng: np.random.Generator, prefixes: pa.Array) -> pa.Array:
        """``prefixes`` (e.g. 甘肃省兰州市城关区 per row) + a street + a house number."""
        n = len(prefixes)
        number = pc.cast(pa.array(rng.integers(1, 400, n)), pa.string())
        street = self.streets.take(rng.integers(0, len(self.streets), n))
        return pc.binary_join_element_wise(prefixes, street, number, pa.scalar("号"), "")


def table_rng(seed: int, table: str) -> np.random.Generator:
    """The generator of one table for a seed (tables draw independently of each other)."""
    return np.random.default_rng([seed, sum(ord(c) * 31**i for i, c in enumerate(table)) % 2**32])


def day_range(first: dt.date, last: dt.date) -> np.ndarray:
    """Every day from ``first`` to ``last`` (inclusive) as ``datetime64[D]``."""
    return np.arange(np.datetime64(first, "D"), np.datetime64(last, "D") + 1)


def pick(
    values: list[str], rng: np.random.Generator, n: int, p: list[float] | None = None
) -> pa.Array:
    """``n`` values drawn from ``values`` (with probabilities ``p``) as an Arrow array."""
    weights = None if p is None else np.asarray(p, dtype=np.float64) / sum(p)
    return pa.array(values).take(rng.choice(len(values), size=n, p=weights))
