"""Who may do what in sharing. A using department asks; the providing department's reviewer
decides, then the data bureau where the grade needs it; grants are seen by both sides."""

from __future__ import annotations

from longshu.security import access
from longshu.security.access.roles import STAFF_ROLES

BUREAU = {"platform_admin", "bureau_reviewer"}
REQUESTERS = {"data_consumer", "dept_data_admin", "dept_reviewer", "chief_data_officer"}

access.permission("sharing.request", REQUESTERS, "申请共享数据", "Request shared data")
access.permission(
    "sharing.review",
    {"dept_reviewer", *BUREAU},
    "审核共享申请",
    "Review share requests",
    own_org=True,
    any_org_roles=BUREAU,
)
access.permission(
    "sharing.revoke",
    {"dept_reviewer", *BUREAU},
    "撤销共享授权",
    "Revoke a share grant",
    own_org=True,
    any_org_roles=BUREAU,
)
access.permission(
    "sharing.read", STAFF_ROLES, "查看共享申请与授权", "See share requests and grants"
)
# the holder's staff and systems use a grant (lake.access checks the holding department)
access.permission("sharing.use", REQUESTERS, "使用共享授权", "Use a share grant")
# a department's data administrator registers the systems that call the platform for it
access.permission(
    "sharing.credentials",
    {"dept_data_admin", "platform_admin"},
    "管理共享应用凭证",
    "Manage sharing application credentials",
    own_org=True,
    any_org_roles={"platform_admin"},
)
# return flows (数据回流) are set up per resource by its department or by the bureau
access.permission(
    "sharing.flows",
    {"dept_data_admin", *BUREAU},
    "配置数据回流",
    "Configure return flows",
    own_org=True,
    any_org_roles=BUREAU,
)
# duty lists (共享责任清单) are compiled and published by the bureau
access.permission("sharing.duties", BUREAU, "发布共享责任清单", "Publish sharing duty lists")
