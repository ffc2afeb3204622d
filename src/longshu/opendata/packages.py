"""Catalog entries as CKAN dicts: packages (datasets), their resources (one per format, as the
DCAT export makes one distribution per format), organizations (providers) and groups (领域 and
the base and theme databases).

Only the **published snapshot** of an entry that is **open** (无条件开放 / 有条件开放) is ever
shown; everything else is "not found", so closed entries are not revealed."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from longshu.catalog.models import Resource, Revision
from longshu.catalog.service import PROVIDER_KINDS
from longshu.catalog.vocab import (
    BASE_DATABASES,
    DOMAINS,
    FORMATS,
    KINDS,
    LEVELS,
    OPEN_TYPES,
    SHARE_TYPES,
    THEME_DATABASES,
    UPDATE_CYCLES,
)
from longshu.lake.models import LakeTable, LakeVersion
from longshu.opendata.errors import CkanNotFound
from longshu.orgs.models import Organization, Region

OPEN = ("unconditional", "conditional")
# Licence texts the catalog holds → CKAN's licence ids (open ones make ``isopen`` true).
LICENCES = {
    "cc by 4.0": ("cc-by", "Creative Commons Attribution 4.0", True),
    "cc-by-4.0": ("cc-by", "Creative Commons Attribution 4.0", True),
    "cc by-sa 4.0": ("cc-by-sa", "Creative Commons Attribution Share-Alike 4.0", True),
    "cc0": ("cc-zero", "Creative Commons CCZero", True),
    "cc0 1.0": ("cc-zero", "Creative Commons CCZero", True),
    "odc-by": ("odc-by", "Open Data Commons Attribution License", True),
}
MIMETYPES = {
    "CSV": "text/csv",
    "XLSX": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "JSON": "application/json",
    "XML": "application/xml",
    "PDF": "application/pdf",
    "DOCX": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "TXT": "text/plain",
    "GEOJSON": "application/geo+json",
    "TIFF": "image/tiff",
    "JPEG": "image/jpeg",
    "PNG": "image/png",
    "MP3": "audio/mpeg",
    "WAV": "audio/wav",
    "MP4": "video/mp4",
}


# --- names ------------------------------------------------------------------------------------


def slug(code: str) -> str:
    """The package name: the resource code made URL-safe (``101001/620000-013-00042-7`` →
    ``101001-620000-013-00042-7``); codes never change, so neither do names."""
    return code.replace("/", "-").lower()


def code_of(name: str) -> str:
    """The resource code a package name or a code stands for."""
    name = name.strip().upper()
    return name if "/" in name else name.replace("-", "/", 1)


def org_name(org_id: int) -> str:
    return f"org-{org_id}"


def org_id_of(name: str) -> int | None:
    text = name.strip().lower().removeprefix("org-")
    return int(text) if text.isdigit() and len(text) < 12 else None


def group_names() -> dict[str, tuple[str, str, str]]:
    """Every group: name → (search facet, facet value, Chinese title)."""
    out = {code: ("domain", code, term.title_zh) for code, term in DOMAINS.items()}
    for code, term in BASE_DATABASES.items():
        out[f"base-{code.replace('_', '-')}"] = (
            "database",
            f"base:{code}",
            f"基础库·{term.title_zh}",
        )
    for code, term in THEME_DATABASES.items():
        out[f"theme-{code.replace('_', '-')}"] = (
            "database", f"theme:{code}", f"主题库·{term.title_zh}"
        )  # fmt: skip
    return out


GROUPS = group_names()
GROUP_OF_VALUE = {(facet, value): name for name, (facet, value, _t) in GROUPS.items()}


def iso(value: dt.datetime | str | None) -> str | None:
    """CKAN's timestamps: naive UTC ISO 8601 with microseconds."""
    if value is None:
        return None
    if isinstance(value, str):
        value = dt.datetime.fromisoformat(value)
    if value.tzinfo is not None:
        value = value.astimezone(dt.UTC).replace(tzinfo=None)
    return value.isoformat(timespec="microseconds")


# --- reading ----------------------------------------------------------------------------------


def is_open(resource: Resource, snap: dict[str, Any]) -> bool:
    return resource.is_public and snap.get("open_type") in OPEN


def visible(session: Session, name_or_id: str) -> tuple[Resource, dict[str, Any]]:
    """The open, published entry that ``name_or_id`` names (id, package name or code)."""
    text = str(name_or_id).strip()
    resource = None
    if text.isdigit() and len(text) < 12:
        resource = session.get(Resource, int(text))
    if resource is None and 0 < len(text) <= 40:
        resource = session.scalar(select(Resource).where(Resource.code == code_of(text)))
    if resource is None or not resource.is_public:
        raise CkanNotFound("package")
    snap = _snapshots(session, [resource]).get(resource.id)
    if snap is None or not is_open(resource, snap):
        raise CkanNotFound("package")
    return resource, snap


