"""``longshu ingest sql`` and ``longshu ingest http``: pull a department's database table or
query, or a JSON API, into the lake as a new version, with a progress bar. Runs as the
system actor. Secrets never go on the command line (where ``ps`` and shell history keep
them): the database URL may come from ``LONGSHU_INGEST_SQL_URL`` and the API secret comes
only from ``LONGSHU_INGEST_SECRET``. The commands hang on ``longshu.ingest.cli.app``."""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

import typer
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

from longshu.actor import SYSTEM
from longshu.clikit import console, database, fail
from longshu.errors import LongshuError
from longshu.ingest import service
from longshu.ingest.cli import app
from longshu.ingest.errors import InvalidOption
from longshu.ingest.httpsource import Auth, Paging, read_http
from longshu.ingest.httpsource import source_label as http_label
from longshu.ingest.source import Source
from longshu.ingest.sqlsource import read_sql
from longshu.ingest.sqlsource import source_label as sql_label

SECRET_ENV = "LONGSHU_INGEST_SECRET"


@app.command("sql")
def pull_sql(
    url: str = typer.Argument(
        ...,
        envvar="LONGSHU_INGEST_SQL_URL",
        show_envvar=True,
        help="SQLAlchemy URL (sqlite:///file.db, postgresql+psycopg://user:pw@host/db)",
    ),
    resource: str = typer.Option(..., "--resource", "-r", help="lake table or resource code"),
    table: str | None = typer.Option(None, "--table", "-t", help="table or schema.table"),
    query: str | None = typer.Option(None, "--query", "-q", help="one read-only SELECT"),
    watermark: str | None = typer.Option(None, "--watermark", help="column for incremental pulls"),
    since: str | None = typer.Option(None, "--since", help="pull rows whose watermark is after"),
    limit: int | None = typer.Option(None, "--limit", help="refuse pulls of more rows"),
    timeout: float = typer.Option(600, "--timeout", help="seconds for the whole pull"),
    mode: str = typer.Option("snapshot", "--mode", "-m", help="snapshot | append | upsert"),
    key: list[str] = typer.Option([], "--key", "-k", help="key column for upsert (repeat)"),
) -> None:
    """Pull a database table or query as the next version of a lake table."""
    label = sql_label(url, table)
    _load(
        resource,
        label,
        lambda: read_sql(
            url,
            table=table,
            query=query,
            watermark=watermark,
            since=since,
            limit=limit,
            timeout_seconds=timeout,
        ),
        mode,
        key,
    )


@app.command("http")
def pull_http(
    url: str = typer.Argument(..., help="http(s) address of the API's first page"),
    resource: str = typer.Option(..., "--resource", "-r", help="lake table or resource code"),
    records: str | None = typer.Option(None, "--records", help="dotted path, e.g. data.items"),
    paging: str = typer.Option("none", "--paging", help="none | page | offset | cursor | link"),
    page_size: int = typer.Option(100, "--page-size", help="records a page"),
    page_param: str = typer.Option("page", "--page-param"),
    size_param: str = typer.Option("size", "--size-param"),
    cursor_param: str = typer.Option("cursor", "--cursor-param"),
    cursor_path: str = typer.Option("next_cursor", "--cursor-path", help="dotted path in body"),
    auth: str | None = typer.Option(
        None, "--auth", help=f"bearer | basic | header | query (secret from ${SECRET_ENV})"
    ),
    auth_name: str = typer.Option("", "--auth-name", help="user, header or parameter name"),
    max_pages: int = typer.Option(1000, "--max-pages"),
    timeout: float = typer.Option(30, "--timeout", help="seconds a request"),
    mode: str = typer.Option("snapshot", "--mode", "-m", help="snapshot | append | upsert"),
    key: list[str] = typer.Option([], "--key", "-k", help="key column for upsert (repeat)"),
) -> None:
    """Pull every page of a JSON API as the next version of a lake table."""
    try:
        pages = Paging(
            paging,
            size=page_size,
            page_param=page_param,
            size_param=size_param,
            offset_param=page_param if paging == "offset" else "offset",
            limit_param=size_param if paging == "offset" else "limit",
            cursor_param=cursor_param,
            cursor_path=cursor_path,
        )
        credentials = None
        if auth:
            secret = os.environ.get(SECRET_ENV, "")
            if not secret:
                raise InvalidOption(option="auth", detail=f"the secret in ${SECRET_ENV}")
            credentials = Auth(auth, secret, auth_name)
    except LongshuError as error:
        fail(error)
    _load(
        resource,
        http_label(url),
        lambda: read_http(
            url,
            records=records,
            paging=pages,
            auth=credentials,
            max_pages=max_pages,
            timeout_seconds=timeout,
        ),
        mode,
        key,
    )


def _load(resource: str, label: str, read: Callable[[], Source], mode: str, key: list[str]) -> None:
    with Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        TextColumn("{task.fields[rows]:,} rows"),
        TimeElapsedColumn(),
        console=console,
    ) as progress:
        task = progress.add_task(label, total=None, rows=0)

        def on_progress(rows: int, read_bytes: int) -> None:
            progress.update(task, completed=rows, rows=rows)

        try:
            with database().session() as session:
                table = service.target_table(session, resource)
                result = service.load_source(
                    session,
                    SYSTEM,
                    table,
                    read,
                    label=label,
                    mode=mode,
                    key_columns=list(key) or None,
                    on_progress=on_progress,
                )
        except LongshuError as error:
            progress.stop()
            fail(error)
    details: dict[str, Any] = result.details
    shown = ", ".join(f"{k}={v!r}" for k, v in details.items())
    status = "" if result.status == "ready" else f" [yellow]({result.status}: drift)[/yellow]"
    console.print(
        f"[green]✓[/green] {result.table} #{result.version}{status}: {result.rows:,} rows "
        f"({result.format}, {shown}); the table now has {result.table_rows:,} rows. "
        f"Load {result.load_id}"
    )
    if details.get("watermark_column"):
        console.print(f"Next pull: --since {details['watermark']!r}")
