"""Feeds the ledger from the event spine: every event becomes a leaf of the "events" ledger.

Import this module at app start (``import longshu.security.ledger.subscriber``). The leaf data
is the event's canonical record: ``event.as_record()`` as JSON with sorted keys, UTF-8, no
spaces — a holder of the record can recompute its leaf hash.
"""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy.orm import Session

from longshu import events
from longshu.events import Event
from longshu.security.ledger import service


def canonical_json(record: dict[str, Any]) -> bytes:
    return json.dumps(record, sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode(
        "utf-8"
    )


@events.subscribe("*", name="ledger")
def record_event(session: Session, event: Event) -> None:
    """Append the event (the delivery mark commits with the leaf, so it is appended once)."""
    service.append(session, [(canonical_json(event.as_record()), event.id)])
