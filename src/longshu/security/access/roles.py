"""The platform's roles (角色). Codes are stable; titles are shown to people."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Role:
    code: str
    title_zh: str
    title_en: str
    needs_mfa: bool = False


ROLES: dict[str, Role] = {
    r.code: r
    for r in (
        Role("platform_admin", "平台管理员", "Platform administrator", needs_mfa=True),
        Role("bureau_reviewer", "数据局审核员", "Data bureau reviewer"),
        Role("chief_data_officer", "首席数据官", "Chief data officer"),
        Role("dept_data_admin", "部门数据管理员", "Department data manager"),
        Role("dept_reviewer", "部门审核员", "Department reviewer"),
        Role("data_consumer", "数据使用方", "Data consumer"),
        Role("operator", "运营机构", "Authorised operator"),
        Role("assessor", "第三方评估机构", "Third-party assessor"),
        Role("auditor", "审计员", "Auditor"),
        Role("public", "公众", "Member of the public"),
    )
}

STAFF_ROLES = frozenset(ROLES) - {"public"}
