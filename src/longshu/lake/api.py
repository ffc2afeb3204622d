"""JSON API of the lake (/api/v1/lake): what a version is made of. Staff (``lake.read``)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Path

from longshu.lake import fusion
from longshu.security.context import Ctx, requires

router = APIRouter(prefix="/api/v1/lake", tags=["lake"])

TableName = Path(max_length=63, pattern=r"^[a-z][a-z0-9_]*$")


@router.get("/tables/{name}/versions/{number}/lineage")
def version_lineage(
    number: int, name: str = TableName, ctx: Ctx = requires("lake.read")
) -> dict[str, Any]:
    """血缘: the source table versions a derived version was built from (none for a load)."""
    return {
        "table": name,
        "version": number,
        "sources": fusion.lineage(ctx.session, ctx.actor, name, number),
    }
