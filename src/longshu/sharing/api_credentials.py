"""Application credentials of departments' systems over HTTP: register, keys, tokens, disable."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(prefix="/api/v1/sharing", tags=["sharing"])
