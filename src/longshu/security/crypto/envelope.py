"""Envelope encryption at rest: one data key per dataset, wrapped by the master key.

The lake and batch deliveries call this module: ``encrypt_file``/``decrypt_file``,
``encrypt_stream``/``decrypt_stream``, ``encrypt_value``/``decrypt_value`` for columns, and
``pseudonymizer(dataset, consumer)`` for keyed pseudonyms that differ per consumer (so two
consumers cannot join their extracts on a pseudonymised ID).

A data key file (keys/data/<dataset>.json) holds {"dataset", "key_id", "algorithm": "sm4-gcm",
"master_key_id", "wrapped"}; ``wrapped`` is SM4-GCM(master, nonce, data key,
aad = "longshu-dek" ‖ 0 ‖ dataset ‖ 0 ‖ key_id), base64. ``rotate_master_key`` re-wraps every
data key under a new master key; encrypted data is not touched.
"""

from __future__ import annotations

import base64
import json
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from longshu.security.crypto import aead
from longshu.security.crypto.errors import DecryptionFailed, InvalidKey
from longshu.security.crypto.hashing import HmacKey, hmac_sm3
from longshu.security.crypto.keystore import KeyStore, write_new, write_replace

VALUE_MAGIC = b"LSV1"


def _wrap_aad(dataset: str, key_id: str) -> bytes:
    return b"longshu-dek\x00" + dataset.encode() + b"\x00" + key_id.encode()


@dataclass(frozen=True)
class DataKey:
    dataset: str
    key_id: str
    key: bytes


def _wrap(store: KeyStore, dataset: str, key_id: str, key: bytes, master_id: str | None) -> bytes:
    master_id, master = store.master_key(master_id)
    wrapped = aead.seal(master, key, _wrap_aad(dataset, key_id))
    record = {
        "dataset": dataset,
        "key_id": key_id,
        "algorithm": aead.SM4_GCM,
        "master_key_id": master_id,
        "wrapped": base64.b64encode(wrapped).decode(),
    }
    return json.dumps(record, sort_keys=True).encode()


def _unwrap(store: KeyStore, path: Path) -> tuple[DataKey, str]:
    record = json.loads(path.read_text())
    dataset, key_id = record["dataset"], record["key_id"]
    if record.get("algorithm") != aead.SM4_GCM:
        raise InvalidKey(detail=f"{path.name}: algorithm {record.get('algorithm')}")
    _, master = store.master_key(record["master_key_id"])
    key = aead.open_sealed(master, base64.b64decode(record["wrapped"]), _wrap_aad(dataset, key_id))
    return DataKey(dataset, key_id, key), record["master_key_id"]


def data_key(dataset: str, store: KeyStore | None = None) -> DataKey:
    """The dataset's data key, made and wrapped on first use."""
    store = store or KeyStore()
    path = store.data_key_path(dataset)
    if not path.exists():
        key_id = secrets.token_hex(8)
        write_new(path, _wrap(store, dataset, key_id, secrets.token_bytes(16), None))
    return _unwrap(store, path)[0]


def rotate_master_key(store: KeyStore | None = None) -> tuple[str, str, int]:
    """Re-wrap every data key under a new master key, then retire the old master keys.
    Returns (old id, new id, data keys re-wrapped). Safe to re-run after a crash: each file
    names the master key that wraps it, and old masters are removed only at the end."""
    store = store or KeyStore()
    old_id, _ = store.master_key()
    new_id, _ = store.new_master_key()
    count = 0
    for path in store.data_key_paths():
        key, _ = _unwrap(store, path)
        write_replace(path, _wrap(store, key.dataset, key.key_id, key.key, new_id))
        count += 1
    store.make_master_current(new_id)
    for key_id in store.master_key_ids():
        if key_id != new_id:
            store.destroy_master_key(key_id)
    return old_id, new_id, count


# --- values -----------------------------------------------------------------------------


def encrypt_value(
    dataset: str, plaintext: bytes, aad: bytes = b"", store: KeyStore | None = None
) -> bytes:
    """Encrypt one value (a column cell): "LSV1" ‖ len(key id) ‖ key id ‖ nonce ‖ ct ‖ tag."""
    key = data_key(dataset, store)
    head = VALUE_MAGIC + bytes([len(key.key_id)]) + key.key_id.encode()
    return head + aead.seal(key.key, plaintext, head + dataset.encode() + b"\x00" + aad)


