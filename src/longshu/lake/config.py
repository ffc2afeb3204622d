"""The lake's own settings (``LONGSHU_LAKE_*``); the lake folder itself is
``Settings.lake_root`` (``LONGSHU_LAKE_DIR``, default ``./var/lake``)."""

from __future__ import annotations

import json
from functools import lru_cache

from pydantic_settings import BaseSettings, SettingsConfigDict


class LakeSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="LONGSHU_LAKE_", env_file=".env", extra="ignore")

    # Where tables and objects live: empty → the local folder ``Settings.lake_root``;
    # "s3://bucket/prefix" in production, with ``storage_options`` (a JSON object such as
    # {"AWS_ENDPOINT_URL": "...", "AWS_ACCESS_KEY_ID": "...", "AWS_REGION": "..."}).
    uri: str = ""
    storage_options: str = ""

    # "duckdb", "spark", or "auto" (Spark when a query reads more than spark_threshold_bytes)
    engine: str = "duckdb"
    spark_threshold_bytes: int = 20 * 1024**3
    spark_master: str = "local[2]"

    duckdb_memory_limit: str = "2GB"
    duckdb_threads: int = 2

    max_query_chars: int = 20_000
    max_object_bytes: int = 4 * 1024**3

    def options(self) -> dict[str, str]:
        return json.loads(self.storage_options) if self.storage_options else {}


@lru_cache
def lake_settings() -> LakeSettings:
    return LakeSettings()


def reset_lake_settings() -> None:
    lake_settings.cache_clear()
