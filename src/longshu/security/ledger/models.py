"""Ledger tables. All four are append-only: database triggers refuse UPDATE and DELETE on
SQLite and PostgreSQL, and the service has no code path that changes a row.

- ``ledger``: one row per log (name, hash algorithm).
- ``ledger_entry``: leaf ``idx`` of a log — its data, leaf hash and seal.
- ``ledger_node``: the hash of every complete subtree of two or more leaves (level ≥ 1), so an
  inclusion or consistency proof is a handful of indexed reads at any log size.
- ``ledger_checkpoint``: signed tree heads.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import DDL, BigInteger, ForeignKey, Index, LargeBinary, String, Text, event
from sqlalchemy.orm import Mapped, mapped_column

from longshu.db import Base, utcnow


class Ledger(Base):
    __tablename__ = "ledger"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(60), unique=True)
    hash_alg: Mapped[str] = mapped_column(String(20))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class LedgerEntry(Base):
    """A leaf. ``seal`` = HMAC-SM3(seal key, ledger id ‖ idx ‖ leaf hash): a key kept outside
    the database lets ``verify`` name exactly which row a database administrator changed."""

    __tablename__ = "ledger_entry"
    __table_args__ = (Index("ix_ledger_entry_event", "ledger_id", "event_id", unique=True),)

    ledger_id: Mapped[int] = mapped_column(ForeignKey("ledger.id"), primary_key=True)
    idx: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    leaf_hash: Mapped[bytes] = mapped_column(LargeBinary(64))
    data: Mapped[bytes] = mapped_column(LargeBinary)
    event_id: Mapped[int | None] = mapped_column(BigInteger)
    seal: Mapped[bytes] = mapped_column(LargeBinary(64))


class LedgerNode(Base):
    """Hash of the complete subtree covering leaves [idx·2^level, (idx+1)·2^level), level ≥ 1."""

    __tablename__ = "ledger_node"

    ledger_id: Mapped[int] = mapped_column(ForeignKey("ledger.id"), primary_key=True)
    level: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    idx: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    hash: Mapped[bytes] = mapped_column(LargeBinary(64))


class LedgerCheckpoint(Base):
    """A signed tree head. ``body`` is the exact signed text (see checkpoints.py); the other
    columns repeat its fields for queries."""

    __tablename__ = "ledger_checkpoint"

    ledger_id: Mapped[int] = mapped_column(ForeignKey("ledger.id"), primary_key=True)
    seq: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    tree_size: Mapped[int] = mapped_column(BigInteger, index=True)
    root_hash: Mapped[bytes] = mapped_column(LargeBinary(64))
    hash_alg: Mapped[str] = mapped_column(String(20))
    issued_at: Mapped[dt.datetime]
    body: Mapped[str] = mapped_column(Text)
    key_id: Mapped[str] = mapped_column(String(64))
    sig_alg: Mapped[str] = mapped_column(String(20))
    signature: Mapped[bytes] = mapped_column(LargeBinary(128))


LEDGER_TABLES = [Ledger, LedgerEntry, LedgerNode, LedgerCheckpoint]

_PG_FUNCTION = """
CREATE OR REPLACE FUNCTION longshu_ledger_append_only() RETURNS trigger
LANGUAGE plpgsql AS $body$
BEGIN
  RAISE EXCEPTION 'ledger table % is append-only', TG_TABLE_NAME
    USING ERRCODE = 'insufficient_privilege';
END
$body$
"""


def append_only_ddl(dialect: str, table: str) -> list[str]:
    """SQL that makes ``table`` append-only on ``dialect`` (migrations run the same text)."""
    if dialect == "sqlite":
        return [
            f"CREATE TRIGGER {table}_no_{verb.lower()} BEFORE {verb} ON {table} "
            f"BEGIN SELECT RAISE(ABORT, 'ledger table {table} is append-only'); END"
            for verb in ("UPDATE", "DELETE")
        ]
    if dialect == "postgresql":
        return [
            _PG_FUNCTION,
            f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
            "FOR EACH ROW EXECUTE FUNCTION longshu_ledger_append_only()",
        ]
    return []


for _model in LEDGER_TABLES:
    _table = _model.__table__
    for _dialect in ("sqlite", "postgresql"):
        for _sql in append_only_ddl(_dialect, _table.name):
            # DDL() formats with %, so a literal % is written %% here.
            event.listen(
                _table, "after_create", DDL(_sql.replace("%", "%%")).execute_if(dialect=_dialect)
            )
