"""A malicious database administrator edits the ledger tables directly; ``verify`` names
exactly the entry or checkpoint that was touched."""

from __future__ import annotations

import datetime as dt
from contextlib import contextmanager

import pytest
from sqlalchemy import text

from longshu import events
from longshu.actor import SYSTEM
from longshu.security.crypto.signing import SigningKey
from longshu.security.ledger import audit, service
from longshu.security.ledger.checkpoints import CheckpointBody, SignedCheckpoint

events.define("test.ledger_tampered", "测试篡改事件", "Test tamper event")


@contextmanager
def as_dba(db):
    """A transaction that bypasses the append-only triggers, as a DBA could."""
    with db.engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            conn.execute(text("SET LOCAL session_replication_role = replica"))
        else:
            names = (
                conn.execute(
                    text(
                        "SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name LIKE 'ledger%'"
                    )
                )
                .scalars()
                .all()
            )
            for name in names:
                conn.execute(text(f'DROP TRIGGER "{name}"'))
        yield conn


@pytest.fixture(autouse=True, params=["sequential", "parallel"])
def path(request, monkeypatch):
    """Every case runs on both paths: one process, and two halves at once (a worker process
    reading its own connection) that must fall back to naming the culprit exactly."""
    if request.param == "parallel":
        monkeypatch.setenv("LONGSHU_LEDGER_VERIFY_WORKERS", "2")
        monkeypatch.setattr(audit, "PARALLEL_MIN_ENTRIES", 4)
    return request.param


@pytest.fixture
def log(ledger_env, session):
    """20 entries; checkpoints (every 4) at sizes 1, 5, 9, 13, 17."""
    for i in range(20):
        service.append(session, [f"record-{i}".encode()], "audit")
    session.commit()
    ledger = service.get_ledger(session, "audit")
    assert audit.verify_ledger(session, "audit").ok
    return ledger


def _where(report, kind):
    return sorted({f.where for f in report.findings if f.kind == kind})


def _verify(session):
    session.rollback()
    return audit.verify_ledger(session, "audit")


def test_an_untouched_log_takes_the_fast_path(log, session, monkeypatch):
    def row_by_row(*args, **kwargs):
        raise AssertionError("the row-by-row path ran")

    monkeypatch.setattr(audit, "_check_entries", row_by_row)
    monkeypatch.setattr(audit, "_check_nodes", row_by_row)
    report = _verify(session)
    assert report.ok and report.entries == 20 and report.nodes == 18


def test_untouched_ledger_verifies_even_with_every_seal_checked(log, session):
    report = audit.verify_ledger(session, "audit", full=True)
    assert (
        report.ok
        and report.entries == 20
        and report.seals_checked == 20
        and report.checkpoints == 5
    )


def test_changed_entry_data_is_named(log, db, session):
    with as_dba(db) as conn:
        conn.execute(
            text("UPDATE ledger_entry SET data = :d WHERE ledger_id = :l AND idx = 6"),
            {"d": b"record-6 (edited)", "l": log.id},
        )
    report = _verify(session)
    assert _where(report, "entry") == ["entry 6"]
    assert "leaf hash" in str(report.findings[0])
    assert _where(report, "checkpoint") == ["checkpoint 2", "checkpoint 3", "checkpoint 4"]


def test_entry_rewritten_with_a_consistent_hash_and_subtrees_is_named_by_its_seal(log, db, session):
    hasher = service.hasher_for(log)
    forged = b"record-6 (forged)"
    with as_dba(db) as conn:
        conn.execute(
            text(
                "UPDATE ledger_entry SET data = :d, leaf_hash = :h WHERE ledger_id = :l AND idx = 6"
            ),
            {"d": forged, "h": hasher.leaf(forged), "l": log.id},
        )
    report = _verify(session)
    assert _where(report, "entry") == ["entry 6"]
    assert "seal" in str(next(f for f in report.findings if f.kind == "entry"))


def test_deleted_entry_is_named(log, db, session):
    with as_dba(db) as conn:
        conn.execute(
            text("DELETE FROM ledger_entry WHERE ledger_id = :l AND idx = 10"), {"l": log.id}
        )
    report = _verify(session)
    assert "entry 10" in _where(report, "entry")
    assert any("missing" in f.problem for f in report.findings if f.where == "entry 10")


def test_deleted_last_entry_is_noticed(log, db, session):
    with as_dba(db) as conn:
        conn.execute(
            text("DELETE FROM ledger_entry WHERE ledger_id = :l AND idx = 19"), {"l": log.id}
        )
    report = _verify(session)
    assert _where(report, "node") == [
        "node (1, 9)",
        "node (2, 4)",
    ]  # subtrees over a leaf that is gone


def test_reordered_entries_are_named(log, db, session):
    with as_dba(db) as conn:
        params = {"l": log.id}
        conn.execute(
            text("UPDATE ledger_entry SET idx = -1 WHERE ledger_id = :l AND idx = 3"), params
        )
        conn.execute(
            text("UPDATE ledger_entry SET idx = 3 WHERE ledger_id = :l AND idx = 11"), params
        )
        conn.execute(
            text("UPDATE ledger_entry SET idx = 11 WHERE ledger_id = :l AND idx = -1"), params
        )
    report = _verify(session)
    assert _where(report, "entry") == ["entry 11", "entry 3"]


