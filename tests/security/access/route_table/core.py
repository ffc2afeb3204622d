"""The shell, the system endpoints, identity and the two front doors."""

from tests.security.access.route_sets import ADMIN, ADMIN_AND_AUDITOR, EVERYONE, SIGNED_IN

ROUTES: dict[str, set[str]] = {
    "GET /": EVERYONE,
    "GET /console": SIGNED_IN,
    "GET /healthz": EVERYONE,
    "GET /metrics": ADMIN_AND_AUDITOR,
    "GET /api/docs": EVERYONE,
    "GET /api/openapi.json": EVERYONE,
    # identity: pages
    "GET /login": EVERYONE,
    "POST /login": EVERYONE,
    "GET /login/totp": EVERYONE,
    "POST /login/totp": EVERYONE,
    "POST /logout": EVERYONE,
    "GET /login/sso": EVERYONE,
    "GET /login/sso/callback": EVERYONE,
    "GET /console/account": SIGNED_IN,
    "POST /console/account/tokens": SIGNED_IN,
    "POST /console/account/password": SIGNED_IN,
    "POST /console/account/tokens/{token_id}/revoke": SIGNED_IN,
    # identity: account administration pages
    "GET /console/admin/users": ADMIN,
    "POST /console/admin/users": ADMIN,
    "GET /console/admin/users/{user_id}": ADMIN,
    "POST /console/admin/users/{user_id}/roles": ADMIN,
    "POST /console/admin/users/{user_id}/status": ADMIN,
    "POST /console/admin/users/{user_id}/password": ADMIN,
    # identity: API
    "GET /api/v1/roles": EVERYONE,
    "GET /api/v1/me": SIGNED_IN,
    "POST /api/v1/me/password": SIGNED_IN,
    "GET /api/v1/tokens": SIGNED_IN,
    "POST /api/v1/tokens": SIGNED_IN,
    "DELETE /api/v1/tokens/{token_id}": SIGNED_IN,
    "GET /api/v1/users": ADMIN,
    "POST /api/v1/users": ADMIN,
    "GET /api/v1/users/{user_id}": ADMIN,
    "PUT /api/v1/users/{user_id}/roles": ADMIN,
    "POST /api/v1/users/{user_id}/disable": ADMIN,
    "POST /api/v1/users/{user_id}/enable": ADMIN,
    "POST /api/v1/users/{user_id}/password": ADMIN,
    "POST /api/v1/apps": ADMIN,
    "POST /api/v1/apps/{app_id}/tokens": ADMIN,
}
