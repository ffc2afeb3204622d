"""The public page /ledger/verify."""

from __future__ import annotations

import base64
import json

from longshu import events
from longshu.actor import SYSTEM
from longshu.security.ledger import service

events.define("test.ledger_page", "测试页面事件", "Test page event")


def _receipt(session):
    for _ in range(5):
        event = events.emit(session, "test.ledger_page", SYSTEM)
        session.commit()
    return service.receipt_for_event(session, event.id, checkpoint_if_needed=True)


TOKEN = "t" * 32


def _post(client, data=None, files=None):
    """A browser form post: the CSRF cookie and the same token in the form."""
    client.cookies.set("longshu_csrf", TOKEN)
    return client.post("/ledger/verify", data={"csrf_token": TOKEN, **(data or {})}, files=files)


def test_form_shows_the_published_keys(client, session):
    page = client.get("/ledger/verify")
    assert page.status_code == 200
    assert 'data-testid="receipt-form"' in page.text and 'data-testid="public-keys"' in page.text


def test_pasted_receipt_is_verified_step_by_step(client, session):
    receipt = _receipt(session)
    session.commit()
    page = _post(client, data={"receipt_text": json.dumps(receipt)})
    assert page.status_code == 200
    assert page.text.count('data-ok="yes"') == 8 and 'data-ok="no"' not in page.text
    assert "alert-success" in page.text


def test_uploaded_tampered_receipt_shows_the_failing_step(client, session):
    receipt = _receipt(session)
    session.commit()
    signature = bytearray(base64.b64decode(receipt["checkpoint"]["signature"]["value"]))
    signature[5] ^= 1
    receipt["checkpoint"]["signature"]["value"] = base64.b64encode(bytes(signature)).decode()
    files = {"receipt_file": ("receipt.json", json.dumps(receipt).encode(), "application/json")}
    page = _post(client, files=files)
    assert page.status_code == 200
    assert 'data-step="signature" data-ok="no"' in page.text and "alert-danger" in page.text


def test_empty_or_garbage_input_gets_a_clear_message(client):
    assert _post(client, data={"receipt_text": "  "}).status_code == 422
    page = _post(client, data={"receipt_text": "{not json"})
    assert page.status_code == 422 and 'data-testid="receipt-error"' in page.text
    files = {"receipt_file": ("r.json", b"\xff\xfe\x00", "application/json")}
    page = _post(client, files=files)
    assert page.status_code == 422 and "UTF-8" in page.text
