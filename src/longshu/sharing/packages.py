"""Batch exchange packages (批量交换数据包): a grant's rows delivered as one signed, encrypted
package, and opened again by the receiving department.

A package is a folder ``<out_dir>/<package_id>/`` holding
  ``data.parquet.lse`` or ``data.csv.lse``  the data file, SM4-GCM-encrypted (``aead`` stream)
  ``manifest.json``                         what it holds, signed by the platform (SM2-SM3)

``build_package`` reads the rows only through the door's streaming form
``lake.access_batches`` (so the grant's columns, masks, row filter and stream row limit apply
and a ``lake.accessed`` event records the read), writes them batch by batch as Parquet or as
CSV (UTF-8 with BOM, formula-like cells neutralised) straight into the encrypting stream, wraps the package's fresh data key to the consumer's SM2 public key, and signs the
manifest. ``open_package`` checks all of it in order: the signature, the ciphertext's SM3, the
recipient's key, the authenticated decryption, the plaintext's SM3, the row count.

Receipts and destruction confirmations (销毁确认) are in ``package_receipts``; the crypto
details in ``package_crypto``. Storing packages, records and reminders is the service's job.
"""

from __future__ import annotations

import io
import json
import re
import shutil
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO, Literal

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pcsv
import pyarrow.parquet as pq
from sqlalchemy.orm import Session

from longshu import events, lake
from longshu.actor import Actor
from longshu.db import utcnow
from longshu.exports import FORMULA_STARTS
from longshu.lake.policy import Grant
from longshu.security.crypto import aead
from longshu.security.crypto.errors import DecryptionFailed, InvalidKey
from longshu.security.crypto.hashing import SM3, sm3_hex
from longshu.security.crypto.keystore import KeyStore
from longshu.security.crypto.signing import SM2_SM3, PublicKey, key_id_for
from longshu.security.ledger.settings import ledger_settings
from longshu.sharing import package_crypto as pcrypto
from longshu.sharing.package_errors import (
    ColumnNotCsv,
    ManifestTampered,
    PackageDataTampered,
    PackageExists,
    PackageFormatUnknown,
    PackageIdInvalid,
    PackageIncomplete,
    PackageWrongKey,
)

PACKAGE_BUILT = events.define(
    "sharing.package_built", "批量交换数据包已生成", "Batch exchange package built"
)

MANIFEST = "manifest.json"
MANIFEST_KIND = "longshu.exchange_package"
MANIFEST_VERSION = 1
FORMATS = ("parquet", "csv")
BATCH_ROWS = 64 * 1024  # rows handed to the file writer at a time
SEGMENT_BYTES = aead.DEFAULT_SEGMENT  # encryption segment: memory holds at most two
BOM = b"\xef\xbb\xbf"
_PACKAGE_ID = re.compile(r"^[A-Za-z0-9_-][A-Za-z0-9._-]{0,99}$")

Format = Literal["parquet", "csv"]
PlatformKeys = PublicKey | Mapping[str, PublicKey] | None


@dataclass(frozen=True)
class PackageFacts:
    """What ``build_package`` made: where, the signed manifest, and its SM3 digest (what
    receipts and destruction records sign)."""

    package_id: str
    path: Path
    data_path: Path
    manifest: dict[str, Any]
    manifest_sm3: str
    rows: int
    ciphertext_bytes: int


def manifest_digest(manifest: Mapping[str, Any]) -> str:
    """SM3 hex of the signed manifest (body and signature) in canonical JSON."""
    return sm3_hex(pcrypto.canonical(dict(manifest)))