def open_entries(session: Session, ids: list[int]) -> list[tuple[Resource, dict[str, Any]]]:
    """The open published entries among ``ids``, in that order."""
    if not ids:
        return []
    resources = {r.id: r for r in session.scalars(select(Resource).where(Resource.id.in_(ids)))}
    snaps = _snapshots(session, list(resources.values()))
    out = []
    for i in ids:
        resource, snap = resources.get(i), snaps.get(i)
        if resource is not None and snap is not None and is_open(resource, snap):
            out.append((resource, snap))
    return out


def _snapshots(session: Session, resources: list[Resource]) -> dict[int, dict[str, Any]]:
    wanted = [(r.id, r.published_revision) for r in resources if r.published_revision]
    if not wanted:
        return {}
    rows = session.execute(
        select(Revision.resource_id, Revision.number, Revision.snapshot).where(
            Revision.resource_id.in_([i for i, _n in wanted])
        )
    )
    numbers = dict(wanted)
    return {rid: snap for rid, number, snap in rows if numbers.get(rid) == number}


def datastore_ids(session: Session, resource_ids: list[int]) -> set[int]:
    """Which of these catalog entries have a ready lake table (``datastore_active``)."""
    if not resource_ids:
        return set()
    rows = session.scalars(
        select(LakeTable.resource_id)
        .join(LakeVersion, LakeVersion.table_id == LakeTable.id)
        .where(
            LakeTable.resource_id.in_(resource_ids),
            LakeTable.kind == "table",
            LakeVersion.status == "ready",
        )
        .distinct()
    )
    return {int(r) for r in rows if r is not None}


# --- dicts ------------------------------------------------------------------------------------


class Names:
    """Organisation and region names for a batch of entries (two queries, not one per entry)."""

    def __init__(self, session: Session, org_ids: Iterable[int], region_codes: Iterable[str]):
        org_ids, region_codes = set(org_ids), set(region_codes)
        self.orgs = {
            o.id: o
            for o in session.scalars(select(Organization).where(Organization.id.in_(org_ids)))
        } if org_ids else {}  # fmt: skip
        self.regions: dict[str, str] = {}
        if region_codes:
            rows = session.execute(
                select(Region.code, Region.name).where(Region.code.in_(region_codes))
            )
            self.regions = {code: name for code, name in rows}


