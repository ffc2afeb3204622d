"""Ingest (汇聚): connectors that turn sources (files, databases, APIs, streams, media) into
Arrow data handed to the lake's load API (``lake.tables.write_version``). See docs/ingest.md.

    from longshu.ingest import load_file, load_source
    result = load_file(session, actor, "population", "people.csv", mode="snapshot")
    result = load_source(session, actor, "orders", lambda: my_source(), label="orders@erp")
"""

from __future__ import annotations

from typing import Any

_SERVICE = ("load_file", "load_source", "read_file", "LoadResult", "ProgressCallback")


def __getattr__(name: str) -> Any:
    if name in _SERVICE:
        from longshu.ingest import service

        return getattr(service, name)
    if name == "Source":
        from longshu.ingest.source import Source

        return Source
    raise AttributeError(name)
