"""Lexicon detectors (names, addresses, health terms, 民族, 宗教 …): placeholder until their
module lands."""

from __future__ import annotations

from longshu.governance.detect.base import Detector

LEXICAL_DETECTORS: list[Detector] = []
