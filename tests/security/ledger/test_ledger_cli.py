"""``longshu ledger`` and ``longshu keys`` commands."""

from __future__ import annotations

import json

from sqlalchemy import text
from typer.testing import CliRunner

from longshu.security.crypto.cli import app as keys_app
from longshu.security.ledger import service
from longshu.security.ledger.cli import app as ledger_app

runner = CliRunner()


def _log(session, n=9):
    for i in range(n):
        service.append(session, [f"cli-{i}".encode()], service.EVENTS_LEDGER)
    session.commit()


def test_verify_passes_on_a_clean_log_and_names_a_tampered_entry(ledger_env, session, db):
    _log(session)
    result = runner.invoke(ledger_app, ["verify"])
    assert result.exit_code == 0, result.output
    assert "9 entries" in result.output and "OK" in result.output
    with db.engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            conn.execute(text("SET LOCAL session_replication_role = replica"))
        else:
            conn.execute(text("DROP TRIGGER ledger_entry_no_update"))
        conn.execute(text("UPDATE ledger_entry SET data = :d WHERE idx = 2"), {"d": b"edited"})
    result = runner.invoke(ledger_app, ["verify", "--json"])
    assert result.exit_code == 1
    report = json.loads(result.output)
    assert [f["where"] for f in report["findings"] if f["kind"] == "entry"] == ["entry 2"]


def test_receipt_verifies_offline_with_the_published_key_file(ledger_env, session, tmp_path):
    _log(session)
    receipt = service.receipt(
        session, service.get_ledger(session), service.entry(session, service.get_ledger(session), 3)
    )
    keys = runner.invoke(keys_app, ["show-public"])
    assert keys.exit_code == 0
    (tmp_path / "keys.json").write_text(keys.output)
    (tmp_path / "receipt.json").write_text(json.dumps(receipt))
    ok = runner.invoke(
        ledger_app,
        [
            "verify-receipt",
            str(tmp_path / "receipt.json"),
            "--public-key",
            str(tmp_path / "keys.json"),
        ],
    )
    assert ok.exit_code == 0, ok.output
    assert "VALID" in ok.output and "✓" in ok.output
    receipt["inclusion_proof"][0] = "00" * 32
    (tmp_path / "bad.json").write_text(json.dumps(receipt))
    bad = runner.invoke(
        ledger_app,
        ["verify-receipt", str(tmp_path / "bad.json"), "--public-key", str(tmp_path / "keys.json")],
    )
    assert bad.exit_code == 1 and "INVALID" in bad.output


def test_receipt_signed_by_a_key_not_supplied_is_invalid(ledger_env, session, tmp_path):
    _log(session)
    receipt = service.receipt(
        session, service.get_ledger(session), service.entry(session, service.get_ledger(session), 0)
    )
    runner.invoke(keys_app, ["rotate", "--signing"])
    current_only = [
        k
        for k in json.loads(runner.invoke(keys_app, ["show-public"]).output)["keys"]
        if k["status"] == "current"
    ]
    (tmp_path / "keys.json").write_text(json.dumps(current_only))
    (tmp_path / "receipt.json").write_text(json.dumps(receipt))
    result = runner.invoke(
        ledger_app,
        [
            "verify-receipt",
            str(tmp_path / "receipt.json"),
            "--public-key",
            str(tmp_path / "keys.json"),
        ],
    )
    assert result.exit_code == 1 and "not among the published keys" in result.output


def test_garbage_receipt_and_key_files_get_a_clear_error(ledger_env, tmp_path):
    (tmp_path / "r.json").write_bytes(b"\xff\xfe not json")
    result = runner.invoke(ledger_app, ["verify-receipt", str(tmp_path / "r.json")])
    assert result.exit_code == 2 and "UTF-8" in result.output
    (tmp_path / "r.json").write_text("{}")
    (tmp_path / "k.json").write_text('{"algorithm": "sm2-sm3", "public_key": "04"}')
    result = runner.invoke(
        ledger_app,
        ["verify-receipt", str(tmp_path / "r.json"), "--public-key", str(tmp_path / "k.json")],
    )
    assert result.exit_code == 2 and "key" in result.output
    assert (
        runner.invoke(ledger_app, ["verify-receipt", str(tmp_path / "missing.json")]).exit_code == 2
    )


def test_checkpoint_command_signs_the_current_size(ledger_env, session, monkeypatch):
    monkeypatch.setenv("LONGSHU_LEDGER_CHECKPOINT_EVERY", "100")
    _log(session, 3)
    result = runner.invoke(ledger_app, ["checkpoint"])
    assert result.exit_code == 0 and "3 entries" in result.output


def test_keys_rotate_rewraps_data_keys(ledger_env):
    from longshu.security.crypto import envelope

    token = envelope.encrypt_value("population", b"x")
    result = runner.invoke(keys_app, ["rotate"])
    assert result.exit_code == 0 and "1 data keys re-wrapped" in result.output
    assert envelope.decrypt_value("population", token) == b"x"
    assert runner.invoke(keys_app, ["rotate", "--signing", "--algorithm", "rsa"]).exit_code == 2


def test_verify_in_two_processes_agrees(ledger_env, session, db, monkeypatch):
    from longshu.security.ledger import audit

    monkeypatch.setattr(audit, "PARALLEL_MIN_ENTRIES", 4)
    _log(session, 12)
    result = runner.invoke(ledger_app, ["verify", "--workers", "2", "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["entries"] == 12
    with db.engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            conn.execute(text("SET LOCAL session_replication_role = replica"))
        else:
            conn.execute(text("DROP TRIGGER ledger_entry_no_update"))
        conn.execute(text("UPDATE ledger_entry SET data = :d WHERE idx = 10"), {"d": b"edited"})
    result = runner.invoke(ledger_app, ["verify", "--workers", "2", "--json"])
    assert result.exit_code == 1
    report = json.loads(result.output)
    assert [f["where"] for f in report["findings"] if f["kind"] == "entry"] == ["entry 10"]
