"""The catalog's workflow in Chromium, through the real pages: a department's data manager
drafts an entry and submits it, the department's reviewer approves it, the data bureau
publishes it, and the public portal's search finds it by a two-character Chinese word."""

from __future__ import annotations

import re
import uuid

import pytest
from playwright.sync_api import Browser, Page, expect

from longshu.demo import DEMO_PASSWORD

pytestmark = pytest.mark.e2e


def sign_in(page: Page, base_url: str, username: str) -> None:
    page.goto(f"{base_url}/login?next=/console/catalog")
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="登录").click()
    expect(page).to_have_url(f"{base_url}/console/catalog")


def take_move(page: Page, move: str, comment: str = "") -> None:
    moves = page.get_by_test_id("moves")
    if comment:
        moves.locator(f"#comment-{move}").fill(comment)
    moves.locator(f"button[data-move='{move}']").click()


def test_draft_review_publish_and_find_it_on_the_portal(
    browser: Browser, browser_context_args: dict, base_url: str
):
    def new_page() -> Page:  # each person in a browser of their own, in Chinese
        return browser.new_context(**browser_context_args).new_page()

    marker = uuid.uuid4().hex[:6]
    name = f"敦煌研学旅行基地名录{marker}"

    # 1. the culture and tourism department's data manager drafts and submits
    manager = new_page()
    sign_in(manager, base_url, "wl_admin")
    manager.goto(f"{base_url}/console/catalog/new")
    form = manager.get_by_test_id("entry-form")
    form.locator("#name").fill(name)
    form.locator("#domain").select_option("culture_tourism")
    form.locator("#summary").fill("敦煌市中小学研学旅行基地的名称、地址、接待能力和开放时间。")
    form.locator("#kind").select_option("table")
    form.locator("#update_cycle").select_option("quarterly")
    form.locator("#keywords").fill(f"研学、敦煌、{marker}")
    form.locator("#formats-CSV").check()
    form.locator("#share_type").select_option("unconditional")
    form.locator("#open_type").select_option("unconditional")
    form.locator("#fields").fill(
        "jdmc | 基地名称 | string | 100\njddz | 基地地址 | string | 200\njdnl | 接待能力 | integer"
    )
    form.get_by_role("button", name="保存").click()
    expect(manager).to_have_url(re.compile(r"/console/catalog/\d+$"))
    entry_url = manager.url
    expect(manager.get_by_test_id("status")).to_contain_text("草稿")
    expect(manager.get_by_test_id("fields")).to_contain_text("基地名称")
    take_move(manager, "submit")
    expect(manager.get_by_test_id("status")).to_contain_text("待审核")
    # nothing is public yet
    manager.goto(f"{base_url}/catalog?q={marker}")
    expect(manager.get_by_test_id("catalog-total")).to_have_text(re.compile(r"(^|\D)0\D"))
    manager.close()

    # 2. the department's reviewer approves
    reviewer = new_page()
    sign_in(reviewer, base_url, "wl_reviewer")
    reviewer.goto(entry_url)
    take_move(reviewer, "approve", "字段齐全，同意。")
    expect(reviewer.get_by_test_id("status")).not_to_contain_text("待审核")
    reviewer.close()

    # 3. the data bureau publishes
    bureau = new_page()
    sign_in(bureau, base_url, "reviewer")
    bureau.goto(entry_url)
    take_move(bureau, "publish")
    expect(bureau.get_by_test_id("status")).to_contain_text("已发布")
    bureau.close()

    # 4. the public finds it by a two-character word and by its keyword
    visitor = new_page()
    visitor.goto(f"{base_url}/catalog")
    visitor.locator("#q").fill(f"研学 {marker}")
    visitor.get_by_test_id("catalog-search").get_by_role("button", name="搜索").click()
    expect(visitor.get_by_test_id("catalog-total")).to_have_text(re.compile(r"(^|\D)1\D"))
    hit = visitor.get_by_test_id("catalog-hit").first
    expect(hit).to_contain_text(name)
    hit.get_by_role("link", name=name).click()
    expect(visitor).to_have_url(re.compile(r"/catalog/resources/\d+$"))
    expect(visitor.locator("body")).to_contain_text("基地名称")
    visitor.close()
