"""Who's who in the route table: role codes (security/access/roles.py) plus ``anonymous``.

Written out by hand on purpose: the table states what we intend, independently of the
permission declarations it checks."""

ROLE_CODES = (
    "platform_admin",
    "bureau_reviewer",
    "chief_data_officer",
    "dept_data_admin",
    "dept_reviewer",
    "data_consumer",
    "operator",
    "assessor",
    "auditor",
    "public",
)
EVERYONE = {"anonymous", *ROLE_CODES}
SIGNED_IN = set(ROLE_CODES)
STAFF = SIGNED_IN - {"public"}
ADMIN = {"platform_admin"}
ADMIN_AND_AUDITOR = {"platform_admin", "auditor"}
