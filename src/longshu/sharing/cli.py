"""``longshu sharing …``: the consuming department's tools for batch exchange — make its SM2
key pair, open (verify and decrypt) a package it downloaded, and sign the delivery receipt or
destruction confirmation (销毁确认) the platform asks for."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pyarrow.csv as pcsv
import pyarrow.parquet as pq
import typer

from longshu.clikit import console, fail
from longshu.errors import LongshuError
from longshu.security.crypto.signing import SM2_SM3, SigningKey
from longshu.sharing.keyfile import read_key, write_key
from longshu.sharing.package_receipts import STATEMENTS, sign_record
from longshu.sharing.packages import open_package, read_manifest, verify_manifest

app = typer.Typer(
    help="数据共享 Sharing: the consuming department's keys, packages and signed records.",
    no_args_is_help=True,
)


def _key(path: Path) -> SigningKey:
    try:
        return read_key(path)
    except LongshuError as error:
        fail(error)


@app.command("keygen")
def keygen(
    out: Path = typer.Argument(..., help="file for the private key (created, 0600)"),
) -> None:
    """Make the department's SM2 key pair; prints the public key to give the platform."""
    key = SigningKey.generate(SM2_SM3)
    try:
        write_key(out, key)
    except FileExistsError:
        raise typer.BadParameter(f"{out} exists: a key is never overwritten") from None
    # plain echo: the key is copied from here and must not be wrapped
    typer.echo(f"公钥 public key (recipient_public_key): {key.public.public_bytes.hex()}")
    console.print(f"密钥标识 key id: {key.key_id}")


@app.command("open-package")
def open_package_command(
    folder: Path = typer.Argument(..., help="folder holding manifest.json and the data file"),
    key: Path = typer.Option(..., "--key", help="the department's private key file"),
    out: Path = typer.Option(..., "--out", help="where to write the rows (.parquet or .csv)"),
) -> None:
    """Check the platform's signature and every checksum, decrypt, and write the rows."""
    try:
        table = open_package(folder, _key(key).private_bytes())
    except LongshuError as error:
        fail(error)
    if out.suffix == ".csv":
        pcsv.write_csv(table, out)
    else:
        pq.write_table(table, out)
    console.print(f"已验证并解密 verified and decrypted: {table.num_rows} rows → {out}")


@app.command("sign-record")
def sign_record_command(
    manifest: Path = typer.Argument(..., help="the package's manifest.json"),
    key: Path = typer.Option(..., "--key", help="the department's private key file"),
    kind: str = typer.Option(..., "--kind", help="received (签收) or destroyed (销毁确认)"),
    statement: str | None = typer.Option(None, help="what is attested (default: standard text)"),
) -> None:
    """Print the JSON body to POST to deliveries/{id}/receipt or …/destruction."""
    if kind not in STATEMENTS:
        raise typer.BadParameter(f"kind is one of {', '.join(STATEMENTS)}")
    try:
        signed = read_manifest(manifest.parent if manifest.is_file() else manifest)
        verify_manifest(signed)  # attest only what the platform really signed
    except LongshuError as error:
        fail(error)
    record = sign_record(
        signed, kind, _key(key), signed_at=dt.datetime.now(dt.UTC), statement=statement
    )  # type: ignore[arg-type]
    body = {
        "package_id": record.package_id,
        "signed_at": record.signed_at.isoformat(),
        "statement": record.statement,
        "signature": record.signature.hex(),
    }
    typer.echo(json.dumps(body, ensure_ascii=False))
