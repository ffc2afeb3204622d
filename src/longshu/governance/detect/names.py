"""姓名: is a value a person's name? Decided value by value from evidence that does not need
context: a Han surname (单姓 or 复姓) followed by one or two characters common in given
names; or a dotted transliterated name (阿依古丽·买买提); or a Tibetan name made of known
elements (才让卓玛). jieba's dictionary vetoes values that are ordinary words by how often
its corpus uses them (高兴, 黄金, 周末), and its part-of-speech tags keep the names it knows
as names (``nrfg`` 历史人物, ``nr`` for holders of rare compound surnames: 司马光).

Precision comes first: a lone value like 李子 or 王府 is not called a name even though
someone may be named so; the column-name cues (姓名, xm) are the framework's to weigh."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from longshu.governance.detect.address import region_names
from longshu.governance.detect.lexicon_files import read_lexicon
from longshu.governance.detect.lexicon_jieba import jieba_dictionary
from longshu.governance.detect.lexicon_values import by_distinct, han_mask, regex_any, trimmed

# Middle dots people type between the parts of a transliterated name: U+00B7 (the standard
# one), U+2022, U+2027, U+30FB, U+FF0E, U+FF65 and ASCII '.'.
DOTS = "·•‧・．･."
# Between the names of a list in one cell (张伟、李娜: 家庭成员, 共同申请人).
LIST_SEPARATORS = "、，,；;/"
# A name's shape (RE2, over whole values): two to six Han characters (爱新觉罗玉兰), or two
# to four dotted parts; spaces may sit anywhere inside (王  伟 as forms pad it) and are
# dropped from the candidates before they are judged.
_SPACES = r"[\s\x{3000}]+"
_SP = r"[\s\x{3000}]*"
NAME_SHAPE = (
    rf"^\p{{Han}}(?:{_SP}\p{{Han}}){{1,5}}$"
    rf"|^\p{{Han}}{{1,12}}(?:{_SP}[{DOTS}]{_SP}\p{{Han}}{{1,12}}){{1,3}}$"
    rf"|^\p{{Han}}{{2,6}}(?:{_SP}[{LIST_SEPARATORS}]{_SP}\p{{Han}}{{2,6}}){{1,4}}$"
)

# jieba's dictionary tags almost every word that starts with a surname as ``nr`` (陆军, 智慧,
# 石家庄 are all "nr"), so its tag cannot tell names from words; its frequency can. A value
# of two characters that jieba knows at least this often is a word (高兴 5387, 黄金 3086, 马路
# 660) unless made of a most-common surname and given name (李娜 438, 王平 352) …
WORD_FREQUENCY_SHORT = 3
# … and then only when it is a very common word (陆军 3253, 智慧 1581, 黎明 670).
WORD_FREQUENCY_COMMON_NAME = 500
# Longer values: jieba's three-character ``nr`` entries are mostly people (李世民, 杨建华
# 273) and only a very common one is vetoed; other words (and any ending like a place or a
# title: 石家庄 440, 王府井 183, 白云山 102, 平西王) from this frequency on.
WORD_FREQUENCY_LONG = 20
# jieba's tags for historical figures and transliterated names: never a common word.
PERSON_TAGS = frozenset({"nrfg", "nrt"})
# No name is longer (four dotted parts of up to twelve characters would be 51).
MAX_NAME_CHARS = 40
# Verdicts are remembered across columns up to this many distinct values, then forgotten.
MEMO_LIMIT = 500_000
# Transliterated names: at least this share of the characters come from the name set.
TRANSLITERATION_SHARE = 0.75


@dataclass(frozen=True)
class NameLexicon:
    """The character and word sets a name is checked against."""

    surnames: frozenset[str]
    compound_surnames: frozenset[str]
    word_surnames: frozenset[str]  # compound surnames that are also words (东方, 第五)
    given_chars: frozenset[str]  # may stand alone as a one-character given name
    inner_chars: frozenset[str]  # given_chars and those only inside a two-character name
    transliteration_chars: frozenset[str]
    tibetan_elements: frozenset[str]
    tibetan_endings: frozenset[str]  # one-character elements: only after another element
    common_surnames: frozenset[str]
    common_given: frozenset[str]
    word_endings: frozenset[str]  # 3-character words ending so are places or titles
    forms_of_address: frozenset[str]  # 先生, 老师: no given name
    places: frozenset[str]  # regions with and without their suffix (和政县, 和政)


@lru_cache(maxsize=1)
def name_lexicon() -> NameLexicon:
    """The shipped name lexicons (data/surnames*.txt, given_name_chars.txt,
    name_transliteration.txt)."""
    given = read_lexicon("given_name_chars")
    translit = read_lexicon("name_transliteration")
    tibetan = [e[1:] for e in translit if e.startswith("+")]
    common = read_lexicon("names_common")
    return NameLexicon(
        surnames=frozenset(read_lexicon("surnames")),
        compound_surnames=frozenset(e.lstrip("!") for e in read_lexicon("surnames_compound")),
        word_surnames=frozenset(e[1:] for e in read_lexicon("surnames_compound") if e[0] == "!"),
        given_chars=frozenset(c for c in given if not c.startswith("!")),
        inner_chars=frozenset(c.lstrip("!") for c in given),
        transliteration_chars=frozenset(e[1:] for e in translit if e.startswith("=")),
        tibetan_elements=frozenset(e for e in tibetan if len(e) > 1),
        tibetan_endings=frozenset(e for e in tibetan if len(e) == 1),
        common_surnames=frozenset(e[1:] for e in common if e.startswith("S")),
        common_given=frozenset(e[1:] for e in common if e.startswith("G")),
        word_endings=frozenset(e[1:] for e in common if e.startswith("E")),
        forms_of_address=frozenset(e[1:] for e in common if e.startswith("T")),
        places=frozenset(_place_names()),
    )


def _place_names() -> set[str]:
    # 和政 (和政县), 安宁 (安宁区), 白银 (白银市): a region is no person, suffixed or not
    suffixes = ("自治县", "自治州", "县", "区", "市", "省")
    names = set(region_names())
    for name in list(names):
        for suffix in suffixes:
            if name.endswith(suffix) and len(name) - len(suffix) >= 2:
                names.add(name[: -len(suffix)])
                break
    return names


def is_person_name(value: str, *, words_allowed: bool = False) -> bool:
    """Whether ``value`` (already trimmed) reads as a person's name on its own, or as a list
    of two to five names (张伟、李娜); with
    ``words_allowed``, also when it is an ordinary word shaped like a name (高峰, 高兴: names
    in a column named 姓名)."""
    if not 2 <= len(value) <= MAX_NAME_CHARS:
        return False
    for separator in LIST_SEPARATORS:
        if separator in value:
            names = re.split(f"[{LIST_SEPARATORS}]", value)
            return 2 <= len(names) <= 5 and all(
                is_person_name(n, words_allowed=words_allowed) for n in names
            )
    if any(dot in value for dot in DOTS):
        return _is_dotted_name(value)
    if not 2 <= len(value) <= 6 or not all(_is_han(c) for c in value):
        return False
    lexicon = name_lexicon()
    if value in lexicon.places:
        return False
    surnamed = _has_han_surname(value, lexicon)
    if surnamed and (words_allowed or not _is_common_word(value, lexicon)):
        return True
    # Tibetan name elements are not common words (扎西 is jieba's "ns" 17: no veto)
    return _is_tibetan_name(value, lexicon)


def _is_han(char: str) -> bool:
    return "\u4e00" <= char <= "\u9fff" or "\u3400" <= char <= "\u4dbf"


def _has_han_surname(value: str, lexicon: NameLexicon) -> bool:
    # 复姓 of two characters (欧阳, 司马) or of three and four (钮祜禄, 爱新觉罗)
    for width in (2, 3, 4):
        surname, given = value[:width], value[width:]
        if surname in lexicon.compound_surnames and given and _given_name_fits(given, lexicon):
            return True
    if value[0] in lexicon.surnames and len(value) <= 3:
        given = value[1:]
        return given not in lexicon.forms_of_address and _given_name_fits(given, lexicon)
    return False


def _given_name_fits(given: str, lexicon: NameLexicon) -> bool:
    if len(given) == 1:
        return given in lexicon.given_chars
    if len(given) == 2:
        return given[0] in lexicon.inner_chars and given[1] in lexicon.inner_chars
    return False


def _is_tibetan_name(value: str, lexicon: NameLexicon) -> bool:
    """Made of two-character Tibetan name elements, optionally ending in a one-character one
    (才让卓玛, 扎西, 拉毛草)."""
    rest, elements = value, 0
    while len(rest) >= 2 and rest[:2] in lexicon.tibetan_elements:
        rest, elements = rest[2:], elements + 1
    if rest and rest in lexicon.tibetan_endings and elements:
        rest = ""
    return elements > 0 and not rest


def _is_dotted_name(value: str) -> bool:
    parts = _split_dots(value)
    if not 2 <= len(parts) <= 4 or any(not p or len(p) > 12 for p in parts):
        return False
    chars = "".join(parts)
    if not all(_is_han(c) for c in chars):
        return False
    known = name_lexicon().transliteration_chars
    return sum(c in known for c in chars) >= TRANSLITERATION_SHARE * len(chars)


def _split_dots(value: str) -> list[str]:
    for dot in DOTS[1:]:
        value = value.replace(dot, DOTS[0])
    return value.split(DOTS[0])


def _is_common_word(value: str, lexicon: NameLexicon) -> bool:
    words = jieba_dictionary()
    frequency = words.frequency(value)
    if frequency == 0 or words.tag(value) in PERSON_TAGS:
        return False
    if value[:2] in lexicon.compound_surnames and value[:2] not in lexicon.word_surnames:
        # 司马光 (138), 诸葛亮 (1067): jieba knows famous holders of rare surnames as ``nr``
        return not words.tag(value, "").startswith("nr") and frequency >= WORD_FREQUENCY_LONG
    if len(value) > 2:
        if value[-1] in lexicon.word_endings or value[:2] in lexicon.word_surnames:
            return frequency >= WORD_FREQUENCY_LONG
        if words.tag(value, "").startswith("nr") or value[-1] in lexicon.common_given:
            # three-character entries jieba tags nr are mostly people (李世民, 杨靖宇)
            return frequency >= WORD_FREQUENCY_COMMON_NAME
        return frequency >= WORD_FREQUENCY_LONG
    if value[0] in lexicon.common_surnames and value[1] in lexicon.common_given:
        return frequency >= WORD_FREQUENCY_COMMON_NAME
    return frequency >= WORD_FREQUENCY_SHORT


# Column names that say a column holds people's names (lower-cased names are searched).
NAME_CUES = (
    r"姓名|名字|人名|户主|联系人|负责人|法定代表人|法人代表|申请人|经办人|患者|监护人",
    r"^(xm|hzxm|lxr|fzr|fddbr|sqr|jbr|xingming)$",
    r"(^|_)(xm|name)($|_)",
    r"^(full_?name|person_?name|contact|owner_?name)$",
)

# verdicts by (value, words allowed)
_verdicts: dict[tuple[str, bool], bool] = {}


def match_person_names(values: pa.Array) -> np.ndarray:
    """One bool per value: is it a person's name (``is_person_name``)? Spaces inside a value
    are ignored (王  伟 as forms pad it). Shape is checked by RE2 over the whole column;
    only distinct values of a name's shape reach Python, and each verdict is remembered."""
    return _match(values, words_allowed=False)