def decrypt_value(
    dataset: str, token: bytes, aad: bytes = b"", store: KeyStore | None = None
) -> bytes:
    if token[:4] != VALUE_MAGIC or len(token) < 5:
        raise DecryptionFailed(detail="not a Longshu encrypted value")
    head = token[: 5 + token[4]]
    key = data_key(dataset, store)
    if head[5:].decode(errors="replace") != key.key_id:
        raise DecryptionFailed(detail="encrypted with another data key")
    return aead.open_sealed(key.key, token[len(head) :], head + dataset.encode() + b"\x00" + aad)


# --- streams and files ------------------------------------------------------------------


def encrypt_stream(
    dataset: str,
    src: BinaryIO,
    dst: BinaryIO,
    *,
    segment_size: int = aead.DEFAULT_SEGMENT,
    store: KeyStore | None = None,
) -> int:
    """Encrypt ``src`` to ``dst`` under the dataset's data key; returns plaintext bytes."""
    key = data_key(dataset, store)
    header = aead.StreamHeader.new(key.key_id, dataset, segment_size)
    return aead.encrypt_stream(key.key, header, src, dst)


def decrypt_stream(
    src: BinaryIO, dst: BinaryIO, *, dataset: str | None = None, store: KeyStore | None = None
) -> int:
    """Decrypt a stream written by ``encrypt_stream``. ``dataset``, if given, must match the
    stream's. Output is written as segments authenticate; on ``DecryptionFailed`` discard it."""
    header = aead.StreamHeader.read(src)
    if dataset is not None and header.context != dataset:
        raise DecryptionFailed(detail=f"stream belongs to dataset {header.context}")
    key = data_key(header.context, store)
    if key.key_id != header.key_id:
        raise DecryptionFailed(detail="encrypted with another data key")
    total = 0
    for segment in aead.decrypt_segments(key.key, header, src):
        dst.write(segment)
        total += len(segment)
    return total


def encrypt_file(dataset: str, src: Path, dst: Path, store: KeyStore | None = None) -> int:
    """Encrypt a file; ``dst`` appears only when complete (written beside it, then renamed)."""
    tmp = dst.with_name(f".{dst.name}.{secrets.token_hex(4)}.part")
    try:
        with open(src, "rb") as fin, open(tmp, "wb") as fout:
            total = encrypt_stream(dataset, fin, fout, store=store)
        tmp.replace(dst)
    finally:
        tmp.unlink(missing_ok=True)
    return total


def decrypt_file(
    src: Path, dst: Path, *, dataset: str | None = None, store: KeyStore | None = None
) -> int:
    """Decrypt a file; ``dst`` appears only if every segment authenticated."""
    tmp = dst.with_name(f".{dst.name}.{secrets.token_hex(4)}.part")
    try:
        with open(src, "rb") as fin, open(tmp, "wb") as fout:
            total = decrypt_stream(fin, fout, dataset=dataset, store=store)
        tmp.replace(dst)
    finally:
        tmp.unlink(missing_ok=True)
    return total


# --- pseudonyms -------------------------------------------------------------------------


PSEUDONYM_LABEL = b"longshu-pseudonym\x00"


def pseudonym_key(dataset_key: bytes, consumer: str) -> bytes:
    """The HMAC-SM3 key of ``consumer``'s pseudonyms under a dataset's data key. Plain bytes,
    so that code running elsewhere (the lake's Spark masks) makes the same pseudonyms."""
    return hmac_sm3(dataset_key, PSEUDONYM_LABEL + consumer.encode())


class Pseudonymizer:
    """Keyed pseudonyms for one (dataset, consumer): HMAC-SM3 under a key derived from the
    dataset's data key and the consumer id. Stable across master-key rotation."""

    algorithm = "hmac-sm3"

    def __init__(self, dataset_key: DataKey, consumer: str) -> None:
        self._mac = HmacKey(pseudonym_key(dataset_key.key, consumer))
        self.dataset = dataset_key.dataset
        self.consumer = consumer

    def __call__(self, value: str | bytes) -> str:
        data = value.encode() if isinstance(value, str) else value
        return self._mac.digest(data).hex()


def pseudonymizer(dataset: str, consumer: str, store: KeyStore | None = None) -> Pseudonymizer:
    """A pseudonym function for ``consumer``'s extract of ``dataset``."""
    if not consumer:
        raise InvalidKey(detail="a pseudonym needs a consumer id")
    return Pseudonymizer(data_key(dataset, store), consumer)
