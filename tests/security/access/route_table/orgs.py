"""Regions and organisations."""

from tests.security.access.route_sets import ADMIN, EVERYONE, STAFF

ROUTES: dict[str, set[str]] = {
    "GET /api/v1/regions": EVERYONE,
    "GET /api/v1/regions/tree": EVERYONE,
    "GET /api/v1/regions/{code}": EVERYONE,
    "GET /api/v1/orgs/kinds": EVERYONE,
    "GET /api/v1/orgs": STAFF,
    "GET /api/v1/orgs/{org_id}": STAFF,
    "POST /api/v1/orgs": ADMIN,
    "PATCH /api/v1/orgs/{org_id}": ADMIN,
    "POST /api/v1/orgs/{org_id}/deactivate": ADMIN,
    "GET /console/orgs": STAFF,
}
