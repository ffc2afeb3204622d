"""Batch exchange (/api/v1/sharing/.../deliveries, /console/sharing/deliveries)."""

from tests.security.access.route_sets import STAFF

REQUESTERS = {"data_consumer", "dept_data_admin", "dept_reviewer", "chief_data_officer"}

ROUTES: dict[str, set[str]] = {
    "POST /api/v1/sharing/grants/{grant_id}/deliveries": REQUESTERS,
    "GET /api/v1/sharing/deliveries": STAFF,
    "GET /api/v1/sharing/deliveries/{delivery_id}": STAFF,
    "GET /api/v1/sharing/deliveries/{delivery_id}/manifest": REQUESTERS,
    "GET /api/v1/sharing/deliveries/{delivery_id}/package": REQUESTERS,
    "POST /api/v1/sharing/deliveries/{delivery_id}/receipt": REQUESTERS,
    "POST /api/v1/sharing/deliveries/{delivery_id}/destruction": REQUESTERS,
    "GET /console/sharing/deliveries": STAFF,
    "GET /console/sharing/deliveries/overdue": STAFF,
}
ROUTES |= {
    "POST /console/sharing/deliveries": REQUESTERS,
    "POST /console/sharing/deliveries/{delivery_id}/records": REQUESTERS,
}
