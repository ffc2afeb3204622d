"""How the column level weighs each detector beyond its ``match``: the method and strength of
its validation, values that count only under a column-name cue, cues that rule a kind out,
and which kinds exclude each other value by value.

Lexicon detectors (person names, addresses …, from ``lexical``) get :data:`LEXICON`."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from longshu.governance.detect.arrays import as_text, embeds_digits, holds, scatter
from longshu.governance.detect.base import Detector
from longshu.governance.detect.documents import taiwan_permit_shape_only
from longshu.governance.detect.names import names_under_a_name_column
from longshu.governance.detect.network import coordinate_numbers

# Values that count as a kind because of the column's name: (values, column name) → bools.
NamedMatcher = Callable[[pa.Array, str], np.ndarray]


@dataclass(frozen=True)
class Profile:
    """``strength``: how sure one validated hit is (0..1); ``shape_only``: values the matcher
    accepts by shape alone, counted only when the column name cues the kind; ``by_name``:
    further values counted when the name says so (numeric 经度/纬度 columns); ``anti_cues``:
    column names under which the kind is not reported (a version column's 1.2.3.4);
    ``lengths``: the shortest and longest trimmed value (in characters) the kind can have,
    so a column holding no value of such a length is not read for it at all; ``embedded``:
    an RE2 pattern whose group ``v`` pulls the first candidate out of a longer text (备注:
    联系电话13809310000), which then faces the matcher like a whole value."""

    method: str
    strength: float
    lengths: tuple[int, int] = (1, 1 << 30)
    embedded: str | None = None
    embedded_in: Callable[[pa.Array], np.ndarray] = lambda values: np.ones(len(values), bool)
    needs: tuple[str, ...] = ()
    shape_only: Callable[[pa.Array], np.ndarray] | None = None
    by_name: NamedMatcher | None = None
    anti_cues: tuple[str, ...] = ()


LEXICON = Profile("lexicon", 0.6, needs=("non-ascii",))

_CODE_CHAR = "[0-9A-HJ-NPQRTUWXY]"
PROFILES: dict[str, Profile] = {
    "resident_id": Profile(
        "checksum",
        0.97,
        lengths=(18, 18),
        embedded=r"(?:^|[^0-9A-Za-z])(?P<v>[0-9]{17}[0-9Xx])(?:[^0-9A-Za-z]|$)",
        embedded_in=embeds_digits(11),
    ),
    "credit_code": Profile(
        "checksum",
        0.97,
        lengths=(18, 18),
        embedded=f"(?:^|[^0-9A-Za-z])(?P<v>{_CODE_CHAR}{{2}}[0-9]{{6}}{_CODE_CHAR}{{10}})"
        "(?:[^0-9A-Za-z]|$)",
        embedded_in=embeds_digits(6),
    ),
    # Luhn passes one random number in ten: weaker than MOD 11-2 with a calendar and region
    "bank_card": Profile(
        "checksum",
        0.85,
        lengths=(16, 64),
        embedded=r"(?:^|[^0-9A-Za-z])(?P<v>[0-9]{16,19})(?:[^0-9A-Za-z]|$)",
        embedded_in=embeds_digits(11),
    ),
    "mobile": Profile(
        "pattern",
        0.8,
        lengths=(11, 24),
        embedded=r"(?:^|[^0-9A-Za-z])(?P<v>(?:\+?86)?1[3-9][0-9]{9})(?:[^0-9A-Za-z]|$)",
        embedded_in=embeds_digits(11),
    ),
    "landline": Profile("pattern", 0.7, lengths=(10, 30)),
    "email": Profile(
        "pattern",
        0.9,
        lengths=(6, 320),
        embedded=r"(?P<v>[A-Za-z0-9._%+\-]+@[A-Za-z0-9\-]+(?:\.[A-Za-z0-9\-]+)*\.[A-Za-z]{2,})",
        embedded_in=lambda values: holds(values, "@"),
        needs=("@",),
    ),
    "ip": Profile(
        "pattern",
        0.75,
        anti_cues=(r"版本", r"version", r"(?:^|_)ver(?:$|_)", r"^v$", r"bbh"),
        lengths=(2, 45),
        needs=(".", ":"),
    ),
    "coordinate": Profile(
        "pattern", 0.75, by_name=coordinate_numbers, lengths=(3, 80), needs=(".",)
    ),
    "passport": Profile("pattern", 0.6, lengths=(9, 9)),
    "hk_macao_permit": Profile("pattern", 0.6, lengths=(9, 11)),
    "taiwan_permit": Profile("pattern", 0.5, shape_only=taiwan_permit_shape_only, lengths=(8, 9)),
    "plate": Profile("pattern", 0.85, lengths=(7, 16), needs=("non-ascii",)),
    # under 姓名/联系人/xm, names that are also words (高峰, 高兴) count too
    "person_name": Profile("lexicon", 0.6, by_name=names_under_a_name_column, needs=("non-ascii",)),
}

# One value is one of these at most: a value valid as an ID is an ID (then a credit code, then
# a card) unless the column's name cues another of them, or that other kind holds the majority.
EXCLUSIVE = ("resident_id", "credit_code", "bank_card")


def profile(code: str) -> Profile:
    return PROFILES.get(code, LEXICON)


@lru_cache(maxsize=4096)
def _cued(patterns: tuple[str, ...], column: str) -> bool:
    name = column.strip().lower()
    return any(re.search(p, name) for p in patterns)


def name_cued(detector: Detector, column: str | None) -> bool:
    """Does ``column`` carry one of the detector's name cues?"""
    return bool(column) and _cued(detector.name_cues, column)


def name_excluded(detector: Detector, column: str | None) -> bool:
    """Does ``column`` carry an anti-cue of the detector (e.g. a version column for IP)?"""
    anti = profile(detector.code).anti_cues
    return bool(column) and bool(anti) and _cued(anti, column)


@dataclass(frozen=True)
class Verdict:
    """Per value: ``hits`` (counts as the kind), ``by_name`` (counts only because of the
    column's name) and, where a hit was pulled out of a longer text, ``shown``: the text to
    mask for an example (None when every hit is a whole value)."""

    hits: np.ndarray
    by_name: np.ndarray
    shown: pa.Array | None = None


def kind_hits(detector: Detector, values: pa.Array, column: str | None) -> Verdict:
    """Does each value count as the detector's kind in a column so named? The matcher's
    verdict, less shape-only matches without a name cue, plus the by-name values, plus values
    holding the kind inside a longer text (``embedded``). ``needs``: characters one of which
    every value of the kind holds ("non-ascii": any character outside ASCII); a column where
    no value holds one is not read for the kind."""
    none = np.zeros(len(values), dtype=bool)
    if name_excluded(detector, column):
        return Verdict(none, none)
    rules = profile(detector.code)
    hits = np.asarray(detector.match(values), dtype=bool)
    by_name = none
    if rules.shape_only is not None:
        shape = np.asarray(rules.shape_only(values), dtype=bool) & hits
        if name_cued(detector, column):
            by_name = shape
        else:
            hits = hits & ~shape
    if rules.by_name is not None and column:
        named = rules.by_name(values, column) & ~hits
        hits = hits | named
        by_name = by_name | named
    shown = None
    if rules.embedded is not None:
        hits, shown = _embedded(detector, rules, values, hits)
    return Verdict(hits, by_name, shown)


def _embedded(
    detector: Detector, rules: Profile, values: pa.Array, hits: np.ndarray
) -> tuple[np.ndarray, pa.Array | None]:
    text = as_text(values)
    longer = pc.greater(pc.utf8_length(text), rules.lengths[0]).fill_null(False)
    candidates = np.asarray(longer, dtype=bool) & ~hits
    if candidates.any():  # only a value with a delimiter (or an @) can hold one
        candidates &= rules.embedded_in(values)
    if not candidates.any():
        return hits, None
    pulled = pc.extract_regex(text.filter(pa.array(candidates)), rules.embedded).field("v")
    found = np.asarray(detector.match(pulled), dtype=bool)
    if not found.any():
        return hits, None
    inside = scatter(candidates, found)
    taken = np.full(len(text), None, dtype=object)
    taken[inside] = pulled.filter(pa.array(found)).to_pylist()
    shown = pc.if_else(pa.array(inside), pa.array(taken, type=text.type), text)
    return hits | inside, shown
