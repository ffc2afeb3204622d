"""SM4-GCM authenticated encryption of values and of streams of any length.

Values: ``seal``/``open`` with a 12-byte random nonce. Streams use the STREAM construction
(Hoang, Reyhanitabar, Rogaway, Vizár 2015), as age and Tink do: the plaintext is cut into
segments, each encrypted with nonce = prefix(7) ‖ counter(4) ‖ last(1), all bound to the header.
Reordering, dropping, truncating or extending segments makes decryption fail.

Stream layout: header ‖ segment* where
  header  = "LSE1" ‖ alg(1 = sm4-gcm) ‖ segment size (4, big-endian) ‖ nonce prefix (7)
            ‖ len(key id) (1) ‖ key id ‖ len(context) (2) ‖ context (UTF-8)
  segment = SM4-GCM(key, nonce_i, plaintext_i, aad = header) → ciphertext_i ‖ tag (16)
Every segment but the last holds exactly ``segment size`` plaintext bytes; the last may be empty.
"""

from __future__ import annotations

import os
import struct
from collections.abc import Iterator
from dataclasses import dataclass
from typing import BinaryIO

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from longshu.security.crypto.errors import DecryptionFailed, InvalidKey

SM4_GCM = "sm4-gcm"
TAG = 16
NONCE = 12
MAGIC = b"LSE1"
ALG_SM4_GCM = 1
DEFAULT_SEGMENT = 64 * 1024
MAX_SEGMENT = 16 * 1024 * 1024


def _check_key(key: bytes) -> None:
    if len(key) != 16:
        raise InvalidKey(detail="an SM4 key is 16 bytes")


def encrypt(key: bytes, nonce: bytes, plaintext: bytes, aad: bytes = b"") -> bytes:
    """SM4-GCM: ciphertext ‖ 16-byte tag."""
    _check_key(key)
    enc = Cipher(algorithms.SM4(key), modes.GCM(nonce)).encryptor()
    if aad:
        enc.authenticate_additional_data(aad)
    body = enc.update(plaintext) + enc.finalize()
    return body + enc.tag


def decrypt(key: bytes, nonce: bytes, data: bytes, aad: bytes = b"") -> bytes:
    """Inverse of ``encrypt``; ``DecryptionFailed`` when anything was altered."""
    _check_key(key)
    if len(data) < TAG:
        raise DecryptionFailed(detail="too short")
    dec = Cipher(algorithms.SM4(key), modes.GCM(nonce, data[-TAG:])).decryptor()
    if aad:
        dec.authenticate_additional_data(aad)
    try:
        return dec.update(data[:-TAG]) + dec.finalize()
    except InvalidTag:
        raise DecryptionFailed(detail="authentication tag mismatch") from None


def seal(key: bytes, plaintext: bytes, aad: bytes = b"") -> bytes:
    """nonce ‖ ciphertext ‖ tag, with a fresh random nonce."""
    nonce = os.urandom(NONCE)
    return nonce + encrypt(key, nonce, plaintext, aad)


def open_sealed(key: bytes, data: bytes, aad: bytes = b"") -> bytes:
    if len(data) < NONCE + TAG:
        raise DecryptionFailed(detail="too short")
    return decrypt(key, data[:NONCE], data[NONCE:], aad)


@dataclass(frozen=True)
class StreamHeader:
    key_id: str
    context: str
    segment_size: int
    nonce_prefix: bytes
    raw: bytes

    @classmethod
    def new(cls, key_id: str, context: str, segment_size: int = DEFAULT_SEGMENT) -> StreamHeader:
        if not 1 <= segment_size <= MAX_SEGMENT:
            raise ValueError("segment size out of range")
        prefix = os.urandom(7)
        kid, ctx = key_id.encode(), context.encode()
        raw = (
            MAGIC
            + bytes([ALG_SM4_GCM])
            + struct.pack(">I", segment_size)
            + prefix
            + bytes([len(kid)])
            + kid
            + struct.pack(">H", len(ctx))
            + ctx
        )
        return cls(key_id, context, segment_size, prefix, raw)

    @classmethod
    def read(cls, src: BinaryIO) -> StreamHeader:
        fixed = src.read(4 + 1 + 4 + 7 + 1)
        if len(fixed) < 17 or fixed[:4] != MAGIC:
            raise DecryptionFailed(detail="not a Longshu encrypted stream")
        if fixed[4] != ALG_SM4_GCM:
            raise DecryptionFailed(detail=f"unknown algorithm byte {fixed[4]}")
        (segment_size,) = struct.unpack(">I", fixed[5:9])
        if not 1 <= segment_size <= MAX_SEGMENT:
            raise DecryptionFailed(detail="segment size out of range")
        kid = src.read(fixed[16])
        ctx_len_raw = src.read(2)
        if len(kid) != fixed[16] or len(ctx_len_raw) != 2:
            raise DecryptionFailed(detail="truncated header")
        ctx = src.read(struct.unpack(">H", ctx_len_raw)[0])
        try:
            key_id, context = kid.decode(), ctx.decode()
        except UnicodeDecodeError:
            raise DecryptionFailed(detail="header is not UTF-8") from None
        raw = fixed + kid + ctx_len_raw + ctx
        return cls(key_id, context, segment_size, fixed[9:16], raw)

    def nonce(self, counter: int, last: bool) -> bytes:
        if counter >= 2**32:
            raise ValueError("stream too long")
        return self.nonce_prefix + struct.pack(">I", counter) + (b"\x01" if last else b"\x00")


def encrypt_stream(key: bytes, header: StreamHeader, src: BinaryIO, dst: BinaryIO) -> int:
    """Encrypt ``src`` into ``dst``; returns plaintext bytes read."""
    _check_key(key)
    dst.write(header.raw)
    total, counter = 0, 0
    chunk = src.read(header.segment_size)
    while True:
        following = src.read(header.segment_size) if len(chunk) == header.segment_size else b""
        last = not following
        dst.write(encrypt(key, header.nonce(counter, last), chunk, header.raw))
        total += len(chunk)
        counter += 1
        if last:
            return total
        chunk = following


def decrypt_segments(key: bytes, header: StreamHeader, src: BinaryIO) -> Iterator[bytes]:
    """Yield authenticated plaintext segments; raises ``DecryptionFailed`` at the first bad one
    (so a consumer must not act on output before the iteration completes)."""
    _check_key(key)
    size = header.segment_size + TAG
    counter = 0
    chunk = src.read(size)
    while True:
        following = src.read(size) if len(chunk) == size else b""
        last = not following
        if len(chunk) < TAG:
            raise DecryptionFailed(detail="truncated stream")
        yield decrypt(key, header.nonce(counter, last), chunk, header.raw)
        counter += 1
        if last:
            return
        chunk = following
