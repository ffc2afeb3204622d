"""Browser tests: a real server process with the demo loaded, driven in Debian's Chromium.

The server gets its own database on the backend of this run (a SQLite file, or a fresh
PostgreSQL database built by the real migrations) and its own ./var."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from tests.conftest import BACKEND, PG_SERVER, running_server

CHROMIUM = "/usr/bin/chromium"


def _longshu(env: dict[str, str], *args: str) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "longshu.cli", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    if done.returncode != 0:  # the end of the output says why
        pytest.fail(f"longshu {' '.join(args)} failed:\n{(done.stdout + done.stderr)[-4000:]}")
    return done.stdout


@pytest.fixture(scope="session")
def server_env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    var = tmp_path_factory.mktemp("e2e-var")
    env = {**os.environ, "LONGSHU_VAR_DIR": str(var), "LONGSHU_LOG_LEVEL": "WARNING"}
    env.pop("LONGSHU_DATABASE_URL", None)
    dropped = None
    if BACKEND == "pg":
        name = f"longshu_e2e_{uuid.uuid4().hex[:10]}"
        admin = create_engine(PG_SERVER, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f"CREATE DATABASE \"{name}\" ENCODING 'UTF8' TEMPLATE template0"))
        env["LONGSHU_DATABASE_URL"] = PG_SERVER.rsplit("/", 1)[0] + f"/{name}"
        dropped = (admin, name)
    _longshu(env, "init")
    yield env
    if dropped:
        admin, name = dropped
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(scope="session")
def demo_output(server_env: dict[str, str]) -> str:
    """What `longshu demo load` printed (the demo logins, with the admin's TOTP secret)."""
    return _longshu({**server_env, "COLUMNS": "200"}, "demo", "load")


@pytest.fixture(scope="session")
def base_url(server_env: dict[str, str], demo_output: str) -> Iterator[str]:
    with running_server(server_env, Path(server_env["LONGSHU_VAR_DIR"]) / "server.log") as url:
        yield url


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args: dict) -> dict:
    assert Path(CHROMIUM).exists(), (
        "make test installs Debian's chromium (scripts/ensure_services.sh)"
    )
    return {
        **browser_type_launch_args,
        "executable_path": CHROMIUM,
        "args": [
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
        ],
    }


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args: dict) -> dict:
    return {**browser_context_args, "locale": "zh-CN", "timezone_id": "Asia/Shanghai"}
