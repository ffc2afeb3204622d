"""Schema drift between two versions: added, removed and retyped columns.

Added columns never break a reader. Removed and retyped columns break queries and grants
written against the old schema, so a version that brings them waits for a data manager's
acceptance (``tables.accept_version``). Widening a number (int32 → int64, float32 → float64)
is not a break."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import pyarrow as pa

from longshu.lake.errors import InvalidColumnName

# any script's letters, digits and "_", not starting with a digit (DuckDB, Spark and Delta
# without column mapping all accept these names when quoted)
COLUMN_NAME = re.compile(r"^[^\W\d]\w{0,62}$")

_ALIASES = {"large_string": "string", "large_utf8": "string", "utf8": "string"}
_ALIASES |= {"large_binary": "binary", "string_view": "string", "binary_view": "binary"}
WIDENINGS = {
    ("int8", "int16"),
    ("int8", "int32"),
    ("int8", "int64"),
    ("int16", "int32"),
    ("int16", "int64"),
    ("int32", "int64"),
    ("float", "double"),
    ("date32[day]", "timestamp[us]"),
    # Delta stores timestamps in microseconds; a file typed in seconds or ms fits losslessly
    ("timestamp[s]", "timestamp[us]"),
    ("timestamp[ms]", "timestamp[us]"),
}


def type_name(arrow_type: pa.DataType) -> str:
    name = str(arrow_type)
    return _ALIASES.get(name, name)


def describe(schema: pa.Schema) -> list[dict[str, Any]]:
    """A schema as stored on a version and sent in events."""
    return [{"name": f.name, "type": type_name(f.type), "nullable": f.nullable} for f in schema]


def check_columns(schema: pa.Schema) -> None:
    """Column names are identifiers, unique regardless of case (DuckDB folds case)."""
    seen: set[str] = set()
    for name in schema.names:
        if not isinstance(name, str) or not COLUMN_NAME.match(name):
            raise InvalidColumnName(name=repr(name)[:80])
        folded = name.casefold()
        if folded in seen:
            raise InvalidColumnName(name=repr(name)[:80])
        seen.add(folded)


@dataclass
class Drift:
    added: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    retyped: dict[str, tuple[str, str]] = field(default_factory=dict)  # name → (old, new)
    widened: dict[str, tuple[str, str]] = field(default_factory=dict)

    @property
    def breaking(self) -> bool:
        return bool(self.removed or self.retyped)

    @property
    def empty(self) -> bool:
        return not (self.added or self.removed or self.retyped or self.widened)

    def as_dict(self) -> dict[str, Any]:
        if self.empty:
            return {}
        return {
            "added": self.added,
            "removed": self.removed,
            "retyped": {k: list(v) for k, v in self.retyped.items()},
            "widened": {k: list(v) for k, v in self.widened.items()},
            "breaking": self.breaking,
        }


def compare(old: list[dict[str, Any]], new: list[dict[str, Any]]) -> Drift:
    """What changed from ``old`` to ``new`` (both as ``describe`` returns them)."""
    drift = Drift()
    before = {c["name"]: c["type"] for c in old}
    after = {c["name"]: c["type"] for c in new}
    drift.added = [n for n in after if n not in before]
    drift.removed = [n for n in before if n not in after]
    for name, old_type in before.items():
        new_type = after.get(name)
        if new_type is None or new_type == old_type:
            continue
        if (old_type, new_type) in WIDENINGS:
            drift.widened[name] = (old_type, new_type)
        else:
            drift.retyped[name] = (old_type, new_type)
    return drift
