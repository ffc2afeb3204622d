"""Background jobs (huey): SQLite storage in the embedded shape, Redis in production."""

from __future__ import annotations

from functools import lru_cache

from huey import Huey, MemoryHuey, RedisHuey, SqliteHuey

from longshu.config import get_settings


@lru_cache
def get_huey() -> Huey:
    settings = get_settings()
    if settings.huey_backend == "redis":
        return RedisHuey(settings.huey_name, url=settings.redis_url)
    if settings.huey_backend == "memory":
        return MemoryHuey(settings.huey_name, immediate=True)
    settings.var_dir.mkdir(parents=True, exist_ok=True)
    filename = str((settings.var_dir / "huey.db").resolve())
    return SqliteHuey(settings.huey_name, filename=filename)
