"""国密 cryptography: SM3 / HMAC-SM3 hashes, SM4-GCM envelope encryption, SM2 and Ed25519
signatures, and the key files under ``./var/keys``. See docs/crypto.md."""

from longshu.security.crypto.envelope import (
    data_key,
    decrypt_file,
    decrypt_stream,
    decrypt_value,
    encrypt_file,
    encrypt_stream,
    encrypt_value,
    pseudonym_key,
    pseudonymizer,
    rotate_master_key,
)
from longshu.security.crypto.hashing import HASHES, HmacKey, hash_algorithm, hmac_sm3, sm3, sm3_hex
from longshu.security.crypto.keystore import KeyStore
from longshu.security.crypto.signing import ED25519, SM2_SM3, PublicKey, SigningKey

__all__ = [
    "ED25519",
    "HASHES",
    "SM2_SM3",
    "HmacKey",
    "KeyStore",
    "PublicKey",
    "SigningKey",
    "data_key",
    "decrypt_file",
    "decrypt_stream",
    "decrypt_value",
    "encrypt_file",
    "encrypt_stream",
    "encrypt_value",
    "hash_algorithm",
    "hmac_sm3",
    "pseudonym_key",
    "pseudonymizer",
    "rotate_master_key",
    "sm3",
    "sm3_hex",
]
