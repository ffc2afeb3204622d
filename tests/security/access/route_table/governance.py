"""Governance (/api/v1/governance, /console/governance): scans, grades, rules, runs, issues."""

from tests.security.access.route_sets import STAFF

BUREAU = {"platform_admin", "bureau_reviewer", "chief_data_officer"}
MANAGERS = {"dept_data_admin", *BUREAU}  # scan and rules: the department's data manager
GRADERS = {"dept_reviewer", *BUREAU}  # confirm a grade: the department's reviewer

ROUTES: dict[str, set[str]] = {
    "POST /api/v1/governance/tables/{table}/scans": MANAGERS,
    "GET /api/v1/governance/tables/{table}/scans/latest": STAFF,
    "GET /api/v1/governance/resources/{resource_id}/grades": STAFF,
    "POST /api/v1/governance/grades/{record_id}/confirm": GRADERS,
    "GET /api/v1/governance/tables/{table}/rules": STAFF,
    "POST /api/v1/governance/tables/{table}/rules": MANAGERS,
    "PATCH /api/v1/governance/rules/{rule_id}": MANAGERS,
    "POST /api/v1/governance/tables/{table}/quality-runs": MANAGERS,
    "GET /api/v1/governance/tables/{table}/quality-runs/latest": STAFF,
    "GET /api/v1/governance/tables/{table}/quality-trend": STAFF,
    "GET /api/v1/governance/tables/{table}/profile": STAFF,
    "POST /api/v1/governance/issues": STAFF,
    "GET /api/v1/governance/issues": STAFF,
    "GET /api/v1/governance/issues/{issue_id}": STAFF,
    "POST /api/v1/governance/issues/{issue_id}/transitions/{transition}": STAFF,
    "GET /api/v1/governance/ranking": STAFF,
    "GET /console/governance": STAFF,
    "GET /console/governance/tables/{name}": STAFF,
    "POST /console/governance/tables/{name}/scan": MANAGERS,
    "POST /console/governance/tables/{name}/run": MANAGERS,
    "POST /console/governance/grades/{record_id}/confirm": GRADERS,
    "POST /console/governance/tables/{name}/rules": MANAGERS,
    "POST /console/governance/rules/{rule_id}/active": MANAGERS,
    "GET /console/governance/issues": STAFF,
    "POST /console/governance/issues": STAFF,
    "GET /console/governance/issues/{issue_id}": STAFF,
    "POST /console/governance/issues/{issue_id}/move": STAFF,
    "GET /console/governance/ranking": STAFF,
}
