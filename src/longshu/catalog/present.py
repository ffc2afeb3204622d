"""Turning entries, snapshots and search results into what the API and the pages show:
organisation and region names, vocabulary titles, facet labels."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from longshu.actor import Actor
from longshu.catalog import lifecycle
from longshu.catalog.models import Resource, Revision
from longshu.catalog.search import VOCABULARIES, SearchResult
from longshu.catalog.vocab import BASE_DATABASES, THEME_DATABASES
from longshu.orgs.models import Organization, Region


def org_names(session: Session, ids: Iterable[int]) -> dict[int, str]:
    wanted = {int(i) for i in ids}
    if not wanted:
        return {}
    rows = session.execute(
        select(Organization.id, Organization.name).where(Organization.id.in_(wanted))
    )
    return {org_id: name for org_id, name in rows}


def region_names(session: Session, codes: Iterable[str]) -> dict[str, str]:
    wanted = set(codes)
    if not wanted:
        return {}
    rows = session.execute(select(Region.code, Region.name).where(Region.code.in_(wanted)))
    return {code: name for code, name in rows}


def entry(
    session: Session, resource: Resource, snap: dict[str, Any] | None = None
) -> dict[str, Any]:
    """An entry as a dict for ``EntryOut``: the published snapshot if given, else the working
    copy; facts reported by other domains (grade, quality) always come from the resource."""
    if snap is None:
        from longshu.catalog.revisions import snapshot

        snap = snapshot(resource)
        sensitivity = {f.name: f.sensitivity for f in resource.fields}
    else:
        sensitivity = {}
    provider = org_names(session, [snap["provider_org_id"]])
    region = region_names(session, [snap["region_code"]])
    return {
        **snap,
        "id": resource.id,
        "provider_name": provider.get(snap["provider_org_id"], ""),
        "region_name": region.get(snap["region_code"], ""),
        "fields": [{**f, "sensitivity": sensitivity.get(f["name"])} for f in snap["fields"]],
        "revision": resource.revision,
        "grade": resource.grade,
        "quality_score": resource.quality_score,
        "published_at": resource.published_at,
    }


def published_entry(session: Session, resource: Resource, revision: Revision) -> dict[str, Any]:
    data = entry(session, resource, revision.snapshot)
    data["revision"] = revision.number
    return data


def working_entry(session: Session, actor: Actor, resource: Resource) -> dict[str, Any]:
    data = entry(session, resource)
    data.update(
        revision=resource.revision,
        status=resource.status,
        version=resource.version,
        published_revision=resource.published_revision,
        retired_at=resource.retired_at,
        retire_reason=resource.retire_reason,
        created_at=resource.created_at,
        updated_at=resource.updated_at,
        moves=[t.name for t in lifecycle.available(actor, session, resource)],
    )
    return data


def facet_label(
    facet: str, value: str, orgs: dict[int, str], regions: dict[str, str], locale: str
) -> str:
    if facet == "provider":
        return orgs.get(int(value), value)
    if facet == "region":
        return regions.get(value, value)
    if facet == "database":
        kind, _, code = value.partition(":")
        vocabulary = BASE_DATABASES if kind == "base" else THEME_DATABASES
        term = vocabulary.get(code)
        prefix = ("基础库 " if kind == "base" else "主题库 ") if locale.startswith("zh") else ""
        return prefix + (term.title(locale) if term else value)
    vocabulary = VOCABULARIES.get(facet)
    if vocabulary and value in vocabulary:
        return vocabulary[value].title(locale)
    return value


def search_result(session: Session, result: SearchResult, locale: str) -> dict[str, Any]:
    """Hits with provider and region names, facets with labels."""
    org_ids = {h.provider_org_id for h in result.hits} | {
        int(v) for v, _n in result.facets.get("provider", [])
    }
    codes = {h.region_code for h in result.hits} | {v for v, _n in result.facets.get("region", [])}
    orgs, regions = org_names(session, org_ids), region_names(session, codes)
    items = [
        {
            **{
                k: getattr(h, k)
                for k in (
                    "code",
                    "name",
                    "summary",
                    "provider_org_id",
                    "region_code",
                    "level",
                    "domain",
                    "share_type",
                    "open_type",
                    "formats",
                    "published_at",
                    "score",
                )
            },
            "id": h.resource_id,
            "provider_name": orgs.get(h.provider_org_id, ""),
            "region_name": regions.get(h.region_code, ""),
        }
        for h in result.hits
    ]
    facets = {
        name: [
            {"value": v, "label": facet_label(name, v, orgs, regions, locale), "count": n}
            for v, n in values
        ]
        for name, values in result.facets.items()
    }
    return {"total": result.total, "items": items, "facets": facets}
