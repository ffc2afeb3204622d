"""``longshu ledger``: verify the whole log, verify one receipt offline, cut a checkpoint."""

from __future__ import annotations

import json
from pathlib import Path

import typer

app = typer.Typer(help="Ledger (存证账本): verification and checkpoints.", no_args_is_help=True)


@app.command()
def verify(
    ledger: str = typer.Option("events", help="Ledger name."),
    full: bool = typer.Option(
        False, "--full", help="Check every entry's seal, not only where needed."
    ),
    as_json: bool = typer.Option(False, "--json", help="Print the report as JSON."),
    workers: int | None = typer.Option(
        None,
        "--workers",
        min=1,
        help="2: read and hash a large log in two processes at once. "
        "Default: LONGSHU_LEDGER_VERIFY_WORKERS (1).",
    ),
) -> None:
    """Recompute the whole log from its data and check every checkpoint. Exit status 1 and a
    list of exactly which entries, subtrees or checkpoints are wrong if anything is."""
    from longshu.db import get_database
    from longshu.security.ledger import audit

    with get_database().session() as session:
        report = audit.verify_ledger(session, ledger, full=full, workers=workers)
    if as_json:
        typer.echo(json.dumps(report.as_json(), ensure_ascii=False, indent=2))
    else:
        typer.echo(
            f"ledger {report.ledger} ({report.hash_alg}): {report.entries} entries, {report.nodes} subtrees, "
            f"{report.checkpoints} checkpoints, {report.seals_checked} seals checked in {report.seconds:.2f} s"
        )
        for finding in report.findings:
            typer.echo(f"  ✗ {finding}")
        typer.echo(
            "OK: the log matches every signed checkpoint."
            if report.ok
            else f"FAILED: {len(report.findings)} problem(s)."
        )
    raise typer.Exit(0 if report.ok else 1)


@app.command("verify-receipt")
def verify_receipt(
    file: Path = typer.Argument(..., exists=True, dir_okay=False, help="Receipt JSON."),
    public_key: Path | None = typer.Option(
        None,
        "--public-key",
        exists=True,
        dir_okay=False,
        help="Published key(s) JSON, as served at /api/v1/ledger/public-keys. Default: this machine's key store.",
    ),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Check one evidence receipt offline: signature, checkpoint and inclusion proof."""
    from longshu.security.crypto.errors import InvalidKey
    from longshu.security.crypto.keystore import KeyStore
    from longshu.security.ledger import receipts

    try:
        receipt = receipts.parse_receipt(file.read_bytes())
        raw_keys = json.loads(public_key.read_text()) if public_key else KeyStore().public_keys()
        keys = receipts.load_public_keys(raw_keys)
    except (ValueError, InvalidKey) as exc:
        typer.echo(f"✗ {exc}", err=True)
        raise typer.Exit(2) from None
    check = receipts.verify_receipt(receipt, keys)
    if as_json:
        typer.echo(json.dumps(check.as_json(), ensure_ascii=False, indent=2))
    else:
        for step in check.steps:
            typer.echo(
                f"  {'✓' if step.ok else '✗'} {step.title_zh} / {step.title_en}: {step.detail}"
            )
        typer.echo("VALID receipt." if check.ok else "INVALID receipt.")
    raise typer.Exit(0 if check.ok else 1)


@app.command()
def checkpoint(ledger: str = typer.Option("events", help="Ledger name.")) -> None:
    """Sign a checkpoint now (useful when the log is idle between automatic ones)."""
    from longshu.db import get_database
    from longshu.security.ledger import service

    with get_database().session() as session:
        row = service.issue_checkpoint(session, ledger)
        typer.echo(
            f"checkpoint {row.seq}: {row.tree_size} entries, root {bytes(row.root_hash).hex()} ({row.hash_alg})"
        )
