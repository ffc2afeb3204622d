"""The CKAN actions, read-only over the open catalog. Each takes a ``Call`` (session, the
action's parameters, the site's base URL) and returns the ``result`` of CKAN's envelope.

Searches go through the catalog's own search service (``catalog.search.search``) as the public
sees it — whoever calls, this API shows the open catalog only."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from longshu import __version__
from longshu.actor import ANONYMOUS
from longshu.catalog import search
from longshu.catalog.models import SearchDoc
from longshu.catalog.search import SearchQuery
from longshu.catalog.vocab import DOMAINS, KINDS, LEVELS, OPEN_TYPES, SHARE_TYPES, UPDATE_CYCLES
from longshu.errors import LongshuError
from longshu.opendata import datastore
from longshu.opendata import packages as pk
from longshu.opendata.errors import CKAN_MESSAGES, CkanNotFound, CkanValidation
from longshu.opendata.params import (
    MAX_ROWS,
    MAX_START,
    boolean,
    facet_fields,
    integer,
    parse_fq,
    sort,
    string_list,
    text,
)
from longshu.orgs import regions
from longshu.orgs.models import Organization

CKAN_VERSION = "2.10.0"  # the Action API level this one follows
LIST_SORTS = ("title asc", "name asc", "package_count desc")


@dataclass
class Call:
    session: Session
    params: dict[str, Any]
    base: str  # the site's address, no trailing slash


# --- package_search ---------------------------------------------------------------------------


def package_search(call: Call) -> dict[str, Any]:
    """Search the open catalog: q, fq (organization, groups, res_format, tags, domain, level,
    region_code, open_type, share_type, update_cycle, kind), rows (≤ 1000), start, sort,
    facet.field, facet.limit, facet.mincount."""
    p = call.params
    rows = integer(p, "rows", 10, 0, MAX_ROWS)
    start = integer(p, "start", 0, 0, MAX_START)
    sort_text, order = sort(p)
    filters, q = parse_fq(text(p, "fq"), text(p, "q"))
    wanted = facet_fields(p)
    facet_limit = integer(p, "facet.limit", 50, -1, 1000)
    mincount = integer(p, "facet.mincount", 1, 0, 1_000_000)
    query = SearchQuery(
        q=q, sort=order, limit=1, offset=start, facets=bool(wanted), tag_facet="tags" in wanted
    )
    _apply(call.session, query, filters.values)
    ids, total, counts = _search_ids(call.session, query, rows)
    entries = pk.open_entries(call.session, ids)
    search_facets = _facets(call.session, counts, wanted, facet_limit, mincount)
    return {
        "count": total,
        "sort": sort_text,
        "results": pk.packages(call.session, entries, call.base),
        "facets": {
            f: {i["name"]: i["count"] for i in v["items"]} for f, v in search_facets.items()
        },
        "search_facets": search_facets,
    }


def _apply(session: Session, query: SearchQuery, values: dict[str, str]) -> None:
    """CKAN fq fields → the catalog search's filters."""
    for name, value in values.items():
        if name == "organization":
            org_id = pk.org_id_of(value)
            if org_id is None:
                raise CkanValidation("fq_value", {"fq": [value[:60]]}, field=name, value=value[:60])
            query.provider_org_id = org_id
        elif name == "groups":
            found = pk.GROUPS.get(value.lower())
            if found is None:
                raise CkanValidation("fq_value", {"fq": [value[:60]]}, field=name, value=value[:60])
            facet, code, _title = found
            _set(query, facet, code)
        elif name == "res_format":
            query.format = value.upper()
        elif name == "tags":
            query.tag = value
        elif name == "region_code":
            try:
                query.region_codes = regions.descendant_codes(session, value)
            except LongshuError as exc:
                raise CkanValidation(
                    "fq_value", {"fq": [value[:60]]}, field=name, value=value[:60]
                ) from exc
        else:
            _set(query, name, value)


