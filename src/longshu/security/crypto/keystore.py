"""Key files under ``settings.keys_root`` (./var/keys): signing keys, master keys, named secrets.

Layout (docs/crypto.md):
  signing/<key_id>.json      private signing key (mode 0600) while it is current
  signing/<key_id>.pub.json  its public key, kept after rotation so old signatures verify
  signing/CURRENT            id of the current signing key
  master/<key_id>.key        SM4 master key, 16 bytes (0600); master/CURRENT names the current one
  data/<dataset>.json        a dataset's data key, wrapped by a master key (see envelope.py)
  secrets/<name>.key         32-byte secrets such as the ledger's seal key

Keys are made on first use. Creation is safe across processes: a key file is written to a
temporary name and hard-linked into place, so the first writer wins and the others read its key.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import secrets
from pathlib import Path
from typing import Any

from longshu.security.crypto.errors import InvalidKey, KeyNotFound
from longshu.security.crypto.signing import SM2_SM3, PublicKey, SigningKey

# Signing keys already parsed, by file (a key file never changes once written).
_LOADED: dict[Path, SigningKey] = {}

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$")


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat()


def write_new(path: Path, data: bytes, mode: int = 0o600) -> bool:
    """Create ``path`` with ``data`` unless it exists. Returns True if this call created it."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(6)}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
    try:
        os.write(fd, data)
        os.fsync(fd)
    finally:
        os.close(fd)
    try:
        os.link(tmp, path)
        created = True
    except FileExistsError:
        created = False
    finally:
        tmp.unlink(missing_ok=True)
    return created


def write_replace(path: Path, data: bytes, mode: int = 0o600) -> None:
    """Atomically replace ``path`` with ``data`` (readers see the old or the new file)."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(6)}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
    try:
        os.write(fd, data)
        os.fsync(fd)
    finally:
        os.close(fd)
    os.replace(tmp, path)


class KeyStore:
    """The key directory. ``KeyStore()`` uses the configured ``keys_root``."""

    def __init__(self, root: Path | None = None) -> None:
        if root is None:
            from longshu.config import get_settings

            root = get_settings().keys_root
        self.root = Path(root)

    # --- named secrets -----------------------------------------------------------------

    def secret(self, name: str, size: int = 32) -> bytes:
        """A random secret made on first use and the same ever after."""
        if not _NAME.match(name):
            raise InvalidKey(detail=f"secret name {name!r}")
        path = self.root / "secrets" / f"{name}.key"
        if not path.exists():
            write_new(path, secrets.token_bytes(size))
        data = path.read_bytes()
        if len(data) != size:
            raise InvalidKey(detail=f"{path} holds {len(data)} bytes, expected {size}")
        return data

    # --- signing keys ------------------------------------------------------------------

    @property
    def _signing(self) -> Path:
        return self.root / "signing"

    def signing_key(self, algorithm: str = SM2_SM3) -> SigningKey:
        """The current signing key; the first call generates one of ``algorithm``."""
        current = self._signing / "CURRENT"
        if not current.exists():
            key = SigningKey.generate(algorithm)
            self._store_signing_key(key)
            write_new(current, key.key_id.encode(), 0o644)
        return self._load_signing_key(current.read_text().strip())

    def rotate_signing_key(self, algorithm: str = SM2_SM3) -> tuple[str | None, SigningKey]:
        """Make a new current signing key; the old private key is destroyed, its public key
        stays published. Returns (old key id, new key)."""
        current = self._signing / "CURRENT"
        old_id = current.read_text().strip() if current.exists() else None
        key = SigningKey.generate(algorithm)
        self._store_signing_key(key)
        write_replace(current, key.key_id.encode(), 0o644)
        if old_id and old_id != key.key_id:
            (self._signing / f"{old_id}.json").unlink(missing_ok=True)
        return old_id, key

    def _store_signing_key(self, key: SigningKey) -> None:
        public = key.public.as_json() | {"created_at": _now()}
        write_new(self._signing / f"{key.key_id}.pub.json", json.dumps(public).encode(), 0o644)
        private = public | {"private_key": key.private_bytes().hex()}
        write_new(self._signing / f"{key.key_id}.json", json.dumps(private).encode())

    def _load_signing_key(self, key_id: str) -> SigningKey:
        path = self._signing / f"{key_id}.json"
        if not path.exists():
            raise KeyNotFound(key_id=key_id)
        cached = _LOADED.get(path)
        if cached is not None:
            return cached
        data = json.loads(path.read_text())
        key = SigningKey(
            data["algorithm"],
            bytes.fromhex(data["private_key"]),
            str(data.get("sm2_user_id", "1234567812345678")).encode("latin-1"),
        )
        if key.key_id != key_id:
            raise InvalidKey(detail=f"{path} does not hold key {key_id}")
        _LOADED[path] = key
        return key

    def public_keys(self) -> list[dict[str, Any]]:
        """Every signing public key ever used (current first), in the published JSON form."""
        if not self._signing.exists():
            return []
        current = self._signing / "CURRENT"
        current_id = current.read_text().strip() if current.exists() else None
        keys = []
        for path in sorted(self._signing.glob("*.pub.json")):
            data = json.loads(path.read_text())
            PublicKey.from_json(data)  # refuse a corrupted file rather than publish it
            data["status"] = "current" if data["key_id"] == current_id else "retired"
            keys.append(data)
        keys.sort(key=lambda k: (k["status"] != "current", k.get("created_at", "")))
        return keys

    def verification_keys(self) -> dict[str, PublicKey]:
        """Public keys by key id, for checking signatures."""
        return {k["key_id"]: PublicKey.from_json(k) for k in self.public_keys()}

    # --- master keys (envelope encryption) ----------------------------------------------

    @property
    def _master(self) -> Path:
        return self.root / "master"

    def master_key(self, key_id: str | None = None) -> tuple[str, bytes]:
        """(id, 16-byte SM4 key): the named master key, or the current one (made on first use)."""
        current = self._master / "CURRENT"
        if key_id is None:
            if not current.exists():
                new_id, key = secrets.token_hex(8), secrets.token_bytes(16)
                write_new(self._master / f"{new_id}.key", key)
                write_new(current, new_id.encode(), 0o644)
            key_id = current.read_text().strip()
        path = self._master / f"{key_id}.key"
        if not _NAME.match(key_id) or not path.exists():
            raise KeyNotFound(key_id=key_id)
        key = path.read_bytes()
        if len(key) != 16:
            raise InvalidKey(detail=f"master key {key_id} is not 16 bytes")
        return key_id, key

    def new_master_key(self) -> tuple[str, bytes]:
        """Write a new master key (not yet current)."""
        key_id, key = secrets.token_hex(8), secrets.token_bytes(16)
        write_new(self._master / f"{key_id}.key", key)
        return key_id, key

    def make_master_current(self, key_id: str) -> None:
        write_replace(self._master / "CURRENT", key_id.encode(), 0o644)

    def master_key_ids(self) -> list[str]:
        return sorted(p.stem for p in self._master.glob("*.key")) if self._master.exists() else []

    def destroy_master_key(self, key_id: str) -> None:
        (self._master / f"{key_id}.key").unlink(missing_ok=True)

    # --- wrapped data keys --------------------------------------------------------------

    def data_key_path(self, dataset: str) -> Path:
        from longshu.security.crypto.errors import InvalidDatasetName

        if not _NAME.match(dataset):
            raise InvalidDatasetName(name=dataset)
        return self.root / "data" / f"{dataset}.json"

    def data_key_paths(self) -> list[Path]:
        folder = self.root / "data"
        return sorted(folder.glob("*.json")) if folder.exists() else []
