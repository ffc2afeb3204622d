"""A department's SM2 private key in a file (hex, owner-readable only): what the consumer's
tools (``longshu sharing``) and the demo keep it in."""

from __future__ import annotations

import os
from pathlib import Path

from longshu.security.crypto.errors import InvalidKey
from longshu.security.crypto.signing import SM2_SM3, SigningKey


def write_key(path: Path, key: SigningKey) -> None:
    """Create ``path`` (0600) holding the key; never overwrites (FileExistsError)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(key.private_bytes().hex() + "\n")


def read_key(path: Path) -> SigningKey:
    """The key in ``path``; ``InvalidKey`` when the file is not an SM2 private key."""
    try:
        return SigningKey(SM2_SM3, bytes.fromhex(path.read_text().strip()))
    except (OSError, ValueError):
        raise InvalidKey(detail=f"{path.name} is not an SM2 private key file") from None
