"""Appending, checkpoints, proofs and receipts through the stored ledger."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import delete, func, select, update
from sqlalchemy.exc import DBAPIError

from longshu import events
from longshu.actor import SYSTEM
from longshu.security.crypto.keystore import KeyStore
from longshu.security.ledger import merkle, receipts, service
from longshu.security.ledger.models import Ledger, LedgerCheckpoint, LedgerEntry, LedgerNode
from longshu.security.ledger.subscriber import canonical_json

events.define("test.ledger_recorded", "测试存证事件", "Test ledger event")

CT_LEAVES = [
    bytes.fromhex(h)
    for h in [
        "",
        "00",
        "10",
        "2021",
        "3031",
        "40414243",
        "5051525354555657",
        "606162636465666768696a6b6c6d6e6f",
    ]
]


def _data(n: int) -> list[bytes]:
    return [f"leaf-{i}".encode() for i in range(n)]


def test_stored_tree_matches_the_reference_tree_at_every_size(ledger_env, session):
    reference = merkle.MemoryTree("sm3")
    for batch in ([b"a"], _data(6), _data(1), _data(25)):
        service.append(session, batch, "prop")
        for item in batch:
            reference.append(item)
    session.commit()
    ledger = service.get_ledger(session, "prop")
    assert service.tree_size(session, ledger) == reference.size == 33
    for size in range(1, 34):
        assert service.root_at(session, ledger, size) == reference.root(size)
        for index in {0, size // 2, size - 1}:
            assert service.inclusion_proof(
                session, ledger, index, size
            ) == reference.inclusion_proof(index, size)
        for old in {0, 1, size // 3, size - 1, size}:
            assert service.consistency_proof(
                session, ledger, old, size
            ) == reference.consistency_proof(old, size)


def test_sha256_ledger_is_byte_compatible_with_rfc_6962(ledger_env, session):
    service.get_ledger(session, "ct", hash_alg="sha256")
    for leaf in CT_LEAVES:
        service.append(session, [leaf], "ct")
    session.commit()
    ledger = service.get_ledger(session, "ct")
    assert service.root_at(session, ledger, 8).hex() == (
        "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328"
    )
    assert next(p.hex() for p in service.consistency_proof(session, ledger, 6, 8)) == (
        "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a"
    )
    checkpoint = service.latest_checkpoint(session, ledger)
    assert checkpoint.hash_alg == "sha256"


def test_unknown_hash_algorithm_for_a_new_ledger_is_refused(ledger_env, session):
    from longshu.security.crypto.errors import UnknownAlgorithm

    with pytest.raises(UnknownAlgorithm):
        service.get_ledger(session, "weird", hash_alg="md5")


def test_checkpoints_are_signed_at_the_configured_interval(ledger_env, session):
    for item in _data(10):
        service.append(session, [item], "cp")
    session.commit()
    ledger = service.get_ledger(session, "cp")
    rows = session.scalars(select(LedgerCheckpoint).order_by(LedgerCheckpoint.seq)).all()
    assert [(r.seq, r.tree_size) for r in rows] == [(0, 1), (1, 5), (2, 9)]
    keys = KeyStore().verification_keys()
    for row in rows:
        assert service.signed(ledger, row).verify(keys) is None
        assert row.sig_alg == "sm2-sm3" and row.hash_alg == "sm3"
        assert row.body.startswith("longshu/ledger/cp\n")
    forced = service.issue_checkpoint(session, "cp")
    assert forced.tree_size == 10
    assert service.issue_checkpoint(session, "cp").seq == forced.seq  # nothing new: no new one


def test_ledger_rows_cannot_be_updated_or_deleted(ledger_env, session):
    service.append(session, _data(3), "frozen")
    session.commit()
    statements = [
        update(LedgerEntry).values(data=b"changed"),
        delete(LedgerEntry),
        update(LedgerNode).values(hash=b"x" * 32),
        delete(LedgerCheckpoint),
        update(Ledger).values(hash_alg="sha256"),
    ]
    for statement in statements:
        with pytest.raises(DBAPIError, match="append-only"):
            session.execute(statement)
        session.rollback()
    assert session.scalar(select(func.count()).select_from(LedgerEntry)) == 3


def test_every_event_of_the_spine_becomes_a_leaf_with_its_canonical_record(ledger_env, session):
    emitted = []
    for n in range(3):
        emitted.append(
            events.emit(session, "test.ledger_recorded", SYSTEM, subject=("thing", n), rows=n)
        )
        session.commit()
    ledger = service.get_ledger(session, service.EVENTS_LEDGER, create=False)
    rows = session.scalars(
        select(LedgerEntry).where(LedgerEntry.ledger_id == ledger.id).order_by(LedgerEntry.idx)
    ).all()
    assert [r.event_id for r in rows] == [e.id for e in emitted]
    for row, event in zip(rows, emitted, strict=True):
        assert bytes(row.data) == canonical_json(event.as_record())
        assert json.loads(row.data)["payload"] == {"rows": emitted.index(event)}
    events.deliver_pending(ledger_env.sessionmaker)  # redelivery appends nothing twice
    assert session.scalar(select(func.count()).select_from(LedgerEntry)) == 3


def test_receipt_verifies_offline_with_only_the_published_key(ledger_env, session):
    event = events.emit(session, "test.ledger_recorded", SYSTEM, subject=("certificate", 9))
    session.commit()
    for n in range(5):
        events.emit(session, "test.ledger_recorded", SYSTEM, subject=("thing", n))
        session.commit()
    receipt = service.receipt_for_event(session, event.id, include_record=True)
    published = json.loads(json.dumps({"keys": KeyStore().public_keys()}))
    check = receipts.verify_receipt(
        json.loads(json.dumps(receipt)), receipts.load_public_keys(published)
    )
    assert check.ok, check.as_json()
    assert [s.name for s in check.steps] == [
        "format",
        "hash_alg",
        "checkpoint",
        "checkpoint_hash",
        "public_key",
        "signature",
        "entry",
        "record",
        "inclusion",
    ]
    public = service.receipt_for_event(session, event.id)
    assert "record" not in public and public["entry"]["leaf_hash"] == receipt["entry"]["leaf_hash"]


def test_receipt_waits_for_a_checkpoint_unless_asked_to_cut_one(ledger_env, session, monkeypatch):
    monkeypatch.setenv("LONGSHU_LEDGER_CHECKPOINT_EVERY", "100")
    service.append(session, _data(1), service.EVENTS_LEDGER)
    events.emit(session, "test.ledger_recorded", SYSTEM)
    session.commit()
    event_id = session.scalar(select(func.max(LedgerEntry.event_id)))
    with pytest.raises(service.NotYetCheckpointed):
        service.receipt_for_event(session, event_id)
    receipt = service.receipt_for_event(session, event_id, checkpoint_if_needed=True)
    session.commit()
    assert receipt["checkpoint"]["tree_size"] == 2


def test_unknown_entries_and_bad_sizes_are_refused(ledger_env, session):
    service.append(session, _data(4), "small")
    ledger = service.get_ledger(session, "small")
    with pytest.raises(service.EntryNotFound):
        service.entry(session, ledger, 4)
    with pytest.raises(service.EntryNotFound):
        service.entry_for_event(session, 12345)
    with pytest.raises(service.InvalidTreeSize):
        service.inclusion_proof(session, ledger, 4, 4)
    with pytest.raises(service.InvalidTreeSize):
        service.inclusion_proof(session, ledger, 0, 5)
    with pytest.raises(service.InvalidTreeSize):
        service.consistency_proof(session, ledger, 3, 2)
    with pytest.raises(service.LedgerNotFound):
        service.get_ledger(session, "nope", create=False)
