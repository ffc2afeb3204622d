"""``longshu governance …``: scan a table for sensitive data, govern a version end to end,
run its quality rules, and show the departments' quality ranking."""

from __future__ import annotations

import typer
from rich.table import Table

from longshu.actor import SYSTEM
from longshu.clikit import console, database, fail
from longshu.errors import LongshuError
from longshu.governance import pipeline, ranking, runs, scans
from longshu.governance.detect import DETECTORS
from longshu.lake import tables

app = typer.Typer(
    help="数据治理 Governance: sensitive-data scans, grades, quality.", no_args_is_help=True
)


@app.command("scan")
def scan(
    name: str,
    version: int | None = typer.Option(None, help="load number (default: the newest ready)"),
    full: bool = typer.Option(False, "--full", help="every row instead of a sample"),
) -> None:
    """Scan a version for sensitive data and list what was found (examples masked)."""
    try:
        with database().session() as session:
            run = scans.scan_version(
                session, SYSTEM, name, version, mode="full" if full else "sample"
            )
            session.commit()
            grid = Table("column", "kind", "hit ratio", "confidence", "examples")
            for f in run.findings:
                title = DETECTORS[f.type].title_zh if f.type in DETECTORS else f.type
                grid.add_row(
                    f.column, title, f"{f.hit_ratio:.1%}", f"{f.confidence:.2f}",
                    "，".join(f.examples),
                )  # fmt: skip
            console.print(f"{name} v{run.version}: {run.rows_checked:,} rows checked ({run.mode})")
            console.print(grid)
    except LongshuError as error:
        fail(error)


@app.command("govern")
def govern(name: str, version: int | None = typer.Option(None)) -> None:
    """Scan, propose a grade, profile and score a version (what every load does)."""
    try:
        with database().session() as session:
            table = tables.get_table(session, name)
            number = tables.readable_version(session, table, version).number
            outcome = pipeline.govern_version(session, SYSTEM, table, number)
            session.commit()
            console.print(outcome)
    except LongshuError as error:
        fail(error)


@app.command("quality")
def quality(name: str, version: int | None = typer.Option(None)) -> None:
    """Run a table's active quality rules on a version and print the score."""
    try:
        with database().session() as session:
            run = runs.run_quality(session, SYSTEM, name, version)
            session.commit()
            grid = Table("rule", "column", "checked", "failed", "passed")
            for r in run.results:
                grid.add_row(
                    r.kind, r.column or "", f"{r.checked:,}", f"{r.failed:,}",
                    f"{r.passed_ratio:.2%}",
                )  # fmt: skip
            console.print(grid)
            console.print(f"{name} v{run.version}: score {run.score}")
    except LongshuError as error:
        fail(error)


@app.command("ranking")
def show_ranking() -> None:
    """The departments ranked by data quality."""
    with database().session() as session:
        grid = Table("rank", "department", "score", "open", "overdue", "closed")
        for row in ranking.departments(session):
            grid.add_row(
                str(row["rank"]), row["name"], row["score"] or "-", str(row["open_issues"]),
                str(row["overdue_issues"]), str(row["closed_issues"]),
            )  # fmt: skip
        console.print(grid)
