"""The lexicons the word-based detectors read: plain UTF-8 files under governance/data, one
entry per line, ``#`` comments, each file's header saying where its entries come from."""

from __future__ import annotations

from functools import cache
from importlib import resources


@cache
def read_lexicon(name: str) -> tuple[str, ...]:
    """The entries of ``data/<name>.txt`` in file order, blank lines and comments left out,
    each stripped of surrounding whitespace; repeated entries appear once."""
    text = resources.files("longshu.governance").joinpath("data", f"{name}.txt")
    entries: dict[str, None] = {}
    for line in text.read_text(encoding="utf-8").splitlines():
        entry = line.split("#", 1)[0].strip()
        if entry:
            entries[entry] = None
    return tuple(entries)
