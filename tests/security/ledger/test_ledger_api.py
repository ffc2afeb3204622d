"""The public ledger API."""

from __future__ import annotations

import pytest

from longshu import events
from longshu.actor import SYSTEM
from longshu.security.ledger import merkle

events.define("test.ledger_api", "测试接口事件", "Test API event")


@pytest.fixture
def recorded(client, session):
    ids = []
    for n in range(6):
        event = events.emit(
            session, "test.ledger_api", SYSTEM, subject=("thing", n), secret_figure=1000 + n
        )
        session.commit()
        ids.append(event.id)
    return ids


def test_latest_checkpoint_and_public_keys_are_public(client, recorded):
    checkpoint = client.get("/api/v1/ledger/checkpoints/latest").json()
    assert checkpoint["tree_size"] == 5 and checkpoint["hash_alg"] == "sm3"
    keys = client.get("/api/v1/ledger/public-keys").json()["keys"]
    assert keys[0]["key_id"] == checkpoint["signature"]["key_id"] and keys[0]["status"] == "current"
    assert "private_key" not in keys[0]


def test_inclusion_proof_by_entry_verifies_against_the_checkpoint(client, recorded):
    checkpoint = client.get("/api/v1/ledger/checkpoints/latest").json()
    body = client.get("/api/v1/ledger/entries/3/inclusion").json()
    assert body["tree_size"] == checkpoint["tree_size"]
    hasher = merkle.MerkleHasher("sm3")
    assert merkle.verify_inclusion(
        hasher,
        3,
        body["tree_size"],
        bytes.fromhex(body["leaf_hash"]),
        [bytes.fromhex(p) for p in body["inclusion_proof"]],
        bytes.fromhex(checkpoint["root_hash"]),
    )


def test_consistency_proof_between_sizes_verifies(client, recorded):
    body = client.get("/api/v1/ledger/consistency", params={"first": 2, "second": 6}).json()
    assert merkle.verify_consistency(
        merkle.MerkleHasher("sm3"),
        2,
        6,
        bytes.fromhex(body["first_root"]),
        bytes.fromhex(body["second_root"]),
        [bytes.fromhex(p) for p in body["consistency_proof"]],
    )


def test_public_receipt_shows_hash_and_proof_but_not_the_event(client, recorded):
    response = client.get(f"/api/v1/ledger/receipts/events/{recorded[1]}")
    assert response.status_code == 200
    text = response.text
    assert "secret_figure" not in text and "record" not in response.json()
    check = client.post("/api/v1/ledger/receipts/verify", json=response.json()).json()
    assert check["ok"] is True
    tampered = response.json()
    tampered["entry"]["index"] = 2
    check = client.post("/api/v1/ledger/receipts/verify", json=tampered).json()
    assert check["ok"] is False and check["steps"][-1]["name"] == "inclusion"


@pytest.mark.parametrize(
    ("path", "status"),
    [
        ("/api/v1/ledger/entries/99/inclusion", 409),  # not yet covered by a checkpoint
        ("/api/v1/ledger/entries/0/inclusion?tree_size=99", 422),
        ("/api/v1/ledger/entries/-1/inclusion?tree_size=3", 422),
        ("/api/v1/ledger/consistency?first=5&second=2", 422),
        ("/api/v1/ledger/consistency?first=abc&second=2", 422),
        ("/api/v1/ledger/receipts/events/999999", 404),
        ("/api/v1/ledger/checkpoints/latest?ledger=nope", 404),
        ("/api/v1/ledger/checkpoints/latest?ledger=../x", 422),
    ],
)
def test_bad_requests_get_clear_errors(client, recorded, path, status):
    assert client.get(path).status_code == status


def test_cutting_a_checkpoint_needs_the_ledger_permission(client, recorded):
    assert client.post("/api/v1/ledger/checkpoints").status_code == 401


def test_verify_endpoint_refuses_non_objects(client, recorded):
    assert client.post("/api/v1/ledger/receipts/verify", json=[1, 2]).status_code == 422
    assert client.post("/api/v1/ledger/receipts/verify", json={"format": "x"}).json()["ok"] is False
