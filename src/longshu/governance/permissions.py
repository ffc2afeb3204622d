"""Who may do what in governance. A department acts on its own tables and resources; the
data bureau (数据局) and the platform's administrators act on all of them."""

from __future__ import annotations

from longshu.security import access
from longshu.security.access.roles import STAFF_ROLES

BUREAU = {"platform_admin", "bureau_reviewer", "chief_data_officer"}

access.permission(
    "governance.read",
    STAFF_ROLES,
    "查看数据治理结果",
    "See governance results",
    own_org=True,
    any_org_roles=BUREAU | {"auditor", "assessor"},
)
access.permission(
    "governance.scan",
    {"dept_data_admin", *BUREAU},
    "执行敏感数据识别",
    "Scan for sensitive data",
    own_org=True,
    any_org_roles=BUREAU,
)
access.permission(
    "governance.grade",
    {"dept_reviewer", *BUREAU},
    "确认数据分级",
    "Confirm a data grade",
    own_org=True,
    any_org_roles=BUREAU,
)
access.permission(
    "governance.rules",
    {"dept_data_admin", *BUREAU},
    "管理质量规则",
    "Manage quality rules",
    own_org=True,
    any_org_roles=BUREAU,
)
# Any signed-in member of staff who uses data may report a problem in it (使用过程质量问题反馈).
access.permission("governance.report", STAFF_ROLES, "反馈数据质量问题", "Report a data problem")
access.permission(
    "governance.ranking", STAFF_ROLES, "查看部门质量排名", "See the departments' quality ranking"
)
