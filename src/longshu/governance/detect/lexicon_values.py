"""Column text prepared once for the word-based detectors: decoded, trimmed, long cells set
aside, and repeated values judged once (a column of a million names holds a few tens of
thousands of distinct ones)."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from longshu.governance.detect.arrays import as_text


def text_of(values: pa.Array | pa.ChunkedArray) -> pa.Array:
    """``values`` as one plain string array (chunks joined, dictionaries decoded)."""
    if isinstance(values, pa.ChunkedArray):
        values = values.combine_chunks()
    return as_text(values)


def trimmed(values: pa.Array, max_chars: int) -> pa.Array:
    """``values`` as trimmed text; cells longer than ``max_chars`` code units become null, so
    no detector spends time on a megabyte of text it would not call a name or an address."""
    text = text_of(values)
    fits = pc.less_equal(pc.binary_length(text), max_chars * 4)  # UTF-8: ≤ 4 bytes a char
    text = pc.if_else(fits, text, pa.scalar(None, text.type))
    text = pc.utf8_trim_whitespace(text)
    short = pc.less_equal(pc.utf8_length(text), max_chars)
    return pc.if_else(short, text, pa.scalar(None, text.type))


def head(values: pa.Array, max_chars: int) -> pa.Array:
    """``values`` as trimmed text cut to their first ``max_chars`` characters (free text: a
    diagnosis is named early in a note, and a regular expression over a megabyte cell would
    cost more than the rest of the column)."""
    text = text_of(values)
    cut = pc.utf8_slice_codeunits(text, 0, max_chars)
    return pc.utf8_trim_whitespace(cut)


def by_distinct(values: pa.Array, judge: Callable[[pa.Array], np.ndarray]) -> np.ndarray:
    """One bool per value: ``judge`` sees each distinct non-null value once (as an array
    without nulls) and returns one bool for each; nulls are False."""
    n = len(values)
    if n == 0 or values.null_count == n:
        return np.zeros(n, dtype=bool)
    encoded = pc.dictionary_encode(values)
    distinct = encoded.dictionary
    verdicts = np.asarray(judge(distinct), dtype=bool) if len(distinct) else np.zeros(0, bool)
    indices = encoded.indices
    out = np.zeros(n, dtype=bool)
    valid = np.asarray(pc.is_valid(indices).to_numpy(zero_copy_only=False), dtype=bool)
    picked = indices.fill_null(0).to_numpy(zero_copy_only=False)
    out[valid] = verdicts[picked[valid]]
    return out


def regex_any(values: pa.Array, pattern: str) -> np.ndarray:
    """One bool per value: does ``pattern`` (RE2) occur in it? Nulls are False."""
    if len(values) == 0:
        return np.zeros(0, dtype=bool)
    found = pc.match_substring_regex(values, pattern)
    return np.asarray(found.fill_null(False).to_numpy(zero_copy_only=False), dtype=bool)


def member_of(values: pa.Array, entries: pa.Array) -> np.ndarray:
    """One bool per value: is it one of ``entries``? Nulls are False."""
    if len(values) == 0:
        return np.zeros(0, dtype=bool)
    found = pc.is_in(values, value_set=entries.cast(values.type), skip_nulls=True)
    return np.asarray(found.fill_null(False).to_numpy(zero_copy_only=False), dtype=bool)


# The mask of the array last asked about: every lexicon detector asks for it on the same
# column in turn, and all but one pass of RE2 over a million cells is saved. The array is
# held until the next one is asked about, so the identity test cannot be fooled.
_last_han: list[tuple[pa.Array, np.ndarray]] = []


def han_mask(values: pa.Array | pa.ChunkedArray) -> np.ndarray:
    """One bool per value: does it hold a Han character (汉字)? Nulls are False."""
    if _last_han and _last_han[0][0] is values:
        return _last_han[0][1]
    mask = regex_any(text_of(values), r"\p{Han}")
    _last_han[:] = [(values, mask)]
    return mask
