"""Detection on a column (列级识别): which kinds of sensitive data a column holds, how much,
how sure we are, with masked examples. :func:`detect_column` reads a sample or a whole column
at once; :class:`ColumnScan` reads record batches one by one (full-scan mode) in bounded
memory and gives the same findings as :func:`detect_column` on the concatenated column.

Confidence (0..1) of a finding multiplies three terms, then adds the name cue:

- ``strength`` of the validator (profiles.PROFILES: check characters 0.85-0.97, patterns
  0.5-0.9, lexicons 0.6);
- the hit ratio, ``0.4 + 0.6 * min(1, ratio / 0.9)`` — a column where 90 % or more of the
  non-null values are hits gets the full weight, one with a few hits in noise less;
- the sample size, ``0.5 + 0.5 * (1 - 0.5 ** hits)`` — one hit halves it, seven hits cost <1 %;
- a name cue (身份证号, sjh, …) closes half of the remaining gap: ``c + (1 - c) / 2``.

A value counts for a kind when it is one (trimmed; separators as people write them), or —
for resident_id, credit_code, bank_card, mobile and email — when it holds one inside longer
text (备注: 联系电话13809310000; the first candidate of each value is checked, and the example
shows that candidate masked). Values are read as text: strings as they are, integers and decimals without a scale as their
digits; floats only for coordinates under a name cue; booleans, dates, binary and nested
types are not read (their findings are empty). Lexicon detectors see only values holding a
non-ASCII character, and every detector sees at most the first ``MAX_CELL_CHARS`` of a cell.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import asdict, dataclass, field

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from longshu.governance.detect.arrays import as_text, forget, holds, non_ascii, scatter
from longshu.governance.detect.masking import mask_example
from longshu.governance.detect.profiles import (
    EXCLUSIVE,
    Verdict,
    kind_hits,
    name_cued,
    profile,
)
from longshu.governance.detect.registry import DETECTORS, STRUCTURED_CODES

MAX_CELL_CHARS = 4096
LENGTH_CAP = MAX_CELL_CHARS + 1
MAX_EXAMPLES = 3
COORDINATE_ONLY = ("coordinate",)


@dataclass(frozen=True)
class Finding:
    """One kind found in one column. ``checked``: non-null values read; ``examples``: up to 3
    masked examples (never a raw value); ``method``: checksum, pattern, lexicon or name_cue
    (most hits count only because of the column's name)."""

    type: str
    column: str
    checked: int
    hits: int
    hit_ratio: float
    confidence: float
    examples: tuple[str, ...]
    method: str

    def as_dict(self) -> dict:
        data = asdict(self)
        data["examples"] = list(self.examples)
        return data


def readable(values: pa.Array) -> tuple[pa.Array | None, tuple[str, ...] | None]:
    """``values`` as text for detection and the detector codes that may read it (None: all);
    (None, ()) when the type is not read at all."""
    kind = values.type
    if pa.types.is_dictionary(kind):
        return readable(values.dictionary_decode())
    if pa.types.is_string(kind) or pa.types.is_large_string(kind) or pa.types.is_string_view(kind):
        text = as_text(values)
    elif pa.types.is_integer(kind) or (pa.types.is_decimal(kind) and kind.scale == 0):
        # a negative number is no identifier (and its sign is no separator to drop)
        text = values.cast(pa.string())
        negative = pc.starts_with(text, "-").fill_null(False)
        text = pc.if_else(negative, pa.scalar(None, pa.string()), text)
    elif pa.types.is_floating(kind) or pa.types.is_decimal(kind):
        return values.cast(pa.string()), COORDINATE_ONLY
    else:
        return None, ()
    long = pc.greater(pc.utf8_length(text), MAX_CELL_CHARS).fill_null(False)
    if pc.any(long).as_py():
        text = pc.if_else(long, pc.utf8_slice_codeunits(text, 0, MAX_CELL_CHARS), text)
    return text, None


def _length_counts(text: pa.Array) -> np.ndarray:
    """How many values have each trimmed length (in characters), lengths over LENGTH_CAP
    counted at LENGTH_CAP; nulls not at all."""
    lengths = pc.utf8_length(pc.utf8_trim_whitespace(text)).fill_null(-1)
    lengths = np.minimum(np.asarray(lengths.to_numpy(zero_copy_only=False)), LENGTH_CAP)
    return np.bincount(lengths[lengths >= 0], minlength=LENGTH_CAP + 1)


def _holding(text: pa.Array, char: str) -> np.ndarray:
    return non_ascii(text) if char == "non-ascii" else holds(text, char)


def verdict_on(code: str, text: pa.Array, column: str) -> Verdict:
    """How detector ``code`` counts the values of ``text`` (see profiles.kind_hits), lexicon
    kinds reading only the values that hold a non-ASCII character."""
    detector = DETECTORS[code]
    if code in STRUCTURED_CODES:
        return kind_hits(detector, text, column)
    # lexicon kinds are Chinese text: an all-ASCII value holds none of them
    wide = non_ascii(text)
    if not wide.any():
        return Verdict(np.zeros(len(text), dtype=bool), np.zeros(len(text), dtype=bool))
    verdict = kind_hits(detector, text.filter(pa.array(wide)), column)
    return Verdict(scatter(wide, verdict.hits), scatter(wide, verdict.by_name))


@dataclass
class _Tally:
    """Counts of one column so far; bounded: counters and at most 3 examples per entry."""

    column: str
    checked: int = 0
    hits: Counter = field(default_factory=Counter)
    by_name: Counter = field(default_factory=Counter)
    combos: Counter = field(default_factory=Counter)  # exclusive kinds matched → values
    examples: dict = field(default_factory=dict)  # kind or combo → masked examples

    def add(self, values: pa.Array) -> None:
        text, codes = readable(values)
        if text is None or len(text) == 0:
            return
        self.checked += len(text) - text.null_count
        if text.null_count == len(text):
            return
        exclusive = np.zeros(len(text), dtype=np.int64)
        lengths = _length_counts(text)
        shown: dict[str, pa.Array] = {}
        for code in codes or DETECTORS:
            rules = profile(code)
            low, high = rules.lengths
            high = LENGTH_CAP if rules.embedded else min(high, LENGTH_CAP)
            if not lengths[min(low, LENGTH_CAP) : high + 1].any():
                continue
            if rules.needs and not any(_holding(text, char).any() for char in rules.needs):
                continue
            verdict = verdict_on(code, text, self.column)
            hits = verdict.hits
            if not hits.any():
                continue
            shown[code] = text if verdict.shown is None else verdict.shown
            self.by_name[code] += int(verdict.by_name.sum())
            if code in EXCLUSIVE:
                exclusive |= hits.astype(np.int64) << EXCLUSIVE.index(code)
            else:
                self.hits[code] += int(hits.sum())
                self._remember(code, code, shown[code], hits)
        forget()
        for bits in np.unique(exclusive[exclusive > 0]):
            combo = tuple(k for i, k in enumerate(EXCLUSIVE) if int(bits) >> i & 1)
            chosen = exclusive == bits
            self.combos[combo] += int(chosen.sum())
            for code in combo:
                self._remember((combo, code), code, shown[code], chosen)

    def _remember(self, key: object, code: str, text: pa.Array, hits: np.ndarray) -> None:
        """Keep the first distinct masked examples, in column order; distinct raw values are
        taken first (Arrow's unique keeps first appearances) so repeats cost no Python."""
        seen = self.examples.setdefault(key, [])
        if len(seen) >= MAX_EXAMPLES:
            return
        distinct = pc.unique(text.filter(pa.array(hits)))
        for value in distinct.slice(0, MAX_EXAMPLES * 8).to_pylist():
            masked = mask_example(code, value)
            if masked not in seen:
                seen.append(masked)
            if len(seen) >= MAX_EXAMPLES:
                return

    def _resolve(self) -> tuple[Counter, dict]:
        """Hits and examples after giving each exclusive combination to one kind: a kind the
        column's name cues, else the one with most unambiguous hits, else the first of
        EXCLUSIVE (a value valid as an ID is an ID)."""
        hits = Counter(self.hits)
        examples = {k: list(v) for k, v in self.examples.items() if isinstance(k, str)}
        alone = {combo[0]: n for combo, n in self.combos.items() if len(combo) == 1}
        # a fixed order, so batches met in any order give the same examples
        order = sorted(self.combos, key=lambda c: (len(c), [EXCLUSIVE.index(k) for k in c]))
        for combo in order:
            cued = [k for k in combo if name_cued(DETECTORS[k], self.column)]
            candidates = cued or list(combo)
            winner = max(candidates, key=lambda k: (alone.get(k, 0), -EXCLUSIVE.index(k)))
            hits[winner] += self.combos[combo]
            shown = examples.setdefault(winner, [])
            for masked in self.examples.get((combo, winner), []):
                if len(shown) < MAX_EXAMPLES and masked not in shown:
                    shown.append(masked)
        return hits, examples

    def findings(self, min_ratio: float) -> list[Finding]:
        hits, examples = self._resolve()
        found = []
        for code, count in hits.items():
            ratio = count / self.checked if self.checked else 0.0
            if count == 0 or ratio < min_ratio:
                continue
            detector = DETECTORS[code]
            rules = profile(code)
            confidence = rules.strength * (0.4 + 0.6 * min(1.0, ratio / 0.9))
            confidence *= 0.5 + 0.5 * (1 - 0.5**count)
            if name_cued(detector, self.column):
                confidence += (1 - confidence) / 2
            method = "name_cue" if self.by_name[code] * 2 > count else rules.method
            found.append(
                Finding(
                    type=code,
                    column=self.column,
                    checked=self.checked,
                    hits=count,
                    hit_ratio=round(ratio, 6),
                    confidence=round(min(1.0, confidence), 4),
                    examples=tuple(examples.get(code, ())),
                    method=method,
                )
            )
        return sorted(found, key=lambda f: (-f.confidence, f.type))


def _chunks(values: pa.Array | pa.ChunkedArray) -> list[pa.Array]:
    return list(values.chunks) if isinstance(values, pa.ChunkedArray) else [values]


def detect_column(
    name: str, values: pa.Array | pa.ChunkedArray, *, min_ratio: float = 0.05
) -> list[Finding]:
    """The kinds of sensitive data in column ``name``: one finding per kind whose hits are at
    least ``min_ratio`` of the non-null values, most confident first. Never raises for a
    column's content or type; an unreadable type or an all-null column gives no findings."""
    tally = _Tally(name)
    for chunk in _chunks(values):
        tally.add(chunk)
    return tally.findings(min_ratio)


class ColumnScan:
    """Full-scan mode: feed record batches of a table; memory stays bounded (counts and a few
    masked examples per column and kind) and the findings equal those of
    :func:`detect_column` on each whole column. Columns missing from a batch are skipped."""

    def __init__(self, columns: list[str]) -> None:
        self._tallies = {name: _Tally(name) for name in columns}

    def feed(self, batch: pa.RecordBatch | pa.Table) -> None:
        for name, tally in self._tallies.items():
            index = batch.schema.get_field_index(name)
            if index >= 0:
                for chunk in _chunks(batch.column(index)):
                    tally.add(chunk)

    def findings(self, min_ratio: float = 0.05) -> list[Finding]:
        """Findings of every column, in the order the columns were given."""
        return [f for tally in self._tallies.values() for f in tally.findings(min_ratio)]
