"""Ledger settings: ``LONGSHU_LEDGER_*`` environment variables."""

from __future__ import annotations

from pydantic_settings import BaseSettings, SettingsConfigDict


class LedgerSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="LONGSHU_LEDGER_", env_file=".env", extra="ignore")

    hash_alg: str = "sm3"  # for new ledgers; "sha256" gives RFC 6962 / CT-compatible trees
    sign_alg: str = "sm2-sm3"  # algorithm of the first signing key ("ed25519" also works)
    checkpoint_every: int = 1000  # sign a checkpoint after this many new entries...
    checkpoint_seconds: int = 60  # ...or at the first append this long after the last one
    origin: str = "longshu/ledger"  # checkpoint origin line: "<origin>/<ledger name>"
    verify_workers: int = 1  # 2: ``verify`` reads and hashes a large log in two processes


def ledger_settings() -> LedgerSettings:
    return LedgerSettings()
