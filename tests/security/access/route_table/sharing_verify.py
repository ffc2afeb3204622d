"""Verification (核验) over HTTP: checks within a grant, and the provider's setup (API and
its console page)."""

REQUESTERS = {"data_consumer", "dept_data_admin", "dept_reviewer", "chief_data_officer"}
REVIEWERS = {"dept_reviewer", "platform_admin", "bureau_reviewer"}

ROUTES: dict[str, set[str]] = {
    "POST /api/v1/sharing/grants/{grant_id}/verify": REQUESTERS,
    "POST /api/v1/sharing/grants/{grant_id}/verify/batch": REQUESTERS,
    "GET /api/v1/sharing/verify/setups/{resource_id}": REVIEWERS,
    "PUT /api/v1/sharing/verify/setups/{resource_id}": REVIEWERS,
    "POST /api/v1/sharing/verify/setups/{resource_id}/build": REVIEWERS,
    "GET /api/v1/sharing/verify/indexes": REVIEWERS,
    "GET /console/sharing/verify": REVIEWERS,
    "POST /console/sharing/verify/{resource_id}/setup": REVIEWERS,
    "POST /console/sharing/verify/{resource_id}/build": REVIEWERS,
}