def _set(query: SearchQuery, attribute: str, value: str) -> None:
    current = getattr(query, attribute)
    if current is not None and current != value:
        raise CkanValidation("fq_repeat", {"fq": [attribute]}, field=attribute)
    setattr(query, attribute, value)


def _search_ids(
    session: Session, query: SearchQuery, rows: int
) -> tuple[list[int], int, dict[str, list[tuple[str, int]]]]:
    """Ids of the page (the search serves at most ``search.MAX_PAGE`` a call: larger pages
    are read in slices), the total and the facet counts."""
    query.limit = max(1, min(rows, search.MAX_PAGE))
    result = search.search(session, ANONYMOUS, query)
    ids = [h.resource_id for h in result.hits] if rows else []
    query.facets = False
    start = query.offset
    while rows and len(ids) < rows and start + len(ids) < result.total:
        query.offset = start + len(ids)
        query.limit = max(1, min(rows - len(ids), search.MAX_PAGE))
        if query.offset > MAX_START:
            break
        hits = search.search(session, ANONYMOUS, query).hits
        if not hits:
            break
        ids += [h.resource_id for h in hits]
    return ids[:rows], result.total, result.facets


def _facets(
    session: Session,
    counts: dict[str, list[tuple[str, int]]],
    wanted: list[str],
    limit: int,
    mincount: int,
) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name in wanted:
        items = _facet_items(session, name, counts)
        items = [i for i in items if i["count"] >= mincount]
        items.sort(key=lambda i: (-i["count"], i["name"]))
        out[name] = {"title": name, "items": items if limit < 0 else items[:limit]}
    return out


VOCAB_FACETS = {
    "domain": DOMAINS,
    "level": LEVELS,
    "open_type": OPEN_TYPES,
    "share_type": SHARE_TYPES,
    "update_cycle": UPDATE_CYCLES,
    "kind": KINDS,
}


def _facet_items(
    session: Session, name: str, counts: dict[str, list[tuple[str, int]]]
) -> list[dict[str, Any]]:
    def item(value: str, label: str, n: int) -> dict[str, Any]:
        return {"name": value, "display_name": label, "count": n}

    if name == "organization":
        pairs = counts.get("provider", [])
        names = pk.Names(session, [int(v) for v, _n in pairs], [])
        return [
            item(pk.org_name(int(v)), names.orgs[int(v)].name if int(v) in names.orgs else v, n)
            for v, n in pairs
        ]
    if name == "groups":
        pairs = [("domain", v, n) for v, n in counts.get("domain", [])]
        pairs += [("database", v, n) for v, n in counts.get("database", [])]
        out = []
        for facet, value, n in pairs:
            group = pk.GROUP_OF_VALUE.get((facet, value))
            if group:
                out.append(item(group, pk.GROUPS[group][2], n))
        return out
    if name == "res_format":
        return [item(v, v, n) for v, n in counts.get("format", [])]
    if name == "tags":
        return [item(v, v, n) for v, n in counts.get("tags", [])]
    if name == "region_code":
        pairs = counts.get("region", [])
        names = pk.Names(session, [], [v for v, _n in pairs])
        return [item(v, names.regions.get(v, v), n) for v, n in pairs]
    vocabulary = VOCAB_FACETS[name]
    return [
        item(v, vocabulary[v].title_zh if v in vocabulary else v, n)
        for v, n in counts.get(name, [])
    ]


# --- packages and resources -------------------------------------------------------------------


def package_show(call: Call) -> dict[str, Any]:
    """One open dataset by id, name (the URL-safe resource code) or resource code."""
    name = text(call.params, "id") or text(call.params, "name_or_id")
    if name is None:
        raise CkanValidation("missing", {"id": [CKAN_MESSAGES["missing"]]})
    resource, snap = pk.visible(call.session, name)
    return pk.packages(call.session, [(resource, snap)], call.base)[0]


