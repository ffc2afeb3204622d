"""Navigation as data.

Each domain registers the pages it offers (``register_nav``) with the permission a visitor
needs; the shell shows only the items the current actor may use. The shell itself knows no
policy: the caller supplies ``can(permission) -> bool``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

Can = Callable[[str], bool]


@dataclass(frozen=True)
class Section:
    """A group of navigation items: a dropdown in the top bar, a tile on the console home."""

    key: str
    title_zh: str
    title_en: str
    order: int = 100
    area: str = "console"  # "portal": public pages; "console": staff work

    def title(self, locale: str) -> str:
        return self.title_en if locale == "en" else self.title_zh


@dataclass(frozen=True)
class NavItem:
    """One page in the navigation. ``permission`` is the permission name the page's route
    declares (``None``: shown to everyone); ``section`` is a registered ``Section`` key."""

    key: str
    title_zh: str
    title_en: str
    href: str
    permission: str | None
    section: str
    order: int = 100

    def title(self, locale: str) -> str:
        return self.title_en if locale == "en" else self.title_zh


SECTIONS: dict[str, Section] = {}
NAV: dict[str, NavItem] = {}


def register_section(
    key: str, title_zh: str, title_en: str, order: int = 100, area: str = "console"
) -> Section:
    """Declare a section (idempotent; a different second declaration is a bug and raises)."""
    section = Section(key, title_zh, title_en, order, area)
    existing = SECTIONS.get(key)
    if existing is not None and existing != section:
        raise ValueError(f"navigation section {key} declared twice differently")
    SECTIONS[key] = section
    return section


def register_nav(
    key: str,
    title_zh: str,
    title_en: str,
    href: str,
    permission: str | None,
    section: str,
    order: int = 100,
) -> NavItem:
    """Add a page to the navigation (idempotent, so re-importing a module is harmless)."""
    if section not in SECTIONS:
        raise ValueError(f"navigation item {key} names unknown section {section}")
    if not href.startswith("/"):
        raise ValueError(f"navigation item {key}: href must be a path on this site")
    item = NavItem(key, title_zh, title_en, href, permission, section, order)
    existing = NAV.get(key)
    if existing is not None and existing != item:
        raise ValueError(f"navigation item {key} registered twice differently")
    NAV[key] = item
    return item


def nav_item(key: str) -> NavItem | None:
    return NAV.get(key)


def public_only(permission: str) -> bool:
    """The ``can`` used when nobody supplied one: no permission-guarded item is shown."""
    return False


def visible_nav(can: Can, items: Iterable[NavItem] | None = None) -> list[NavItem]:
    """The items ``can`` allows, in section order then item order."""
    chosen = [
        item
        for item in (NAV.values() if items is None else items)
        if item.permission is None or can(item.permission)
    ]
    return sorted(chosen, key=_sort_key)


def grouped(
    items: Iterable[NavItem], area: str | None = None
) -> list[tuple[Section, list[NavItem]]]:
    """Items grouped by section (sections in order, empty ones left out)."""
    groups: dict[str, list[NavItem]] = {}
    for item in sorted(items, key=_sort_key):
        section = SECTIONS[item.section]
        if area is None or section.area == area:
            groups.setdefault(item.section, []).append(item)
    return [(SECTIONS[key], members) for key, members in groups.items()]


def _sort_key(item: NavItem) -> tuple[int, str, int, str]:
    section = SECTIONS.get(item.section)
    return (section.order if section else 1000, item.section, item.order, item.key)


# The sections every deployment has; domains may add their own with register_section.
for _key, _zh, _en, _order, _area in (
    ("portal", "门户", "Portal", 10, "portal"),
    ("workspace", "工作台", "Console", 20, "console"),
    ("catalog", "数据目录", "Catalogue", 30, "console"),
    ("lake", "数据湖", "Data lake", 35, "console"),
    ("governance", "数据治理", "Governance", 40, "console"),
    ("sharing", "数据共享", "Sharing", 50, "console"),
    ("opendata", "数据开放", "Open data", 60, "console"),
    ("registry", "数据登记", "Registration", 70, "console"),
    ("operation", "授权运营", "Authorised operation", 80, "console"),
    ("dataspace", "数据空间", "Data space", 85, "console"),
    ("billing", "计量计费", "Billing", 90, "console"),
    ("supervision", "监督管理", "Supervision", 100, "console"),
    ("admin", "系统管理", "Administration", 110, "console"),
    ("account", "我的账户", "My account", 120, "console"),
):
    register_section(_key, _zh, _en, _order, _area)
