"""``longshu ingest sql`` and ``longshu ingest http`` against a real SQLite file and a real
local HTTP server, into a lake table; secrets stay off the command line and out of the output."""

from __future__ import annotations

import sqlite3
import threading
import time

import pytest
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from typer.testing import CliRunner

from longshu.actor import Actor
from longshu.cli import app
from longshu.clikit import console
from longshu.lake import tables
from longshu.lake.config import reset_lake_settings

TOKEN = "cli-token-Jiayuguan-1372"
SECRET_ENV = "LONGSHU_INGEST_SECRET"


@pytest.fixture
def lake_table(settings, session, monkeypatch):
    """An empty lake table ``readings`` (organisation 7) under the test's own lake folder."""
    monkeypatch.setattr(console, "width", 200)
    for name in ("URI", "ENGINE", "STORAGE_OPTIONS"):
        monkeypatch.delenv(f"LONGSHU_LAKE_{name}", raising=False)
    reset_lake_settings()
    admin = Actor(kind="user", id=1, name="admin", roles=frozenset({"platform_admin"}), mfa=True)
    table = tables.create_table(session, admin, "readings", resource_id=103, owner_org_id=7)
    session.commit()
    yield table
    reset_lake_settings()


def _versions(session, table) -> list[tuple[int, int]]:
    session.expire_all()
    admin = Actor(kind="user", id=1, name="admin", roles=frozenset({"platform_admin"}), mfa=True)
    return [(v.number, v.rows) for v in tables.list_versions(session, admin, table)]


def test_ingest_sql_pulls_a_table_then_only_what_is_newer(tmp_path, session, lake_table):
    path = tmp_path / "water.db"
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE reading (id INTEGER PRIMARY KEY, station TEXT, level REAL)")
    conn.executemany(
        "INSERT INTO reading VALUES (?, ?, ?)", [(i, "刘家峡", i * 0.5) for i in (1, 2, 3)]
    )
    conn.commit()
    runner = CliRunner()
    args = ["ingest", "sql", "--resource", "readings", "--table", "reading", "--watermark", "id"]
    first = runner.invoke(app, args, env={"LONGSHU_INGEST_SQL_URL": f"sqlite:///{path}"})
    assert first.exit_code == 0, first.output
    assert "readings #1" in first.output and "Next pull: --since '3'" in first.output
    conn.execute("INSERT INTO reading VALUES (4, '盐锅峡', 2.0)")
    conn.commit()
    conn.close()
    second = runner.invoke(app, [*args, "--since", "3", "--mode", "append", f"sqlite:///{path}"])
    assert second.exit_code == 0, second.output
    assert _versions(session, lake_table) == [(1, 3), (2, 4)]


def test_ingest_sql_refuses_a_statement_that_is_not_a_select(tmp_path, lake_table):
    path = tmp_path / "water.db"
    sqlite3.connect(path).execute("CREATE TABLE reading (id INTEGER)").connection.close()
    result = CliRunner().invoke(
        app,
        ["ingest", "sql", f"sqlite:///{path}", "-r", "readings", "--query", "DROP TABLE reading"],
    )
    assert result.exit_code == 2 and "SELECT" in result.output


async def _levels(request: Request) -> Response:
    if request.headers.get("authorization") != f"Bearer {TOKEN}":
        return JSONResponse({}, status_code=401)
    page = int(request.query_params["page"])
    rows = [{"id": i, "station": "刘家峡", "level": i / 2} for i in range(1, 6)]
    return JSONResponse({"data": rows[(page - 1) * 2 : page * 2]})


@pytest.fixture(scope="module")
def api():
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = uvicorn.Server(
        uvicorn.Config(
            Starlette(routes=[Route("/levels", _levels)]),
            host="127.0.0.1",
            port=port,
            log_level="warning",
            lifespan="off",
        )
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.02)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=5)


def test_ingest_http_takes_the_secret_from_the_environment_only(api, session, lake_table):
    args = [
        "ingest",
        "http",
        f"{api}/levels",
        "-r",
        "readings",
        "--paging",
        "page",
        "--page-size",
        "2",
    ]
    runner = CliRunner()
    refused = runner.invoke(app, [*args, "--auth", "bearer"], env={SECRET_ENV: ""})
    assert refused.exit_code == 2 and SECRET_ENV in refused.output
    done = runner.invoke(app, [*args, "--auth", "bearer"], env={SECRET_ENV: TOKEN})
    assert done.exit_code == 0, done.output
    assert "5 rows" in done.output and TOKEN not in done.output
    assert _versions(session, lake_table) == [(1, 5)]