def organization(org: Organization, base: str, count: int | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {
        "id": str(org.id),
        "name": org_name(org.id),
        "title": org.name,
        "display_name": org.name,
        "description": org.short_name or "",
        "type": "organization",
        "is_organization": True,
        "state": "active" if org.active else "deleted",
        "approval_status": "approved",
        "image_url": "",
        "image_display_url": "",
        "created": iso(org.created_at),
        "region_code": org.region_code,
        "level": org.level,
        "url": f"{base}/catalog?provider={org.id}",
    }
    if count is not None:
        out["package_count"] = count
    return out


def is_provider(org: Organization | None) -> bool:
    return org is not None and org.active and org.kind in PROVIDER_KINDS


def group(name: str, base: str, count: int | None = None) -> dict[str, Any]:
    facet, value, title = GROUPS[name]
    if facet == "domain":
        term = DOMAINS[value]
        description = f"领域：{term.title_zh} ({term.title_en})"
    else:
        kind, _, code = value.partition(":")
        term = (BASE_DATABASES if kind == "base" else THEME_DATABASES)[code]
        description = f"{title} ({'Base' if kind == 'base' else 'Theme'} database: {term.title_en})"
    out: dict[str, Any] = {
        "id": name,
        "name": name,
        "title": title,
        "display_name": title,
        "description": description,
        "type": "group",
        "is_organization": False,
        "state": "active",
        "approval_status": "approved",
        "image_url": "",
        "image_display_url": "",
    }
    if count is not None:
        out["package_count"] = count
    return out


def licence(text: str | None) -> tuple[str, str, bool]:
    if not text:
        return "notspecified", "License not specified", False
    return LICENCES.get(text.strip().lower(), ("other", text, False))


def resources(
    resource: Resource, snap: dict[str, Any], base: str, datastore: bool = False
) -> list[dict[str, Any]]:
    """One CKAN resource per format; ``datastore``: the entry's rows are served by
    ``datastore_search`` (open unconditionally, with a lake table)."""
    page = f"{base}/catalog/resources/{resource.id}"
    out = []
    for position, fmt in enumerate(snap.get("formats") or []):
        term = FORMATS.get(fmt)
        out.append(
            {
                "id": f"{resource.id}-{fmt.lower()}",
                "package_id": str(resource.id),
                "name": f"{snap['name']} ({term.title_zh if term else fmt})",
                "description": snap.get("summary") or "",
                "format": fmt,
                "mimetype": MIMETYPES.get(fmt),
                "url": page,
                "url_type": None,
                "resource_type": "api" if fmt == "API" else "file",
                "position": position,
                "state": "active",
                "datastore_active": datastore and snap.get("open_type") == "unconditional",
                "created": iso(resource.created_at),
                "last_modified": iso(resource.published_at),
                "metadata_modified": iso(resource.published_at),
            }
        )
    return out


def package(
    resource: Resource, snap: dict[str, Any], names: Names, base: str, datastore: bool = False
) -> dict[str, Any]:
    """One open entry as a CKAN package dict (its published snapshot)."""
    org = names.orgs.get(snap["provider_org_id"])
    licence_id, licence_title, isopen = licence(snap.get("licence"))
    groups = [GROUP_OF_VALUE[("domain", snap["domain"])]] if snap["domain"] in DOMAINS else []
    groups += [
        GROUP_OF_VALUE[("database", f"{kind}:{code}")]
        for kind, key in (("base", "base_databases"), ("theme", "theme_databases"))
        for code in snap.get(key) or []
        if ("database", f"{kind}:{code}") in GROUP_OF_VALUE
    ]
    tags = [
        {"name": k, "display_name": k, "state": "active", "vocabulary_id": None}
        for k in dict.fromkeys(snap.get("keywords") or [])
    ]
    files = resources(resource, snap, base, datastore)
    region = names.regions.get(snap["region_code"], "")
    extras = {
        "资源代码": snap["code"],
        "领域": _title(DOMAINS, snap["domain"]),
        "共享类型": _title(SHARE_TYPES, snap["share_type"]),
        "开放类型": _title(OPEN_TYPES, snap["open_type"]),
        "开放条件": snap.get("open_conditions") or "",
        "更新周期": _title(UPDATE_CYCLES, snap["update_cycle"]),
        "资源形态": _title(KINDS, snap["kind"]),
        "层级": _title(LEVELS, snap["level"]),
        "行政区划代码": snap["region_code"],
        "行政区划": region,
        "基础库": "、".join(_title(BASE_DATABASES, c) for c in snap.get("base_databases") or []),
        "主题库": "、".join(_title(THEME_DATABASES, c) for c in snap.get("theme_databases") or []),
        "来源系统": snap.get("source_system") or "",
    }
    return {
        "id": str(resource.id),
        "name": slug(snap["code"]),
        "title": snap["name"],
        "notes": snap.get("summary") or "",
        "type": "dataset",
        "state": "active",
        "private": False,
        "url": f"{base}/catalog/resources/{resource.id}",
        "version": str(resource.published_revision),
        "author": org.name if org else "",
        "author_email": None,
        "maintainer": snap.get("contact_name") or "",
        "maintainer_email": snap.get("contact_email") or "",
        "license_id": licence_id,
        "license_title": licence_title,
        "isopen": isopen,
        "metadata_created": iso(resource.created_at),
        "metadata_modified": iso(resource.published_at),
        "owner_org": str(snap["provider_org_id"]),
        "organization": organization(org, base) if org else None,
        "groups": [group(name, base) for name in groups],
        "tags": tags,
        "num_tags": len(tags),
        "resources": files,
        "num_resources": len(files),
        "extras": [{"key": k, "value": v} for k, v in extras.items() if v],
        # the catalog's own codes, for clients that filter on them (fq accepts these fields)
        "resource_code": snap["code"],
        "domain": snap["domain"],
        "share_type": snap["share_type"],
        "open_type": snap["open_type"],
        "update_cycle": snap["update_cycle"],
        "kind": snap["kind"],
        "level": snap["level"],
        "region_code": snap["region_code"],
    }


def packages(
    session: Session, entries: list[tuple[Resource, dict[str, Any]]], base: str
) -> list[dict[str, Any]]:
    names = Names(
        session,
        (s["provider_org_id"] for _r, s in entries),
        (s["region_code"] for _r, s in entries),
    )
    active = datastore_ids(session, [r.id for r, _s in entries])
    return [package(r, s, names, base, r.id in active) for r, s in entries]


def _title(vocabulary: dict[str, Any], code: str | None) -> str:
    term = vocabulary.get(code) if code else None
    return term.title_zh if term else (code or "")
