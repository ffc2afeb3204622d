"""Verification (核验) over HTTP: single and batch checks within a grant."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(prefix="/api/v1/sharing", tags=["sharing"])
