"""Detectors backed by a word list (词表): a value is of a kind when it *is* one of the
list's values (民族, 宗教, 婚姻状况 …) or *contains* one of its terms (疾病, 药品, 刑罚 …).
Both tests run in Arrow over the whole column — ``is_in`` against a set, one RE2
alternation — with no Python per value."""

from __future__ import annotations

import re
from functools import cache

import numpy as np
import pyarrow as pa

from longshu.governance.detect.address import address_grammar
from longshu.governance.detect.base import Matcher
from longshu.governance.detect.lexicon_files import read_lexicon
from longshu.governance.detect.lexicon_values import head, member_of, regex_any, trimmed

# Whole-value lists hold short values; longer cells cannot be one of them.
MAX_VALUE_CHARS = 32
# Free text is searched in its first this-many characters (a diagnosis or sentence is
# stated early; a regular expression over a megabyte cell would cost more than the column).
MAX_TEXT_CHARS = 2000

# Crime names are …罪 (故意伤害罪, 危险驾驶罪); these endings make ordinary words instead
# (得罪, 谢罪, 预防犯罪, 认罪).
CRIME_NAME = r"^\p{Han}{1,18}罪$"
NOT_CRIME_NAME = (
    r"(?:犯|得|谢|请|赔|怪|问|恕|原|认|无|有|受|遭|顶|定|脱|治|论|归|开|负|赎|死|活)罪$"
)


@cache
def whole_values(name: str) -> pa.Array:
    """The accepted whole values of ``data/<name>.txt``: plain lines and '=' lines; for the
    ethnic-group list also each 族 name without 族 unless listed with '-'."""
    entries = read_lexicon(name)
    plain = [e for e in entries if e[0] not in "=+-"]
    accepted = set(plain) | {e[1:] for e in entries if e[0] in "=+"}
    if name == "ethnic_groups":
        refused = {e[1:] for e in entries if e.startswith("-")}
        accepted |= {e[:-1] for e in plain if e.endswith("族") and e[:-1] not in refused}
    return pa.array(sorted(accepted), pa.large_string())


@cache
def term_pattern(name: str) -> str:
    """One RE2 alternation of the terms of ``data/<name>.txt`` (lines without a marker)."""
    terms = [e for e in read_lexicon(name) if e[0] not in "=+-"]
    return "|".join(re.escape(t) for t in sorted(terms, key=len, reverse=True))


def exact_matcher(name: str) -> Matcher:
    """A matcher: is the trimmed value one of the list's whole values?"""

    def match(values: pa.Array) -> np.ndarray:
        return member_of(trimmed(values, MAX_VALUE_CHARS), whole_values(name))

    return match


def term_matcher(name: str) -> Matcher:
    """A matcher: is the trimmed value one of the list's whole values, or does it contain
    one of its terms without ending as an organisation's name (传染病医院, 残疾人联合会)?"""

    def match(values: pa.Array) -> np.ndarray:
        text = head(values, MAX_TEXT_CHARS)
        found = regex_any(text, term_pattern(name))
        if found.any():
            found &= ~regex_any(text, address_grammar().organisation)
        return found | member_of(trimmed(values, MAX_VALUE_CHARS), whole_values(name))

    return match


def match_criminal_records(values: pa.Array) -> np.ndarray:
    """Criminal-record terms (``term_matcher('criminal_terms')``) or a crime's name."""
    found = term_matcher("criminal_terms")(values)
    short = trimmed(values, 20)
    named = regex_any(short, CRIME_NAME) & ~regex_any(short, NOT_CRIME_NAME)
    return found | named
