"""The Gansu demo: organisations, one login per role, and (as domains arrive) their data.

Idempotent: loading twice adds nothing. Demo passwords are public by design; never load the
demo into a production database."""

from __future__ import annotations

from dataclasses import dataclass

from rich.console import Console
from rich.table import Table
from sqlalchemy import select
from sqlalchemy.orm import Session

from longshu.actor import SYSTEM
from longshu.catalog.demo import load_demo_catalog
from longshu.security.access.roles import ROLES
from longshu.security.identity import service as identity
from longshu.security.identity.models import User

DEMO_PASSWORD = "Gansu#Demo2026"


@dataclass(frozen=True)
class DemoLogin:
    username: str
    role: str
    org_key: str | None
    display_name: str


DEMO_LOGINS = [
    DemoLogin("admin", "platform_admin", "bureau", "平台管理员 王建国"),
    DemoLogin("reviewer", "bureau_reviewer", "bureau", "数据局审核员 李娜"),
    DemoLogin("cdo_health", "chief_data_officer", "health", "首席数据官 张伟"),
    DemoLogin("wl_admin", "dept_data_admin", "culture_tourism", "文旅厅数据管理员 刘洋"),
    DemoLogin("wl_reviewer", "dept_reviewer", "culture_tourism", "文旅厅审核员 陈静"),
    DemoLogin("ga_admin", "dept_data_admin", "police", "公安厅数据管理员 马超"),
    DemoLogin("ga_reviewer", "dept_reviewer", "police", "公安厅审核员 何芳"),
    DemoLogin("jt_user", "data_consumer", "transport", "交通厅数据使用方 杨帆"),
    DemoLogin("operator", "operator", "operator_a", "运营机构工程师 赵磊"),
    DemoLogin("assessor", "assessor", "assessor", "评估机构 孙敏"),
    DemoLogin("auditor", "auditor", "bureau", "审计员 周强"),
    DemoLogin("citizen", "public", None, "公众 马丽"),
]


@dataclass(frozen=True)
class LoginCard:
    username: str
    password: str
    role_zh: str
    role_en: str
    org_name: str
    totp_secret: str | None


def load_demo(
    session: Session, *, rows: int | None = None, console: Console | None = None
) -> list[LoginCard]:
    """Load every demo set; returns the demo logins to print. ``rows``: the population
    size of the demo lake (default 100,000); ``console`` shows each lake load."""
    from longshu.demo.lake_load import DEFAULT_ROWS, load_demo_lake
    from longshu.orgs.demo import load_demo_organisations

    orgs = load_demo_organisations(session, SYSTEM)
    load_demo_catalog(session, SYSTEM, orgs)
    load_demo_lake(
        session,
        SYSTEM,
        orgs,
        rows=rows or DEFAULT_ROWS,
        on_step=(lambda step: console.print(f"数据入湖 Loading {step}")) if console else None,
    )
    cards = []
    for login in DEMO_LOGINS:
        org = orgs.get(login.org_key) if login.org_key else None
        user = session.scalar(select(User).where(User.username == login.username))
        if user is None:
            user = identity.create_user(
                session,
                SYSTEM,
                login.username,
                DEMO_PASSWORD,
                login.display_name,
                org_id=org.id if org else None,
                roles=[login.role],
            )
        if identity.needs_second_factor(user):
            identity.begin_totp_enrolment_for(session, user)
        role = ROLES[login.role]
        cards.append(
            LoginCard(
                login.username,
                DEMO_PASSWORD,
                role.title_zh,
                role.title_en,
                org.name if org else "—",
                identity.totp_secret(user) if identity.needs_second_factor(user) else None,
            )
        )
    from longshu.sharing.demo import load_demo_sharing

    load_demo_sharing(session, orgs)
    return cards


def print_logins(console: Console, cards: list[LoginCard]) -> None:
    from longshu.config import get_settings

    login_url = get_settings().base_url.rstrip("/") + "/login"
    table = Table(title=f"演示账号 Demo logins — {login_url}")
    # usernames, passwords and secrets are copied from here: never truncate or wrap them
    table.add_column("角色 Role")
    for column in ("用户名 Username", "密码 Password"):
        table.add_column(column, no_wrap=True, overflow="ignore")
    table.add_column("单位 Organisation")
    table.add_column("TOTP", no_wrap=True, overflow="ignore")
    for card in cards:
        table.add_row(
            f"{card.role_zh} {card.role_en}",
            card.username,
            card.password,
            card.org_name,
            card.totp_secret or "",
        )
    if not console.is_terminal:
        console.width = max(console.width, 140)
    console.print(table)
    console.print(
        "平台管理员首次登录需绑定动态口令 (TOTP): add the secret above to an authenticator app."
    )