def build_package(
    session: Session,
    actor: Actor,
    grant: Grant,
    sql: str,
    *,
    consumer_public_key: bytes,
    out_dir: Path,
    fmt: Format,
    package_id: str,
    at: dict[str, int] | None = None,
    keys: KeyStore | None = None,
) -> PackageFacts:
    """Run ``sql`` under ``grant`` through ``lake.access_batches`` and write the result as an encrypted,
    signed package in ``out_dir/package_id``, readable only with the private key matching
    ``consumer_public_key`` (65-byte SM2 point). Emits ``lake.accessed`` (by the door) and
    ``sharing.package_built`` in the caller's transaction. Refuses what the door refuses
    (its typed errors), an existing package id, an unknown format or an invalid public key.

    The row limit is the grant's stream cap (``Grant.stream_rows``): rows come from the door
    ``BATCH_ROWS`` at a time and go straight into the file writer and the encryption, so
    memory holds a batch (and the engine's read-ahead), not the result. A refusal part-way
    (row cap, time) removes the half-written package."""
    if not _PACKAGE_ID.match(package_id):
        raise PackageIdInvalid(package_id=package_id)
    if fmt not in FORMATS:
        raise PackageFormatUnknown(format=fmt)
    recipient_key_id = key_id_for(SM2_SM3, consumer_public_key)
    data_key = pcrypto.new_data_key()
    wrapped = pcrypto.wrap_key(data_key, consumer_public_key)  # refuses a bad key before reading
    folder = Path(out_dir) / package_id
    try:
        folder.mkdir(parents=True, exist_ok=False)
    except FileExistsError:
        raise PackageExists(package_id=package_id) from None

    try:
        # a package's rows need no order (the SQL's ORDER BY, if any, still holds)
        with lake.access_batches(
            session, actor, grant, sql, at=at, batch_rows=BATCH_ROWS, ordered=False
        ) as result:
            data_path = folder / f"data.{fmt}.lse"
            header = aead.StreamHeader.new(
                recipient_key_id, f"{MANIFEST_KIND}:{package_id}", SEGMENT_BYTES
            )
            with data_path.open("xb") as dst:
                writer = pcrypto.EncryptingWriter(data_key, header, dst)
                _write_batches(result, result.schema, fmt, writer)
                writer.close()

        body = {
            "kind": MANIFEST_KIND,
            "manifest_version": MANIFEST_VERSION,
            "package_id": package_id,
            "grant_id": grant.id,
            "consumer": grant.consumer,
            "purpose": grant.purpose,
            "created_at": utcnow().isoformat(timespec="seconds"),
            "tables": [
                {"table": name, "version": v} for name, v in sorted(result.versions.items())
            ],
            "columns": result.columns,
            "masked": result.masked,
            "schema": [{"name": f.name, "type": str(f.type)} for f in result.schema],
            "rows": result.rows,
            "row_limit": result.row_limit,
            "engine": result.engine,
            "format": fmt,
            "data_file": data_path.name,
            "csv": {"encoding": "utf-8-sig", "formula_cells": "apostrophe"}
            if fmt == "csv"
            else None,
            "hash_algorithm": "sm3",
            "plaintext": {"bytes": writer.plain_bytes, "sm3": writer.plain_sm3.digest().hex()},
            "ciphertext": {"bytes": writer.cipher_bytes, "sm3": writer.cipher_sm3.digest().hex()},
            "encryption": {
                "algorithm": aead.SM4_GCM,
                "layout": "longshu-stream-LSE1",
                "segment_bytes": header.segment_size,
                "key_wrap": pcrypto.KEY_WRAP,
                "wrapped_key": wrapped.hex(),
                "recipient_key_id": recipient_key_id,
            },
        }
        # The platform signs as the ledger signs its checkpoints: the key store's current key.
        signing_key = (keys or KeyStore()).signing_key(ledger_settings().sign_alg)
        manifest = body | {
            "signature": {
                "algorithm": signing_key.algorithm,
                "key_id": signing_key.key_id,
                "value": signing_key.sign(pcrypto.canonical(body)).hex(),
            }
        }
        with (folder / MANIFEST).open("x", encoding="utf-8") as fh:
            json.dump(manifest, fh, ensure_ascii=False, indent=2, sort_keys=True)
    except BaseException:
        # Nothing half-made stays behind: the id can be used again once the cause is fixed.
        shutil.rmtree(folder, ignore_errors=True)
        raise
    digest = manifest_digest(manifest)
    events.emit(
        session,
        PACKAGE_BUILT,
        actor,
        subject=("sharing_package", package_id),
        package_id=package_id,
        grant_id=grant.id,
        consumer=grant.consumer,
        tables=body["tables"],
        columns=result.columns,
        masked=result.masked,
        rows=result.rows,
        format=fmt,
        plaintext_bytes=writer.plain_bytes,
        ciphertext_bytes=writer.cipher_bytes,
        manifest_sm3=digest,
        signing_key_id=signing_key.key_id,
        recipient_key_id=recipient_key_id,
    )
    return PackageFacts(
        package_id, folder, data_path, manifest, digest, result.rows, writer.cipher_bytes
    )


