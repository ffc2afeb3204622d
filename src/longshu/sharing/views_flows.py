"""Console pages of return flows and duty lists (``/console/sharing``)."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(include_in_schema=False)
