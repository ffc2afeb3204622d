"""The ledger (存证): append leaves, sign checkpoints, serve proofs and receipts.

There is no update and no delete. Appends to one ledger are serialised across processes — a
PostgreSQL advisory lock, or SQLite's single write lock taken before the tree size is read —
so every process sees one total order.
"""

from __future__ import annotations

import base64
import datetime as dt
import struct
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from sqlalchemy import func, select, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from longshu.db import utcnow
from longshu.errors import LongshuError
from longshu.security.crypto.hashing import HmacKey
from longshu.security.crypto.keystore import KeyStore
from longshu.security.ledger import merkle
from longshu.security.ledger.checkpoints import CheckpointBody, SignedCheckpoint
from longshu.security.ledger.models import Ledger, LedgerCheckpoint, LedgerEntry
from longshu.security.ledger.receipts import RECEIPT_FORMAT
from longshu.security.ledger.settings import LedgerSettings, ledger_settings

EVENTS_LEDGER = "events"


class LedgerNotFound(LongshuError):
    key = "ledger.not_found"
    status = 404
    message = "There is no ledger named {name}."


class EntryNotFound(LongshuError):
    key = "ledger.entry_not_found"
    status = 404
    message = "The ledger has no entry {what}."


class NotYetCheckpointed(LongshuError):
    key = "ledger.not_checkpointed"
    status = 409
    message = "Entry {index} is recorded but not yet covered by a signed checkpoint; try again after the next checkpoint."


class NoCheckpointYet(LongshuError):
    key = "ledger.no_checkpoint"
    status = 404
    message = "Ledger {name} has no signed checkpoint yet."


class InvalidTreeSize(LongshuError):
    key = "ledger.invalid_tree_size"
    status = 422
    message = "Tree sizes must satisfy {rule}; the ledger holds {size} entries."


# --- ledgers and locking ------------------------------------------------------------------


def get_ledger(
    session: Session, name: str = EVENTS_LEDGER, *, create: bool = True, hash_alg: str | None = None
) -> Ledger:
    """The named ledger; made on first use with ``hash_alg`` (default from settings)."""
    ledger = session.scalar(select(Ledger).where(Ledger.name == name))
    if ledger is not None or not create:
        if ledger is None:
            raise LedgerNotFound(name=name)
        return ledger
    merkle.MerkleHasher(hash_alg or ledger_settings().hash_alg)  # refuse unknown algorithms
    try:
        with session.begin_nested():
            session.add(
                Ledger(
                    name=name, hash_alg=hash_alg or ledger_settings().hash_alg, created_at=utcnow()
                )
            )
    except IntegrityError:
        pass  # another process made it first
    return session.scalars(select(Ledger).where(Ledger.name == name)).one()


def _lock_ledger(session: Session, name: str) -> Ledger:
    """The named ledger, with appends to it serialised until the transaction ends.

    SQLite has one write lock per database: a write statement takes it even when it matches
    no row, so it comes first, before anything is read. (If the caller's transaction read
    earlier and another process wrote since, SQLite refuses with "database is locked": the
    transaction must be retried — the event spine does so at the next delivery.)"""
    conn = session.connection()
    if conn.dialect.name == "sqlite":
        conn.execute(text("UPDATE ledger SET id = id WHERE 1 = 0"))
    ledger = get_ledger(session, name)
    if conn.dialect.name == "postgresql":
        conn.execute(
            text("SELECT pg_advisory_xact_lock(:k)"), {"k": 0x4C534C_0000_0000 + ledger.id}
        )
    return ledger


def tree_size(session: Session, ledger: Ledger) -> int:
    last = session.scalar(
        select(func.max(LedgerEntry.idx)).where(LedgerEntry.ledger_id == ledger.id)
    )
    return 0 if last is None else int(last) + 1


def hasher_for(ledger: Ledger) -> merkle.MerkleHasher:
    return _hasher(ledger.hash_alg)


@lru_cache
def _hasher(alg: str) -> merkle.MerkleHasher:
    return merkle.MerkleHasher(alg)