def test_swapped_neighbours_are_reported_as_moved(log, db, session):
    with as_dba(db) as conn:
        params = {"l": log.id}
        conn.execute(
            text("UPDATE ledger_entry SET idx = -1 WHERE ledger_id = :l AND idx = 18"), params
        )
        conn.execute(
            text("UPDATE ledger_entry SET idx = 18 WHERE ledger_id = :l AND idx = 19"), params
        )
        conn.execute(
            text("UPDATE ledger_entry SET idx = 19 WHERE ledger_id = :l AND idx = -1"), params
        )
    report = _verify(session)
    assert _where(report, "entry") == ["entry 18", "entry 19"]
    assert all("moved" in f.problem for f in report.findings if f.kind == "entry")


def test_inserted_entry_is_named(log, db, session):
    hasher = service.hasher_for(log)
    with as_dba(db) as conn:
        conn.execute(
            text(
                "INSERT INTO ledger_entry (ledger_id, idx, leaf_hash, data, seal) VALUES (:l, 20, :h, :d, :s)"
            ),
            {"l": log.id, "h": hasher.leaf(b"forged"), "d": b"forged", "s": b"\x00" * 32},
        )
    report = _verify(session)
    assert _where(report, "entry") == ["entry 20"]


def test_changed_checkpoint_is_named(log, db, session):
    with as_dba(db) as conn:
        conn.execute(
            text(
                "UPDATE ledger_checkpoint SET body = replace(body, '\n9\n', '\n8\n') "
                "WHERE ledger_id = :l AND seq = 2"
            ),
            {"l": log.id},
        )
        conn.execute(
            text("UPDATE ledger_checkpoint SET root_hash = :r WHERE ledger_id = :l AND seq = 3"),
            {"l": log.id, "r": b"\x01" * 32},
        )
    report = _verify(session)
    assert _where(report, "checkpoint") == ["checkpoint 2", "checkpoint 3"]
    assert _where(report, "entry") == []


def test_deleted_checkpoint_is_named(log, db, session):
    with as_dba(db) as conn:
        conn.execute(
            text("DELETE FROM ledger_checkpoint WHERE ledger_id = :l AND seq = 2"), {"l": log.id}
        )
    report = _verify(session)
    assert [str(f) for f in report.findings] == [
        "checkpoint 2: missing (deleted from the database)"
    ]


def test_reordered_checkpoints_are_named(log, db, session):
    with as_dba(db) as conn:
        params = {"l": log.id}
        conn.execute(
            text("UPDATE ledger_checkpoint SET seq = -1 WHERE ledger_id = :l AND seq = 1"), params
        )
        conn.execute(
            text("UPDATE ledger_checkpoint SET seq = 1 WHERE ledger_id = :l AND seq = 3"), params
        )
        conn.execute(
            text("UPDATE ledger_checkpoint SET seq = 3 WHERE ledger_id = :l AND seq = -1"), params
        )
    report = _verify(session)
    assert "checkpoint 2" in _where(report, "checkpoint") or "checkpoint 3" in _where(
        report, "checkpoint"
    )
    assert all(f.kind == "checkpoint" for f in report.findings)
    assert any("out of order" in f.problem for f in report.findings)


def test_checkpoint_forged_with_another_key_is_named(log, db, session):
    body = CheckpointBody("longshu/ledger/audit", 20, b"\x02" * 32, "sm3", dt.datetime.now(dt.UTC))
    forged = SignedCheckpoint.sign("audit", body, SigningKey.generate())
    with as_dba(db) as conn:
        conn.execute(
            text(
                "INSERT INTO ledger_checkpoint (ledger_id, seq, tree_size, root_hash, hash_alg, issued_at, body, "
                "key_id, sig_alg, signature) VALUES (:l, 5, 20, :r, 'sm3', :t, :b, :k, 'sm2-sm3', :s)"
            ),
            {
                "l": log.id,
                "r": body.root_hash,
                "t": body.issued_at.replace(tzinfo=None),
                "b": forged.body_text,
                "k": forged.key_id,
                "s": forged.signature,
            },
        )
    report = _verify(session)
    assert [f.where for f in report.findings] == ["checkpoint 5"]
    assert "unknown key" in report.findings[0].problem


def test_changed_subtree_hash_is_named(log, db, session):
    with as_dba(db) as conn:
        conn.execute(
            text("UPDATE ledger_node SET hash = :h WHERE ledger_id = :l AND level = 2 AND idx = 1"),
            {"h": b"\x03" * 32, "l": log.id},
        )
    report = _verify(session)
    assert [str(f) for f in report.findings] == [
        "node (2, 1): stored hash differs from the recomputed subtree"
    ]


def test_event_whose_entry_was_deleted_is_named(ledger_env, db, session):
    emitted = []
    for _ in range(3):
        emitted.append(events.emit(session, "test.ledger_tampered", SYSTEM))
        session.commit()
    with as_dba(db) as conn:
        conn.execute(text("DELETE FROM ledger_entry WHERE event_id = :e"), {"e": emitted[-1].id})
    session.rollback()
    report = audit.verify_ledger(session, service.EVENTS_LEDGER)
    assert f"event {emitted[-1].id}" in _where(report, "event")
