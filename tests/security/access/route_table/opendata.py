"""Open data: the CKAN-compatible Action API serves the open catalog to everyone."""

from tests.security.access.route_sets import EVERYONE

ROUTES: dict[str, set[str]] = {
    "GET /api/3/action/{action}": EVERYONE,
    "POST /api/3/action/{action}": EVERYONE,
    "GET /api/action/{action}": EVERYONE,
    "POST /api/action/{action}": EVERYONE,
}
