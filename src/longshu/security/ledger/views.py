"""Public page /ledger/verify (placeholder until written below)."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(tags=["ledger"])
