"""The public page /ledger/verify: anyone pastes or uploads an evidence receipt (存证回执) and
sees it checked step by step against the platform's published keys."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, File, Form, UploadFile
from fastapi.responses import Response

from longshu.security.context import Ctx, requires
from longshu.security.crypto.errors import InvalidKey
from longshu.security.crypto.keystore import KeyStore
from longshu.security.ledger import receipts

router = APIRouter(include_in_schema=False)

TEMPLATE = "ledger/verify.html"


def _render(ctx: Ctx, context: dict[str, Any], status_code: int = 200) -> Response:
    from longshu.web import render

    keys = KeyStore().public_keys()
    return render(ctx.request, TEMPLATE, {"public_keys": keys, **context}, status_code=status_code)


@router.get("/ledger/verify")
def verify_form(ctx: Ctx = requires("public.read")) -> Response:
    """The empty form, with the published keys it checks against."""
    return _render(ctx, {"check": None, "error": None, "pasted": ""})


@router.post("/ledger/verify")
async def verify_submitted(
    receipt_text: str = Form(default="", max_length=receipts.MAX_RECEIPT_BYTES),
    receipt_file: UploadFile | None = File(default=None),
    ctx: Ctx = requires("public.read"),
) -> Response:
    """Check a pasted or uploaded receipt and show every step."""
    raw: bytes | str = receipt_text
    if receipt_file is not None and receipt_file.filename:
        raw = await receipt_file.read(receipts.MAX_RECEIPT_BYTES + 1)
    if not raw or (isinstance(raw, str) and not raw.strip()):
        return _render(ctx, {"check": None, "error": "empty", "pasted": ""}, 422)
    try:
        receipt = receipts.parse_receipt(raw)
        keys = receipts.load_public_keys(KeyStore().public_keys())
    except (ValueError, InvalidKey) as exc:
        return _render(ctx, {"check": None, "error": str(exc), "pasted": receipt_text}, 422)
    check = receipts.verify_receipt(receipt, keys)
    return _render(ctx, {"check": check, "error": None, "pasted": receipt_text})
