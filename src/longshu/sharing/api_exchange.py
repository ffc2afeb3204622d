"""Batch exchange (批量交换) over HTTP: packages, delivery receipts, destruction confirmations."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(prefix="/api/v1/sharing", tags=["sharing"])
