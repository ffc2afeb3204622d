"""``longshu orgs …``: load the regions, show them, list organisations, check an identifier."""

from __future__ import annotations

import typer
from rich.table import Table
from rich.tree import Tree

from longshu import ids
from longshu.actor import SYSTEM
from longshu.clikit import console, database, fail
from longshu.errors import LongshuError
from longshu.orgs import regions, service
from longshu.orgs.models import LEVELS, ORG_KINDS
from longshu.orgs.service import OrgFilter

app = typer.Typer(help="行政区划与机构 Regions and organisations.", no_args_is_help=True)


@app.command("load-regions")
def load_regions() -> None:
    """Bring the region table in line with the shipped list (idempotent)."""
    with database().session() as session:
        counts = regions.load_regions(session, SYSTEM)
    source = regions.region_data()["source"]
    console.print(
        f"行政区划 regions: {counts['inserted']} inserted, {counts['updated']} updated "
        f"(民政部 list of {source['year']})"
    )


@app.command("regions")
def show_regions(root: str = typer.Argument(regions.PROVINCE_CODE)) -> None:
    """Print a region and everything below it."""
    try:
        with database().session() as session:
            top = regions.region_tree(session, root)
            tree = Tree(f"{top.region.code} {top.region.name}")
            stack = [(tree, top)]
            while stack:
                branch, node = stack.pop()
                for child in node.children:
                    mark = "" if child.region.official else " [dim](功能区, platform code)[/dim]"
                    stack.append(
                        (branch.add(f"{child.region.code} {child.region.name}{mark}"), child)
                    )
    except LongshuError as error:
        fail(error)
    console.print(tree)


@app.command("list")
def list_organizations(
    region: str | None = typer.Option(None, help="region code (includes the regions below)"),
    kind: str | None = typer.Option(None, help=", ".join(ORG_KINDS)),
    all_: bool = typer.Option(False, "--all", help="include deactivated organisations"),
) -> None:
    """The organisation directory."""
    table = Table(
        "id", "名称 name", "类别 kind", "层级 level", "区划 region", "信用代码 credit code"
    )
    try:
        with database().session() as session:
            where = OrgFilter(kind=kind, region_code=region, active=None if all_ else True)
            orgs, total = service.list_organizations(session, SYSTEM, where, service.MAX_PAGE)
            for org in orgs:
                table.add_row(
                    str(org.id),
                    org.name,
                    ORG_KINDS[org.kind].title_zh,
                    LEVELS[org.level].title_zh,
                    org.region.name,
                    org.credit_code or "",
                )
    except LongshuError as error:
        fail(error)
    console.print(table)
    console.print(f"{total} organisations")


@app.command("check")
def check_identifier(value: str) -> None:
    """Check a resident ID number (18 digits/X) or a unified social credit code."""
    looks_like_id = value.strip()[:17].isdigit()
    verdict = ids.check_resident_id(value) if looks_like_id else ids.check_credit_code(value)
    what = "公民身份号码 resident ID" if looks_like_id else "统一社会信用代码 credit code"
    if verdict:
        console.print(f"[green]valid[/green] {what}")
        return
    console.print(f"[red]invalid[/red] {what}: {verdict.reason} — {verdict.message}")
    raise typer.Exit(code=1)