@lru_cache
def _seal_key(root: Path) -> HmacKey:
    return HmacKey(KeyStore(root).secret("ledger-seal"))


def seal_key() -> HmacKey:
    return _seal_key(KeyStore().root.resolve())


def seal_message(ledger_id: int, idx: int, event_id: int | None, leaf_hash: bytes) -> bytes:
    return (
        b"longshu-seal\x00"
        + struct.pack(">QQq", ledger_id, idx, -1 if event_id is None else event_id)
        + leaf_hash
    )


# --- nodes --------------------------------------------------------------------------------


def _driver_sql(conn: Any, sql: str) -> str:
    """``?`` placeholders in the driver's own style (psycopg wants %s)."""
    return sql if conn.dialect.paramstyle == "qmark" else sql.replace("?", "%s")


def lookup_nodes(
    session: Session, ledger: Ledger, nodes: Iterable[merkle.Node]
) -> dict[merkle.Node, bytes]:
    """Hashes of complete subtrees: level 0 from entries, higher levels from ``ledger_node``.
    One statement of primary-key look-ups, one per level (a row-value IN list would make
    SQLite scan the ledger)."""
    by_level: dict[int, list[int]] = {}
    for level, index in set(nodes):
        by_level.setdefault(level, []).append(index)
    if not by_level:
        return {}
    parts, params = [], []
    for level, indexes in sorted(by_level.items()):
        marks = ", ".join("?" * len(indexes))
        if level == 0:
            parts.append(
                f"SELECT 0, idx, leaf_hash FROM ledger_entry WHERE ledger_id = ? AND idx IN ({marks})"
            )
            params += [ledger.id, *indexes]
        else:
            parts.append(
                f"SELECT level, idx, hash FROM ledger_node WHERE ledger_id = ? AND level = ? AND idx IN ({marks})"
            )
            params += [ledger.id, level, *indexes]
    conn = session.connection()
    rows = conn.exec_driver_sql(_driver_sql(conn, " UNION ALL ".join(parts)), tuple(params))
    found = {(int(lv), int(i)): bytes(h) for lv, i, h in rows}
    missing = {(lv, i) for lv, idxs in by_level.items() for i in idxs} - found.keys()
    if missing:
        raise EntryNotFound(what=f"node {sorted(missing)[0]} (run `longshu ledger verify`)")
    return found


def root_at(session: Session, ledger: Ledger, size: int) -> bytes:
    hasher = hasher_for(ledger)
    nodes = merkle.frontier(size)
    found = lookup_nodes(session, ledger, nodes)
    return hasher.fold([found[n] for n in nodes])


# --- appending ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Appended:
    ledger: str
    index: int
    leaf_hash: bytes


def append(
    session: Session,
    items: Sequence[bytes | tuple[bytes, int | None]],
    ledger_name: str = EVENTS_LEDGER,
    *,
    settings: LedgerSettings | None = None,
) -> list[Appended]:
    """Append leaves (data, or (data, event id)) in order, in the caller's transaction; signs
    a checkpoint when one is due. Returns each leaf's index and hash."""
    settings = settings or ledger_settings()
    ledger = _lock_ledger(session, ledger_name)
    hasher, seal = hasher_for(ledger), seal_key()
    size = tree_size(session, ledger)
    stack = [
        (lv, h)
        for (lv, _), h in zip(
            merkle.frontier(size), _frontier_hashes(session, ledger, size), strict=True
        )
    ]
    entries, nodes, out = [], [], []
    for offset, item in enumerate(items):
        data, event_id = item if isinstance(item, tuple) else (item, None)
        idx = size + offset
        leaf = hasher.leaf(data)
        entries.append(
            (
                ledger.id,
                idx,
                leaf,
                data,
                event_id,
                seal.digest(seal_message(ledger.id, idx, event_id, leaf)),
            )
        )
        out.append(Appended(ledger.name, idx, leaf))
        stack.append((0, leaf))
        level = 0
        while len(stack) >= 2 and stack[-2][0] == stack[-1][0]:
            (level, left), (_, right) = stack[-2], stack[-1]
            node = hasher.node(left, right)
            level += 1
            stack[-2:] = [(level, node)]
            nodes.append((ledger.id, level, idx >> level, node))
    # Straight to the driver's executemany: the ORM's per-row bookkeeping would cost more
    # than hashing and sealing together.
    conn = session.connection()
    if entries:
        conn.exec_driver_sql(
            _driver_sql(
                conn,
                "INSERT INTO ledger_entry (ledger_id, idx, leaf_hash, data, event_id, seal) VALUES (?, ?, ?, ?, ?, ?)",
            ),
            entries,
        )
    if nodes:
        conn.exec_driver_sql(
            _driver_sql(
                conn, "INSERT INTO ledger_node (ledger_id, level, idx, hash) VALUES (?, ?, ?, ?)"
            ),
            nodes,
        )
    if entries:
        _checkpoint_if_due(session, ledger, size + len(entries), settings)
    return out


