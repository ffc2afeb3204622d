from __future__ import annotations

import pytest

from longshu import events


@pytest.fixture
def ledger_env(var_dir, db, monkeypatch):
    """Keys under a temporary var dir, small checkpoint interval, the ledger subscriber on."""
    monkeypatch.setenv("LONGSHU_LEDGER_CHECKPOINT_EVERY", "4")
    monkeypatch.setenv("LONGSHU_LEDGER_CHECKPOINT_SECONDS", "3600")
    from longshu.security.ledger import subscriber

    before = events.SUBSCRIBERS.get("ledger")
    events.subscribe("*", name="ledger")(subscriber.record_event)
    yield db
    if before is None:
        events.SUBSCRIBERS.pop("ledger", None)
    else:
        events.SUBSCRIBERS["ledger"] = before
