"""Checkpoints (signed tree heads): the text that is signed, and how to check it.

The signed body is UTF-8 text of exactly five lines, each ending in "\\n" (the first three are
the C2SP tlog-checkpoint lines, so existing tooling can read them):

    <origin>                      e.g. "longshu/ledger/events"
    <tree size>                   decimal, no leading zeros
    <root hash>                   standard base64 of the raw hash
    hash <algorithm id>           "sm3" or "sha256"
    time <issued at>              UTC, "YYYY-MM-DDTHH:MM:SS.ffffffZ"

The signature is over the body bytes: SM2 with SM3 and signer ID "1234567812345678"
(64 bytes r ‖ s), or Ed25519 (RFC 8032). The key is named by its key id.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import re
from dataclasses import dataclass
from typing import Any

from longshu.security.crypto.hashing import HASHES
from longshu.security.crypto.signing import PublicKey, SigningKey

_ORIGIN = re.compile(r"^[\x21-\x7e][\x20-\x7e]{0,199}$")
_SIZE = re.compile(r"^(0|[1-9][0-9]{0,18})$")
_TIME = "%Y-%m-%dT%H:%M:%S.%fZ"


class MalformedCheckpoint(ValueError):
    """The checkpoint text does not follow the format."""


@dataclass(frozen=True)
class CheckpointBody:
    origin: str
    tree_size: int
    root_hash: bytes
    hash_alg: str
    issued_at: dt.datetime

    def text(self) -> str:
        return (
            f"{self.origin}\n{self.tree_size}\n{base64.b64encode(self.root_hash).decode()}\n"
            f"hash {self.hash_alg}\ntime {format_time(self.issued_at)}\n"
        )

    @classmethod
    def parse(cls, text: str) -> CheckpointBody:
        """Strict parse; ``MalformedCheckpoint`` names the first thing wrong."""
        if not isinstance(text, str) or not text.endswith("\n"):
            raise MalformedCheckpoint("the body must end with a newline")
        lines = text[:-1].split("\n")
        if len(lines) != 5:
            raise MalformedCheckpoint(f"the body has {len(lines)} lines, expected 5")
        origin, size, root, hash_line, time_line = lines
        if not _ORIGIN.match(origin):
            raise MalformedCheckpoint("origin line")
        if not _SIZE.match(size):
            raise MalformedCheckpoint("tree size line")
        if not hash_line.startswith("hash ") or hash_line[5:] not in HASHES:
            raise MalformedCheckpoint("hash line")
        hash_alg = hash_line[5:]
        try:
            root_hash = base64.b64decode(root, validate=True)
        except (binascii.Error, ValueError):
            raise MalformedCheckpoint("root hash line is not base64") from None
        if len(root_hash) != HASHES[hash_alg].size or base64.b64encode(root_hash).decode() != root:
            raise MalformedCheckpoint("root hash line")
        if not time_line.startswith("time "):
            raise MalformedCheckpoint("time line")
        issued_at = parse_time(time_line[5:])
        body = cls(origin, int(size), root_hash, hash_alg, issued_at)
        if body.text() != text:
            raise MalformedCheckpoint("the body is not in canonical form")
        return body


def format_time(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).strftime(_TIME)


def parse_time(text: str) -> dt.datetime:
    try:
        return dt.datetime.strptime(text, _TIME).replace(tzinfo=dt.UTC)
    except ValueError:
        raise MalformedCheckpoint("time is not YYYY-MM-DDTHH:MM:SS.ffffffZ") from None


@dataclass(frozen=True)
class SignedCheckpoint:
    ledger: str
    body: CheckpointBody
    body_text: str
    key_id: str
    sig_alg: str
    signature: bytes

    @classmethod
    def sign(cls, ledger: str, body: CheckpointBody, key: SigningKey) -> SignedCheckpoint:
        text = body.text()
        return cls(ledger, body, text, key.key_id, key.algorithm, key.sign(text.encode()))

    def verify(self, keys: dict[str, PublicKey]) -> str | None:
        """None if the signature is good; otherwise why not."""
        key = keys.get(self.key_id)
        if key is None:
            return f"unknown key {self.key_id}"
        if key.algorithm != self.sig_alg:
            return f"key {self.key_id} is {key.algorithm}, checkpoint says {self.sig_alg}"
        if not key.verify(self.body_text.encode(), self.signature):
            return "signature does not verify"
        return None

    def as_json(self) -> dict[str, Any]:
        return {
            "ledger": self.ledger,
            "origin": self.body.origin,
            "tree_size": self.body.tree_size,
            "root_hash": self.body.root_hash.hex(),
            "hash_alg": self.body.hash_alg,
            "issued_at": format_time(self.body.issued_at),
            "body": self.body_text,
            "signature": {
                "algorithm": self.sig_alg,
                "key_id": self.key_id,
                "value": base64.b64encode(self.signature).decode(),
            },
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> SignedCheckpoint:
        """Parse the JSON form. The signed ``body`` is authoritative: the convenience fields
        beside it must agree with it."""
        try:
            text = data["body"]
            sig = data["signature"]
            signature = base64.b64decode(sig["value"], validate=True)
            key_id, sig_alg = str(sig["key_id"]), str(sig["algorithm"])
            ledger = str(data.get("ledger", ""))
        except (KeyError, TypeError, binascii.Error, ValueError) as exc:
            raise MalformedCheckpoint(f"checkpoint JSON: {exc!s}") from None
        body = CheckpointBody.parse(text)
        for name, value in (
            ("tree_size", body.tree_size),
            ("root_hash", body.root_hash.hex()),
            ("hash_alg", body.hash_alg),
            ("origin", body.origin),
        ):
            if name in data and data[name] != value:
                raise MalformedCheckpoint(f"{name} differs from the signed body")
        return cls(ledger, body, text, key_id, sig_alg, signature)
