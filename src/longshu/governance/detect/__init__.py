"""Sensitive-data discovery (敏感数据识别): detectors for Chinese identifiers and personal
information, and their use on a column. See docs/governance.md.

- :data:`DETECTORS` — every detector by code: the structured ones (resident_id, credit_code,
  bank_card, mobile, landline, email, passport, hk_macao_permit, taiwan_permit, plate, ip,
  coordinate) and the lexicon ones of :mod:`.lexical`.
- :func:`detect_column` / :class:`ColumnScan` — findings for a column (sampled or full scan).
- :func:`classify_value` — the kinds one value is, as the column level would count it.
- :func:`mask_example` — how a finding shows a value.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from longshu.governance.detect.base import Detector
from longshu.governance.detect.column import (
    ColumnScan,
    Finding,
    detect_column,
    readable,
    verdict_on,
)
from longshu.governance.detect.masking import mask_example
from longshu.governance.detect.profiles import EXCLUSIVE, name_cued
from longshu.governance.detect.registry import DETECTORS

__all__ = [
    "DETECTORS",
    "ColumnScan",
    "Detector",
    "Finding",
    "classify_value",
    "classify_values",
    "detect_column",
    "mask_example",
]


def classify_values(values: list[str | None], column: str | None = None) -> list[set[str]]:
    """The kinds each value is, read as a cell of a column named ``column`` (None: no name).

    The column rules apply value by value: shape-only kinds need the name's cue, anti-cues
    rule kinds out, and of resident_id / credit_code / bank_card a value is one only — the
    first of them it matches, unless the name cues another it matches."""
    text, codes = readable(pa.array(values, type=pa.string()))
    if text is None:
        return [set() for _ in values]
    found = [set() for _ in values]
    exclusive: list[list[str]] = [[] for _ in values]
    for code in codes or DETECTORS:
        for index in np.flatnonzero(verdict_on(code, text, column or "").hits):
            if code in EXCLUSIVE:
                exclusive[index].append(code)
            else:
                found[index].add(code)
    for index, matched in enumerate(exclusive):
        if matched:
            cued = [k for k in matched if name_cued(DETECTORS[k], column)]
            found[index].add(min(cued or matched, key=EXCLUSIVE.index))
    return found


def classify_value(text: str, column: str | None = None) -> set[str]:
    """The kinds ``text`` is as a value of column ``column``; see :func:`classify_values`."""
    return classify_values([text], column)[0]