def _frontier_hashes(session: Session, ledger: Ledger, size: int) -> list[bytes]:
    nodes = merkle.frontier(size)
    found = lookup_nodes(session, ledger, nodes)
    return [found[n] for n in nodes]


# --- checkpoints --------------------------------------------------------------------------


def latest_checkpoint(session: Session, ledger: Ledger) -> LedgerCheckpoint | None:
    return session.scalars(
        select(LedgerCheckpoint)
        .where(LedgerCheckpoint.ledger_id == ledger.id)
        .order_by(LedgerCheckpoint.seq.desc())
        .limit(1)
    ).first()


def _checkpoint_if_due(
    session: Session, ledger: Ledger, size: int, settings: LedgerSettings
) -> None:
    last = latest_checkpoint(session, ledger)
    if last is None:
        due = True
    else:
        due = size - last.tree_size >= settings.checkpoint_every or (
            size > last.tree_size
            and utcnow() - last.issued_at >= dt.timedelta(seconds=settings.checkpoint_seconds)
        )
    if due:
        _sign_checkpoint(session, ledger, size, last, settings)


def issue_checkpoint(
    session: Session, ledger_name: str = EVENTS_LEDGER, *, settings: LedgerSettings | None = None
) -> LedgerCheckpoint:
    """Sign a checkpoint of the ledger as it is now (or return the latest if nothing changed)."""
    settings = settings or ledger_settings()
    ledger = _lock_ledger(session, ledger_name)
    size = tree_size(session, ledger)
    last = latest_checkpoint(session, ledger)
    if last is not None and last.tree_size == size:
        return last
    return _sign_checkpoint(session, ledger, size, last, settings)


def _sign_checkpoint(
    session: Session,
    ledger: Ledger,
    size: int,
    last: LedgerCheckpoint | None,
    settings: LedgerSettings,
) -> LedgerCheckpoint:
    key = KeyStore().signing_key(settings.sign_alg)
    issued = utcnow()
    if last is not None and issued < last.issued_at:
        issued = last.issued_at  # never go back in time, even if the clock does
    body = CheckpointBody(
        origin_of(ledger, settings), size, root_at(session, ledger, size), ledger.hash_alg, issued
    )
    signed = SignedCheckpoint.sign(ledger.name, body, key)
    row = LedgerCheckpoint(
        ledger_id=ledger.id,
        seq=0 if last is None else last.seq + 1,
        tree_size=size,
        root_hash=body.root_hash,
        hash_alg=ledger.hash_alg,
        issued_at=body.issued_at,
        body=signed.body_text,
        key_id=signed.key_id,
        sig_alg=signed.sig_alg,
        signature=signed.signature,
    )
    session.add(row)
    session.flush()
    return row


def origin_of(ledger: Ledger, settings: LedgerSettings | None = None) -> str:
    return f"{(settings or ledger_settings()).origin}/{ledger.name}"


