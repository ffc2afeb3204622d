"""The tamper-evident ledger: public proofs and the verify page; checkpoints by hand for admins."""

from tests.security.access.route_sets import ADMIN, EVERYONE

ROUTES: dict[str, set[str]] = {
    "GET /api/v1/ledger/checkpoints/latest": EVERYONE,
    "POST /api/v1/ledger/checkpoints": ADMIN,
    "GET /api/v1/ledger/entries/{index}/inclusion": EVERYONE,
    "GET /api/v1/ledger/consistency": EVERYONE,
    "GET /api/v1/ledger/public-keys": EVERYONE,
    "GET /api/v1/ledger/receipts/events/{event_id}": EVERYONE,
    "POST /api/v1/ledger/receipts/verify": EVERYONE,
    "GET /ledger/verify": EVERYONE,
    "POST /ledger/verify": EVERYONE,
}
