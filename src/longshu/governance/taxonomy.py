"""数据分类 (GB/T 43697-2024 §5): the taxonomy of a province's public data, 行业领域 →
业务属性, read from YAML (the packaged ``data/taxonomy.yaml``, or the file a deployment names
in ``LONGSHU_GOVERNANCE_TAXONOMY``), and the suggestion of a category for a resource from its
title, tags, field names and the kinds of sensitive data found in it."""

from __future__ import annotations

import os
import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

from longshu.governance import grading
from longshu.governance.grading_errors import CategoryUnknown, GradeUnknown, TaxonomyInvalid

TAXONOMY_FILE = Path(__file__).parent / "data" / "taxonomy.yaml"
TAXONOMY_ENV = "LONGSHU_GOVERNANCE_TAXONOMY"
CODE = re.compile(r"[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)*")
MAX_CODE = 60  # governance_grade.category_code
NODE_KEYS = {"code", "title_zh", "title_en", "parent", "grade_floor", "keywords", "children"}

# How much a keyword found in each part of a resource's description counts: the title says
# most about what a resource is; one field name or one kind of finding says least.
WEIGHTS = {"title": 3.0, "tags": 2.0, "field_names": 1.0, "finding_types": 1.0}
PARENT_SHARE = 0.5  # a parent's matches add this share to each child's score (context)


@dataclass(frozen=True)
class Category:
    """One node of the taxonomy. ``grade_floor``: the lowest grade (a code) any resource of
    the category may get — its own floor or an ancestor's, whichever is higher."""

    code: str
    title_zh: str
    title_en: str
    parent: str | None
    grade_floor: str | None
    keywords: tuple[str, ...]

    def title(self, locale: str = "zh_CN") -> str:
        return self.title_en if locale == "en" else self.title_zh


class Taxonomy:
    """Categories by code, in the file's order."""

    def __init__(self, categories: dict[str, Category]) -> None:
        self.categories = categories

    def get(self, code: str) -> Category:
        """The category ``code``; raises ``CategoryUnknown``."""
        try:
            return self.categories[code]
        except (KeyError, TypeError):
            raise CategoryUnknown(code=code) from None

    def children(self, code: str | None = None) -> list[Category]:
        """The categories directly under ``code`` (the roots when None)."""
        if code is not None:
            self.get(code)
        return [c for c in self.categories.values() if c.parent == code]

    def path(self, code: str) -> list[Category]:
        """From the root down to ``code``."""
        chain = [self.get(code)]
        while chain[-1].parent is not None:
            chain.append(self.categories[chain[-1].parent])
        return chain[::-1]

    def tree(self, code: str | None = None) -> list[dict[str, Any]]:
        """The categories under ``code`` (all when None) as nested dicts for pages and the
        API: code, titles, floor (code and label), keywords, children."""
        return [
            {
                "code": c.code,
                "title_zh": c.title_zh,
                "title_en": c.title_en,
                "grade_floor": c.grade_floor,
                "grade_floor_label": grading.label(c.grade_floor) if c.grade_floor else None,
                "keywords": list(c.keywords),
                "children": self.tree(c.code),
            }
            for c in self.children(code)
        ]

    def __len__(self) -> int:
        return len(self.categories)


# --- loading ------------------------------------------------------------------------------


def load_taxonomy(path: Path | str | None = None) -> Taxonomy:
    """The taxonomy of ``path``, else of ``$LONGSHU_GOVERNANCE_TAXONOMY``, else the packaged
    one. Checks it: codes well-formed and unique, parents exist, no cycles, floors are
    grades. Raises ``TaxonomyInvalid`` saying what is wrong and where."""
    chosen = path or os.environ.get(TAXONOMY_ENV) or TAXONOMY_FILE
    return _load(str(chosen))


def reload_taxonomy() -> None:
    """Forget parsed files (after editing one in a running process or a test)."""
    _load.cache_clear()


@lru_cache(maxsize=8)
def _load(path: str) -> Taxonomy:
    def bad(detail: str) -> TaxonomyInvalid:
        return TaxonomyInvalid(path=path, detail=detail)

    try:
        data = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except OSError as exc:
        raise bad(exc.strerror or str(exc)) from exc
    except yaml.YAMLError as exc:
        raise bad(f"not YAML: {exc}") from exc
    if not isinstance(data, dict) or not isinstance(data.get("categories"), list):
        raise bad("the file must hold a mapping with a list under 'categories'")
    raw: list[dict[str, Any]] = []
    _flatten(data["categories"], None, raw, bad)
    if not raw:
        raise bad("there are no categories")
    return Taxonomy(_link(raw, bad))


