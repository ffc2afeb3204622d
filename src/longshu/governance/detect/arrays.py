"""Array helpers the structured detectors share: normalise a column's text once, pre-filter
candidates with Arrow's RE2 kernels, and turn fixed-width ASCII candidates into a numpy byte
matrix so check characters are computed for the whole array at once.

Python runs per value only where a detector says so (IPv6, coordinate pairs), and then only
on the candidates the regular expression let through."""

from __future__ import annotations

import threading
from collections.abc import Callable

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

# No identifier is longer than this many code units (an e-mail address is at most 254); longer
# cells are never candidates, however much text they hold.
MAX_VALUE_CHARS = 320


def as_text(values: pa.Array) -> pa.Array:
    """``values`` as a plain string array (string views and dictionaries decoded)."""
    if pa.types.is_dictionary(values.type):
        values = values.dictionary_decode()
    if pa.types.is_string(values.type) or pa.types.is_large_string(values.type):
        return values
    return values.cast(pa.large_string())


# The last array read and its derived forms (squeezed by separator class, …):
# the detectors of one column run one after another on the same array and share them.
_recent = threading.local()


def _cached(values: pa.Array, key: str, compute: Callable[[], object]) -> object:
    if getattr(_recent, "source", None) is not values:
        _recent.source, _recent.forms = values, {}
    if key not in _recent.forms:
        _recent.forms[key] = compute()
    return _recent.forms[key]


def forget() -> None:
    """Drop the cached forms (the column is done: its memory can go)."""
    _recent.source, _recent.forms = None, {}


def squeeze(values: pa.Array, separators: str = r"[\s\-]") -> pa.Array:
    """Trimmed, upper-cased text with the ``separators`` (a regular expression class) removed:
    how people write 6222 0202 0000 1234 or 138-0931-0000. Values longer than
    ``MAX_VALUE_CHARS`` become null."""
    form = _cached(values, "squeeze " + separators, lambda: _squeeze(values, separators))
    return form  # type: ignore[return-value]


def has_delimiter(values: pa.Array) -> np.ndarray:
    """One bool per value: does it hold a character other than an ASCII letter or digit? Only
    such a value can hold an identifier inside other text. Cached like ``squeeze``."""
    found = _cached(values, "delimiter", lambda: regex_mask(as_text(values), "[^0-9A-Za-z]"))
    return found  # type: ignore[return-value]


def digit_run(values: pa.Array, length: int) -> np.ndarray:
    """One bool per value: does it hold ``length`` digits in a row? Cached like ``squeeze``."""
    key = f"digits {length}"
    found = _cached(values, key, lambda: regex_mask(as_text(values), f"[0-9]{{{length}}}"))
    return found  # type: ignore[return-value]


def embeds_digits(length: int) -> Callable[[pa.Array], np.ndarray]:
    """A gate for identifiers inside text: a delimiter and ``length`` digits in a row."""
    return lambda values: has_delimiter(values) & digit_run(values, length)


def holds(values: pa.Array, char: str) -> np.ndarray:
    """One bool per value: does it hold ``char``? Cached like ``squeeze``."""

    def find() -> np.ndarray:
        found = pc.match_substring(as_text(values), char).fill_null(False)
        return np.asarray(found.to_numpy(zero_copy_only=False), dtype=bool)

    return _cached(values, "holds " + char, find)  # type: ignore[return-value]


def non_ascii(values: pa.Array) -> np.ndarray:
    """One bool per value: does it hold a character outside ASCII? Cached like ``squeeze``."""

    def find() -> np.ndarray:
        ascii_only = pc.string_is_ascii(as_text(values)).fill_null(True)
        return ~np.asarray(ascii_only.to_numpy(zero_copy_only=False), dtype=bool)

    return _cached(values, "non-ascii", find)  # type: ignore[return-value]


def _squeeze(values: pa.Array, separators: str) -> pa.Array:
    if separators:
        base = squeeze(values, "")
        return pc.replace_substring_regex(base, separators, "")
    values = as_text(values)
    short = pc.less_equal(pc.utf8_length(values), MAX_VALUE_CHARS)
    values = pc.if_else(short, values, pa.scalar(None, values.type))
    return pc.utf8_upper(pc.utf8_trim_whitespace(values))


def regex_mask(values: pa.Array, pattern: str) -> np.ndarray:
    """One bool per value: does the whole value match ``pattern`` (RE2)? Nulls are False."""
    found = pc.match_substring_regex(values, pattern)
    return np.asarray(found.fill_null(False).to_numpy(zero_copy_only=False), dtype=bool)


def fixed_width_bytes(values: pa.Array, width: int) -> np.ndarray:
    """An (n, width) uint8 matrix of ``values``, every one of which is ``width`` bytes long
    and not null (callers filter to such candidates first)."""
    n = len(values)
    if n == 0:
        return np.zeros((0, width), dtype=np.uint8)
    values = as_text(values)
    offset_type = np.int64 if pa.types.is_large_string(values.type) else np.int32
    buffers = values.buffers()
    offsets = np.frombuffer(buffers[1], dtype=offset_type)[values.offset : values.offset + n + 1]
    if not np.all(np.diff(offsets) == width):
        raise ValueError(f"every value must be {width} bytes long")
    data = np.frombuffer(buffers[2], dtype=np.uint8)
    start = int(offsets[0])
    return data[start : start + n * width].reshape(n, width)


def digits_of(matrix: np.ndarray) -> np.ndarray:
    """ASCII digit bytes → their values (int64), same shape."""
    return matrix.astype(np.int64) - ord("0")


def scatter(mask: np.ndarray, picked: np.ndarray) -> np.ndarray:
    """Put the verdicts on the candidates (``picked``, one per True of ``mask``) back in place."""
    out = np.zeros(len(mask), dtype=bool)
    out[np.flatnonzero(mask)] = picked
    return out


def refine(
    values: pa.Array, pattern: str, check: Callable[[pa.Array], np.ndarray] | None = None
) -> np.ndarray:
    """Values that match ``pattern`` and, when given, pass ``check`` — which sees only the
    matching values and returns one bool for each."""
    mask = regex_mask(values, pattern)
    if check is None or not mask.any():
        return mask
    return scatter(mask, check(values.filter(pa.array(mask))))


_LUHN_DOUBLE = np.array([0, 2, 4, 6, 8, 1, 3, 5, 7, 9], dtype=np.uint8)


def luhn_valid(digits: np.ndarray) -> np.ndarray:
    """Luhn (ISO/IEC 7812) over an (n, w) matrix of digit values: one bool per row."""
    digits = np.asarray(digits).astype(np.uint8, copy=False)
    doubled = (np.arange(digits.shape[1])[::-1] % 2) == 1  # every second digit from the right
    total = digits[:, ~doubled].sum(axis=1, dtype=np.uint32)
    total += _LUHN_DOUBLE[digits[:, doubled]].sum(axis=1, dtype=np.uint32)
    return total % 10 == 0


def days_in_month(years: np.ndarray, months: np.ndarray) -> np.ndarray:
    """Days in each (year, month) of the Gregorian calendar; months outside 1-12 give 0."""
    leap = ((years % 4 == 0) & (years % 100 != 0)) | (years % 400 == 0)
    table = np.array([0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31], dtype=np.int64)
    safe = np.where((months >= 1) & (months <= 12), months, 0)
    return table[safe] + ((safe == 2) & leap)
