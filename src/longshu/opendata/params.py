"""Reading CKAN action parameters: loose input (query strings, JSON bodies, strings that hold
JSON lists) checked here, so every refusal is a CKAN Validation Error naming the parameter."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

from longshu.opendata.errors import CKAN_MESSAGES as M
from longshu.opendata.errors import CkanValidation

MAX_ROWS = 1000
MAX_START = 100_000
# CKAN sort strings → the catalog search's orders.
SORTS = {
    "score desc, metadata_modified desc": "relevance",
    "score desc": "relevance",
    "relevance": "relevance",
    "metadata_modified desc": "newest",
    "metadata_created desc": "newest",
    "name asc": "name",
    "title_string asc": "name",
}
# fq and facet fields: the CKAN name → the catalog search's facet.
FIELDS = {
    "organization": "provider",
    "groups": "groups",
    "res_format": "format",
    "tags": "tags",
    "domain": "domain",
    "level": "level",
    "region_code": "region",
    "open_type": "open_type",
    "share_type": "share_type",
    "update_cycle": "update_cycle",
    "kind": "kind",
}
FACET_FIELDS = tuple(FIELDS)
TERM = re.compile(r'^\+?([a-z_]+):(?:"([^"]*)"|([^\s"():*?\[\]{}]+))$')
TOKENS = re.compile(r'\S+?:"[^"]*"|\S+')


def integer(params: dict[str, Any], name: str, default: int, low: int, high: int) -> int:
    value = params.get(name)
    if value is None or value == "":
        return default
    if isinstance(value, bool):
        raise CkanValidation("integer", {name: [M["integer"]]})
    try:
        number = int(value)
    except (TypeError, ValueError) as exc:
        raise CkanValidation("integer", {name: [M["integer"]]}) from exc
    if not low <= number <= high:
        raise CkanValidation(
            "range", {name: [M["range"].format(low=low, high=high)]}, low=low, high=high
        )
    return number


def boolean(params: dict[str, Any], name: str, default: bool = False) -> bool:
    value = params.get(name)
    if value is None or value == "":
        return default
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in ("true", "1", "yes", "on"):
        return True
    if text in ("false", "0", "no", "off"):
        return False
    raise CkanValidation("boolean", {name: [M["boolean"]]})


def text(params: dict[str, Any], name: str, required: bool = False) -> str | None:
    value = params.get(name)
    if isinstance(value, list | tuple):
        value = value[0] if value else None
    if value is None or str(value).strip() == "":
        if required:
            raise CkanValidation("missing", {name: [M["missing"]]})
        return None
    return str(value).strip()[:500]


def string_list(params: dict[str, Any], name: str) -> list[str]:
    """A list given as a JSON list, a string holding one (CKAN's ``facet.field``), a repeated
    query parameter or a single value."""
    value = params.get(name)
    if value is None or value == "":
        return []
    if isinstance(value, str):
        stripped = value.strip()
        if stripped.startswith("["):
            try:
                value = json.loads(stripped)
            except ValueError as exc:
                raise CkanValidation("json_list", {name: [M["json_list"]]}) from exc
        else:
            value = [stripped]
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise CkanValidation("json_list", {name: [M["json_list"]]})
    return [v.strip() for v in value if v.strip()]


def sort(params: dict[str, Any]) -> tuple[str, str]:
    """(the CKAN sort string echoed back, the catalog's order)."""
    given = text(params, "sort") or "score desc, metadata_modified desc"
    normal = re.sub(r"\s+", " ", given.lower().strip())
    normal = re.sub(r"\s*,\s*", ", ", normal)
    if normal not in SORTS:
        allowed = ", ".join(SORTS)
        raise CkanValidation("sort", {"sort": [normal]}, sort=given[:60], allowed=allowed)
    return given, SORTS[normal]


@dataclass
class Filters:
    """What an fq asks: one value per field (the terms are ANDed, as CKAN joins them)."""

    values: dict[str, str] = field(default_factory=dict)

    def add(self, name: str, value: str) -> None:
        if name in self.values and self.values[name] != value:
            raise CkanValidation("fq_repeat", {"fq": [name]}, field=name)
        self.values[name] = value


def parse_fq(fq: str | None, q: str | None = None) -> tuple[Filters, str | None]:
    """CKAN's ``fq`` (Solr filter terms ``field:value`` / ``field:"value"``, optionally ``+``
    and ``AND``) as filters; fielded terms in ``q`` are read the same way and removed from it.
    Anything else (OR, NOT, ranges, wildcards, unknown fields) is refused, not guessed."""
    filters = Filters()
    for token in TOKENS.findall(fq or ""):
        if token == "AND":
            continue
        _term(filters, token)
    rest: list[str] = []
    for token in TOKENS.findall(q or ""):
        if token in ("*:*", "*"):
            continue
        if ":" in token and TERM.match(token) and TERM.match(token)[1] in FIELDS:  # type: ignore[index]
            _term(filters, token)
        else:
            rest.append(token)
    return filters, " ".join(rest) or None


def _term(filters: Filters, token: str) -> None:
    match = TERM.match(token)
    if not match or match[1] not in FIELDS:
        raise CkanValidation("fq", {"fq": [token[:60]]}, term=token[:60], allowed=", ".join(FIELDS))
    value = match[2] if match[2] is not None else match[3]
    filters.add(match[1], value.strip())


def facet_fields(params: dict[str, Any]) -> list[str]:
    wanted = string_list(params, "facet.field")
    for name in wanted:
        if name not in FACET_FIELDS:
            raise CkanValidation(
                "facet", {"facet.field": [name[:60]]}, field=name[:60],
                allowed=", ".join(FACET_FIELDS),
            )  # fmt: skip
    return list(dict.fromkeys(wanted))
