"""地址: does a value hold a postal address? An address names where someone lives or can be
found: a division (甘肃省兰州市城关区, or just 城关区) followed by a street, a village or
estate, or a house number; or a street with a number (庆阳路88号); or a village or estate
with a group or house number (袁家营村3组, 阳光小区3栋2单元). A division alone (兰州市, 甘肃省
兰州市城关区, 和平镇) is a region, not an address, and names ending like a body (…有限公司,
…医院, …小学) are organisations.

The grammar is a set of RE2 expressions run by Arrow over the whole column: no Python per
value, so a million addresses take about as long as a few passes over their bytes."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from longshu.governance.detect.lexicon_files import read_lexicon
from longshu.governance.detect.lexicon_values import by_distinct, han_mask, regex_any, trimmed
from longshu.orgs.regions import region_data

# Longer cells are free text (remarks, descriptions), not an address field.
MAX_ADDRESS_CHARS = 80
MIN_ADDRESS_CHARS = 4

# A house, building or group number: Arabic (full-width too, 12-3), Chinese (二十三) or one
# letter (A座, B栋).
_NUMBER = r"(?:[0-9０-９]+(?:[-－][0-9０-９]+)*|[一二三四五六七八九十百零〇两]+|[A-Za-zＡ-Ｚ])"


def _alternation(entries: list[str]) -> str:
    # longest first: RE2 prefers the leftmost alternative that lets the whole match succeed
    return "|".join(re.escape(e) for e in sorted(set(entries), key=len, reverse=True))


def region_names() -> list[str]:
    """Divisions the detector knows by name, so that 兰州城关区 or 甘肃 counts even without
    a 市 or 省: Gansu's province, cities and counties (name and short name, from the orgs
    package's region list) and the country's provinces (data/regions_china.txt). Other
    divisions are known by their suffix (…市, …县, …镇)."""
    names = list(read_lexicon("regions_china"))
    for region in region_data()["regions"]:
        names.extend(n for n in (region["name"], region["short_name"]) if len(n) >= 2)
    return names


@dataclass(frozen=True)
class AddressGrammar:
    """RE2 expressions over a value (with 街道 read as 镇 and ``not_streets`` hidden): a value
    is an address when it holds ``address``, does not end as an ``organisation`` unless it
    also holds a house number (a ``unit``), and does not end as a division unless it ends as
    an estate (西津西路街道 is a division, 城关区阳光小区 an estate)."""

    address: str
    not_streets: str
    unit: str
    organisation: str
    division_end: str
    estate_end: str


@lru_cache(maxsize=1)
def address_grammar() -> AddressGrammar:
    """The grammar built from data/address_parts.txt and the region names."""
    parts: dict[str, list[str]] = {}
    for entry in read_lexicon("address_parts"):
        parts.setdefault(entry[0], []).append(entry[1:])
    admin = rf"(?:{_alternation(region_names())}|\p{{Han}}(?:{_alternation(parts['A'])}))"
    street = rf"\p{{Han}}[\p{{Han}}0-9０-９]{{0,12}}?(?:{_alternation(parts['S'])})"
    place = rf"\p{{Han}}{{1,12}}?(?:{_alternation(parts['P'])})"
    unit = rf"{_NUMBER}(?:{_alternation(parts['U'])})"
    group = rf"{_NUMBER}(?:{_alternation(parts['G'])})"
    address = (
        rf"(?:{street}).{{0,20}}?(?:{unit})"
        rf"|(?:{admin}).{{0,40}}?(?:{street}|{place}|{unit})"
        rf"|(?:{place}).{{0,20}}?(?:{group}|{unit})"
    )
    return AddressGrammar(
        address=address,
        not_streets=_alternation(parts["X"]),
        unit=unit,
        organisation=rf"(?:{_alternation(parts['O'])})$",
        division_end=rf"(?:{_alternation(parts['A'])})$",
        estate_end=rf"(?:{_alternation(parts['P'])})$",
    )


def _judge(distinct: pa.Array) -> np.ndarray:
    grammar = address_grammar()
    # 街道 is a division (城关区东岗街道), never a street ending in 街
    text = pc.replace_substring(distinct, "街道", "镇")
    # 公路, 铁路, 思路 end in 路 but name no street: hidden from the grammar
    text = pc.replace_substring_regex(text, grammar.not_streets, "#")
    long_enough = np.asarray(
        pc.greater_equal(pc.utf8_length(text), MIN_ADDRESS_CHARS).to_numpy(zero_copy_only=False)
    )
    found = long_enough & regex_any(text, grammar.address)
    if found.any():
        # …庆阳路支行 is a body; …新华东路68号金川集团公司 a body at its house number
        found &= ~(regex_any(text, grammar.organisation) & ~regex_any(text, grammar.unit))
        found &= ~(regex_any(text, grammar.division_end) & ~regex_any(text, grammar.estate_end))
    return found


def match_addresses(values: pa.Array) -> np.ndarray:
    """One bool per value: does it read as a postal address (see the module's rules)? Nulls,
    blank cells and cells longer than ``MAX_ADDRESS_CHARS`` are False."""
    has_han = han_mask(values)
    if not has_han.any():
        return np.zeros(len(values), dtype=bool)
    text = trimmed(values, MAX_ADDRESS_CHARS)
    has_han = has_han & np.asarray(pc.is_valid(text), dtype=bool)
    candidates = text.filter(pa.array(has_han))
    out = np.zeros(len(text), dtype=bool)
    out[np.flatnonzero(has_han)] = by_distinct(candidates, _judge)
    return out
