"""jieba's dictionary as evidence (结巴分词词典): how common a word is and its part of speech
(``nr`` 人名, ``ns`` 地名, ``n`` 名词 …), loaded once per process and only when first asked.

The detectors look words up rather than segment text: a lookup costs a dictionary access,
while segmentation costs tens of microseconds per value and says little about a value of two
to six characters; so jieba never sees a long cell."""

from __future__ import annotations

import logging
import tempfile
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from longshu.config import get_settings

if TYPE_CHECKING:  # jieba.posseg takes ~0.3 s to import: only when a detector needs it
    import jieba
    import jieba.posseg

_lock = threading.Lock()
_loaded: JiebaDictionary | None = None


@dataclass(frozen=True)
class JiebaDictionary:
    """jieba 0.42.1's default dictionary (about 350,000 words with frequencies and tags)."""

    tokenizer: jieba.Tokenizer
    tagger: jieba.posseg.POSTokenizer

    def frequency(self, word: str) -> int:
        """How often ``word`` occurs in jieba's corpus; 0 when it is not a word."""
        return self.tokenizer.FREQ.get(word, 0)

    def tag(self, word: str, default: str | None = None) -> str | None:
        """The part of speech jieba's dictionary gives ``word``, or ``default``."""
        return self.tagger.word_tag_tab.get(word, default)


def _cache_file() -> Path:
    # The prefix dictionary takes ~0.5 s to build and ~0.2 s to load from this cache. It lives
    # under the platform's var dir (never the installed package); a temp dir if that fails.
    try:
        folder = Path(get_settings().var_dir) / "cache"
        folder.mkdir(parents=True, exist_ok=True)
        return (folder / "jieba.cache").resolve()
    except OSError:
        return Path(tempfile.gettempdir()) / "longshu-jieba.cache"


def jieba_dictionary() -> JiebaDictionary:
    """The process's jieba dictionary, built on first use (thread-safe, once)."""
    global _loaded
    if _loaded is None:
        with _lock:
            if _loaded is None:
                import jieba
                import jieba.posseg

                jieba.setLogLevel(logging.WARNING)  # not its 'Building prefix dict' banner
                tokenizer = jieba.Tokenizer()
                tokenizer.cache_file = str(_cache_file())
                tokenizer.initialize()
                _loaded = JiebaDictionary(tokenizer, jieba.posseg.POSTokenizer(tokenizer))
    return _loaded
