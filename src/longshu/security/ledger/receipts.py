"""Offline verification of an evidence receipt (存证回执), step by step.

Needs only the receipt and the published public keys — no database, no network. The same
steps run in ``longshu ledger verify-receipt`` and on the public page /ledger/verify, and
docs/ledger.md describes them for independent verifiers.
"""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass, field
from typing import Any

from longshu.security.crypto.errors import InvalidKey, UnknownAlgorithm
from longshu.security.crypto.hashing import HASHES, equal
from longshu.security.crypto.signing import PublicKey
from longshu.security.ledger import merkle
from longshu.security.ledger.checkpoints import MalformedCheckpoint, SignedCheckpoint

RECEIPT_FORMAT = "longshu.ledger.receipt/1"
MAX_RECEIPT_BYTES = 1_000_000


@dataclass
class Step:
    name: str
    title_zh: str
    title_en: str
    ok: bool
    detail: str = ""


@dataclass
class ReceiptCheck:
    steps: list[Step] = field(default_factory=list)
    summary: dict[str, Any] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return bool(self.steps) and all(s.ok for s in self.steps)

    def add(self, name: str, zh: str, en: str, ok: bool, detail: str = "") -> bool:
        self.steps.append(Step(name, zh, en, ok, detail))
        return ok

    def as_json(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "summary": self.summary,
            "steps": [s.__dict__ for s in self.steps],
        }


def load_public_keys(data: Any) -> dict[str, PublicKey]:
    """Accept one published key, a list of them, or {"keys": [...]} (the API's form)."""
    if isinstance(data, dict) and "keys" in data:
        data = data["keys"]
    if isinstance(data, dict):
        data = [data]
    if not isinstance(data, list):
        raise InvalidKey(detail="expected a public key or a list of them")
    keys = {}
    for item in data:
        if not isinstance(item, dict):
            raise InvalidKey(detail="each public key is a JSON object")
        key = PublicKey.from_json(item)
        keys[key.key_id] = key
    return keys


def parse_receipt(raw: bytes | str) -> dict[str, Any]:
    """Parse receipt JSON; ``ValueError`` with a readable reason if it is not one."""
    if len(raw) > MAX_RECEIPT_BYTES:
        raise ValueError(f"a receipt is at most {MAX_RECEIPT_BYTES} bytes")
    if isinstance(raw, bytes):
        try:
            raw = raw.decode("utf-8")
        except UnicodeDecodeError:
            raise ValueError("the receipt is not UTF-8 text") from None
    try:
        data = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise ValueError(f"the receipt is not JSON: {exc.msg} (line {exc.lineno})") from None
    if not isinstance(data, dict):
        raise ValueError("the receipt must be a JSON object")
    return data


def _hex(value: Any, size: int) -> bytes | None:
    if not isinstance(value, str):
        return None
    try:
        out = bytes.fromhex(value)
    except ValueError:
        return None
    return out if len(out) == size else None