def _write_batches(
    batches: Iterable[pa.RecordBatch],
    schema: pa.Schema,
    fmt: str,
    sink: pcrypto.EncryptingWriter,
) -> None:
    """Write ``batches`` (of ``schema``) one by one into ``sink`` (which the caller closes)."""
    out = pa.PythonFile(sink, mode="w")
    if fmt == "parquet":
        with pq.ParquetWriter(out, schema, compression="zstd") as writer:
            for batch in batches:
                writer.write_batch(batch)
        return
    csv_schema = _csv_schema(schema)  # before any row is read: ColumnNotCsv refuses early
    sink.write(BOM)  # Excel and WPS read UTF-8 CSV as such only with a BOM
    with pcsv.CSVWriter(out, csv_schema) as writer:
        for batch in batches:
            writer.write_batch(neutralise_batch(batch, csv_schema))


def _csv_schema(schema: pa.Schema) -> pa.Schema:
    """The schema the CSV is written with; ``ColumnNotCsv`` for a column CSV cannot carry
    (nested values, and bytes, which would be written raw and break the UTF-8 file)."""
    for f in schema:
        kind = f.type.value_type if pa.types.is_dictionary(f.type) else f.type
        if pa.types.is_nested(kind) or pa.types.is_binary(kind) or pa.types.is_large_binary(kind):
            raise ColumnNotCsv(column=f.name, type=str(f.type))
        if pa.types.is_fixed_size_binary(kind):
            raise ColumnNotCsv(column=f.name, type=str(f.type))
    # Dictionary-encoded text is written as plain text so it can be neutralised like any other.
    return pa.schema(
        [f.with_type(pa.string()) if pa.types.is_dictionary(f.type) else f for f in schema]
    )


def neutralise_batch(batch: pa.RecordBatch, schema: pa.Schema | None = None) -> pa.RecordBatch:
    """``exports.neutralise`` over a whole batch: text cells starting with one of
    ``exports.FORMULA_STARTS`` get a leading apostrophe; other types are untouched."""
    columns = []
    for column in batch.columns:
        if pa.types.is_dictionary(column.type):
            column = column.cast(pa.string())
        if pa.types.is_string(column.type) or pa.types.is_large_string(column.type):
            hit = pc.starts_with(column, FORMULA_STARTS[0])
            for start in FORMULA_STARTS[1:]:
                hit = pc.or_(hit, pc.starts_with(column, start))
            quoted = pc.binary_join_element_wise(pa.scalar("'", column.type), column, "")
            column = pc.if_else(pc.fill_null(hit, False), quoted, column)
        columns.append(column)
    return pa.RecordBatch.from_arrays(columns, schema=schema or batch.schema)


# --- the consumer's side --------------------------------------------------------------------


