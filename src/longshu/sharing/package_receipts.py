"""Delivery receipts (签收回执) and destruction confirmations (销毁确认) of exchange packages.

The receiving department signs, with its own SM2 (or Ed25519) signing key, a short statement
bound to the package: the SM3 digest of the signed manifest, the package and grant ids, the
statement text and the time it signs. ``record_message`` gives those bytes, so a consumer's own
system can sign them; ``sign_record`` does it here (for the consumer's tools and tests).
``delivery_receipt`` / ``destruction_record`` turn a signature into a verified record, and
``verify_record`` checks a stored one again. Storing records, deadlines and reminders belong to
the sharing service.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from longshu.security.crypto.signing import PublicKey, SigningKey
from longshu.sharing.package_crypto import canonical
from longshu.sharing.package_errors import DestructionRecordForged, PackageError, ReceiptForged
from longshu.sharing.packages import manifest_digest

RecordKind = Literal["received", "destroyed"]
KINDS: tuple[str, ...] = ("received", "destroyed")
CLOCK_SKEW = dt.timedelta(minutes=5)  # how far ahead of our clock a signing time may be

# The statements a department signs unless it gives its own words.
STATEMENTS: dict[str, str] = {
    "received": "本单位已完整接收该批量交换数据包，签名与校验值核对一致。",
    "destroyed": "本单位已按共享授权要求销毁该批量交换数据包及其全部副本和衍生数据。",
}


@dataclass(frozen=True)
class PackageRecord:
    """A consumer's signed receipt or destruction confirmation of one package."""

    kind: str
    package_id: str
    grant_id: str
    manifest_sm3: str
    statement: str
    signed_at: dt.datetime
    algorithm: str
    key_id: str
    signature: bytes

    def message(self) -> bytes:
        return _message(
            self.kind,
            self.package_id,
            self.grant_id,
            self.manifest_sm3,
            self.statement,
            self.signed_at,
        )

    def as_json(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "package_id": self.package_id,
            "grant_id": self.grant_id,
            "manifest_sm3": self.manifest_sm3,
            "statement": self.statement,
            "signed_at": _iso(self.signed_at),
            "algorithm": self.algorithm,
            "key_id": self.key_id,
            "signature": self.signature.hex(),
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> PackageRecord:
        try:
            return cls(
                kind=str(data["kind"]),
                package_id=str(data["package_id"]),
                grant_id=str(data["grant_id"]),
                manifest_sm3=str(data["manifest_sm3"]),
                statement=str(data["statement"]),
                signed_at=dt.datetime.fromisoformat(str(data["signed_at"])),
                algorithm=str(data["algorithm"]),
                key_id=str(data["key_id"]),
                signature=bytes.fromhex(str(data["signature"])),
            )
        except (KeyError, ValueError, TypeError):
            raise _forged(str(data.get("kind")), str(data.get("package_id", "?"))) from None


def _iso(moment: dt.datetime) -> str:
    if moment.tzinfo is None:
        raise ValueError("signed_at must be timezone-aware")
    return moment.astimezone(dt.UTC).isoformat(timespec="seconds")


def _message(
    kind: str,
    package_id: str,
    grant_id: str,
    manifest_sm3: str,
    statement: str,
    signed_at: dt.datetime,
) -> bytes:
    return canonical(
        {
            "kind": f"longshu.exchange_package.{kind}",
            "package_id": package_id,
            "grant_id": grant_id,
            "manifest_sm3": manifest_sm3,
            "statement": statement,
            "signed_at": _iso(signed_at),
        }
    )


def record_message(
    manifest: Mapping[str, Any],
    kind: RecordKind,
    signed_at: dt.datetime,
    statement: str | None = None,
) -> bytes:
    """The exact bytes a department signs to confirm ``kind`` for this package (canonical JSON
    of kind, package id, grant id, manifest SM3, statement, signing time in UTC seconds)."""
    if kind not in KINDS:
        raise ValueError(f"record kind {kind!r}")
    return _message(
        kind,
        str(manifest["package_id"]),
        str(manifest["grant_id"]),
        manifest_digest(manifest),
        STATEMENTS[kind] if statement is None else statement,
        signed_at,
    )


def sign_record(
    manifest: Mapping[str, Any],
    kind: RecordKind,
    consumer_key: SigningKey,
    *,
    signed_at: dt.datetime | None = None,
    statement: str | None = None,
) -> PackageRecord:
    """The consumer's side: sign a receipt or destruction confirmation with ``consumer_key``."""
    moment = (signed_at or dt.datetime.now(dt.UTC)).replace(microsecond=0)
    text = STATEMENTS[kind] if statement is None else statement
    signature = consumer_key.sign(record_message(manifest, kind, moment, text))
    return _record(manifest, kind, consumer_key.public, signature, moment, text)


def _record(
    manifest: Mapping[str, Any],
    kind: str,
    consumer_key: PublicKey,
    signature: bytes,
    signed_at: dt.datetime,
    statement: str,
) -> PackageRecord:
    return PackageRecord(
        kind=kind,
        package_id=str(manifest["package_id"]),
        grant_id=str(manifest["grant_id"]),
        manifest_sm3=manifest_digest(manifest),
        statement=statement,
        signed_at=signed_at.astimezone(dt.UTC).replace(microsecond=0),
        algorithm=consumer_key.algorithm,
        key_id=consumer_key.key_id,
        signature=signature,
    )


def verify_record(
    record: PackageRecord, manifest: Mapping[str, Any], consumer_key: PublicKey
) -> bool:
    """True when ``record`` is ``consumer_key``'s signature about exactly this manifest,
    signed no earlier than the package was built."""
    if record.kind not in KINDS or record.key_id != consumer_key.key_id:
        return False
    if record.algorithm != consumer_key.algorithm:
        return False
    if record.manifest_sm3 != manifest_digest(manifest):
        return False
    if record.package_id != manifest.get("package_id"):
        return False
    if record.grant_id != manifest.get("grant_id"):
        return False
    built = dt.datetime.fromisoformat(str(manifest["created_at"]))
    if record.signed_at.tzinfo is None or record.signed_at < built:
        return False
    return consumer_key.verify(record.message(), record.signature)


def _accept(
    kind: RecordKind,
    manifest: Mapping[str, Any],
    consumer_key: PublicKey,
    signature: bytes,
    signed_at: dt.datetime,
    statement: str | None,
) -> PackageRecord:
    text = STATEMENTS[kind] if statement is None else statement
    # A record dated ahead of now could pre-date a destruction that has not happened yet.
    if signed_at.tzinfo is None or signed_at > dt.datetime.now(dt.UTC) + CLOCK_SKEW:
        raise _forged(kind, str(manifest.get("package_id", "?")))
    record = _record(manifest, kind, consumer_key, signature, signed_at, text)
    if not verify_record(record, manifest, consumer_key):
        raise _forged(kind, record.package_id)
    return record


def _forged(kind: str, package_id: str) -> PackageError:
    if kind == "destroyed":
        return DestructionRecordForged(package_id=package_id)
    return ReceiptForged(package_id=package_id)


def delivery_receipt(
    manifest: Mapping[str, Any],
    consumer_key: PublicKey,
    signature: bytes,
    signed_at: dt.datetime,
    statement: str | None = None,
) -> PackageRecord:
    """签收回执: the verified record of the consumer's signature over
    ``record_message(manifest, "received", signed_at, statement)``; ``ReceiptForged`` if the
    signature is not the consumer's over exactly that."""
    return _accept("received", manifest, consumer_key, signature, signed_at, statement)


def destruction_record(
    manifest: Mapping[str, Any],
    consumer_key: PublicKey,
    signature: bytes,
    signed_at: dt.datetime,
    statement: str | None = None,
) -> PackageRecord:
    """销毁确认: as ``delivery_receipt``, for the statement that the package and every copy
    was destroyed; ``DestructionRecordForged`` if the signature is not the consumer's over
    ``record_message(manifest, "destroyed", signed_at, statement)``."""
    return _accept("destroyed", manifest, consumer_key, signature, signed_at, statement)
