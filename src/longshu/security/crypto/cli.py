"""``longshu keys``: rotate keys, show the published signing keys."""

from __future__ import annotations

import json

import typer

from longshu.actor import SYSTEM
from longshu.security.crypto.keystore import KeyStore
from longshu.security.crypto.signing import SIGNATURE_ALGORITHMS, SM2_SM3

app = typer.Typer(help="Keys (密钥): master-key rotation, signing keys.", no_args_is_help=True)


@app.command()
def rotate(
    signing: bool = typer.Option(
        False, "--signing", help="Rotate the signing key instead of the master key."
    ),
    algorithm: str = typer.Option(
        SM2_SM3, "--algorithm", help="Signing algorithm: sm2-sm3 or ed25519."
    ),
) -> None:
    """Rotate the master key (re-wraps every data key, data untouched) or, with --signing,
    the checkpoint signing key (old public keys stay published)."""
    from longshu.db import get_database
    from longshu.security.crypto import service

    if algorithm not in SIGNATURE_ALGORITHMS:
        raise typer.BadParameter(f"algorithm must be one of {', '.join(SIGNATURE_ALGORITHMS)}")
    with get_database().session() as session:
        if signing:
            key = service.rotate_signing(session, SYSTEM, algorithm)
            typer.echo(f"signing key rotated: {key.key_id} ({key.algorithm})")
        else:
            result = service.rotate_master(session, SYSTEM)
            typer.echo(
                f"master key rotated: {result['old_key_id']} -> {result['new_key_id']}, "
                f"{result['data_keys_rewrapped']} data keys re-wrapped"
            )


@app.command("show-public")
def show_public() -> None:
    """Print the signing public keys (JSON), as published at /api/v1/ledger/public-keys."""
    store = KeyStore()
    store.signing_key()  # make the first key if there is none yet
    typer.echo(json.dumps({"keys": store.public_keys()}, indent=2, ensure_ascii=False))
