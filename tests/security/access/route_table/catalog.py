"""The catalog: the published catalog for everyone (closed entries only for government
staff, decided per entry), drafting for departments, review and publication by role."""

from tests.security.access.route_sets import EVERYONE

WORK = {
    "dept_data_admin",
    "dept_reviewer",
    "bureau_reviewer",
    "platform_admin",
    "chief_data_officer",
    "auditor",
}
EDIT = {"dept_data_admin", "platform_admin"}
BUREAU = {"bureau_reviewer", "platform_admin"}
CLAIM = {"dept_data_admin", "dept_reviewer"}
REPORT = {
    "platform_admin",
    "bureau_reviewer",
    "chief_data_officer",
    "dept_data_admin",
    "dept_reviewer",
    "auditor",
    "assessor",
}

ROUTES: dict[str, set[str]] = {
    "GET /api/v1/catalog/vocabularies": EVERYONE,
    "GET /api/v1/catalog/search": EVERYONE,
    "GET /api/v1/catalog/resources/{resource_id}": EVERYONE,
    "GET /api/v1/catalog/resources/{resource_id}/revisions": EVERYONE,
    "GET /api/v1/catalog/work": WORK,
    "POST /api/v1/catalog/work": EDIT,
    "GET /api/v1/catalog/work/{resource_id}": WORK,
    "PUT /api/v1/catalog/work/{resource_id}": EDIT,
    "POST /api/v1/catalog/work/{resource_id}/moves": WORK,
    "POST /api/v1/catalog/work/{resource_id}/reopen": EDIT,
    "GET /api/v1/catalog/work/{resource_id}/revisions": WORK,
    "GET /api/v1/catalog/work/{resource_id}/revisions/{number}/diff": WORK,
    "GET /api/v1/catalog/work/{resource_id}/history": WORK,
    "GET /api/v1/catalog/template.xlsx": WORK,
    "GET /api/v1/catalog/export.xlsx": WORK,
    "POST /api/v1/catalog/import": EDIT,
    "GET /api/v1/catalog/dcat": EVERYONE,
    "GET /api/v1/catalog/resources/{resource_id}/dcat": EVERYONE,
    "GET /api/v1/catalog/elements": EVERYONE,
    "POST /api/v1/catalog/elements": BUREAU,
    "GET /api/v1/catalog/elements/conflicts": WORK,
    "GET /api/v1/catalog/elements/{element_id}": EVERYONE,
    "PUT /api/v1/catalog/elements/{element_id}": BUREAU,
    "POST /api/v1/catalog/elements/{element_id}/claims": CLAIM,
    "POST /api/v1/catalog/elements/{element_id}/resolve": BUREAU,
    "GET /api/v1/catalog/levels": REPORT,
    "GET /api/v1/catalog/completeness": REPORT,
    "GET /api/v1/catalog/duties": REPORT,
    "POST /api/v1/catalog/duties": BUREAU,
    "PUT /api/v1/catalog/duties/{item_id}/resource": BUREAU,
    "DELETE /api/v1/catalog/duties/{item_id}": BUREAU,
    # pages
    "GET /catalog": EVERYONE,
    "GET /catalog/resources/{resource_id}": EVERYONE,
    "GET /console/catalog": WORK,
    "GET /console/catalog/new": EDIT,
    "POST /console/catalog/new": EDIT,
    "GET /console/catalog/{resource_id:int}/edit": EDIT,
    "POST /console/catalog/{resource_id:int}/edit": EDIT,
    "GET /console/catalog/{resource_id:int}": WORK,
    "POST /console/catalog/{resource_id:int}/move": WORK,
    "POST /console/catalog/{resource_id:int}/reopen": EDIT,
    "GET /console/catalog/import": EDIT,
    "POST /console/catalog/import": EDIT,
    "GET /console/catalog/elements": WORK,
    "POST /console/catalog/elements": BUREAU,
    "GET /console/catalog/elements/{element_id:int}": WORK,
    "POST /console/catalog/elements/{element_id:int}": BUREAU,
    "POST /console/catalog/elements/{element_id:int}/claim": CLAIM,
    "POST /console/catalog/elements/{element_id:int}/resolve": BUREAU,
    "GET /console/catalog/duties": REPORT,
    "POST /console/catalog/duties": BUREAU,
    "POST /console/catalog/duties/{item_id:int}/link": BUREAU,
    "POST /console/catalog/duties/{item_id:int}/remove": BUREAU,
    "GET /console/catalog/levels": REPORT,
}
