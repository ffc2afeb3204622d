"""Key management actions that change state: each is permission-checked and emits an event."""

from __future__ import annotations

from sqlalchemy.orm import Session

from longshu import events
from longshu.actor import Actor
from longshu.security import access
from longshu.security.crypto.envelope import rotate_master_key
from longshu.security.crypto.keystore import KeyStore
from longshu.security.crypto.signing import SM2_SM3, SigningKey

access.permission("keys.manage", {"platform_admin"}, "管理密钥", "Manage keys")

MASTER_ROTATED = events.define("keys.master_rotated", "主密钥已轮换", "Master key rotated")
SIGNING_ROTATED = events.define("keys.signing_rotated", "签名密钥已轮换", "Signing key rotated")


def rotate_master(
    session: Session, actor: Actor, store: KeyStore | None = None
) -> dict[str, object]:
    """New master key; every data key re-wrapped under it; data untouched."""
    access.require(actor, "keys.manage")
    old_id, new_id, count = rotate_master_key(store)
    events.emit(
        session,
        MASTER_ROTATED,
        actor,
        subject=("master_key", new_id),
        old_key_id=old_id,
        new_key_id=new_id,
        data_keys_rewrapped=count,
    )
    return {"old_key_id": old_id, "new_key_id": new_id, "data_keys_rewrapped": count}


def rotate_signing(
    session: Session, actor: Actor, algorithm: str = SM2_SM3, store: KeyStore | None = None
) -> SigningKey:
    """New current signing key; the old one's public key stays published."""
    access.require(actor, "keys.manage")
    old_id, key = (store or KeyStore()).rotate_signing_key(algorithm)
    events.emit(
        session,
        SIGNING_ROTATED,
        actor,
        subject=("signing_key", key.key_id),
        old_key_id=old_id,
        new_key_id=key.key_id,
        algorithm=key.algorithm,
    )
    return key
