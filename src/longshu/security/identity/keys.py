"""The secret that signs short-lived browser state (SSO state cookie)."""

from __future__ import annotations

import os
import secrets

from longshu.config import Settings


def signing_secret(settings: Settings) -> str:
    """``LONGSHU_SECRET_KEY`` if set, else a key generated once into the key folder."""
    if settings.secret_key:
        return settings.secret_key
    path = settings.keys_root / "session.key"
    path.parent.mkdir(parents=True, exist_ok=True)
    try:  # exclusive create: two processes starting together agree on one key
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return path.read_text().strip()
    with os.fdopen(fd, "w") as handle:
        handle.write(secrets.token_urlsafe(48))
    return path.read_text().strip()