def _flatten(nodes: list[Any], parent: str | None, out: list[dict[str, Any]], bad) -> None:  # type: ignore[no-untyped-def]
    for node in nodes:
        where = f"under {parent}" if parent else "at the top"
        if not isinstance(node, dict):
            raise bad(f"an entry {where} is not a mapping")
        code = node.get("code")
        if not isinstance(code, str) or len(code) > MAX_CODE or not CODE.fullmatch(code):
            raise bad(
                f"code {code!r} {where} is not valid: lower-case letters, digits and '_', "
                f"levels joined by '.', at most {MAX_CODE} characters"
            )
        unknown = sorted(set(node) - NODE_KEYS)
        if unknown:
            raise bad(f"category {code} has unknown keys {unknown}")
        for key in ("title_zh", "title_en"):
            if not isinstance(node.get(key), str) or not node[key].strip():
                raise bad(f"category {code} needs {key}")
        if parent is not None and node.get("parent") not in (None, parent):
            raise bad(f"category {code} is nested under {parent} but names parent {node['parent']}")
        keywords = node.get("keywords") or []
        if not isinstance(keywords, list) or not all(isinstance(k, str | int) for k in keywords):
            raise bad(f"category {code}: keywords must be a list of words")
        children = node.get("children") or []
        if not isinstance(children, list):
            raise bad(f"category {code}: children must be a list")
        out.append({**node, "parent": parent or node.get("parent"), "keywords": keywords})
        _flatten(children, code, out, bad)


def _link(raw: list[dict[str, Any]], bad) -> dict[str, Category]:  # type: ignore[no-untyped-def]
    seen: dict[str, dict[str, Any]] = {}
    for node in raw:
        if node["code"] in seen:
            raise bad(f"code {node['code']} is used twice")
        seen[node["code"]] = node
    for node in raw:
        parent = node["parent"]
        if parent is not None and parent not in seen:
            raise bad(f"category {node['code']} names parent {parent}, which does not exist")
    floors: dict[str, str | None] = {}
    for node in raw:
        try:
            floors[node["code"]] = (
                grading.grade_code(str(node["grade_floor"])) if node.get("grade_floor") else None
            )
        except GradeUnknown:
            raise bad(
                f"category {node['code']}: grade_floor {node['grade_floor']!r} is not a grade"
            ) from None
    categories: dict[str, Category] = {}
    for node in raw:
        floor, chain, cursor = floors[node["code"]], [node["code"]], node["parent"]
        while cursor is not None:
            if cursor in chain:
                raise bad(f"parents form a cycle: {' → '.join([*chain, cursor])}")
            chain.append(cursor)
            if floors[cursor] and (floor is None or grading.compare(floors[cursor], floor) > 0):
                floor = floors[cursor]
            cursor = seen[cursor]["parent"]
        words = dict.fromkeys(str(k).strip() for k in node["keywords"] if str(k).strip())
        categories[node["code"]] = Category(
            code=node["code"],
            title_zh=node["title_zh"].strip(),
            title_en=node["title_en"].strip(),
            parent=node["parent"],
            grade_floor=floor,
            keywords=tuple(words),
        )
    return categories


# --- suggestion ---------------------------------------------------------------------------


@lru_cache(maxsize=4096)
def _word(keyword: str) -> re.Pattern[str]:
    return re.compile(rf"(?<![a-z0-9]){re.escape(keyword)}(?![a-z0-9])")


def _matches(keyword: str, text: str) -> bool:
    """``keyword`` in ``text`` (both case-folded): Chinese anywhere; Latin letters and digits
    only as a whole word, so that ``id`` does not match ``paid``."""
    if keyword.isascii():
        return _word(keyword).search(text) is not None
    return keyword in text


def _found(word: str, part: str, texts: list[str]) -> bool:
    if part == "finding_types":  # detector codes: only the very code
        return word in texts
    return any(_matches(word, text) for text in texts)


def suggest_category(
    taxonomy: Taxonomy,
    *,
    title: str,
    tags: Sequence[str] = (),
    field_names: Sequence[str] = (),
    finding_types: Sequence[str] = (),
) -> list[tuple[Category, float]]:
    """Categories whose keywords appear in a resource's description, best first, each with a
    score in (0, 1). A keyword counts once, by the most telling part it appears in (title,
    then tags, then field names and finding types — these by their exact code); a category also earns half its parent's
    score, so the more specific of two matching categories ranks first. A tag equal to a
    category's code (the catalog's domain codes are the roots' codes) counts as a keyword."""
    parts = {
        "title": [str(title or "").casefold()],
        "tags": [str(t).casefold() for t in tags if t],
        "field_names": [str(f).casefold() for f in field_names if f],
        "finding_types": [str(f).casefold() for f in finding_types if f],
    }
    codes = {str(t).strip() for t in tags if t}
    own: dict[str, float] = {}
    for category in taxonomy.categories.values():
        total = 0.0
        for keyword in category.keywords:
            word = keyword.casefold()
            total += max(
                (WEIGHTS[part] for part, texts in parts.items() if _found(word, part, texts)),
                default=0.0,
            )
        if category.code in codes:  # a tag naming the category itself: a catalog domain
            total += WEIGHTS["tags"]
        if total:
            own[category.code] = total
    ranked: list[tuple[Category, float, int]] = []
    for code, points in own.items():
        chain = taxonomy.path(code)
        context = sum(own.get(c.code, 0.0) for c in chain[:-1]) * PARENT_SHARE
        score = points + context
        ranked.append((chain[-1], round(score / (score + 3.0), 4), len(chain)))
    ranked.sort(key=lambda item: (-item[1], -item[2], item[0].code))
    return [(category, score) for category, score, _depth in ranked]
