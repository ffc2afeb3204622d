"""What every ``longshu`` sub-command shares: the console, the database, and failing with a
translated message. The root command (``longshu.cli``) has already registered the event
subscribers and chosen how events are delivered before any sub-command runs."""

from __future__ import annotations

from typing import NoReturn

import typer
from rich.console import Console

from longshu.config import get_settings
from longshu.db import Database, get_database
from longshu.errors import LongshuError
from longshu.web import i18n

console = Console()


def database() -> Database:
    """The configured database, with every model known."""
    from longshu.models import load_all  # the list of every domain's models

    load_all()
    return get_database()


def fail(error: LongshuError) -> NoReturn:
    """Print the error in the operator's language and exit with status 2."""
    console.print(f"[red]{i18n.error_message(error, get_settings().default_locale)}[/red]")
    raise typer.Exit(code=2)
