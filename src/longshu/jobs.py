"""Background jobs (huey): SQLite storage in the embedded shape, Redis in production."""

from __future__ import annotations

import subprocess
import sys
from functools import lru_cache

from huey import Huey, MemoryHuey, RedisHuey, SqliteHuey

from longshu.config import Settings, get_settings


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


def start_embedded_worker(settings: Settings) -> subprocess.Popen[bytes] | None:
    """The embedded shape (``make run``): with the SQLite queue and ``embedded_worker`` on,
    the web process starts the huey consumer as its child (a consumer cannot run in a
    thread), so uploads, scheduled pulls and periodic tasks run without a second command.
    Returns the child, or None when a separate ``longshu worker`` is expected."""
    if settings.huey_backend != "sqlite" or not settings.embedded_worker:
        return None
    command = ["huey.bin.huey_consumer", "longshu.worker.huey", "-w", "2", "-k", "thread"]
    return subprocess.Popen([sys.executable, "-m", *command])
