"""Identity over HTTP: the sign-in form, CSRF, lockout, the second factor, bearer tokens, logs."""

from __future__ import annotations

import datetime as dt
import logging

import pyotp
from sqlalchemy import select, update
from tests.conftest import STRONG_PASSWORD, csrf_of, sign_in

from longshu.events import Event
from longshu.security.identity import service
from longshu.security.identity.models import ApiToken, User


def events_of(db, type_: str) -> list[Event]:
    with db.session() as s:
        return list(s.scalars(select(Event).where(Event.type == type_).order_by(Event.id)))


def test_sign_in_sets_a_protected_session_cookie(client, make_user):
    make_user("wang_li", "dept_data_admin")
    answer = sign_in(client, "wang_li")
    assert answer.status_code == 303 and answer.headers["location"] == "/console"
    cookie = next(
        h for h in answer.headers.get_list("set-cookie") if h.startswith("longshu_session=")
    )
    assert "HttpOnly" in cookie and "SameSite=lax" in cookie
    assert client.get("/console").status_code == 200


def test_wrong_password_is_a_translated_error_then_a_lockout(client, make_user, db, settings):
    make_user("li_na", "dept_reviewer")
    for _ in range(settings.lockout_threshold - 1):
        page = sign_in(client, "li_na", "Wrong#Password2026")
        assert page.status_code == 401 and "用户名或密码错误。" in page.text
    assert sign_in(client, "li_na", "Wrong#Password2026").status_code == 423
    locked = sign_in(client, "li_na")  # even the right password is refused now
    assert locked.status_code == 423 and "登录失败次数过多" in locked.text
    assert len(events_of(db, "identity.login_failed")) >= settings.lockout_threshold
    assert events_of(db, "identity.account_locked")


def test_a_form_without_the_csrf_token_is_refused_and_recorded(client, make_user, db):
    make_user("zhao_lei", "operator")
    csrf_of(client)
    answer = client.post("/login", data={"username": "zhao_lei", "password": STRONG_PASSWORD})
    assert answer.status_code == 403 and "表单已过期或并非来自本站" in answer.text
    wrong = client.post(
        "/login",
        data={"username": "zhao_lei", "password": STRONG_PASSWORD, "csrf_token": "x" * 43},
    )
    assert wrong.status_code == 403
    assert len(events_of(db, "identity.csrf_rejected")) == 2


def test_signed_in_json_requests_need_the_csrf_header(client, make_user):
    make_user("sun_min", "assessor")
    sign_in(client, "sun_min")
    body = {"name": "script", "scopes": ["account.self"], "days": 7}
    assert client.post("/api/v1/tokens", json=body).status_code == 403
    answer = client.post("/api/v1/tokens", json=body, headers={"X-CSRF-Token": csrf_of(client)})
    assert answer.status_code == 201


def test_administrators_pass_the_second_factor_before_the_console(client, make_user, db):
    make_user("root_admin", "platform_admin")
    answer = sign_in(client, "root_admin")
    assert answer.headers["location"].startswith("/login/totp")
    page = client.get(answer.headers["location"])
    assert "动态口令" in page.text  # enrolment: the key is shown once
    # until the code is given the session does not hold the administrator role
    assert client.get("/api/v1/users").status_code == 403
    with db.session() as s:
        stored = s.scalar(select(User).where(User.username == "root_admin"))
        secret = service.totp_secret(stored)
        assert secret not in stored.totp_secret  # sealed at rest
    bad = client.post("/login/totp", data={"code": "000000", "csrf_token": csrf_of(client)})
    assert bad.status_code in (401, 422) and "验证码错误" in bad.text
    good = client.post(
        "/login/totp",
        data={"code": pyotp.TOTP(secret).now(), "csrf_token": csrf_of(client), "next": "/console"},
    )
    assert good.status_code == 303 and good.headers["location"] == "/console"
    assert "平台管理员" in client.get("/console").text
    assert client.get("/api/v1/users").status_code == 200


