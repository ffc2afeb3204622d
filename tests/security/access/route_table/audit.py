"""The audit trail: administrators and auditors."""

from tests.security.access.route_sets import ADMIN_AND_AUDITOR

ROUTES: dict[str, set[str]] = {
    "GET /api/v1/events": ADMIN_AND_AUDITOR,
    "GET /console/audit": ADMIN_AND_AUDITOR,
}
