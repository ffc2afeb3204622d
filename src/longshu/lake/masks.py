"""Keyed masking functions (``hash``, ``pseudonym``) as plain picklable objects, so that the
same function runs inside DuckDB and in Spark's Python workers.

The key is the one ``security.crypto.pseudonymizer(dataset, consumer)`` uses — HMAC-SM3
under a key derived from the table's data key and the consumer — so a lake pseudonym equals
the crypto module's (a test holds the two together)."""

from __future__ import annotations

from typing import Any

from longshu.security.crypto import HmacKey, data_key, pseudonym_key

HASH_CONSUMER = "*"  # the ``hash`` mask: one key per table, the same for every consumer


class KeyedMasker:
    """HMAC-SM3 hex of a text value under one derived key."""

    def __init__(self, key: bytes) -> None:
        self._key = key
        self._mac: HmacKey | None = None

    def __call__(self, value: str) -> str:
        if self._mac is None:  # built where it runs: HMAC states do not pickle
            self._mac = HmacKey(self._key)
        return self._mac.digest(value.encode("utf-8")).hex()

    def __getstate__(self) -> dict[str, Any]:
        return {"_key": self._key, "_mac": None}


def dataset_of(table: str) -> str:
    """The data-key name of a lake table."""
    return f"lake.{table}"


def masker(kind: str, table: str, consumer: str) -> KeyedMasker:
    """The masking function of ``kind`` ("hash" or "pseudonym") for ``table``."""
    who = HASH_CONSUMER if kind == "hash" else consumer
    key = data_key(dataset_of(table)).key
    return KeyedMasker(pseudonym_key(key, who))