def test_expired_revoked_and_wrong_scope_tokens_are_refused(client, make_user, db, bearer):
    headers = bearer("dept_data_admin")
    assert client.get("/api/v1/me", headers=headers).status_code == 200
    with db.session() as s:
        s.execute(
            update(ApiToken).values(expires_at=dt.datetime.now(dt.UTC) - dt.timedelta(days=1))
        )
    expired = client.get("/api/v1/me", headers={**headers, "Accept-Language": "en"})
    assert expired.status_code == 401
    assert expired.json()["error"]["message"] == "The access token has expired."
    with db.session() as s:
        s.execute(
            update(ApiToken).values(
                expires_at=dt.datetime.now(dt.UTC) + dt.timedelta(days=1),
                revoked_at=dt.datetime.now(dt.UTC),
            )
        )
    revoked = client.get("/api/v1/me", headers=headers)
    assert revoked.status_code == 401 and revoked.json()["error"]["message"] == "访问令牌已被吊销。"
    scoped = bearer_with_scopes(client, make_user, ["orgs.read"])
    assert client.get("/api/v1/orgs", headers=scoped).status_code == 200
    assert client.get("/api/v1/me", headers=scoped).status_code == 403
    garbage = client.get("/api/v1/me", headers={"Authorization": "Bearer not-a-token"})
    assert garbage.status_code == 401
    assert len(events_of(db, "identity.token_rejected")) >= 3


def bearer_with_scopes(client, make_user, scopes):
    make_user("scoped_user", "auditor")
    sign_in(client, "scoped_user")
    created = client.post(
        "/api/v1/tokens",
        json={"name": "narrow", "scopes": scopes, "days": 1},
        headers={"X-CSRF-Token": csrf_of(client)},
    )
    assert created.status_code == 201, created.text
    client.post("/logout", data={"csrf_token": csrf_of(client)})
    client.cookies.delete("longshu_session")
    return {"Authorization": f"Bearer {created.json()['token']}"}


def test_logs_carry_no_passwords_or_tokens(client, make_user, bearer, caplog):
    make_user("ma_li", "public")
    headers = bearer("data_consumer")
    secret = headers["Authorization"].split()[1]
    with caplog.at_level(logging.DEBUG):
        sign_in(client, "ma_li", "Secret#Guess2026")
        sign_in(client, "ma_li")
        client.get("/api/v1/me", headers=headers)
        client.get("/api/v1/me", headers={"Authorization": "Bearer " + secret + "x"})
    text = "\n".join(logging.Formatter().format(r) + repr(r.__dict__) for r in caplog.records)
    for needle in ("Secret#Guess2026", STRONG_PASSWORD, secret):
        assert needle not in text


def test_people_change_their_own_password(client, make_user, db):
    make_user("chen_jing", "dept_reviewer")
    sign_in(client, "chen_jing")
    token = csrf_of(client)
    differ = client.post(
        "/console/account/password",
        data={
            "current": STRONG_PASSWORD,
            "new": "Tianshui#Rain2026",
            "confirm": "Tianshui#Rain2027",
            "csrf_token": token,
        },
    )
    assert differ.status_code == 422 and "新密码与确认密码不一致" in differ.text
    wrong = client.post(
        "/console/account/password",
        data={
            "current": "Not#MyPassword1",
            "new": "Tianshui#Rain2026",
            "confirm": "Tianshui#Rain2026",
            "csrf_token": token,
        },
    )
    assert wrong.status_code == 401
    done = client.post(
        "/console/account/password",
        data={
            "current": STRONG_PASSWORD,
            "new": "Tianshui#Rain2026",
            "confirm": "Tianshui#Rain2026",
            "csrf_token": token,
        },
    )
    assert done.status_code == 303
    assert events_of(db, "identity.password_changed")
    client.post("/logout", data={"csrf_token": token})
    assert sign_in(client, "chen_jing", "Tianshui#Rain2026").status_code == 303
