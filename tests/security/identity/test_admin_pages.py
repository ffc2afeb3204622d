"""The administrator's account pages: list and filter, create, roles, status, password."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from longshu.events import Event
from longshu.security.identity.models import User


def test_list_filters_by_role_and_name(client, make_user, bearer):
    make_user("wl_data", "dept_data_admin")
    make_user("wl_check", "dept_reviewer")
    admin = bearer("platform_admin")
    page = client.get("/console/admin/users", params={"role": "dept_reviewer"}, headers=admin)
    assert page.status_code == 200
    table = page.text.split('data-testid="user-table"', 1)[1]
    assert "wl_check" in table and "wl_data" not in table
    by_name = client.get("/console/admin/users", params={"q": "DATA"}, headers=admin)
    assert "wl_data" in by_name.text.split('data-testid="user-table"', 1)[1]


def test_create_an_account_with_an_organisation(client, db, bearer, regions_loaded):
    admin = bearer("platform_admin")
    org_id = regions_loaded
    answer = client.post(
        "/console/admin/users",
        headers=admin,
        data={
            "username": "new_staff",
            "display_name": "新同事",
            "password": "Lanzhou#River2026",
            "roles": ["dept_data_admin", "dept_reviewer"],
            "org_id": str(org_id),
        },
    )
    assert answer.status_code == 303
    with db.session() as s:
        user = s.scalar(select(User).where(User.username == "new_staff"))
        assert user.org_id == org_id and user.role_codes == {"dept_data_admin", "dept_reviewer"}
    page = client.get(answer.headers["location"], headers=admin)
    assert "新同事" in page.text and 'data-testid="notice"' in page.text


def test_create_refuses_duplicates_weak_passwords_and_unknown_organisations(
    client, make_user, bearer
):
    make_user("taken_name", "public")
    admin = {**bearer("platform_admin"), "Accept-Language": "zh-CN"}
    base = {"display_name": "某人", "password": "Lanzhou#River2026"}
    duplicate = client.post(
        "/console/admin/users", headers=admin, data={**base, "username": "taken_name"}
    )
    assert duplicate.status_code == 409 and "用户名 taken_name 已被占用。" in duplicate.text
    weak = client.post(
        "/console/admin/users",
        headers=admin,
        data={**base, "username": "weakling", "password": "abc"},
    )
    assert weak.status_code == 422 and "密码强度不足" in weak.text
    stray = client.post(
        "/console/admin/users",
        headers=admin,
        data={**base, "username": "stray", "org_id": "424242"},
    )
    assert stray.status_code == 422
    assert 'value="stray"' in stray.text  # what was typed is kept for correction


def test_roles_status_and_password_changes_are_events(client, db, make_user, bearer):
    user = make_user("changing", "data_consumer")
    admin = bearer("platform_admin")
    base = f"/console/admin/users/{user.id}"
    assert (
        client.post(f"{base}/roles", headers=admin, data={"roles": ["auditor"]}).status_code == 303
    )
    assert client.post(f"{base}/status", headers=admin, data={"active": "false"}).status_code == 303
    weak = client.post(f"{base}/password", headers=admin, data={"password": "short"})
    assert weak.status_code == 422
    assert (
        client.post(
            f"{base}/password", headers=admin, data={"password": "Dunhuang#Sand2026"}
        ).status_code
        == 303
    )
    with db.session() as s:
        changed = s.get(User, user.id)
        assert changed.role_codes == {"auditor"} and not changed.is_active
        kinds = set(s.scalars(select(Event.type).where(Event.subject_id == str(user.id))))
    assert {"identity.roles_changed", "identity.user_disabled", "identity.password_reset"} <= kinds


def test_unknown_account_is_a_translated_404(client, bearer):
    page = client.get("/console/admin/users/999999", headers=bearer("platform_admin"))
    assert page.status_code == 404 and "用户不存在。" in page.text


@pytest.fixture
def regions_loaded(db):
    """The demo organisations; returns the id of one of them."""
    from longshu.actor import SYSTEM
    from longshu.orgs.demo import load_demo_organisations

    with db.session() as s:
        orgs = load_demo_organisations(s, SYSTEM)
        return next(iter(orgs.values())).id
