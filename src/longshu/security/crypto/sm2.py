"""SM2 digital signatures (GB/T 32918.2, GM/T 0003.2) on the recommended curve (GM/T 0003.5).

The protocol is gmalg's (``gmalg.sm2.SM2Core``: Z_A, e = SM3(Z_A ‖ M), r, s); we give it the
fast curve from ``ec.py``, OpenSSL's SM3, and a nonce drawn from ``secrets``. Signatures are the
64-byte string r ‖ s (each 32 bytes, big-endian); public keys the 65-byte uncompressed point
04 ‖ x ‖ y; the signer's ID defaults to "1234567812345678" (GM/T 0009).
"""

from __future__ import annotations

import secrets
from collections.abc import Callable

from gmalg.base import Hash
from gmalg.ellipticcurve import ECDLP, EcPoint
from gmalg.sm2 import SM2Core

from longshu.security.crypto.ec import INF, FastECDLP
from longshu.security.crypto.errors import InvalidKey
from longshu.security.crypto.hashing import SM3

DEFAULT_ID = b"1234567812345678"

# GM/T 0003.5 recommended 256-bit curve parameters.
P = 0xFFFFFFFE_FFFFFFFF_FFFFFFFF_FFFFFFFF_FFFFFFFF_00000000_FFFFFFFF_FFFFFFFF
A = 0xFFFFFFFE_FFFFFFFF_FFFFFFFF_FFFFFFFF_FFFFFFFF_00000000_FFFFFFFF_FFFFFFFC
B = 0x28E9FA9E_9D9F5E34_4D5A9E4B_CF6509A7_F39789F5_15AB8F92_DDBCBD41_4D940E93
GX = 0x32C4AE2C_1F198119_5F990446_6A39C994_8FE30BBF_F2660BE1_715A4589_334C74C7
GY = 0xBC3736A2_F4F6779C_59BDCEE3_6B692153_D0A9877C_C62A4740_02DF32E5_2139F0A0
N = 0xFFFFFFFE_FFFFFFFF_FFFFFFFF_FFFFFFFF_7203DF6B_21C6052B_53BBF409_39D54123

CURVE = FastECDLP(P, A, B, (GX, GY), N)


class _SM3ForGmalg(Hash):
    """gmalg's hash interface over OpenSSL SM3 (gmalg's own SM3 is pure Python)."""

    def __init__(self) -> None:
        self._state = SM3.new()

    @classmethod
    def max_msg_length(cls) -> int:
        return 2**61 - 1

    @classmethod
    def hash_length(cls) -> int:
        return 32

    def reset(self) -> None:
        self._state = SM3.new()

    def update(self, data: bytes) -> None:
        self._state.update(bytes(data))

    def value(self) -> bytes:
        return self._state.digest()


def _nonce(bits: int) -> int:
    return secrets.randbits(bits)


def core(curve: ECDLP = CURVE, nonce: Callable[[int], int] = _nonce) -> SM2Core:
    """gmalg's SM2 core on ``curve``; ``nonce(bits)`` supplies k (tests pass the standard's)."""
    return SM2Core(curve, _SM3ForGmalg(), nonce)


def _coord_bytes(curve: ECDLP) -> int:
    return (curve.fp.p.bit_length() + 7) // 8


def generate_private_key(curve: ECDLP = CURVE) -> int:
    """A private key d in [1, n-2], from ``secrets``."""
    return secrets.randbelow(curve.fpn.p - 2) + 1


def public_point(d: int, curve: ECDLP = CURVE) -> EcPoint:
    return curve.kG(d)


def encode_point(point: EcPoint, curve: ECDLP = CURVE) -> bytes:
    size = _coord_bytes(curve)
    return b"\x04" + point[0].to_bytes(size, "big") + point[1].to_bytes(size, "big")


def decode_point(data: bytes, curve: ECDLP = CURVE) -> EcPoint:
    """Parse 04 ‖ x ‖ y and check the point is a valid public key on the curve."""
    size = _coord_bytes(curve)
    if len(data) != 1 + 2 * size or data[0] != 4:
        raise InvalidKey(detail="an SM2 public key is 65 bytes: 04 ‖ x ‖ y")
    point = (int.from_bytes(data[1 : 1 + size], "big"), int.from_bytes(data[1 + size :], "big"))
    if point[0] >= curve.fp.p or point[1] >= curve.fp.p or not curve.ec.isvalid(point):
        raise InvalidKey(detail="the point is not on the SM2 curve")
    return point


def sign(
    d: int,
    message: bytes,
    uid: bytes = DEFAULT_ID,
    *,
    curve: ECDLP = CURVE,
    public: EcPoint | None = None,
    nonce: Callable[[int], int] = _nonce,
) -> bytes:
    """SM2 signature r ‖ s of ``message`` by private key ``d`` with signer ID ``uid``."""
    if not 1 <= d <= curve.fpn.p - 2:
        raise InvalidKey(detail="SM2 private key out of range")
    point = public or curve.kG(d)
    r, s = core(curve, nonce).sign(message, d, uid, point)
    size = _coord_bytes(curve)
    return r.to_bytes(size, "big") + s.to_bytes(size, "big")


def verify(
    public: bytes | EcPoint,
    message: bytes,
    signature: bytes,
    uid: bytes = DEFAULT_ID,
    *,
    curve: ECDLP = CURVE,
) -> bool:
    """True when ``signature`` (r ‖ s) is ``public``'s SM2 signature of ``message``."""
    size = _coord_bytes(curve)
    if len(signature) != 2 * size:
        return False
    try:
        point = decode_point(public, curve) if isinstance(public, bytes | bytearray) else public
    except InvalidKey:
        return False
    if point == INF:
        return False
    r = int.from_bytes(signature[:size], "big")
    s = int.from_bytes(signature[size:], "big")
    if not isinstance(curve, FastECDLP):
        return bool(core(curve).verify(message, r, s, uid, point))
    # GB/T 32918.2 §7.1, as gmalg's SM2Core.verify, with s·G + t·P in one accumulator
    n = curve.fpn.p
    if not (1 <= r < n and 1 <= s < n) or (r + s) % n == 0:
        return False
    e = int.from_bytes(SM3.digest(core(curve).entity_info(uid, point) + message), "big")
    x = curve.sum_x(s, (r + s) % n, point)
    return x is not None and (e + x) % n == r