def read_manifest(package_dir: Path) -> dict[str, Any]:
    """The manifest as stored (not yet verified)."""
    try:
        manifest = json.loads((Path(package_dir) / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise PackageIncomplete(detail=f"{MANIFEST}: {exc}") from None
    if not isinstance(manifest, dict) or manifest.get("kind") != MANIFEST_KIND:
        raise PackageIncomplete(detail=f"{MANIFEST} is not an exchange package manifest")
    return manifest


def verify_manifest(manifest: Mapping[str, Any], platform_keys: PlatformKeys = None) -> None:
    """Raise ``ManifestTampered`` unless the manifest carries a valid signature by a platform
    key: ``platform_keys`` is the published key (or keys by id) the consumer trusts; None uses
    this platform's own key store. The manifest's own claims never choose the key."""
    package_id = str(manifest.get("package_id", "?"))
    signature = manifest.get("signature")
    if not isinstance(signature, dict):
        raise ManifestTampered(package_id=package_id)
    if platform_keys is None:
        platform_keys = KeyStore().verification_keys()
    if isinstance(platform_keys, PublicKey):
        platform_keys = {platform_keys.key_id: platform_keys}
    key = platform_keys.get(str(signature.get("key_id")))
    body = {k: v for k, v in manifest.items() if k != "signature"}
    try:
        value = bytes.fromhex(str(signature.get("value")))
    except ValueError:
        value = b""
    if key is None or key.algorithm != signature.get("algorithm"):
        raise ManifestTampered(package_id=package_id)
    if not key.verify(pcrypto.canonical(body), value):
        raise ManifestTampered(package_id=package_id)


def decrypt_package(
    package_dir: Path,
    consumer_private_key: bytes,
    dst: BinaryIO,
    platform_keys: PlatformKeys = None,
) -> dict[str, Any]:
    """Verify the package and write its plaintext data file into ``dst``, segment by segment;
    returns the verified manifest. Raises ``ManifestTampered``, ``PackageDataTampered``,
    ``PackageWrongKey`` or ``PackageIncomplete``; after an error ``dst`` must be discarded."""
    package_dir = Path(package_dir)
    manifest = read_manifest(package_dir)
    verify_manifest(manifest, platform_keys)
    package_id = manifest["package_id"]
    data_path = package_dir / Path(manifest["data_file"]).name
    try:
        with data_path.open("rb") as fh:
            if pcrypto.file_sm3(fh) != manifest["ciphertext"]["sm3"]:
                raise PackageDataTampered(package_id=package_id)
    except OSError as exc:
        raise PackageIncomplete(detail=f"{data_path.name}: {exc}") from None

    encryption = manifest["encryption"]
    try:
        mine = key_id_for(SM2_SM3, pcrypto.public_key_of(consumer_private_key))
        if mine != encryption["recipient_key_id"]:
            raise PackageWrongKey(package_id=package_id)
        data_key = pcrypto.unwrap_key(
            bytes.fromhex(encryption["wrapped_key"]), consumer_private_key
        )
    except (InvalidKey, ValueError):
        raise PackageWrongKey(package_id=package_id) from None

    plain = SM3.new()
    try:
        with data_path.open("rb") as fh:
            for segment in pcrypto.decrypt_stream(data_key, fh, f"{MANIFEST_KIND}:{package_id}"):
                plain.update(segment)
                dst.write(segment)
    except DecryptionFailed:
        raise PackageDataTampered(package_id=package_id) from None
    if plain.digest().hex() != manifest["plaintext"]["sm3"]:
        raise PackageDataTampered(package_id=package_id)
    return manifest


def open_package(
    package_dir: Path, consumer_private_key: bytes, platform_keys: PlatformKeys = None
) -> pa.Table:
    """The package's rows, after every check of ``decrypt_package``. CSV columns come back as
    text, cell for cell as written (formula-like cells keep their leading apostrophe)."""
    buffer = io.BytesIO()
    manifest = decrypt_package(package_dir, consumer_private_key, buffer, platform_keys)
    buffer.seek(0)
    if manifest["format"] == "parquet":
        table = pq.read_table(buffer)
    else:
        names = [f["name"] for f in manifest["schema"]]
        table = pcsv.read_csv(
            buffer,
            convert_options=pcsv.ConvertOptions(
                column_types={n: pa.string() for n in names},
                strings_can_be_null=True,  # a null is written as an empty unquoted field...
                quoted_strings_can_be_null=False,  # ...an empty string as ""
            ),
        )
    if table.num_rows != manifest["rows"]:
        raise PackageDataTampered(package_id=manifest["package_id"])
    return table
