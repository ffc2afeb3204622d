"""The cryptography of an exchange package, built only from ``longshu.security.crypto``.

- Data: SM4-GCM in the STREAM layout of ``crypto/aead.py`` (header "LSE1", 64 KiB segments,
  each authenticated and bound to its position), under a fresh random 16-byte data key per
  package. ``EncryptingWriter`` produces exactly what ``aead.encrypt_stream`` would, but as a
  file that Parquet and CSV writers write into, so no plaintext file ever touches the disk and
  memory holds at most two segments.
- Data key for the consumer: SM2 public-key encryption (GB/T 32918.4): C1 ‖ C3 ‖ C2
  (GM/T 0009 order; 65 + 32 + 16 = 113 bytes) to the consumer's SM2 public key, computed by
  the same gmalg SM2 core (and fast curve) that ``crypto/sm2.py`` signs with.
- Checksums: SM3 of the plaintext and of the ciphertext, computed while the bytes stream past.
- Signatures: canonical JSON (sorted keys, no spaces, UTF-8) signed with SM2-SM3.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Iterator
from typing import Any, BinaryIO

from gmalg.errors import GMError

from longshu.security.crypto import aead, sm2
from longshu.security.crypto.errors import DecryptionFailed, InvalidKey
from longshu.security.crypto.hashing import SM3

DATA_KEY_BYTES = 16
KEY_WRAP = "sm2-encrypt-c1c3c2"  # GB/T 32918.4 public-key encryption of the data key
WRAPPED_BYTES = 65 + 32 + DATA_KEY_BYTES


def canonical(body: dict[str, Any]) -> bytes:
    """The bytes a signature covers: JSON with sorted keys, no spaces, UTF-8."""
    return json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def new_data_key() -> bytes:
    return secrets.token_bytes(DATA_KEY_BYTES)


def wrap_key(data_key: bytes, consumer_public_key: bytes) -> bytes:
    """SM2-encrypt ``data_key`` to the consumer's public key (65-byte 04 ‖ x ‖ y).
    Raises ``InvalidKey`` when the public key is not a point of the SM2 curve."""
    point = sm2.decode_point(consumer_public_key)
    c1, c2, c3 = sm2.core().encrypt(data_key, point)
    return sm2.encode_point(c1) + c3 + c2


def unwrap_key(wrapped: bytes, consumer_private_key: bytes) -> bytes:
    """The data key, or ``InvalidKey`` when ``consumer_private_key`` is not the key it was
    wrapped for (SM2's C3 check fails) or the wrapped key is malformed."""
    d = int.from_bytes(consumer_private_key, "big")
    if len(consumer_private_key) != 32 or not 1 <= d <= sm2.N - 2:
        raise InvalidKey(detail="an SM2 private key is 32 bytes in [1, n-2]")
    if len(wrapped) != WRAPPED_BYTES:
        raise InvalidKey(detail="the wrapped key has the wrong length")
    c1 = sm2.decode_point(wrapped[:65])
    c3, c2 = wrapped[65:97], wrapped[97:]
    try:
        return sm2.core().decrypt(c1, c2, c3, d)
    except GMError as exc:
        raise InvalidKey(detail=f"SM2 decryption: {exc}") from None


def public_key_of(private_key: bytes) -> bytes:
    """The 65-byte SM2 public key of a 32-byte private key (for consumers and tests)."""
    return sm2.encode_point(sm2.public_point(int.from_bytes(private_key, "big")))


class EncryptingWriter:
    """A write-only binary file that SM4-GCM-encrypts what is written into ``dst`` in the
    ``aead`` stream layout, hashing plaintext and ciphertext with SM3 on the way.

    ``aead.encrypt_stream`` needs the whole source readable; Parquet and CSV writers push bytes
    instead, so this keeps the last full segment back until it knows whether more follows (the
    last segment's nonce says "last")."""

    def __init__(self, key: bytes, header: aead.StreamHeader, dst: BinaryIO) -> None:
        self._key, self._header, self._dst = key, header, dst
        self._buffer = bytearray()
        self._counter = 0
        self._written = 0
        self.closed = False
        self.plain_sm3 = SM3.new()
        self.cipher_sm3 = SM3.new()
        self.plain_bytes = 0
        self.cipher_bytes = 0
        self._out(header.raw)

    def _out(self, data: bytes) -> None:
        self._dst.write(data)
        self.cipher_sm3.update(data)
        self.cipher_bytes += len(data)

    def _segment(self, chunk: bytes, last: bool) -> None:
        nonce = self._header.nonce(self._counter, last)
        self._out(aead.encrypt(self._key, nonce, chunk, self._header.raw))
        self._counter += 1

    def write(self, data: bytes | bytearray | memoryview) -> int:
        if self.closed:
            raise ValueError("write to a closed package stream")
        view = bytes(data)
        self.plain_sm3.update(view)
        self.plain_bytes += len(view)
        self._buffer += view
        size = self._header.segment_size
        # Strictly more than a segment buffered: the first segment is not the last one.
        while len(self._buffer) > size:
            self._segment(bytes(self._buffer[:size]), last=False)
            del self._buffer[:size]
        return len(view)

    def tell(self) -> int:
        return self.plain_bytes

    def flush(self) -> None:
        self._dst.flush()

    def writable(self) -> bool:
        return True

    def readable(self) -> bool:
        return False

    def seekable(self) -> bool:
        return False

    def close(self) -> None:
        """Write the last segment (possibly empty, as ``aead.encrypt_stream`` does)."""
        if self.closed:
            return
        self._segment(bytes(self._buffer), last=True)
        self._buffer.clear()
        self._dst.flush()
        self.closed = True


def file_sm3(path_handle: BinaryIO, chunk: int = 1 << 20) -> str:
    """SM3 hex of a whole binary file, read in chunks."""
    state = SM3.new()
    while block := path_handle.read(chunk):
        state.update(block)
    return state.digest().hex()


def decrypt_stream(key: bytes, src: BinaryIO, context: str) -> Iterator[bytes]:
    """Plaintext segments of an ``aead`` stream whose header names ``context``; raises
    ``DecryptionFailed`` when the header or any segment does not authenticate (the caller must
    not use output before the iteration completes)."""
    header = aead.StreamHeader.read(src)
    if header.context != context:
        raise DecryptionFailed(detail="the stream belongs to another package")
    yield from aead.decrypt_segments(key, header, src)
