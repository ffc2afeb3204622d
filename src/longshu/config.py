"""Settings: every knob is a ``LONGSHU_*`` environment variable; defaults work with nothing set."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="LONGSHU_", env_file=".env", extra="ignore")

    var_dir: Path = Path("var")
    database_url: str = ""  # empty → SQLite file under var_dir
    lake_dir: Path | None = None
    key_dir: Path | None = None
    attachments_dir: Path | None = None

    secret_key: str = ""  # empty → generated once into key_dir/session.key
    base_url: str = "http://127.0.0.1:8000"
    cookie_secure: bool = False  # True behind HTTPS in production
    session_hours: int = 8
    default_locale: str = "zh_CN"

    password_min_length: int = 10
    lockout_threshold: int = 5
    lockout_minutes: int = 15
    max_body_bytes: int = 10 * 1024 * 1024

    # events: "inline" runs subscribers in-process after commit; "huey" enqueues them
    events_mode: str = "inline"
    huey_backend: str = "sqlite"  # sqlite | redis | memory
    redis_url: str = "redis://127.0.0.1:6379/0"
    huey_name: str = "longshu"  # queue name (Redis key prefix); tests use their own
    # embedded shape: with the SQLite queue, ``longshu serve`` runs the huey consumer beside it
    embedded_worker: bool = True

    # OIDC single sign-on (the province's unified identity platform); off when issuer is empty
    oidc_issuer: str = ""
    oidc_client_id: str = ""
    oidc_client_secret: str = ""
    oidc_scopes: str = "openid profile email"

    auto_migrate: bool = True  # apply Alembic migrations when the app starts
    log_level: str = "INFO"
    log_json: bool = True

    demo_population_rows: int = Field(default=100_000)

    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.var_dir / 'longshu.db').resolve()}"

    @property
    def lake_root(self) -> Path:
        return self.lake_dir or self.var_dir / "lake"

    @property
    def keys_root(self) -> Path:
        return self.key_dir or self.var_dir / "keys"

    @property
    def attachments_root(self) -> Path:
        return self.attachments_dir or self.var_dir / "attachments"


@lru_cache
def get_settings() -> Settings:
    return Settings()


def reset_settings() -> None:
    """Forget cached settings (tests change the environment)."""
    get_settings.cache_clear()
