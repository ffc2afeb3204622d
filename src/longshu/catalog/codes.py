"""Resource codes (信息资源代码): 分类码 / 顺序码, as 政务信息资源目录编制指南 structures them.

    101001/620000-013-00042-7
    │││  │ │      │   │     └ check character, ISO 7064 MOD 11-2 over the 20 digits (0-9 or X)
    │││  │ │      │   └ sequence within the department (00001-99999)
    │││  │ │      └ department code: the provider's number within its region (001-999)
    │││  │ └ the provider's region (6-digit 行政区划代码)
    │││  └ 目: a sub-category the department chooses (001-999)
    ││└ 项: base database, theme database or 领域 number (01-99), see CLASSES
    │└ (项, 2 digits)
    └ 类: 1 基础信息资源 (base databases), 2 主题信息资源 (theme databases), 3 部门信息资源

The part before ``/`` is the classification (分类码), the part after it the sequence part
(顺序码) that makes the code unique and names the provider's region and department. Codes never
change once given, even if the provider later moves region.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from longshu.catalog.vocab import BASE_DATABASES, DOMAINS, THEME_DATABASES

CODE_PATTERN = re.compile(r"^([123])(\d{2})(\d{3})/(\d{6})-(\d{3})-(\d{5})-([0-9X])$")
CLASS_TITLES = {
    "1": ("基础信息资源", "Base information resources"),
    "2": ("主题信息资源", "Theme information resources"),
    "3": ("部门信息资源", "Department information resources"),
}
# 项 numbers: position in the vocabulary, from 01.
CLASSES: dict[str, list[str]] = {
    "1": list(BASE_DATABASES),
    "2": list(THEME_DATABASES),
    "3": list(DOMAINS),
}


@dataclass(frozen=True)
class ResourceCode:
    """A parsed resource code."""

    category: str  # 类: "1" | "2" | "3"
    item: str  # 项: 2 digits
    sub: str  # 目: 3 digits
    region_code: str
    department: str  # 3 digits
    sequence: int

    @property
    def classification(self) -> str:
        return f"{self.category}{self.item}{self.sub}"

    @property
    def item_term(self) -> str:
        """The vocabulary code that 项 stands for (a base/theme database or a 领域)."""
        return CLASSES[self.category][int(self.item) - 1]

    def __str__(self) -> str:
        body = self.digits
        return (
            f"{self.classification}/{self.region_code}-{self.department}-"
            f"{self.sequence:05d}-{check_char(body)}"
        )

    @property
    def digits(self) -> str:
        return f"{self.classification}{self.region_code}{self.department}{self.sequence:05d}"


@dataclass(frozen=True)
class CodeCheck:
    """The verdict on a code: ``reason`` is a stable code, None when valid."""

    code: ResourceCode | None
    reason: str | None = None

    def __bool__(self) -> bool:
        return self.reason is None


def check_char(digits: str) -> str:
    """ISO 7064 MOD 11-2 check character of a digit string ('0'-'9' or 'X')."""
    total = 0
    for ch in digits:
        total = (total + int(ch)) * 2 % 11
    value = (12 - total) % 11
    return "X" if value == 10 else str(value)


def parse(value: object) -> CodeCheck:
    """Parse and check a code. Reasons: ``format``, ``classification``, ``checksum``."""
    text = "".join(str(value or "").split()).upper()
    match = CODE_PATTERN.match(text)
    if not match:
        return CodeCheck(None, "format")
    category, item, sub, region, department, sequence, check = match.groups()
    if not 1 <= int(item) <= len(CLASSES[category]) or sub == "000":
        return CodeCheck(None, "classification")
    if department == "000" or sequence == "00000":
        return CodeCheck(None, "format")
    code = ResourceCode(category, item, sub, region, department, int(sequence))
    if check_char(code.digits) != check:
        return CodeCheck(None, "checksum")
    return CodeCheck(code)


def classification_for(
    base_databases: list[str], theme_databases: list[str], domain: str, sub: str = "001"
) -> tuple[str, str, str]:
    """The default (类, 项, 目) of a resource: its first base database, else its first theme
    database, else its 领域."""
    if base_databases:
        return "1", f"{CLASSES['1'].index(base_databases[0]) + 1:02d}", sub
    if theme_databases:
        return "2", f"{CLASSES['2'].index(theme_databases[0]) + 1:02d}", sub
    return "3", f"{CLASSES['3'].index(domain) + 1:02d}", sub


def make(
    classification: tuple[str, str, str], region_code: str, department: str, sequence: int
) -> ResourceCode:
    category, item, sub = classification
    return ResourceCode(category, item, sub, region_code, department, sequence)
