"""The lake (数据湖): versioned Delta tables, content-addressed multimodal objects, retention,
and the one door to raw data. See docs/lake.md.

    from longshu import lake
    result = lake.access(session, actor, grant, "SELECT ... FROM population ...")
    with lake.access_batches(session, actor, grant, "SELECT ...") as stream:
        for batch in stream: ...

``lake.access`` is ``longshu.lake.door.access`` and ``lake.access_batches`` its streaming
form ``longshu.lake.door.access_batches`` (imported on first use, so importing the lake's
models does not load the query engines)."""

from __future__ import annotations

from typing import Any


def __getattr__(name: str) -> Any:
    if name == "access":
        from longshu.lake.door import access

        return access
    if name == "access_batches":
        from longshu.lake.door import access_batches

        return access_batches
    raise AttributeError(name)
