"""The ``longshu`` command: init, serve, worker, user management, demo data, and the
sub-commands of the domains (ledger, keys)."""

from __future__ import annotations

import importlib
import subprocess
import sys

import typer

from longshu.actor import SYSTEM
from longshu.clikit import console, database, fail
from longshu.config import get_settings
from longshu.errors import LongshuError

app = typer.Typer(help="陇数 Longshu — 甘肃省公共数据资源开发利用平台", no_args_is_help=True)
user_app = typer.Typer(help="Manage user accounts.", no_args_is_help=True)
demo_app = typer.Typer(help="Gansu demo data.", no_args_is_help=True)
db_app = typer.Typer(help="Database migrations (Alembic).", no_args_is_help=True)
app.add_typer(user_app, name="user")
app.add_typer(demo_app, name="demo")
app.add_typer(db_app, name="db")
events_app = typer.Typer(help="The event spine.", no_args_is_help=True)
app.add_typer(events_app, name="events")

# Domains contribute sub-commands: (module exposing ``app``, command name).
SUBCOMMAND_MODULES: list[tuple[str, str]] = [
    ("longshu.orgs.cli", "orgs"),
    ("longshu.catalog.cli", "catalog"),
    ("longshu.lake.cli", "lake"),
    ("longshu.ingest.cli", "ingest"),
    ("longshu.governance.cli", "governance"),
    ("longshu.sharing.cli", "sharing"),
    ("longshu.security.ledger.cli", "ledger"),
    ("longshu.security.crypto.cli", "keys"),
]

for _module, _name in SUBCOMMAND_MODULES:
    app.add_typer(importlib.import_module(_module).app, name=_name)


@app.callback()
def _wire_events() -> None:
    """Before any sub-command: register the event subscribers and choose delivery (inline,
    or the huey worker), so that what a command changes reaches the ledger like a request's."""
    from longshu.app import SUBSCRIBER_MODULES, choose_dispatcher

    for name in SUBSCRIBER_MODULES:
        importlib.import_module(name)
    choose_dispatcher(get_settings())


@app.command()
def init() -> None:
    """Create ./var, apply database migrations, prepare keys."""
    from longshu.db import migrate

    settings = get_settings()
    settings.var_dir.mkdir(parents=True, exist_ok=True)
    for folder in (settings.lake_root, settings.keys_root, settings.attachments_root):
        folder.mkdir(parents=True, exist_ok=True)
    settings.keys_root.chmod(0o700)
    ready = database()
    migrate(ready)
    console.print(
        f"[green]数据库已就绪 database ready[/green]: {ready.engine.url.render_as_string()}"
    )


@app.command()
def serve(
    host: str = "127.0.0.1", port: int = 8000, workers: int = 1, reload: bool = False
) -> None:
    """Serve the portal, console and API."""
    import uvicorn

    uvicorn.run(
        "longshu.app:create_app",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        reload=reload,
        proxy_headers=True,
        log_config=None,
    )


@app.command()
def worker(workers: int = 2) -> None:
    """Run the huey consumer (background jobs and event delivery)."""
    raise typer.Exit(
        subprocess.call(
            [
                sys.executable,
                "-m",
                "huey.bin.huey_consumer",
                "longshu.worker.huey",
                "-w",
                str(workers),
                "-k",
                "thread",
            ]
        )
    )


@user_app.command("create")
def user_create(
    username: str,
    display_name: str = typer.Option(..., "--name"),
    role: list[str] = typer.Option([], "--role", help="Role code, repeatable."),
    org_id: int | None = typer.Option(None, "--org"),
    password: str = typer.Option(..., prompt=True, hide_input=True, confirmation_prompt=True),
) -> None:
    """Create a user account."""
    from longshu.security.identity import service

    with database().session() as session:
        try:
            user = service.create_user(
                session, SYSTEM, username, password, display_name, org_id=org_id, roles=role
            )
        except LongshuError as error:
            fail(error)
        console.print(f"[green]created user {user.username} (id {user.id})[/green]")


@user_app.command("reset-password")
def user_reset_password(
    username: str,
    password: str = typer.Option(..., prompt=True, hide_input=True, confirmation_prompt=True),
) -> None:
    """Set a new password and lift a lockout."""
    from longshu.security.identity import service

    with database().session() as session:
        try:
            service.reset_password(session, SYSTEM, service.find_user(session, username), password)
        except LongshuError as error:
            fail(error)
    console.print(f"[green]password reset for {username}[/green]")


@user_app.command("disable")
def user_disable(username: str) -> None:
    """Disable an account and end its sessions."""
    from longshu.security.identity import service

    with database().session() as session:
        try:
            service.set_active(session, SYSTEM, service.find_user(session, username), False)
        except LongshuError as error:
            fail(error)
    console.print(f"[green]disabled {username}[/green]")


@db_app.command("upgrade")
def db_upgrade(revision: str = "head") -> None:
    """Apply migrations up to REVISION."""
    from longshu.db import migrate

    migrate(database(), revision)


@db_app.command("revision")
def db_revision(message: str = typer.Option(..., "-m", "--message")) -> None:
    """Write a new migration from the difference between the models and the database."""
    from alembic import command

    from longshu.db import alembic_config

    command.revision(alembic_config(database().url), message=message, autogenerate=True)


@db_app.command("current")
def db_current() -> None:
    """Show the database's migration revision."""
    from alembic import command

    from longshu.db import alembic_config

    command.current(alembic_config(database().url))


@events_app.command("catalogue")
def events_catalogue() -> None:
    """Print the event catalogue as Markdown (docs/events.md)."""
    from longshu import events
    from longshu.app import import_all_modules

    import_all_modules()
    typer.echo(events.catalogue_markdown(), nl=False)


@events_app.command("deliver")
def events_deliver() -> None:
    """Deliver pending events to every subscriber now (the worker does this every minute)."""
    from longshu import events

    delivered = events.deliver_pending(database().sessionmaker)
    console.print(f"delivered {delivered}")


@demo_app.command("load")
def demo_load(
    rows: int = typer.Option(
        100_000,
        "--rows",
        min=1,
        help="Residents in the demo population table (25M for benchmarks).",
    ),
) -> None:
    """Load the Gansu demo organisations, users and data (idempotent); print the logins."""
    from longshu.demo import load_demo, print_logins

    with database().session() as session:
        logins = load_demo(session, rows=rows, console=console)
    print_logins(console, logins)


def main() -> None:
    app()


if __name__ == "__main__":
    main()
