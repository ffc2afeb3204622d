"""Sharing (/api/v1/sharing): requests, review, grants, the query API."""

from tests.security.access.route_sets import STAFF

REQUESTERS = {"data_consumer", "dept_data_admin", "dept_reviewer", "chief_data_officer"}
REVIEWERS = {"dept_reviewer", "platform_admin", "bureau_reviewer"}

ROUTES: dict[str, set[str]] = {
    "POST /api/v1/sharing/requests": REQUESTERS,
    "GET /api/v1/sharing/items": STAFF,
    "POST /api/v1/sharing/items/{item_id}/approve": REVIEWERS,
    "POST /api/v1/sharing/items/{item_id}/refuse": REVIEWERS,
    "POST /api/v1/sharing/items/{item_id}/withdraw": REQUESTERS,
    "GET /api/v1/sharing/grants": STAFF,
    "POST /api/v1/sharing/grants/{grant_id}/revoke": REVIEWERS,
    "POST /api/v1/sharing/grants/{grant_id}/query": REQUESTERS,
}
