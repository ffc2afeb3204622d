"""``longshu lake …``: list tables and versions, verify a version's checksum, apply retention."""

from __future__ import annotations

import typer
from rich.table import Table
from sqlalchemy import select

from longshu.actor import SYSTEM
from longshu.clikit import console, database, fail
from longshu.errors import LongshuError
from longshu.lake import retention, tables
from longshu.lake.models import LakeTable

app = typer.Typer(
    help="数据湖 The lake: tables, versions, checksums, retention.", no_args_is_help=True
)


@app.command("tables")
def list_tables() -> None:
    """Every lake table with its newest version."""
    with database().session() as session:
        grid = Table("table", "kind", "resource", "versions", "newest", "rows", "bytes")
        for table in session.scalars(select(LakeTable).order_by(LakeTable.name)):
            versions = table.versions
            newest = versions[-1] if versions else None
            grid.add_row(
                table.name,
                table.kind,
                str(table.resource_code or table.resource_id or "-"),
                str(len(versions)),
                f"{newest.number} ({newest.status})" if newest else "-",
                f"{newest.rows:,}" if newest else "-",
                f"{newest.bytes:,}" if newest else "-",
            )
        console.print(grid)


@app.command("versions")
def list_versions(name: str) -> None:
    """A table's versions: mode, status, rows, bytes, SM3 checksum, load id, drift."""
    try:
        with database().session() as session:
            grid = Table("no.", "delta", "mode", "status", "rows", "bytes", "sm3", "load", "when")
            for v in tables.list_versions(session, SYSTEM, name):
                grid.add_row(
                    str(v.number),
                    str(v.delta_version),
                    v.mode,
                    v.status + (" ⚠" if v.drift.get("breaking") else ""),
                    f"{v.rows:,}",
                    f"{v.bytes:,}",
                    v.checksum[:16] + "…",
                    v.load_id[:12],
                    v.created_at.strftime("%Y-%m-%d %H:%M"),
                )
            console.print(grid)
    except LongshuError as error:
        fail(error)


@app.command("verify")
def verify(name: str, number: int) -> None:
    """Recompute a version's SM3 checksum from its files."""
    try:
        with database().session() as session:
            version = tables.verify_version(session, SYSTEM, name, number)
            console.print(f"{name} #{number}: SM3 {version.checksum} ✓ ({version.files} files)")
    except LongshuError as error:
        fail(error)


@app.command("retention")
def apply(name: str) -> None:
    """Apply a table's retention rule (held versions always stay)."""
    try:
        with database().session() as session:
            report = retention.apply_retention(session, SYSTEM, name)
        console.print(
            f"{name}: purged {report.purged or '-'}, kept because held {report.held or '-'}, "
            f"{len(report.files_to_delete)} files / {report.bytes_freed:,} bytes freed"
        )
    except LongshuError as error:
        fail(error)