def signed(ledger: Ledger, row: LedgerCheckpoint) -> SignedCheckpoint:
    return SignedCheckpoint(
        ledger.name,
        CheckpointBody.parse(row.body),
        row.body,
        row.key_id,
        row.sig_alg,
        bytes(row.signature),
    )


def checkpoint_at_least(session: Session, ledger: Ledger, size: int) -> LedgerCheckpoint | None:
    """The latest checkpoint, if it covers a tree of at least ``size`` entries."""
    last = latest_checkpoint(session, ledger)
    return last if last is not None and last.tree_size >= size else None


# --- proofs -------------------------------------------------------------------------------


def inclusion_proof(session: Session, ledger: Ledger, index: int, size: int) -> list[bytes]:
    current = tree_size(session, ledger)
    if not 0 <= index < size <= current:
        raise InvalidTreeSize(rule="0 ≤ index < tree size ≤ ledger size", size=current)
    return merkle.range_hashes(
        hasher_for(ledger),
        merkle.inclusion_ranges(index, size),
        lambda nodes: lookup_nodes(session, ledger, nodes),
    )


def consistency_proof(session: Session, ledger: Ledger, old: int, new: int) -> list[bytes]:
    current = tree_size(session, ledger)
    if not 0 <= old <= new <= current:
        raise InvalidTreeSize(rule="0 ≤ first ≤ second ≤ ledger size", size=current)
    return merkle.range_hashes(
        hasher_for(ledger),
        merkle.consistency_ranges(old, new),
        lambda nodes: lookup_nodes(session, ledger, nodes),
    )


def entry(session: Session, ledger: Ledger, index: int) -> LedgerEntry:
    row = session.get(LedgerEntry, (ledger.id, index))
    if row is None:
        raise EntryNotFound(what=f"at index {index}")
    return row


def entry_for_event(session: Session, event_id: int) -> tuple[Ledger, LedgerEntry]:
    try:
        ledger = get_ledger(session, EVENTS_LEDGER, create=False)
    except LedgerNotFound:
        raise EntryNotFound(what=f"for event {event_id}") from None
    row = session.scalars(
        select(LedgerEntry).where(
            LedgerEntry.ledger_id == ledger.id, LedgerEntry.event_id == event_id
        )
    ).first()
    if row is None:
        raise EntryNotFound(what=f"for event {event_id}")
    return ledger, row


# --- receipts -----------------------------------------------------------------------------


def receipt(
    session: Session,
    ledger: Ledger,
    row: LedgerEntry,
    *,
    include_record: bool = False,
    checkpoint_if_needed: bool = False,
) -> dict[str, Any]:
    """An evidence receipt (存证回执): the entry's leaf hash, a signed checkpoint covering it and
    the inclusion proof. The entry's data is included only with ``include_record`` — hand
    that to people entitled to the record (the certificate holder), never publicly."""
    checkpoint = checkpoint_at_least(session, ledger, row.idx + 1)
    if checkpoint is None and checkpoint_if_needed:
        checkpoint = issue_checkpoint(session, ledger.name)
    if checkpoint is None:
        raise NotYetCheckpointed(index=row.idx)
    proof = inclusion_proof(session, ledger, row.idx, checkpoint.tree_size)
    out: dict[str, Any] = {
        "format": RECEIPT_FORMAT,
        "ledger": ledger.name,
        "hash_alg": ledger.hash_alg,
        "entry": {
            "index": row.idx,
            "leaf_hash": bytes(row.leaf_hash).hex(),
            "event_id": row.event_id,
        },
        "inclusion_proof": [p.hex() for p in proof],
        "checkpoint": signed(ledger, checkpoint).as_json(),
    }
    if include_record:
        try:
            out["record"] = bytes(row.data).decode("utf-8")
        except UnicodeDecodeError:
            out["record_base64"] = base64.b64encode(bytes(row.data)).decode()
    return out


def receipt_for_event(session: Session, event_id: int, **options: bool) -> dict[str, Any]:
    """The receipt of an event of the platform (see ``receipt``)."""
    ledger, row = entry_for_event(session, event_id)
    return receipt(session, ledger, row, **options)
