"""Revisions (目录动态更新): the snapshot of an entry written on every save, and the difference
between two snapshots as people read it (attribute before → after; fields added, removed,
changed)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from longshu.catalog.models import Resource
from longshu.catalog.rules import ATTRIBUTES, FIELD_ATTRIBUTES

IDENTITY = ("code", "provider_org_id", "region_code", "level")


def snapshot(resource: Resource) -> dict[str, Any]:
    """Everything a reader of the catalog sees about the entry, as plain JSON values."""
    data: dict[str, Any] = {key: getattr(resource, key) for key in IDENTITY}
    for key in ATTRIBUTES:
        value = getattr(resource, key)
        data[key] = list(value) if isinstance(value, list) else value
    data["fields"] = [{key: getattr(f, key) for key in FIELD_ATTRIBUTES} for f in resource.fields]
    return data


@dataclass
class FieldChange:
    name: str
    change: str  # "added" | "removed" | "changed"
    attributes: list[str] = field(default_factory=list)
    before: dict[str, Any] | None = None
    after: dict[str, Any] | None = None


@dataclass
class Diff:
    """What changed from ``before`` to ``after``."""

    attributes: list[tuple[str, Any, Any]] = field(default_factory=list)
    fields: list[FieldChange] = field(default_factory=list)

    @property
    def changed(self) -> list[str]:
        """Names of the changed attributes, with ``fields`` if any field changed."""
        names = [name for name, _before, _after in self.attributes]
        return [*names, "fields"] if self.fields else names

    def __bool__(self) -> bool:
        return bool(self.attributes or self.fields)


def diff(before: dict[str, Any] | None, after: dict[str, Any]) -> Diff:
    """The difference between two snapshots (``before`` None: everything is new)."""
    before = before or {}
    out = Diff()
    for key in (*IDENTITY, *ATTRIBUTES):
        if before.get(key) != after.get(key):
            out.attributes.append((key, before.get(key), after.get(key)))
    old = {f["name"]: f for f in before.get("fields", [])}
    new = {f["name"]: f for f in after.get("fields", [])}
    for name, value in new.items():
        if name not in old:
            out.fields.append(FieldChange(name, "added", after=value))
        else:
            changed = [k for k in FIELD_ATTRIBUTES if old[name].get(k) != value.get(k)]
            if changed:
                out.fields.append(FieldChange(name, "changed", changed, old[name], value))
    for name, value in old.items():
        if name not in new:
            out.fields.append(FieldChange(name, "removed", before=value))
    if not out.fields and [f["name"] for f in before.get("fields", [])] != [
        f["name"] for f in after.get("fields", [])
    ]:
        out.fields.append(FieldChange("*", "reordered"))
    return out
