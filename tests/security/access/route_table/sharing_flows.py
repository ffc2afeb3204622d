"""Sharing: return flows (数据回流) and duty lists (共享责任清单), API and pages."""

from tests.security.access.route_sets import EVERYONE

FLOWS = {"dept_data_admin", "platform_admin", "bureau_reviewer"}
BUREAU = {"platform_admin", "bureau_reviewer"}

ROUTES: dict[str, set[str]] = {
    "GET /api/v1/sharing/flows": FLOWS,
    "GET /api/v1/sharing/flows/{resource_id}": FLOWS,
    "PUT /api/v1/sharing/flows/{resource_id}": FLOWS,
    "POST /api/v1/sharing/flows/{resource_id}/apply": FLOWS,
    "POST /api/v1/sharing/flows/{resource_id}/disable": FLOWS,
    "GET /api/v1/sharing/duties": EVERYONE,
    "GET /api/v1/sharing/duties/{edition_id}": EVERYONE,
    "GET /api/v1/sharing/duties/{edition_id}/export.csv": EVERYONE,
    "GET /api/v1/sharing/duties/{edition_id}/export.xlsx": EVERYONE,
    "POST /api/v1/sharing/duties": BUREAU,
    "POST /api/v1/sharing/duties/{edition_id}/publish": BUREAU,
    "GET /console/sharing/flows": FLOWS,
    "GET /console/sharing/flows/{resource_id}": FLOWS,
    "POST /console/sharing/flows/{resource_id}": FLOWS,
    "POST /console/sharing/flows/{resource_id}/apply": FLOWS,
    "POST /console/sharing/flows/{resource_id}/disable": FLOWS,
    "GET /console/sharing/duties": BUREAU,
    "POST /console/sharing/duties": BUREAU,
    "POST /console/sharing/duties/{edition_id}/publish": BUREAU,
    "GET /sharing/duties": EVERYONE,
    "GET /sharing/duties/{edition_id}": EVERYONE,
}
