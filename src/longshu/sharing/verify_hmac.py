"""Keyed hashing of a verification index: HMAC-SM3 (RFC 2104 with SM3) under a per-index key
from the keystore, truncated to 64 bits for storage.

``IndexKey`` absorbs the padded key once (the inner and outer hash states after ``K ⊕ ipad``
and ``K ⊕ opad``) and copies those states per message: the same HMAC as
``hashing.hmac_sm3``, two compressions a message cheaper. Measured on the 2-core machine:
about 0.9 million HMAC-SM3 a second in one process (bench/verify)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from longshu.security.crypto.envelope import data_key
from longshu.security.crypto.hashing import SM3, hmac_sm3
from longshu.security.crypto.keystore import KeyStore

SEPARATOR = b"\x1f"
_SEP = SEPARATOR.decode()


class IndexKey:
    """HMAC-SM3 under the index key, with the padded key absorbed once: each message then
    costs the compressions of its own bytes plus one for the outer hash (RFC 2104)."""

    def __init__(self, key: bytes) -> None:
        if len(key) > 64:
            key = SM3.digest(key)
        padded = key.ljust(64, b"\0")
        self._key = key
        self._inner = SM3.new(bytes(b ^ 0x36 for b in padded))
        self._outer = SM3.new(bytes(b ^ 0x5C for b in padded))

    def mac(self, data: bytes) -> bytes:
        """HMAC-SM3(key, data), 32 bytes (equal to ``hashing.hmac_sm3``)."""
        inner = self._inner.copy()
        inner.update(data)
        outer = self._outer.copy()
        outer.update(inner.digest())
        return outer.digest()

    def digests(self, keys: Sequence[str], names: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
        """Truncated key and (key, name) digests of normalised values, as uint64 arrays."""
        new_inner, new_outer = self._inner.copy, self._outer.copy
        out: list[bytes] = []
        keep = out.append
        for key, name in zip(keys, names, strict=True):
            inner = new_inner()
            inner.update(key.encode())
            outer = new_outer()
            outer.update(inner.digest())
            keep(outer.digest())
            # the (key, name) message continues the key's inner hash
            inner.update((_SEP + name).encode())
            outer = new_outer()
            outer.update(inner.digest())
            keep(outer.digest())
        both = np.frombuffer(b"".join(out), dtype=np.uint8).reshape(-1, 64)
        return _words(both[:, :8]), _words(both[:, 32:40])


def _words(columns: np.ndarray) -> np.ndarray:
    """The first 8 bytes of each digest as a big-endian unsigned integer."""
    return np.ascontiguousarray(columns).view(">u8").ravel().astype(np.uint64)


def index_key(
    index_id: str, store: KeyStore | None = None, *, create: bool = True
) -> tuple[str, str, IndexKey] | None:
    """(key dataset, key id, key) of an index: its own data key in the keystore, made on
    first use if ``create``, else None when the keystore does not hold it."""
    dataset = f"verify.{index_id}"
    store = store or KeyStore()
    if not create and not store.data_key_path(dataset).exists():
        return None
    dek = data_key(dataset, store)
    derived = hmac_sm3(dek.key, b"longshu-verify\x00" + index_id.encode())
    return dataset, dek.key_id, IndexKey(derived)
