"""The catalog's permissions (declared on import; every catalog module imports this one)."""

from __future__ import annotations

from longshu.security import access
from longshu.security.access import STAFF_ROLES

# Who may see the sharing catalog (共享目录): published entries that are not open to the public.
SHARED_READERS = STAFF_ROLES - {"operator"}

access.permission(
    "catalog.browse", STAFF_ROLES | {"public", "system"}, "浏览数据目录", "Browse the catalog",
    signed_in=False,
)  # fmt: skip
access.permission("catalog.shared", SHARED_READERS, "查看共享目录", "Read the sharing catalog")
access.permission(
    "catalog.work",
    {"dept_data_admin", "dept_reviewer", "bureau_reviewer", "platform_admin",
     "chief_data_officer", "auditor"},
    "查看目录编目工作", "See catalog drafts and reviews",
    own_org=True, any_org_roles={"bureau_reviewer", "platform_admin", "auditor"},
)  # fmt: skip
access.permission(
    "catalog.edit", {"dept_data_admin", "platform_admin"}, "编制目录", "Draft catalog entries",
    own_org=True, any_org_roles={"platform_admin"},
)  # fmt: skip
access.permission(
    "catalog.review", {"dept_reviewer"}, "审核目录", "Review catalog entries", own_org=True
)
access.permission("catalog.publish", {"bureau_reviewer"}, "发布目录", "Publish catalog entries")
access.permission(
    "catalog.retire", {"dept_reviewer", "bureau_reviewer"}, "下线目录", "Retire catalog entries",
    own_org=True, any_org_roles={"bureau_reviewer"},
)  # fmt: skip
