"""Sharing console pages (/console/sharing): request form, my requests, review queues, an
item's page and its decisions, grants and each grant's API page with the try-it console."""

from tests.security.access.route_sets import STAFF

REQUESTERS = {"data_consumer", "dept_data_admin", "dept_reviewer", "chief_data_officer"}
REVIEWERS = {"dept_reviewer", "platform_admin", "bureau_reviewer"}

ROUTES: dict[str, set[str]] = {
    "GET /console/sharing": STAFF,
    "GET /console/sharing/requests": STAFF,
    "GET /console/sharing/requests/new": REQUESTERS,
    "POST /console/sharing/requests/new": REQUESTERS,
    "GET /console/sharing/reviews": REVIEWERS,
    "GET /console/sharing/items/{item_id}": STAFF,
    "POST /console/sharing/items/{item_id}/approve": REVIEWERS,
    "POST /console/sharing/items/{item_id}/refuse": REVIEWERS,
    "POST /console/sharing/items/{item_id}/withdraw": REQUESTERS,
    "GET /console/sharing/grants": STAFF,
    "GET /console/sharing/grants/{grant_id}": STAFF,
    "POST /console/sharing/grants/{grant_id}/revoke": REVIEWERS,
    "POST /console/sharing/grants/{grant_id}/try": REQUESTERS,
}
