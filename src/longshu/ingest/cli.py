"""``longshu ingest FILE --resource CODE_OR_TABLE``: load a file into the lake as a new version
with a progress bar (rows, bytes) and a report of what was found — or, for a bad file, of
what is wrong with it, row by row. Runs as the system actor."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click
import typer
from rich.progress import (
    BarColumn,
    DownloadColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TransferSpeedColumn,
)
from typer.core import TyperGroup

from longshu.actor import SYSTEM
from longshu.clikit import console, database, fail
from longshu.config import get_settings
from longshu.errors import LongshuError
from longshu.ingest import service
from longshu.ingest.errors import MalformedRows
from longshu.web import i18n


class _LoadByDefault(TyperGroup):
    """``longshu ingest FILE …`` means ``longshu ingest load FILE …`` (other sub-commands
    of ingest keep their names)."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        if args and args[0] not in self.commands and not args[0].startswith("-"):
            args = ["load", *args]
        return super().parse_args(ctx, args)


app = typer.Typer(
    cls=_LoadByDefault,
    help="汇聚 Ingest: load files into the lake (longshu ingest FILE --resource CODE).",
    no_args_is_help=True,
)


@app.command("load")
def load(
    file: Path = typer.Argument(..., help="csv, tsv, xlsx, json, ndjson or parquet file"),
    resource: str = typer.Option(..., "--resource", "-r", help="lake table or resource code"),
    mode: str = typer.Option("snapshot", "--mode", "-m", help="snapshot | append | upsert"),
    key: list[str] = typer.Option([], "--key", "-k", help="key column for upsert (repeat)"),
    format: str = typer.Option("auto", "--format", "-f", help="auto or a format name"),
    sheet: str | None = typer.Option(None, "--sheet", help="xlsx sheet: name or number"),
    encoding: str | None = typer.Option(None, "--encoding", help="e.g. gb18030 (else detected)"),
    delimiter: str | None = typer.Option(None, "--delimiter", help="CSV delimiter"),
    header: bool | None = typer.Option(
        None, "--header/--no-header", help="CSV: the first row names the columns (else sniffed)"
    ),
    text: list[str] = typer.Option(
        [], "--text", help="column kept as text whatever its values look like (repeat)"
    ),
) -> None:
    """Load FILE as the next version of a lake table."""
    options: dict[str, Any] = {}
    if text:
        options["text_columns"] = list(text)
    if sheet is not None:
        options["sheet"] = int(sheet) if sheet.isdigit() else sheet
    if encoding:
        options["encoding"] = encoding
    if delimiter:
        options["delimiter"] = "\t" if delimiter in ("\\t", "tab") else delimiter
    if header is not None:
        options["header"] = header
    size = file.stat().st_size if file.is_file() else None
    with Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        DownloadColumn(),
        TransferSpeedColumn(),
        TextColumn("{task.fields[rows]:,} rows"),
        TimeElapsedColumn(),
        console=console,
        transient=False,
    ) as progress:
        task = progress.add_task(file.name, total=size, rows=0)

        def on_progress(rows: int, read: int) -> None:
            progress.update(task, completed=read, rows=rows)

        try:
            with database().session() as session:
                table = service.target_table(session, resource)
                result = service.load_file(
                    session,
                    SYSTEM,
                    table,
                    file,
                    format=format,
                    mode=mode,
                    key_columns=list(key) or None,
                    options=options,
                    on_progress=on_progress,
                )
        except LongshuError as error:
            progress.stop()
            if isinstance(error, MalformedRows):
                _report(error)
            fail(error)
    details = ", ".join(f"{k}={v!r}" for k, v in result.details.items())
    status = "" if result.status == "ready" else f" [yellow]({result.status}: drift)[/yellow]"
    console.print(
        f"[green]✓[/green] {result.table} #{result.version}{status}: {result.rows:,} rows "
        f"({result.format}{', ' + details if details else ''}); the table now has "
        f"{result.table_rows:,} rows. Load {result.load_id}"
    )


def _report(error: MalformedRows) -> None:
    """Every reported row of a malformed file (the first hundred are kept)."""
    gettext = i18n.translations(get_settings().default_locale).gettext
    for item in error.report(gettext):
        console.print(f"  {item['row']}: {item['message']}")
    shown = len(error.problems)
    if error.params["count"] > shown:
        console.print(f"  … and {error.params['count'] - shown:,} more")


# ``longshu ingest sql`` and ``longshu ingest http`` (ingest/pullcli.py) hang on this app.
from longshu.ingest import pullcli  # noqa: E402, F401
