"""Governance's own settings (``LONGSHU_GOVERNANCE_*``). The taxonomy and the grading
rules have their own variables (``LONGSHU_GOVERNANCE_TAXONOMY``, ``LONGSHU_GOVERNANCE_GRADING``:
a deployment's own YAML file), read where the files are loaded."""

from __future__ import annotations

from functools import lru_cache

from pydantic_settings import BaseSettings, SettingsConfigDict


class GovernanceSettings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="LONGSHU_GOVERNANCE_", env_file=".env", extra="ignore"
    )

    # Scan, grade, profile and score every new version as it is loaded (the subscriber of
    # ``lake.version_loaded``); off, they run only when asked (console, API, CLI).
    on_load: bool = True
    # Rows a sample scan reads (a repeatable reservoir sample over the whole version).
    sample_rows: int = 20_000


@lru_cache
def governance_settings() -> GovernanceSettings:
    return GovernanceSettings()


def reset_governance_settings() -> None:
    governance_settings.cache_clear()
