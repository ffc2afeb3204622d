"""One interface over the signature algorithms: "sm2-sm3" (default, 国密) and "ed25519".

A ``SigningKey`` signs bytes; a ``PublicKey`` verifies them and is what we publish. Both carry
their algorithm id and a key id, so every stored signature says how to check it.

Key id = hex of the first 8 bytes of SM3("longshu-key" ‖ 0x00 ‖ alg ‖ 0x00 ‖ public key bytes).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from longshu.security.crypto import sm2
from longshu.security.crypto.errors import InvalidKey, UnknownAlgorithm
from longshu.security.crypto.hashing import sm3

SM2_SM3 = "sm2-sm3"
ED25519 = "ed25519"
SIGNATURE_ALGORITHMS = (SM2_SM3, ED25519)


def key_id_for(algorithm: str, public_bytes: bytes) -> str:
    return sm3(b"longshu-key\x00" + algorithm.encode() + b"\x00" + public_bytes)[:8].hex()


@dataclass(frozen=True)
class PublicKey:
    """A published verification key."""

    algorithm: str
    public_bytes: bytes
    sm2_id: bytes = sm2.DEFAULT_ID

    def __post_init__(self) -> None:
        if self.algorithm == SM2_SM3:
            sm2.decode_point(self.public_bytes)
        elif self.algorithm == ED25519:
            if len(self.public_bytes) != 32:
                raise InvalidKey(detail="an Ed25519 public key is 32 bytes")
        else:
            raise UnknownAlgorithm(algorithm=self.algorithm)

    @property
    def key_id(self) -> str:
        return key_id_for(self.algorithm, self.public_bytes)

    def verify(self, message: bytes, signature: bytes) -> bool:
        """True when ``signature`` is this key's signature of ``message``."""
        if self.algorithm == SM2_SM3:
            return sm2.verify(self.public_bytes, message, signature, self.sm2_id)
        try:
            Ed25519PublicKey.from_public_bytes(self.public_bytes).verify(signature, message)
        except (InvalidSignature, ValueError):
            return False
        return True

    def as_json(self) -> dict[str, Any]:
        """The published form (docs/crypto.md)."""
        out: dict[str, Any] = {
            "key_id": self.key_id,
            "algorithm": self.algorithm,
            "public_key": self.public_bytes.hex(),
        }
        if self.algorithm == SM2_SM3:
            out["sm2_user_id"] = self.sm2_id.decode("latin-1")
        return out

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> PublicKey:
        """Parse the published form; the key id, if given, must match the key."""
        try:
            algorithm = str(data["algorithm"])
            public_bytes = bytes.fromhex(str(data["public_key"]))
        except (KeyError, ValueError, TypeError) as exc:
            raise InvalidKey(detail=f"public key JSON: {exc}") from None
        uid = str(data.get("sm2_user_id", sm2.DEFAULT_ID.decode())).encode("latin-1")
        key = cls(algorithm, public_bytes, uid)
        if "key_id" in data and data["key_id"] != key.key_id:
            raise InvalidKey(detail="key_id does not match the public key")
        return key


class SigningKey:
    """A private signing key. Create with ``generate`` or ``from_private_bytes``."""

    def __init__(self, algorithm: str, private_bytes: bytes, sm2_id: bytes = sm2.DEFAULT_ID):
        self.algorithm = algorithm
        self._private = private_bytes
        if algorithm == SM2_SM3:
            d = int.from_bytes(private_bytes, "big")
            if len(private_bytes) != 32 or not 1 <= d <= sm2.N - 2:
                raise InvalidKey(detail="an SM2 private key is 32 bytes in [1, n-2]")
            self._d = d
            self._point = sm2.public_point(d)
            self.public = PublicKey(algorithm, sm2.encode_point(self._point), sm2_id)
        elif algorithm == ED25519:
            try:
                self._ed = Ed25519PrivateKey.from_private_bytes(private_bytes)
            except ValueError as exc:
                raise InvalidKey(detail=str(exc)) from None
            raw = self._ed.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
            self.public = PublicKey(algorithm, raw)
        else:
            raise UnknownAlgorithm(algorithm=algorithm)

    @classmethod
    def generate(cls, algorithm: str = SM2_SM3) -> SigningKey:
        if algorithm == SM2_SM3:
            return cls(algorithm, sm2.generate_private_key().to_bytes(32, "big"))
        if algorithm == ED25519:
            from cryptography.hazmat.primitives.serialization import NoEncryption, PrivateFormat

            raw = Ed25519PrivateKey.generate().private_bytes(
                Encoding.Raw, PrivateFormat.Raw, NoEncryption()
            )
            return cls(algorithm, raw)
        raise UnknownAlgorithm(algorithm=algorithm)

    @property
    def key_id(self) -> str:
        return self.public.key_id

    def private_bytes(self) -> bytes:
        return self._private

    def sign(self, message: bytes) -> bytes:
        """A 64-byte signature (SM2: r ‖ s with a fresh nonce from ``secrets``; Ed25519: RFC 8032)."""
        if self.algorithm == SM2_SM3:
            return sm2.sign(self._d, message, self.public.sm2_id, public=self._point)
        return self._ed.sign(message)
