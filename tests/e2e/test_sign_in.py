"""Signing in through the real pages in Chromium: three roles see three consoles; an
administrator passes the TOTP step first."""

from __future__ import annotations

import re

import pyotp
import pytest
from playwright.sync_api import Page, expect

from longshu.demo import DEMO_PASSWORD

pytestmark = pytest.mark.e2e


def sign_in(page: Page, base_url: str, username: str) -> None:
    page.goto(f"{base_url}/login?next=/console")
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="登录").click()


@pytest.mark.parametrize(
    ("username", "role", "sees", "does_not_see"),
    [
        ("wl_admin", "部门数据管理员", "账户与令牌", "用户管理"),
        ("auditor", "审计员", "审计日志", "用户管理"),
        ("citizen", "公众", "账户与令牌", "机构目录"),
    ],
)
def test_each_role_sees_its_own_console(page: Page, base_url, username, role, sees, does_not_see):
    sign_in(page, base_url, username)
    expect(page).to_have_url(f"{base_url}/console")
    home = page.get_by_test_id("console-home")
    expect(home).to_be_visible()
    expect(page.get_by_test_id("roles")).to_contain_text(role)
    expect(page.get_by_test_id("console-sections")).to_contain_text(sees)
    expect(page.get_by_test_id("console-sections")).not_to_contain_text(does_not_see)
    page.get_by_test_id("logout").click()
    expect(page.get_by_test_id("login-link")).to_be_visible()


def test_administrator_passes_the_totp_step(page: Page, base_url, demo_output):
    # the row of the logins table whose username cell is exactly "admin" ends with its secret
    secret = re.search(r"^.*[│|]\s*admin\s*[│|].*?\b([A-Z2-7]{32})\b", demo_output, re.MULTILINE)
    assert secret, demo_output
    sign_in(page, base_url, "admin")
    expect(page).to_have_url(re.compile(r"/login/totp"))
    code = page.get_by_label("验证码")
    expect(code).to_be_visible()
    page.goto(f"{base_url}/console/admin/users")  # not yet: the role waits for the code
    expect(page.get_by_test_id("error-page")).to_be_visible()
    page.go_back()
    page.get_by_label("验证码").fill(pyotp.TOTP(secret.group(1)).now())
    page.get_by_role("button", name="验证").click()
    expect(page).to_have_url(f"{base_url}/console")
    expect(page.get_by_test_id("roles")).to_contain_text("平台管理员")
    page.get_by_test_id("console-sections").get_by_role("link", name="用户管理").click()
    expect(page.get_by_test_id("user-table")).to_contain_text("auditor")


def test_language_switch_in_the_browser(page: Page, base_url):
    page.goto(base_url)
    expect(page.get_by_test_id("portal-home")).to_contain_text("甘肃省公共数据资源开发利用平台")
    page.get_by_test_id("language").click()
    page.get_by_role("link", name="English").click()
    expect(page.get_by_test_id("portal-home")).to_contain_text("Gansu Public Data Platform")