def names_under_a_name_column(values: pa.Array, column: str) -> np.ndarray:
    """The further values a column named for people (``NAME_CUES``: 姓名, 联系人, xm …)
    holds as names although they are also ordinary words (高峰, 高兴, 东方红): the column's
    name is the evidence jieba's dictionary lacks. Nothing under any other name. (Fits the
    column level's ``by_name`` hook: values, column name → bools.)"""
    name = column.strip().lower()
    if not any(re.search(cue, name) for cue in NAME_CUES):
        return np.zeros(len(values), dtype=bool)
    return _match(values, words_allowed=True) & ~_match(values, words_allowed=False)


def _match(values: pa.Array, *, words_allowed: bool) -> np.ndarray:
    if not han_mask(values).any():
        return np.zeros(len(values), dtype=bool)
    text = trimmed(values, MAX_NAME_CHARS)
    shaped = regex_any(text, NAME_SHAPE)
    if not shaped.any():
        return shaped
    candidates = text.filter(pa.array(shaped))
    candidates = pc.replace_substring_regex(candidates, _SPACES, "")

    def judge(distinct: pa.Array) -> np.ndarray:
        verdicts = (_remembered(v, words_allowed) for v in distinct.to_pylist())
        return np.fromiter(verdicts, bool, len(distinct))

    out = np.zeros(len(text), dtype=bool)
    out[np.flatnonzero(shaped)] = by_distinct(candidates, judge)
    return out


def _remembered(value: str, words_allowed: bool) -> bool:
    key = (value, words_allowed)
    verdict = _verdicts.get(key)
    if verdict is None:
        if len(_verdicts) >= MEMO_LIMIT:
            _verdicts.clear()
        verdict = _verdicts[key] = is_person_name(value, words_allowed=words_allowed)
    return verdict
