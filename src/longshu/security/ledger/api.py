"""Public JSON API of the ledger (/api/v1/ledger): checkpoints, proofs, keys, receipts.

Everything here is public (``public.read``) and reveals hashes and proofs only, never the
content of an entry: events can carry business data. Cutting a checkpoint on demand needs
``ledger.manage``.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Body, Query

from longshu.errors import InvalidInput
from longshu.security import access
from longshu.security.context import Ctx, requires
from longshu.security.crypto.errors import InvalidKey
from longshu.security.crypto.keystore import KeyStore
from longshu.security.ledger import receipts, service

access.permission("ledger.manage", {"platform_admin"}, "管理存证账本", "Manage the ledger")

router = APIRouter(prefix="/api/v1/ledger", tags=["ledger"])

LedgerName = Query(default=service.EVENTS_LEDGER, max_length=60, pattern=r"^[A-Za-z0-9._-]+$")


def _checkpoint_json(ctx: Ctx, ledger_name: str) -> dict[str, Any]:
    ledger = service.get_ledger(ctx.session, ledger_name, create=False)
    row = service.latest_checkpoint(ctx.session, ledger)
    if row is None:
        raise service.NoCheckpointYet(name=ledger.name)
    return service.signed(ledger, row).as_json()


@router.get("/checkpoints/latest")
def latest_checkpoint(
    ledger: str = LedgerName, ctx: Ctx = requires("public.read")
) -> dict[str, Any]:
    """The latest signed checkpoint (tree size, root hash, time, signature)."""
    return _checkpoint_json(ctx, ledger)


@router.post("/checkpoints", status_code=201)
def cut_checkpoint(
    ledger: str = LedgerName, ctx: Ctx = requires("ledger.manage")
) -> dict[str, Any]:
    """Sign a checkpoint of the ledger now (the latest one if nothing was appended since)."""
    row = service.issue_checkpoint(ctx.session, ledger)
    return service.signed(service.get_ledger(ctx.session, ledger), row).as_json()


@router.get("/entries/{index}/inclusion")
def inclusion_proof(
    index: int,
    tree_size: int | None = Query(
        default=None, ge=1, description="Defaults to the latest checkpoint's size."
    ),
    ledger: str = LedgerName,
    ctx: Ctx = requires("public.read"),
) -> dict[str, Any]:
    """The audit path of entry ``index`` in the tree of ``tree_size`` entries."""
    led = service.get_ledger(ctx.session, ledger, create=False)
    if tree_size is None:
        row = service.checkpoint_at_least(ctx.session, led, index + 1)
        if row is None:
            raise service.NotYetCheckpointed(index=index)
        tree_size = row.tree_size
    proof = service.inclusion_proof(ctx.session, led, index, tree_size)
    leaf = service.entry(ctx.session, led, index).leaf_hash
    return {
        "ledger": led.name,
        "hash_alg": led.hash_alg,
        "index": index,
        "tree_size": tree_size,
        "leaf_hash": bytes(leaf).hex(),
        "inclusion_proof": [p.hex() for p in proof],
    }


@router.get("/consistency")
def consistency_proof(
    first: int = Query(ge=0),
    second: int = Query(ge=0),
    ledger: str = LedgerName,
    ctx: Ctx = requires("public.read"),
) -> dict[str, Any]:
    """Proof that the tree of ``first`` entries is a prefix of the tree of ``second``."""
    led = service.get_ledger(ctx.session, ledger, create=False)
    proof = service.consistency_proof(ctx.session, led, first, second)
    return {
        "ledger": led.name,
        "hash_alg": led.hash_alg,
        "first": first,
        "second": second,
        "first_root": service.root_at(ctx.session, led, first).hex(),
        "second_root": service.root_at(ctx.session, led, second).hex(),
        "consistency_proof": [p.hex() for p in proof],
    }


@router.get("/public-keys")
def public_keys(ctx: Ctx = requires("public.read")) -> dict[str, Any]:
    """Every key that has signed checkpoints (the current one first)."""
    store = KeyStore()
    store.signing_key()  # publish a key from the start, before the first checkpoint
    return {"keys": store.public_keys()}


@router.get("/receipts/events/{event_id}")
def event_receipt(event_id: int, ctx: Ctx = requires("public.read")) -> dict[str, Any]:
    """The evidence receipt of an event: its hash and proof, not its content."""
    return service.receipt_for_event(ctx.session, event_id)


@router.post("/receipts/verify")
def verify_receipt(
    receipt: dict[str, Any] = Body(..., description="A receipt as issued."),
    ctx: Ctx = requires("public.read"),
) -> dict[str, Any]:
    """Check a receipt against this platform's published keys, step by step."""
    try:
        keys = receipts.load_public_keys(KeyStore().public_keys())
    except InvalidKey as exc:
        raise InvalidInput(detail=str(exc)) from None
    return receipts.verify_receipt(receipt, keys).as_json()
