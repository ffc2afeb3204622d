"""Application credentials of departments' systems (/api/v1/sharing/credentials)."""

CREDENTIAL_ADMINS = {"dept_data_admin", "platform_admin"}

ROUTES: dict[str, set[str]] = {
    "POST /api/v1/sharing/credentials": CREDENTIAL_ADMINS,
    "GET /api/v1/sharing/credentials": CREDENTIAL_ADMINS,
    "GET /api/v1/sharing/credentials/{app_id}": CREDENTIAL_ADMINS,
    "POST /api/v1/sharing/credentials/{app_id}/key": CREDENTIAL_ADMINS,
    "POST /api/v1/sharing/credentials/{app_id}/tokens": CREDENTIAL_ADMINS,
    "POST /api/v1/sharing/credentials/{app_id}/disable": CREDENTIAL_ADMINS,
}
