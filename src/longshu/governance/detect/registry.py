"""Every detector by code: the structured ones of this package and the lexicon ones of
:mod:`longshu.governance.detect.lexical`."""

from __future__ import annotations

from longshu.governance.detect.base import Detector
from longshu.governance.detect.contact import CONTACT_DETECTORS
from longshu.governance.detect.documents import DOCUMENT_DETECTORS
from longshu.governance.detect.identifiers import IDENTIFIER_DETECTORS
from longshu.governance.detect.lexical import LEXICAL_DETECTORS
from longshu.governance.detect.network import NETWORK_DETECTORS

STRUCTURED_DETECTORS: tuple[Detector, ...] = (
    *IDENTIFIER_DETECTORS,
    *CONTACT_DETECTORS,
    *DOCUMENT_DETECTORS,
    *NETWORK_DETECTORS,
)
STRUCTURED_CODES = frozenset(d.code for d in STRUCTURED_DETECTORS)

DETECTORS: dict[str, Detector] = {d.code: d for d in STRUCTURED_DETECTORS}
for _detector in LEXICAL_DETECTORS:
    if _detector.code in DETECTORS:
        raise ValueError(f"two detectors share the code {_detector.code}")
    DETECTORS[_detector.code] = _detector
