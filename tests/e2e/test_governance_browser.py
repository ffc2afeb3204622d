"""Governance in Chromium, on the demo as `make run` loads it: every demo version was
scanned, graded and scored on load; the data bureau confirms a proposed grade on the table's
page (the quality trend is drawn by ECharts under the site's script policy); a data user
reports a problem and the providing department acknowledges it."""

from __future__ import annotations

import re
import uuid

import pytest
from playwright.sync_api import Browser, Page, expect

from longshu.demo import DEMO_PASSWORD

pytestmark = pytest.mark.e2e


def signed_in(browser: Browser, context_args: dict, base_url: str, username: str) -> Page:
    page = browser.new_context(**context_args).new_page()
    page.goto(f"{base_url}/login?next=/console/governance/issues")
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="登录").click()
    expect(page).to_have_url(f"{base_url}/console/governance/issues")
    return page


def test_the_bureau_confirms_a_grade_and_a_reported_problem_is_acknowledged(
    browser: Browser, browser_context_args: dict, base_url: str
):
    bureau = signed_in(browser, browser_context_args, base_url, "reviewer")
    bureau.goto(f"{base_url}/console/governance")
    expect(bureau.get_by_test_id("gov-score-population")).to_have_text(re.compile(r"\d+\.\d\d"))
    # every demo table's newest version was scored on load, and every catalogued one graded
    scores = bureau.locator("[data-testid^='gov-score-']")
    assert scores.count() >= 10
    for i in range(scores.count()):
        expect(scores.nth(i)).to_have_text(re.compile(r"\d+\.\d\d"))
    expect(bureau.get_by_test_id("proposals").locator("li")).to_have_count(scores.count())
    bureau.goto(f"{base_url}/console/governance/tables/population")
    expect(bureau.get_by_test_id("findings")).to_contain_text("身份证")
    expect(bureau.get_by_test_id("trend-chart")).to_have_attribute("data-chart-drawn", "1")
    confirm = bureau.locator("[data-testid^='confirm-']").first
    confirm.locator("input[name='reason']").fill("全省常住人口，含敏感个人信息")
    confirm.get_by_role("button", name="确认").click()
    expect(bureau.get_by_test_id("grades")).to_contain_text("confirmed")

    title = f"户籍地址与区划代码不一致{uuid.uuid4().hex[:4]}"
    user = signed_in(browser, browser_context_args, base_url, "jt_user")
    form = user.get_by_test_id("report-form")
    form.get_by_label("表名").fill("population")
    form.get_by_label("标题").fill(title)
    form.get_by_label("问题描述").fill("部分记录的户籍地区划代码与地址不符")
    form.get_by_role("button", name="反馈问题").click()
    expect(user.get_by_test_id("issue-state")).to_have_text("待受理")

    provider = signed_in(browser, browser_context_args, base_url, "ga_admin")
    provider.get_by_role("link", name=title).click()
    move = provider.get_by_test_id("move-acknowledge")
    move.locator("input[name='comment']").fill("已安排核查")
    move.get_by_role("button", name="受理").click()
    expect(provider.get_by_test_id("issue-state")).to_have_text("整改中")
    expect(provider.get_by_test_id("issue-history")).to_contain_text("已安排核查")
