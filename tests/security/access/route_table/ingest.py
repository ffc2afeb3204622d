"""Load jobs and sources (/api/v1/ingest), the lake and loading consoles."""

from tests.security.access.route_sets import ADMIN, STAFF

LOADERS = {"platform_admin", "dept_data_admin"}

ROUTES: dict[str, set[str]] = {
    "POST /api/v1/ingest/uploads": LOADERS,
    "GET /api/v1/ingest/jobs": LOADERS,
    "GET /api/v1/ingest/jobs/{job_id}": LOADERS,
    "POST /api/v1/ingest/jobs/{job_id}/cancel": LOADERS,
    "GET /api/v1/ingest/sources": LOADERS,
    "POST /api/v1/ingest/sources": ADMIN,
    "GET /api/v1/ingest/sources/{source_id}": LOADERS,
    "PATCH /api/v1/ingest/sources/{source_id}": ADMIN,
    "DELETE /api/v1/ingest/sources/{source_id}": ADMIN,
    "POST /api/v1/ingest/sources/{source_id}/run": LOADERS,
    "GET /console/lake": STAFF,
    "POST /console/lake/{table_id}/versions/{number}/accept": LOADERS,
    "GET /console/ingest": LOADERS,
    "GET /console/ingest/jobs": LOADERS,
    "POST /console/ingest/upload": LOADERS,
    "POST /console/ingest/jobs/{job_id}/cancel": LOADERS,
    "POST /console/ingest/sources/{source_id}/run": LOADERS,
}
