"""What a detector is (识别器): a named test that says, value by value, whether a column's
text holds one kind of sensitive data — validated by structure (check digits, calendars,
region codes, lexicons), not by shape alone."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pyarrow as pa

# A detector's test: one boolean per value of a string array (null → False).
Matcher = Callable[[pa.Array], np.ndarray]


@dataclass(frozen=True)
class Detector:
    """One kind of sensitive data.

    ``category`` groups kinds for grading (``personal``, ``sensitive_personal``,
    ``organisation``, ``network``, ``location``); ``default_mask`` is the lake mask kind
    (see lake/policy.py) a grant applies by default; ``checksum_backed`` says the match is
    validated by a check character or calendar, so one hit is strong evidence;
    ``name_cues`` are regular expressions over column names (中文 and pinyin initials) that
    raise confidence when a column is named for this kind."""

    code: str
    title_zh: str
    title_en: str
    category: str
    default_mask: str
    checksum_backed: bool
    match: Matcher
    name_cues: tuple[str, ...] = ()
