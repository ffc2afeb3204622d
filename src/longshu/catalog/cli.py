"""``longshu catalog …``: search, rebuild the search index, import/export Excel, DCAT-AP."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.table import Table

from longshu.actor import SYSTEM
from longshu.clikit import console, database, fail
from longshu.errors import LongshuError

app = typer.Typer(help="公共数据资源目录 The public data resource catalog.", no_args_is_help=True)


@app.command("search")
def search_command(q: str, limit: int = 10) -> None:
    """Search the published catalog as the platform sees it (closed entries included)."""
    from longshu.catalog import search

    try:
        with database().session() as session:
            result = search.search(session, SYSTEM, search.SearchQuery(q=q, limit=limit))
    except LongshuError as error:
        fail(error)
    table = Table("id", "代码 code", "名称 name", "领域 domain")
    for hit in result.hits:
        table.add_row(str(hit.resource_id), hit.code, hit.name, hit.domain)
    console.print(table)
    console.print(f"{result.total} matches")


@app.command("reindex")
def reindex() -> None:
    """Rebuild the search index from the published revisions."""
    from longshu.catalog import search

    with database().session() as session:
        count = search.reindex(session)
    console.print(f"indexed {count} published entries")


@app.command("export")
def export(out: Path, provider: int | None = typer.Option(None, help="organisation id")) -> None:
    """Write the working copies (of one provider, or all) as the Excel template."""
    from longshu.catalog import excel

    with database().session() as session:
        out.write_bytes(excel.export(session, SYSTEM, provider))
    console.print(f"wrote {out}")


@app.command("import")
def import_command(path: Path, provider: int = typer.Option(..., help="organisation id")) -> None:
    """Import a filled-in template for a provider, all or nothing."""
    from longshu.catalog import excel
    from longshu.catalog.errors import ImportRejected

    try:
        with database().session() as session:
            summary = excel.import_workbook(session, SYSTEM, path.read_bytes(), provider)
    except ImportRejected as refused:
        for problem in refused.problems:
            console.print(f"{problem.sheet} 行{problem.row} {problem.column}: {problem.message()}")
        fail(refused)
    except LongshuError as error:
        fail(error)
    console.print(
        f"created {len(summary.created)}, updated {len(summary.updated)}, "
        f"unchanged {len(summary.unchanged)}"
    )


@app.command("dcat")
def dcat_command(
    out: Path, form: str = typer.Option("turtle", "--format", help="turtle | json-ld")
) -> None:
    """Write the public catalog as DCAT-AP 3.0."""
    from longshu.actor import ANONYMOUS
    from longshu.catalog import dcat
    from longshu.config import get_settings

    if form not in dcat.MEDIA_TYPES:
        console.print("[red]--format is turtle or json-ld[/red]")
        raise typer.Exit(code=2)
    with database().session() as session:
        graph = dcat.catalog_graph(
            session, ANONYMOUS, get_settings().base_url, dcat.bureau(session)
        )
        out.write_text(dcat.serialize(graph, form), encoding="utf-8")
    console.print(f"wrote {out} ({len(graph)} triples)")