def package_list(call: Call) -> list[str]:
    """Names of every open dataset, sorted (limit, offset)."""
    limit = integer(call.params, "limit", MAX_START, 0, MAX_START)
    offset = integer(call.params, "offset", 0, 0, 10_000_000)
    codes = call.session.scalars(
        select(SearchDoc.code)
        .where(SearchDoc.public.is_(True), SearchDoc.open_type.in_(pk.OPEN))
        .order_by(SearchDoc.code)
        .limit(limit)
        .offset(offset)
    )
    return [pk.slug(c) for c in codes]


def resource_show(call: Call) -> dict[str, Any]:
    """One resource (a format of an open dataset): id ``<dataset id>-<format>``."""
    given = text(call.params, "id")
    if given is None:
        raise CkanValidation("missing", {"id": [CKAN_MESSAGES["missing"]]})
    dataset, _, _fmt = given.partition("-")
    if not dataset.isdigit():
        raise CkanNotFound("resource")
    try:
        resource, snap = pk.visible(call.session, dataset)
    except CkanNotFound as exc:
        raise CkanNotFound("resource") from exc
    active = resource.id in pk.datastore_ids(call.session, [resource.id])
    for item in pk.resources(resource, snap, call.base, active):
        if item["id"] == given.lower():
            return item
    raise CkanNotFound("resource")


def datastore_search(call: Call) -> dict[str, Any]:
    """Rows of a table open unconditionally (无条件开放), read through the lake's one door:
    resource_id, q (text or {field: text}), filters ({field: value or [values]}), fields,
    sort ("field desc, …"), limit (default 100, ≤ 32000), offset, include_total, distinct,
    records_format (objects, lists). Sensitive and undeclared columns are never served."""
    return datastore.search(call.session, call.params, call.base)


def datastore_search_sql(call: Call) -> dict[str, Any]:
    """One SELECT over open tables named by resource id in double quotes
    (``SELECT "区县", count(*) FROM "12-csv" GROUP BY 1``), checked by the lake's door;
    at most 32000 rows (records_truncated says when more matched)."""
    return datastore.search_sql(call.session, call.params, call.base)


# --- organizations and groups -----------------------------------------------------------------


def _all_counts(session: Session) -> dict[str, list[tuple[str, int]]]:
    return search.search(session, ANONYMOUS, SearchQuery(limit=1, facets=True)).facets


def _listing(call: Call, items: list[dict[str, Any]], filter_name: str) -> list[Any]:
    p = call.params
    wanted = set(string_list(p, filter_name))
    if wanted:
        items = [i for i in items if i["name"] in wanted or i["id"] in wanted]
    order = (text(p, "sort") or "title asc").lower()
    if order not in LIST_SORTS:
        raise CkanValidation(
            "sort", {"sort": [order[:60]]}, sort=order[:60], allowed=", ".join(LIST_SORTS)
        )
    if order == "package_count desc":
        items.sort(key=lambda i: (-i["package_count"], i["name"]))
    else:
        items.sort(key=lambda i: i[order.split()[0]])
    offset = integer(p, "offset", 0, 0, 1_000_000)
    limit = integer(p, "limit", 1000, 0, 1000)
    items = items[offset : offset + limit]
    if boolean(p, "all_fields"):
        return items
    return [i["name"] for i in items]


def organization_list(call: Call) -> list[Any]:
    """Providers (提供部门) with open datasets: names, or dicts with ``all_fields``."""
    pairs = [(int(v), n) for v, n in _all_counts(call.session).get("provider", [])]
    names = pk.Names(call.session, [i for i, _n in pairs], [])
    items = [pk.organization(names.orgs[i], call.base, n) for i, n in pairs if i in names.orgs]
    return _listing(call, items, "organizations")


def organization_show(call: Call) -> dict[str, Any]:
    """A provider by id or name (``org-<id>``), with its open dataset count (and its datasets,
    newest first, with ``include_datasets``)."""
    given = text(call.params, "id")
    if given is None:
        raise CkanValidation("missing", {"id": [CKAN_MESSAGES["missing"]]})
    org_id = pk.org_id_of(given)
    org = call.session.get(Organization, org_id) if org_id is not None else None
    if not pk.is_provider(org):
        raise CkanNotFound("organization")
    assert org is not None
    return _with_datasets(
        call, pk.organization(org, call.base), SearchQuery(provider_org_id=org.id)
    )


