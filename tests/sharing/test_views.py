"""The sharing console over HTTP: the request form (search, add, validation shown next to the
inputs, input kept), my requests and withdrawal, the review queues of the provider and the
bureau, refusal without a reason, other departments kept out, grants and revocation, the
grant's API page and its try-it console (masked rows, quota, translated errors), CSRF."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from tests.conftest import csrf_of, sign_in

from longshu.actor import SYSTEM
from longshu.lake import tables
from longshu.sharing.models import GrantUsage, ShareGrant, ShareRequestItem
from longshu.workflow.models import WorkflowInstance

REQUEST = {
    "scenario": "企业开办一件事",
    "purpose": "核对法定代表人身份",
    "legal_basis": "《优化营商环境条例》",
    "days": "90",
    "expected_volume": "每日约2000次",
}


@pytest.fixture
def signed_in_as(app, client, make_user):
    """``signed_in_as(username, role, org_id)``: a client of its own, signed in."""
    made = []

    def open_as(username: str, role: str, org_id: int | None) -> TestClient:
        make_user(username, role, org_id=org_id)
        other = TestClient(app, follow_redirects=False)
        assert sign_in(other, username).status_code == 303
        made.append(other)
        return other

    yield open_as
    for other in made:
        other.close()


def _form(page: TestClient, resource_id: int, **overrides: object) -> dict[str, object]:
    data: dict[str, object] = {
        **REQUEST,
        "resource": [str(resource_id)],
        f"fields_{resource_id}": ["xm", "xzqh", "sfzh"],
        f"modes_{resource_id}": ["query", "verify"],
        f"regions_{resource_id}": "",
        "do": "submit",
        "csrf_token": csrf_of(page),
    }
    data.update(overrides)
    return data


def _file(page: TestClient, resource_id: int, **overrides: object) -> int:
    done = page.post("/console/sharing/requests/new", data=_form(page, resource_id, **overrides))
    assert done.status_code == 303, done.text
    listing = page.get(done.headers["location"])
    assert 'data-testid="filed"' in listing.text
    return int(re.findall(r'data-testid="item-(\d+)"', listing.text)[0])


def _grant(db, item_id: int) -> ShareGrant:
    with db.session() as s:
        return s.scalars(select(ShareGrant).where(ShareGrant.item_id == item_id)).one()


@pytest.fixture
def granted(db, orgs, registry, signed_in_as):
    """A transport user's request for registry (xm, xzqh, sfzh; query and verify), approved
    by the police reviewer and the bureau. Returns (user page, reviewer page, grant)."""
    resource_id, police = registry
    user = signed_in_as("jt1", "data_consumer", orgs["transport"])
    item_id = _file(user, resource_id)
    reviewer = signed_in_as("ga1", "dept_reviewer", police)
    bureau = signed_in_as("sjj1", "bureau_reviewer", orgs["bureau"])
    for page in (reviewer, bureau):
        done = page.post(
            f"/console/sharing/items/{item_id}/approve",
            data={"comment": "同意", "csrf_token": csrf_of(page)},
        )
        assert done.status_code == 303
    return user, reviewer, _grant(db, item_id)


def test_the_form_searches_adds_and_keeps_input(
    client, db, orgs, registry, make_population, signed_in_as
):
    resource_id, _ = registry
    closed, _, _ = make_population("closed_registry", "none")
    user = signed_in_as("jt2", "data_consumer", orgs["transport"])
    page = user.get("/console/sharing/requests/new?q=全省人口&lang=zh_CN")
    assert page.status_code == 200
    assert f'data-testid="found-{resource_id}"' in page.text
    assert f'data-testid="found-{closed}"' not in page.text  # 不予共享 is not offered
    added = user.post(
        "/console/sharing/requests/new",
        data={"q": "全省人口", "scenario": "我的场景", "do": f"add:{resource_id}",
              "csrf_token": csrf_of(user)},
    )  # fmt: skip
    assert added.status_code == 200
    assert f'data-testid="chosen-{resource_id}"' in added.text
    assert 'value="我的场景"' in added.text
    assert f'name="fields_{resource_id}" value="sfzh" checked' in added.text
    assert f'data-testid="found-{resource_id}"' not in added.text  # already chosen
    removed = user.post(
        "/console/sharing/requests/new",
        data={"resource": str(resource_id), "scenario": "我的场景", "do": f"remove:{resource_id}",
              "csrf_token": csrf_of(user)},
    )  # fmt: skip
    assert f'data-testid="chosen-{resource_id}"' not in removed.text
    assert 'value="我的场景"' in removed.text
    preselected = user.get(f"/console/sharing/requests/new?resource={resource_id}")
    assert f'data-testid="chosen-{resource_id}"' in preselected.text
    tampered = user.get(f"/console/sharing/requests/new?resource={closed}")
    assert f'data-testid="chosen-{closed}"' not in tampered.text


def test_validation_errors_are_shown_translated_next_to_the_inputs(
    client, orgs, registry, signed_in_as
):
    resource_id, _ = registry
    user = signed_in_as("jt3", "data_consumer", orgs["transport"])
    bad = user.post(
        "/console/sharing/requests/new?lang=zh_CN",
        data=_form(
            user, resource_id, purpose="", days="abc", scenario="x" * 201,
            **{f"modes_{resource_id}": [], f"regions_{resource_id}": "62010"},
        ),
    )  # fmt: skip
    assert bad.status_code == 422
    text = bad.text
    for name in ("purpose", "days", "scenario"):
        assert f'data-testid="error-{name}"' in text
    assert "请填写 2 至 2000 个字符" in text or "2 至 2000" in text
    assert "1 至 1098" in text  # days, in Chinese
    assert f'data-testid="item-error-{resource_id}"' in text
    assert "请至少选择一种使用方式" in text
    assert "6 位行政区划代码" in text
    assert "核对法定代表人身份" not in text  # the purpose was emptied by the user
    assert "《优化营商环境条例》" in text and 'value="abc"' in text  # other input kept
    nothing = user.post("/console/sharing/requests/new", data=_form(user, resource_id, resource=[]))
    assert nothing.status_code == 422 and 'data-testid="error-items"' in nothing.text
    no_fields = user.post(
        "/console/sharing/requests/new",
        data=_form(user, resource_id, **{f"fields_{resource_id}": []}),
    )
    assert no_fields.status_code == 422 and "请至少选择一个字段" in no_fields.text
    english = user.post(
        "/console/sharing/requests/new?lang=en", data=_form(user, resource_id, purpose="")
    )
    assert "Write 2 to 2000 characters." in english.text


def test_a_resource_not_shared_posted_by_hand_is_refused(
    client, orgs, registry, make_population, signed_in_as
):
    closed, _, _ = make_population("closed2", "none")
    user = signed_in_as("jt4", "data_consumer", orgs["transport"])
    refused = user.post("/console/sharing/requests/new", data=_form(user, closed))
    assert refused.status_code == 422
    assert 'data-testid="form-error"' in refused.text and "不予共享" in refused.text


def test_file_review_forward_and_bureau_approve_through_the_pages(
    client, db, orgs, registry, signed_in_as
):
    resource_id, police = registry
    user = signed_in_as("jt5", "data_consumer", orgs["transport"])
    item_id = _file(user, resource_id)
    mine = user.get("/console/sharing/requests?lang=zh_CN").text
    assert "待提供部门审核" in mine and f'data-testid="withdraw-{item_id}"' in mine
    reviewer = signed_in_as("ga5", "dept_reviewer", police)
    queue = reviewer.get("/console/sharing/reviews").text
    assert (
        f'data-testid="queue-item-{item_id}"' in queue and 'data-testid="bureau-queue"' not in queue
    )
    detail = reviewer.get(f"/console/sharing/items/{item_id}?lang=zh_CN").text
    assert "核对法定代表人身份" in detail and "《优化营商环境条例》" in detail
    assert "交通运输厅" in detail or orgs["transport"]  # who asks
    assert 'data-testid="item-bureau"' in detail and "数据局" in detail  # no confirmed grade
    assert 'data-testid="approve-form"' in detail and 'data-testid="refuse-form"' in detail
    assert 'data-testid="withdraw-form"' not in detail
    forwarded = reviewer.post(
        f"/console/sharing/items/{item_id}/approve", data={"csrf_token": csrf_of(reviewer)}
    )
    assert forwarded.status_code == 303
    after = reviewer.get(f"/console/sharing/items/{item_id}?lang=zh_CN").text
    assert "待数据局审核" in after and 'data-testid="approve-form"' not in after
    bureau = signed_in_as("sjj5", "bureau_reviewer", orgs["bureau"])
    waiting = bureau.get("/console/sharing/reviews").text
    assert f'data-testid="queue-item-{item_id}"' in waiting
    approved = bureau.post(
        f"/console/sharing/items/{item_id}/approve",
        data={"comment": "同意", "csrf_token": csrf_of(bureau)},
    )
    assert approved.status_code == 303
    final = user.get(f"/console/sharing/items/{item_id}?lang=zh_CN").text
    assert "已授权" in final and 'data-testid="item-grant"' in final
    assert "已授权" in user.get("/console/sharing/requests?lang=zh_CN").text


def test_refusal_without_a_reason_is_an_error_on_the_page(client, db, orgs, registry, signed_in_as):
    resource_id, police = registry
    user = signed_in_as("jt6", "data_consumer", orgs["transport"])
    item_id = _file(user, resource_id)
    reviewer = signed_in_as("ga6", "dept_reviewer", police)
    empty = reviewer.post(
        f"/console/sharing/items/{item_id}/refuse?lang=zh_CN",
        data={"reason": "  ", "csrf_token": csrf_of(reviewer)},
    )
    assert empty.status_code == 422
    assert 'data-testid="item-error"' in empty.text and "请填写理由" in empty.text
    with db.session() as s:
        assert s.get(ShareRequestItem, item_id).state == "pending_provider"
    refused = reviewer.post(
        f"/console/sharing/items/{item_id}/refuse",
        data={"reason": "用途与共享条件不符", "csrf_token": csrf_of(reviewer)},
    )
    assert refused.status_code == 303
    mine = user.get("/console/sharing/requests?lang=zh_CN").text
    assert "已拒绝" in mine and "用途与共享条件不符" in mine


def test_another_department_can_neither_see_nor_decide(client, db, orgs, registry, signed_in_as):
    resource_id, _ = registry
    user = signed_in_as("jt7", "data_consumer", orgs["transport"])
    item_id = _file(user, resource_id)
    stranger = signed_in_as("qx7", "dept_reviewer", orgs["weather"])
    assert (
        f'data-testid="queue-item-{item_id}"' not in stranger.get("/console/sharing/reviews").text
    )
    assert stranger.get(f"/console/sharing/items/{item_id}").status_code == 403
    for move in ("approve", "refuse", "withdraw"):
        tried = stranger.post(
            f"/console/sharing/items/{item_id}/{move}",
            data={"reason": "越权", "comment": "越权", "csrf_token": csrf_of(stranger)},
        )
        assert tried.status_code == 403, move
    # the requester's own reviewer is no provider: it sees the item but cannot decide it
    own = signed_in_as("jt7r", "dept_reviewer", orgs["transport"])
    seen = own.get(f"/console/sharing/items/{item_id}")
    assert seen.status_code == 200 and 'data-testid="approve-form"' not in seen.text
    forced = own.post(
        f"/console/sharing/items/{item_id}/approve", data={"csrf_token": csrf_of(own)}
    )
    assert forced.status_code == 403
    no_reason = own.post(
        f"/console/sharing/items/{item_id}/refuse", data={"reason": "", "csrf_token": csrf_of(own)}
    )
    assert no_reason.status_code == 403  # no say on it, whatever the form holds
    with db.session() as s:
        assert s.get(ShareRequestItem, item_id).state == "pending_provider"
    citizen = signed_in_as("gz7", "public", None)
    assert citizen.get("/console/sharing/requests").status_code == 403
    assert citizen.get("/console/sharing/requests/new").status_code == 403


def test_the_requester_withdraws_from_my_requests(client, db, orgs, registry, signed_in_as):
    resource_id, _ = registry
    user = signed_in_as("jt8", "data_consumer", orgs["transport"])
    item_id = _file(user, resource_id)
    done = user.post(
        f"/console/sharing/items/{item_id}/withdraw", data={"csrf_token": csrf_of(user)}
    )
    assert done.status_code == 303
    assert "已撤回" in user.get("/console/sharing/requests?lang=zh_CN").text
    again = user.post(
        f"/console/sharing/items/{item_id}/withdraw", data={"csrf_token": csrf_of(user)}
    )
    assert again.status_code == 409 and 'data-testid="item-error"' in again.text


def test_overdue_items_are_marked_in_the_queue(client, db, orgs, registry, signed_in_as):
    resource_id, police = registry
    user = signed_in_as("jt9", "data_consumer", orgs["transport"])
    item_id = _file(user, resource_id)
    with db.session() as s:
        item = s.get(ShareRequestItem, item_id)
        instance = s.get(WorkflowInstance, item.workflow_instance_id)
        instance.due_at = dt.datetime.now(dt.UTC) - dt.timedelta(days=2)
        s.commit()
    reviewer = signed_in_as("ga9", "dept_reviewer", police)
    assert f'data-testid="overdue-{item_id}"' in reviewer.get("/console/sharing/reviews").text
    assert 'data-testid="item-overdue"' in reviewer.get(f"/console/sharing/items/{item_id}").text


def test_an_unconditional_resource_is_granted_from_the_form_at_once(
    client, db, orgs, make_population, population_rows, signed_in_as
):
    resource_id, table, _ = make_population("open_registry", "unconditional")
    with db.session() as s:
        tables.write_version(s, SYSTEM, table, population_rows(10))
        s.commit()
    user = signed_in_as("jt10", "data_consumer", orgs["transport"])
    item_id = _file(user, resource_id)
    assert "已授权" in user.get("/console/sharing/requests?lang=zh_CN").text
    assert _grant(db, item_id).status == "active"


def test_grants_pages_show_scope_and_samples(client, db, orgs, granted):
    user, reviewer, grant = granted
    held = user.get("/console/sharing/grants").text
    assert (
        f'data-testid="held-{grant.id}"' in held and f'data-testid="given-{grant.id}"' not in held
    )
    given = reviewer.get("/console/sharing/grants").text
    assert f'data-testid="given-{grant.id}"' in given
    page = user.get(f"/console/sharing/grants/{grant.id}?lang=zh_CN").text
    assert 'data-testid="endpoint-query"' in page and 'data-testid="endpoint-verify"' in page
    assert 'data-testid="endpoint-batch"' not in page  # not granted
    assert f"/api/v1/sharing/grants/{grant.id}/verify/batch" in page
    assert 'data-testid="sample-verify"' in page
    assert f"/api/v1/sharing/grants/{grant.id}/query" in page
    assert "Authorization: Bearer $LONGSHU_TOKEN" in page and "httpx.post(" in page
    assert "&#34;xm&#34;" in page or '"xm"' in page  # the grant's fields fill the sample
    assert 'data-testid="try-form"' in page and 'data-testid="revoke-form"' not in page
    seen_by_provider = reviewer.get(f"/console/sharing/grants/{grant.id}").text
    assert 'data-testid="try-form"' not in seen_by_provider  # only the holder may try
    assert 'data-testid="revoke-form"' in seen_by_provider


def test_try_it_runs_a_masked_query_and_counts_the_quota(client, db, orgs, granted):
    user, _reviewer, grant = granted
    ran = user.post(
        f"/console/sharing/grants/{grant.id}/try?lang=zh_CN",
        data={"fields": ["xm", "sfzh", "xzqh"], "cf": ["xzqh", "", ""], "cop": ["=", "=", "="],
              "cv": ["620102", "", ""], "order": "xm", "limit": "5", "offset": "0",
              "csrf_token": csrf_of(user)},
    )  # fmt: skip
    assert ran.status_code == 200, ran.text
    rows = re.search(r'data-testid="try-rows">(.*?)</table>', ran.text, re.S).group(1)
    body = rows.split("<tbody>")[1]
    cells = re.findall(r"<td>(.*?)</td>", body)
    assert 0 < len(cells) // 3 <= 5
    assert all(cells[i + 2] == "620102" for i in range(0, len(cells), 3))  # region kept
    assert not any(re.fullmatch(r"\d{17}[\dX]", c) for c in cells)  # ID numbers masked
    assert 'data-testid="try-description"' in ran.text and "620102" in ran.text
    assert "sfzh" in re.search(r'data-testid="try-facts">(.*?)</p>', ran.text, re.S).group(1)
    with db.session() as s:
        usage = s.scalars(select(GrantUsage).where(GrantUsage.grant_id == grant.id)).one()
        assert usage.calls == 1 and usage.rows == len(cells) // 3
    page = user.get(f"/console/sharing/grants/{grant.id}?lang=zh_CN").text
    assert f"已用 {len(cells) // 3} 行" in page


def test_try_it_errors_are_translated_and_the_form_kept(client, db, orgs, granted):
    user, reviewer, grant = granted
    base = {"fields": ["xm"], "cf": [""], "cop": ["="], "cv": [""], "limit": "5",
            "offset": "0", "csrf_token": csrf_of(user)}  # fmt: skip
    incomplete = user.post(
        f"/console/sharing/grants/{grant.id}/try?lang=zh_CN",
        data=base | {"cf": ["xzqh"], "cv": [""]},
    )
    assert incomplete.status_code == 422 and 'data-testid="try-error"' in incomplete.text
    assert "每个条件都需要" in incomplete.text
    big = user.post(
        f"/console/sharing/grants/{grant.id}/try?lang=zh_CN", data=base | {"limit": "5000"}
    )
    assert big.status_code == 422 and 'value="5000"' in big.text
    outside = user.post(f"/console/sharing/grants/{grant.id}/try", data=base | {"fields": ["sjhm"]})
    assert outside.status_code == 422 and "sjhm" in outside.text
    bad_op = user.post(
        f"/console/sharing/grants/{grant.id}/try",
        data=base | {"cf": ["xzqh"], "cop": ["LIKE"], "cv": ["62%"]},
    )
    assert bad_op.status_code == 422
    with db.session() as s:
        assert s.scalar(select(GrantUsage).where(GrantUsage.grant_id == grant.id)) is None or all(
            u.rows == 0 for u in s.scalars(select(GrantUsage))
        )
    stranger = reviewer.post(f"/console/sharing/grants/{grant.id}/try", data=base | {
        "csrf_token": csrf_of(reviewer)})  # fmt: skip
    assert stranger.status_code == 403  # the provider's reviewer is no holder


def test_revocation_needs_a_reason_and_stops_the_grant(client, db, orgs, granted):
    user, reviewer, grant = granted
    empty = reviewer.post(
        f"/console/sharing/grants/{grant.id}/revoke?lang=zh_CN",
        data={"reason": "", "csrf_token": csrf_of(reviewer)},
    )
    assert empty.status_code == 422 and "请填写理由" in empty.text
    assert (
        user.post(
            f"/console/sharing/grants/{grant.id}/revoke",
            data={"reason": "我想撤销", "csrf_token": csrf_of(user)},
        ).status_code
        == 403
    )  # the consumer cannot revoke
    done = reviewer.post(
        f"/console/sharing/grants/{grant.id}/revoke",
        data={"reason": "场景结束", "csrf_token": csrf_of(reviewer)},
    )
    assert done.status_code == 303
    page = user.get(f"/console/sharing/grants/{grant.id}?lang=zh_CN").text
    assert 'data-testid="grant-revoked"' in page and "场景结束" in page
    assert 'data-testid="try-form"' not in page
    after = user.post(
        f"/console/sharing/grants/{grant.id}/try",
        data={"fields": ["xm"], "limit": "5", "offset": "0", "csrf_token": csrf_of(user)},
    )
    assert after.status_code == 403 and 'data-testid="grant-error"' in after.text


def test_forms_need_the_csrf_token(client, db, orgs, registry, granted):
    user, reviewer, grant = granted
    resource_id, _ = registry
    cases = [
        (user, "/console/sharing/requests/new", _form(user, resource_id)),
        (reviewer, f"/console/sharing/grants/{grant.id}/revoke", {"reason": "场景结束"}),
        (user, f"/console/sharing/grants/{grant.id}/try", {"fields": ["xm"]}),
        (reviewer, f"/console/sharing/items/{grant.item_id}/refuse", {"reason": "不同意"}),
    ]
    for page, url, data in cases:
        data = {k: v for k, v in data.items() if k != "csrf_token"}
        assert page.post(url, data=data).status_code == 403, url
        forged = page.post(url, data=data | {"csrf_token": "x" * 43})
        assert forged.status_code == 403, url
    with db.session() as s:
        assert s.get(ShareGrant, grant.id).status == "active"


def test_nav_shows_the_sharing_pages_by_role(client, orgs, signed_in_as):
    user = signed_in_as("jt11", "data_consumer", orgs["transport"])
    console = user.get("/console/sharing/requests").text
    assert 'data-nav="sharing-new"' in console and 'data-nav="sharing-reviews"' not in console
    reviewer = signed_in_as("ga11", "dept_reviewer", orgs["police"])
    assert 'data-nav="sharing-reviews"' in reviewer.get("/console/sharing/requests").text
    assert user.get("/console/sharing/reviews").status_code == 403
    assert user.get("/console/sharing").headers["location"] == "/console/sharing/requests"


def test_a_second_decision_on_a_decided_item_is_an_error_on_the_page(
    client, db, orgs, granted, signed_in_as
):
    _user, _reviewer, grant = granted
    bureau = signed_in_as("sjj12", "bureau_reviewer", orgs["bureau"])
    again = bureau.post(
        f"/console/sharing/items/{grant.item_id}/approve", data={"csrf_token": csrf_of(bureau)}
    )
    assert again.status_code == 409 and 'data-testid="item-error"' in again.text
    with db.session() as s:
        assert (
            len(s.scalars(select(ShareGrant).where(ShareGrant.item_id == grant.item_id)).all()) == 1
        )


def test_the_quota_used_up_is_shown_translated(client, db, orgs, granted):
    user, _reviewer, grant = granted
    with db.session() as s:
        s.get(ShareGrant, grant.id).daily_quota = 3
        s.commit()
    over = user.post(
        f"/console/sharing/grants/{grant.id}/try?lang=zh_CN",
        data={"fields": ["xm"], "limit": "5", "offset": "0", "csrf_token": csrf_of(user)},
    )
    assert over.status_code == 429 and 'data-testid="try-error"' in over.text
    assert "今日已用完 3 行的额度" in over.text


def test_an_oversized_form_is_cut_to_its_limits(client, db, orgs, registry, signed_in_as):
    resource_id, _ = registry
    user = signed_in_as("jt13", "data_consumer", orgs["transport"])
    many = [str(i) for i in range(100_000, 100_200)] + [str(resource_id)]
    data = _form(user, resource_id, resource=many, expected_volume="x" * 5000)
    answer = user.post(
        "/console/sharing/requests/new", data=data | {"do": "search", "q": "y" * 500}
    )
    assert answer.status_code == 200
    assert f'data-testid="chosen-{resource_id}"' not in answer.text  # past the 20 read
    bad_action = user.post("/console/sharing/requests/new", data=data | {"do": "add:abc"})
    assert bad_action.status_code == 200


def test_every_page_renders_in_english(client, db, orgs, granted):
    user, reviewer, grant = granted
    for page, url in (
        (user, "/console/sharing/requests/new?q=population"),
        (user, "/console/sharing/requests"),
        (user, f"/console/sharing/items/{grant.item_id}"),
        (user, "/console/sharing/grants"),
        (user, f"/console/sharing/grants/{grant.id}"),
        (reviewer, "/console/sharing/reviews"),
    ):
        shown = page.get(url + ("&" if "?" in url else "?") + "lang=en")
        assert shown.status_code == 200, url
        assert 'lang="en"' in shown.text
