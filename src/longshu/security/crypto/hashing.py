"""Hash functions by algorithm id: SM3 (GB/T 32905) by default, SHA-256 where a standard needs it.

Every stored hash in Longshu records the id of the function that made it ("sm3", "sha256"),
so a verifier never has to guess. SM3 comes from OpenSSL through ``hashlib`` when the linked
OpenSSL provides it, otherwise from ``cryptography``; both are checked against the standard's
examples in the tests.
"""

from __future__ import annotations

import hashlib
import hmac as _hmac
from dataclasses import dataclass
from typing import Any, Protocol

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives import hmac as _crypto_hmac

from longshu.security.crypto.errors import UnknownAlgorithm


class HashState(Protocol):
    def update(self, data: bytes, /) -> None: ...
    def digest(self) -> bytes: ...
    def copy(self) -> HashState: ...


class _CryptographySM3:
    """``hashlib``-shaped SM3 over ``cryptography`` (used when hashlib has no SM3)."""

    def __init__(self, state: Any = None) -> None:
        self._state = state or hashes.Hash(hashes.SM3())

    def update(self, data: bytes, /) -> None:
        self._state.update(data)

    def digest(self) -> bytes:
        return self._state.copy().finalize()

    def copy(self) -> _CryptographySM3:
        return _CryptographySM3(self._state.copy())


def _hashlib_has(name: str) -> bool:
    try:
        hashlib.new(name, b"abc")
    except ValueError:
        return False
    return True


@dataclass(frozen=True)
class HashAlgorithm:
    """A hash function named by its algorithm id. ``new()`` is cheap: it copies a prototype
    instead of looking the digest up in OpenSSL each time (that look-up dominates small hashes)."""

    id: str
    size: int
    _prototype: Any

    def new(self, data: bytes = b"") -> HashState:
        state = self._prototype.copy()
        if data:
            state.update(data)
        return state

    def digest(self, data: bytes) -> bytes:
        state = self._prototype.copy()
        state.update(data)
        return state.digest()

    def hexdigest(self, data: bytes) -> str:
        return self.digest(data).hex()


def _sm3_prototype(backend: str = "auto") -> Any:
    if backend in ("auto", "hashlib") and _hashlib_has("sm3"):
        return hashlib.new("sm3")
    if backend == "hashlib":
        raise UnknownAlgorithm(algorithm="sm3 (hashlib)")
    return _CryptographySM3()


SM3 = HashAlgorithm("sm3", 32, _sm3_prototype())
SHA256 = HashAlgorithm("sha256", 32, hashlib.sha256())

HASHES: dict[str, HashAlgorithm] = {SM3.id: SM3, SHA256.id: SHA256}


def sm3_backend(backend: str) -> HashAlgorithm:
    """SM3 from a named backend ("hashlib" or "cryptography"), for tests that check both."""
    return HashAlgorithm("sm3", 32, _sm3_prototype(backend))


def hash_algorithm(algorithm_id: str) -> HashAlgorithm:
    """The hash function for an algorithm id, or ``UnknownAlgorithm``."""
    try:
        return HASHES[algorithm_id]
    except KeyError:
        raise UnknownAlgorithm(algorithm=algorithm_id) from None


def sm3(data: bytes) -> bytes:
    """SM3 digest (32 bytes) of ``data``."""
    return SM3.digest(data)


def sm3_hex(data: bytes) -> str:
    return SM3.digest(data).hex()


class HmacKey:
    """A keyed HMAC (HMAC-SM3 unless told otherwise), prepared once for many messages."""

    def __init__(self, key: bytes, algorithm_id: str = "sm3") -> None:
        hash_algorithm(algorithm_id)  # refuse unknown ids early
        self.algorithm_id = algorithm_id
        if algorithm_id == "sm3" and not _hashlib_has("sm3"):
            self._prototype: Any = None
            self._key = key
        else:
            self._prototype = _hmac.new(key, digestmod=algorithm_id)

    def digest(self, data: bytes) -> bytes:
        if self._prototype is None:
            mac = _crypto_hmac.HMAC(self._key, hashes.SM3())
            mac.update(data)
            return mac.finalize()
        state = self._prototype.copy()
        state.update(data)
        return state.digest()

    def verify(self, data: bytes, tag: bytes) -> bool:
        return _hmac.compare_digest(self.digest(data), tag)


def hmac_sm3(key: bytes, data: bytes) -> bytes:
    """HMAC-SM3 (RFC 2104 construction with SM3), 32 bytes."""
    return HmacKey(key).digest(data)


def equal(a: bytes, b: bytes) -> bool:
    """Constant-time comparison of two byte strings."""
    return _hmac.compare_digest(a, b)