def group_list(call: Call) -> list[Any]:
    """Groups: the 领域 and the base and theme databases, with open dataset counts."""
    counts = _all_counts(call.session)
    tally = {("domain", v): n for v, n in counts.get("domain", [])}
    tally |= {("database", v): n for v, n in counts.get("database", [])}
    items = [
        pk.group(name, call.base, tally.get((facet, value), 0))
        for name, (facet, value, _t) in pk.GROUPS.items()
    ]
    return _listing(call, items, "groups")


def group_show(call: Call) -> dict[str, Any]:
    """A group (领域, base or theme database) by name, with its open dataset count."""
    given = text(call.params, "id")
    if given is None:
        raise CkanValidation("missing", {"id": [CKAN_MESSAGES["missing"]]})
    name = given.lower()
    if name not in pk.GROUPS:
        raise CkanNotFound("group")
    facet, value, _title = pk.GROUPS[name]
    query = SearchQuery(**{facet: value})
    return _with_datasets(call, pk.group(name, call.base), query)


def _with_datasets(call: Call, out: dict[str, Any], query: SearchQuery) -> dict[str, Any]:
    include = boolean(call.params, "include_datasets")
    query.sort, query.facets = "newest", False
    query.limit = search.MAX_PAGE if include else 1
    result = search.search(call.session, ANONYMOUS, query)
    out["package_count"] = result.total
    if include:
        entries = pk.open_entries(call.session, [h.resource_id for h in result.hits])
        out["packages"] = pk.packages(call.session, entries, call.base)
    return out


# --- tags, status, help -----------------------------------------------------------------------


def tag_list(call: Call) -> list[Any]:
    """Keywords of the open datasets, sorted (``query``: those containing it)."""
    wanted = (text(call.params, "query") or "").lower()
    tags: dict[str, int] = {}
    rows = call.session.execute(
        select(SearchDoc.keywords, SearchDoc.code).where(
            SearchDoc.public.is_(True), SearchDoc.open_type.in_(pk.OPEN)
        )
    )
    for keywords, code in rows:
        for word in (keywords or "").split():
            if word != code and wanted in word.lower():
                tags[word] = tags.get(word, 0) + 1
    names = sorted(tags)
    if boolean(call.params, "all_fields"):
        return [{"id": n, "name": n, "display_name": n, "vocabulary_id": None} for n in names]
    return names


def status_show(call: Call) -> dict[str, Any]:
    """What this site is and which API level it speaks."""
    return {
        "site_title": "陇数 · 甘肃省公共数据开放",
        "site_description": "甘肃省公共数据资源开发利用平台 — Gansu public data resource platform",
        "site_url": call.base,
        "ckan_version": CKAN_VERSION,
        "locale_default": "zh_CN",
        "extensions": [],
        "longshu_version": __version__,
    }


def help_show(call: Call) -> str:
    """What an action does (its documentation)."""
    name = text(call.params, "name")
    if name is None:
        raise CkanValidation("missing", {"name": [CKAN_MESSAGES["missing"]]})
    action = ACTIONS.get(name)
    if action is None:
        raise CkanNotFound("action", action=name[:60])
    return (action.__doc__ or "").strip()


ACTIONS: dict[str, Callable[[Call], Any]] = {
    "package_search": package_search,
    "package_show": package_show,
    "package_list": package_list,
    "resource_show": resource_show,
    "organization_list": organization_list,
    "organization_show": organization_show,
    "group_list": group_list,
    "group_show": group_show,
    "tag_list": tag_list,
    "status_show": status_show,
    "help_show": help_show,
    "datastore_search": datastore_search,
    "datastore_search_sql": datastore_search_sql,
}
