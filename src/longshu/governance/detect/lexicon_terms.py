"""Detectors backed by a word list (词表): a value is of a kind when it *is* one of the
list's values (民族, 宗教, 婚姻状况 …), *contains* one of its terms (疾病, 药品, 刑罚 …) or
has one of its forms (…症, …罪). The tests run in Arrow over the whole column — ``is_in``
against a set, RE2 alternations — with no Python per value."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache

import numpy as np
import pyarrow as pa

from longshu.governance.detect.address import address_grammar
from longshu.governance.detect.base import Matcher
from longshu.governance.detect.lexicon_files import read_lexicon
from longshu.governance.detect.lexicon_values import (
    han_mask,
    head,
    member_of,
    regex_any,
    trimmed,
)

# Whole-value lists hold short values; longer cells cannot be one of them.
MAX_VALUE_CHARS = 32
# Free text is searched in its first this-many characters (a diagnosis or sentence is
# stated early; a regular expression over a megabyte cell would cost more than the column).
MAX_TEXT_CHARS = 2000

# A disease or crime named by its form (…症, …罪) is a short value.
MAX_FORM_CHARS = 24


@dataclass(frozen=True)
class TermList:
    """A term list read from ``data/<name>.txt`` by the marker each line starts with:
    none — a term found anywhere in a value; ``=`` (or ``+``) — a whole value; ``^`` — the
    ending of a short value naming one (…症, …罪); ``~`` — an ending that makes a value
    about a thing or campaign instead (血压计, 预防犯罪); ``!`` — a word that makes it
    about crops or livestock (条锈病, 猪瘟); ``-`` — an ethnic group's short form refused."""

    terms: tuple[str, ...]
    whole: tuple[str, ...]
    form_endings: tuple[str, ...]
    not_endings: tuple[str, ...]
    not_words: tuple[str, ...]


@cache
def term_list(name: str) -> TermList:
    """The markers of ``data/<name>.txt`` sorted into a ``TermList``."""
    entries = read_lexicon(name)

    def marked(marker: str) -> tuple[str, ...]:
        return tuple(e[1:] for e in entries if e[0] == marker)

    return TermList(
        terms=tuple(e for e in entries if e[0] not in "=+-^~!"),
        whole=marked("=") + marked("+"),
        form_endings=marked("^"),
        not_endings=marked("~"),
        not_words=marked("!"),
    )


def _alternation(entries: tuple[str, ...]) -> str:
    return "|".join(re.escape(t) for t in sorted(entries, key=len, reverse=True))


@cache
def whole_values(name: str) -> pa.Array:
    """The accepted whole values of ``data/<name>.txt``: its terms and '=' and '+' lines;
    for the ethnic-group list also each 族 name without 族 unless listed with '-'."""
    terms = term_list(name)
    accepted = set(terms.terms) | set(terms.whole)
    if name == "ethnic_groups":
        refused = {e[1:] for e in read_lexicon(name) if e.startswith("-")}
        accepted |= {e[:-1] for e in terms.terms if e.endswith("族") and e[:-1] not in refused}
    return pa.array(sorted(accepted), pa.large_string())


def _all_han(name: str) -> bool:
    # then a column without a Han character holds none of the list's values or terms
    return all(re.search(r"[\u4e00-\u9fff]", v) for v in whole_values(name).to_pylist())


def exact_matcher(name: str) -> Matcher:
    """A matcher: is the trimmed value one of the list's whole values?"""
    all_han = _all_han(name)

    def match(values: pa.Array) -> np.ndarray:
        if all_han and not han_mask(values).any():
            return np.zeros(len(values), dtype=bool)
        return member_of(trimmed(values, MAX_VALUE_CHARS), whole_values(name))

    return match


def term_matcher(name: str) -> Matcher:
    """A matcher: is the trimmed value one of the list's whole values, or does it contain
    one of its terms, or is it a short value of one of its forms (…症, …罪) — unless it ends
    as an organisation's name (传染病医院), as a thing or campaign (血压计, 预防犯罪), or
    speaks of crops or livestock (条锈病)?"""
    terms = term_list(name)
    contains = _alternation(terms.terms)
    form = rf"^\p{{Han}}{{1,{MAX_FORM_CHARS}}}(?:{_alternation(terms.form_endings)})$"
    not_ending = rf"(?:{_alternation(terms.not_endings)})$" if terms.not_endings else ""
    not_words = _alternation(terms.not_words)
    all_han = _all_han(name)

    def match(values: pa.Array) -> np.ndarray:
        if all_han and not han_mask(values).any():
            return np.zeros(len(values), dtype=bool)
        text = head(values, MAX_TEXT_CHARS)
        short = trimmed(values, MAX_VALUE_CHARS)
        found = regex_any(text, contains) if contains else np.zeros(len(text), bool)
        if terms.form_endings:
            found |= regex_any(short, form)
        if found.any():
            vetoes = "|".join(p for p in (address_grammar().organisation, not_ending) if p)
            found &= ~regex_any(text, vetoes)
            if not_words:
                found &= ~regex_any(text, not_words)
        return found | member_of(short, whole_values(name))

    return match
