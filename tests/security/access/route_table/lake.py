"""The lake's JSON API: staff see what versions are made of."""

from tests.security.access.route_sets import STAFF

ROUTES: dict[str, set[str]] = {
    "GET /api/v1/lake/tables/{name}/versions/{number}/lineage": STAFF,
}