def verify_receipt(receipt: dict[str, Any], keys: dict[str, PublicKey]) -> ReceiptCheck:
    """Check a receipt. Every step is reported; later steps are skipped once one fails
    (they would only repeat the failure)."""
    check = ReceiptCheck()
    if not check.add(
        "format",
        "回执格式",
        "Receipt format",
        receipt.get("format") == RECEIPT_FORMAT,
        f"format is {receipt.get('format')!r}, expected {RECEIPT_FORMAT!r}",
    ):
        return check
    hash_alg = receipt.get("hash_alg")
    if not check.add("hash_alg", "哈希算法", "Hash algorithm", hash_alg in HASHES, f"{hash_alg!r}"):
        return check
    hasher = merkle.MerkleHasher(str(hash_alg))
    try:
        checkpoint = SignedCheckpoint.from_json(receipt.get("checkpoint") or {})
        cp_ok, cp_detail = True, checkpoint.body_text.replace("\n", " ⏎ ")
    except (MalformedCheckpoint, AttributeError, TypeError) as exc:
        cp_ok, cp_detail, checkpoint = False, str(exc), None
    if (
        not check.add("checkpoint", "检查点格式", "Checkpoint format", cp_ok, cp_detail)
        or checkpoint is None
    ):
        return check
    body = checkpoint.body
    check.summary.update(
        ledger=receipt.get("ledger"),
        origin=body.origin,
        tree_size=body.tree_size,
        root_hash=body.root_hash.hex(),
        issued_at=receipt["checkpoint"].get("issued_at"),
        key_id=checkpoint.key_id,
    )
    if not check.add(
        "checkpoint_hash",
        "检查点与回执算法一致",
        "Checkpoint uses the receipt's hash",
        body.hash_alg == hash_alg,
        f"checkpoint: {body.hash_alg}, receipt: {hash_alg}",
    ):
        return check
    key = keys.get(checkpoint.key_id)
    if not check.add(
        "public_key",
        "公钥",
        "Public key",
        key is not None,
        f"key {checkpoint.key_id} ({checkpoint.sig_alg})"
        if key
        else f"key {checkpoint.key_id} is not among the published keys you supplied",
    ):
        return check
    try:
        problem = checkpoint.verify(keys)
    except (InvalidKey, UnknownAlgorithm) as exc:
        problem = str(exc)
    if not check.add(
        "signature",
        "检查点签名",
        "Checkpoint signature",
        problem is None,
        problem or f"{checkpoint.sig_alg} signature by {checkpoint.key_id} is valid",
    ):
        return check
    entry = receipt.get("entry") or {}
    index = entry.get("index") if isinstance(entry, dict) else None
    leaf_hash = _hex(entry.get("leaf_hash") if isinstance(entry, dict) else None, hasher.size)
    check.summary.update(
        index=index,
        leaf_hash=leaf_hash.hex() if leaf_hash else None,
        event_id=entry.get("event_id") if isinstance(entry, dict) else None,
    )
    if not check.add(
        "entry",
        "条目",
        "Entry",
        isinstance(index, int) and not isinstance(index, bool) and leaf_hash is not None,
        "entry.index must be an integer and entry.leaf_hash a hex hash"
        if leaf_hash is None or not isinstance(index, int)
        else f"index {index}",
    ):
        return check
    assert leaf_hash is not None and isinstance(index, int)
    record = _record_bytes(receipt)
    if record is not None:
        computed = hasher.leaf(record)
        if not check.add(
            "record",
            "记录内容哈希",
            "Record hashes to the leaf",
            equal(computed, leaf_hash),
            f"H(0x00 ‖ record) = {computed.hex()}",
        ):
            return check
    proof_raw = receipt.get("inclusion_proof")
    proof = [_hex(p, hasher.size) for p in proof_raw] if isinstance(proof_raw, list) else None
    if proof is None or any(p is None for p in proof):
        check.add(
            "inclusion",
            "包含证明",
            "Inclusion proof",
            False,
            "inclusion_proof must be a list of hex hashes",
        )
        return check
    root = merkle.root_from_inclusion(hasher, index, body.tree_size, leaf_hash, proof)  # type: ignore[arg-type]
    if root is None:
        detail = f"a proof of {len(proof)} hashes does not fit leaf {index} of a tree of {body.tree_size}"
    else:
        detail = f"computed root {root.hex()}"
    check.add(
        "inclusion",
        "包含证明",
        "Inclusion proof",
        root is not None and equal(root, body.root_hash),
        detail,
    )
    return check


def _record_bytes(receipt: dict[str, Any]) -> bytes | None:
    if isinstance(receipt.get("record"), str):
        return receipt["record"].encode("utf-8")
    if isinstance(receipt.get("record_base64"), str):
        try:
            return base64.b64decode(receipt["record_base64"], validate=True)
        except (binascii.Error, ValueError):
            return b""  # cannot match any leaf: reported as a failed step
    return None
