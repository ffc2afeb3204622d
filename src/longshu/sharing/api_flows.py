"""Return flows (数据回流) and duty lists (共享责任清单) over HTTP."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(prefix="/api/v1/sharing", tags=["sharing"])
