"""行政区划: Gansu's province, its 14 市州 and 86 区县 (plus the functional area 兰州新区), loaded
from the data file shipped in this package, and the look-ups every domain uses."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from longshu import events, ids
from longshu.actor import SYSTEM, Actor
from longshu.orgs.errors import InvalidRegion, UnknownRegion
from longshu.orgs.models import Region

PROVINCE_CODE = "620000"
DATA_FILE = "regions_gansu.json"

REGIONS_LOADED = events.define("orgs.regions_loaded", "行政区划已导入", "Regions loaded")

_FIELDS = ("name", "short_name", "level", "parent_code", "kind", "official", "position")


@lru_cache
def region_data() -> dict[str, Any]:
    """The shipped data file: ``source`` (which year's list), ``notes`` and ``regions``."""
    text = resources.files("longshu.orgs").joinpath(DATA_FILE).read_text(encoding="utf-8")
    return json.loads(text)


def _rows() -> list[dict[str, Any]]:
    return [
        {
            "code": r["code"],
            "name": r["name"],
            "short_name": r["short_name"],
            "level": r["level"],
            "parent_code": r["parent"],
            "kind": r["kind"],
            "official": r["official"],
            "position": position,
        }
        for position, r in enumerate(region_data()["regions"])
    ]


def load_regions(session: Session, actor: Actor = SYSTEM) -> dict[str, int]:
    """Bring the region table in line with the data file: insert missing codes, update changed
    ones (never delete: organisations may point at a code). Emits ``orgs.regions_loaded`` when
    anything changed; running it again changes nothing."""
    existing = {r.code: r for r in session.scalars(select(Region))}
    inserted = updated = 0
    for row in _rows():  # parents come before children in the file
        current = existing.get(row["code"])
        if current is None:
            session.add(Region(**row))
            inserted += 1
            session.flush()
        elif any(getattr(current, f) != row[f] for f in _FIELDS):
            for f in _FIELDS:
                setattr(current, f, row[f])
            updated += 1
    if inserted or updated:
        year = region_data()["source"]["year"]
        events.emit(
            session,
            REGIONS_LOADED,
            actor,
            subject=("region", PROVINCE_CODE),
            inserted=inserted,
            updated=updated,
            source_year=year,
        )
        session.flush()
    return {"inserted": inserted, "updated": updated}


def get_region(session: Session, code: object) -> Region:
    """The region with this code, or ``InvalidRegion`` (malformed) / ``UnknownRegion``."""
    if not isinstance(code, str) or not ids.check_region_code(code):
        raise InvalidRegion(code=_shown(code))
    region = session.get(Region, code)
    if region is None:
        raise UnknownRegion(code=code)
    return region


def _shown(code: object) -> str:
    # Echo at most a short prefix of whatever was sent: the message must stay readable.
    text = str(code)
    return text if len(text) <= 12 else text[:12] + "…"


def list_regions(
    session: Session, level: str | None = None, parent_code: str | None = None
) -> list[Region]:
    """Regions in the published order, optionally of one level or under one parent."""
    query = select(Region).order_by(Region.position, Region.code)
    if level is not None:
        query = query.where(Region.level == level)
    if parent_code is not None:
        get_region(session, parent_code)
        query = query.where(Region.parent_code == parent_code)
    return list(session.scalars(query))


def descendant_codes(session: Session, code: str) -> list[str]:
    """``code`` and every region below it (a 市州 with its 区县)."""
    get_region(session, code)
    children: dict[str | None, list[str]] = {}
    for child, parent in session.execute(select(Region.code, Region.parent_code)):
        children.setdefault(parent, []).append(child)
    found, stack = [], [code]
    while stack:
        current = stack.pop()
        found.append(current)
        stack.extend(children.get(current, ()))
    return found


@dataclass
class RegionNode:
    region: Region
    children: list[RegionNode] = field(default_factory=list)


def region_tree(session: Session, root: str = PROVINCE_CODE) -> RegionNode:
    """The region ``root`` with its descendants nested, in the published order."""
    top = get_region(session, root)
    nodes = {r.code: RegionNode(r) for r in list_regions(session)}
    for node in nodes.values():
        parent = node.region.parent_code
        if parent in nodes:
            nodes[parent].children.append(node)
    return nodes[top.code]


def region_path(session: Session, code: str) -> list[Region]:
    """From the province down to ``code`` (e.g. 甘肃省 › 酒泉市 › 敦煌市)."""
    region: Region | None = get_region(session, code)
    path = []
    while region is not None:
        path.append(region)
        region = session.get(Region, region.parent_code) if region.parent_code else None
    return list(reversed(path))
