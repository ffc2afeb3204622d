from __future__ import annotations

import datetime as dt

import pyotp
import pytest
from sqlalchemy import select

from longshu.actor import SYSTEM, Actor
from longshu.db import utcnow
from longshu.errors import Forbidden
from longshu.events import Event
from longshu.security import access
from longshu.security.identity import errors, service
from longshu.security.identity.models import ApiToken

STRONG = "Lanzhou#River2026"


def event_types(session) -> list[str]:
    return list(session.scalars(select(Event.type).order_by(Event.id)))


def make_user(session, username="wl_admin", roles=("dept_data_admin",), org_id=3):
    user = service.create_user(
        session, SYSTEM, username, STRONG, "刘洋", org_id=org_id, roles=roles
    )
    session.commit()
    return user


@pytest.mark.parametrize(
    "password, fragment",
    [
        ("Short#1", "at least"),
        ("alllowercaseletters", "three of"),
        ("wl_admin#Strong1", "username"),
        ("Password123", "commonly used"),
    ],
)
def test_weak_passwords_are_refused_with_the_reason(session, password, fragment):
    with pytest.raises(errors.WeakPassword) as caught:
        service.create_user(
            session, SYSTEM, "wl_admin", password, "刘洋", roles=["dept_data_admin"]
        )
    assert fragment in str(caught.value)


def test_password_is_stored_as_argon2_hash(session):
    user = make_user(session)
    assert user.password_hash.startswith("$argon2id$")
    assert STRONG not in user.password_hash


def test_duplicate_username_is_refused(session):
    make_user(session)
    with pytest.raises(errors.UsernameTaken):
        service.create_user(session, SYSTEM, "wl_admin", STRONG, "另一个人")


def test_invalid_username_and_unknown_role_are_refused(session):
    with pytest.raises(errors.InvalidUsername):
        service.create_user(session, SYSTEM, "x y", STRONG, "某人")
    with pytest.raises(errors.UnknownRole):
        service.create_user(session, SYSTEM, "someone", STRONG, "某人", roles=["king"])


def test_only_platform_admin_creates_users(session):
    clerk = Actor(kind="user", id=9, org_id=3, roles=frozenset({"dept_data_admin"}))
    with pytest.raises(Forbidden):
        service.create_user(session, clerk, "someone", STRONG, "某人")


def test_user_creation_emits_an_event_without_the_password(session):
    make_user(session)
    event = session.scalar(select(Event).where(Event.type == "identity.user_created"))
    assert event.payload == {"org_id": 3, "roles": ["dept_data_admin"]}
    assert STRONG not in str(event.as_record())


def test_wrong_password_then_lockout_after_threshold(session, settings):
    make_user(session)
    for _ in range(settings.lockout_threshold - 1):
        with pytest.raises(errors.InvalidCredentials):
            service.authenticate(session, "wl_admin", "Wrong#Password1")
        session.commit()
    with pytest.raises(errors.AccountLocked):
        service.authenticate(session, "wl_admin", "Wrong#Password1")
    session.commit()
    # Even the right password is refused while locked.
    with pytest.raises(errors.AccountLocked):
        service.authenticate(session, "wl_admin", STRONG)
    session.commit()
    types = event_types(session)
    assert types.count("identity.login_failed") == settings.lockout_threshold + 1
    assert types.count("identity.account_locked") == 1


def test_reset_password_lifts_the_lockout(session, settings):
    user = make_user(session)
    user.locked_until = utcnow() + dt.timedelta(minutes=10)
    session.commit()
    service.reset_password(session, SYSTEM, user, "Dunhuang#Caves1987")
    session.commit()
    assert service.authenticate(session, "wl_admin", "Dunhuang#Caves1987").id == user.id


def test_disabled_account_cannot_sign_in(session):
    user = make_user(session)
    service.set_active(session, SYSTEM, user, False)
    session.commit()
    with pytest.raises(errors.AccountDisabled):
        service.authenticate(session, "wl_admin", STRONG)


def test_unknown_user_fails_like_a_wrong_password(session):
    with pytest.raises(errors.InvalidCredentials):
        service.authenticate(session, "nobody", STRONG)


def test_session_cookie_resolves_to_the_user_and_ends_on_logout(session):
    user = make_user(session)
    cookie = service.start_session(session, user)
    session.commit()
    actor, login = service.actor_for_session(session, cookie)
    assert (actor.id, actor.roles, actor.org_id) == (user.id, frozenset({"dept_data_admin"}), 3)
    assert login.token_hash.startswith("sm3:") and cookie not in login.token_hash
    service.end_session(session, cookie)
    session.commit()
    assert service.actor_for_session(session, cookie)[0].kind == "anonymous"


def test_admin_roles_are_held_only_after_the_second_factor(session):
    admin = make_user(session, "admin", roles=("platform_admin",), org_id=1)
    assert service.needs_second_factor(admin)
    secret = service.begin_totp_enrolment_for(session, admin)
    cookie = service.start_session(session, admin)
    session.commit()
    actor, _ = service.actor_for_session(session, cookie)
    assert "platform_admin" not in actor.roles
    assert not access.decide(actor, "users.manage")

    code = pyotp.TOTP(secret).now()
    service.verify_second_factor(session, cookie, code)
    session.commit()
    actor, _ = service.actor_for_session(session, cookie)
    assert "platform_admin" in actor.roles and actor.mfa
    assert access.decide(actor, "users.manage")
    # The same code cannot be used twice.
    with pytest.raises(errors.SecondFactorInvalid):
        service.verify_second_factor(session, cookie, code)


def test_wrong_totp_code_is_refused_and_recorded(session):
    admin = make_user(session, "admin", roles=("platform_admin",), org_id=1)
    service.begin_totp_enrolment_for(session, admin)
    cookie = service.start_session(session, admin)
    session.commit()
    with pytest.raises(errors.SecondFactorInvalid):
        service.verify_second_factor(session, cookie, "000000x")
    session.commit()
    assert "identity.mfa_failed" in event_types(session)


def signed_in(user) -> Actor:
    return Actor(kind="user", id=user.id, org_id=user.org_id, roles=user.role_codes, mfa=True)


def test_token_resolves_with_its_scopes(session):
    user = make_user(session)
    token, secret = service.create_token(session, signed_in(user), "etl", ["account.self"], days=30)
    session.commit()
    actor = service.actor_for_token(session, secret)
    assert actor.scopes == frozenset({"account.self"})
    assert access.decide(actor, "account.self")
    assert not access.decide(actor, "console.use")  # role allows it, the token's scope does not
    stored = session.get(ApiToken, token.id)
    assert stored.token_hash.startswith("sm3:") and secret not in stored.token_hash


def test_expired_revoked_and_unknown_tokens_are_refused(session):
    user = make_user(session)
    token, secret = service.create_token(session, signed_in(user), "etl", ["account.self"])
    session.commit()
    token.expires_at = utcnow() - dt.timedelta(seconds=1)
    session.commit()
    with pytest.raises(errors.TokenExpired):
        service.actor_for_token(session, secret)
    token.expires_at = utcnow() + dt.timedelta(days=1)
    service.revoke_token(session, signed_in(user), token.id)
    session.commit()
    with pytest.raises(errors.TokenRevoked):
        service.actor_for_token(session, secret)
    with pytest.raises(errors.TokenInvalid):
        service.actor_for_token(session, "lsk_not-a-token")
    session.commit()
    reasons = [
        e.payload["reason"]
        for e in session.scalars(
            select(Event).where(Event.type == "identity.token_rejected").order_by(Event.id)
        )
    ]
    assert reasons == ["expired", "revoked", "unknown"]


def test_a_token_cannot_carry_a_scope_beyond_its_owners_roles(session):
    user = make_user(session)
    with pytest.raises(errors.ScopeNotAllowed):
        service.create_token(session, signed_in(user), "grab", ["users.manage"])
    with pytest.raises(errors.ScopeNotAllowed):
        service.create_token(session, signed_in(user), "typo", ["no.such.permission"])


def test_someone_elses_token_cannot_be_revoked(session):
    owner = make_user(session)
    other = make_user(session, "jt_user", roles=("data_consumer",), org_id=4)
    token, _ = service.create_token(session, signed_in(owner), "etl", ["account.self"])
    with pytest.raises(errors.TokenNotFound):
        service.revoke_token(session, signed_in(other), token.id)


def test_application_credential_tokens_act_for_the_application(session):
    app = service.create_app_credential(session, SYSTEM, "省卫健委前置机", 5, ["data_consumer"])
    _, secret = service.create_token(session, SYSTEM, "exchange", ["account.self"], app=app)
    session.commit()
    actor = service.actor_for_token(session, secret)
    assert (actor.kind, actor.id, actor.org_id, actor.roles) == (
        "app",
        app.id,
        5,
        frozenset({"data_consumer"}),
    )


def test_a_token_made_before_the_second_factor_never_carries_the_admin_role(session):
    admin = make_user(session, "admin", roles=("platform_admin", "auditor"), org_id=1)
    cookie = service.start_session(session, admin)
    session.commit()
    half_signed_in, _ = service.actor_for_session(session, cookie)
    _, secret = service.create_token(session, half_signed_in, "sneaky", ["*"])
    session.commit()
    actor = service.actor_for_token(session, secret)
    assert actor.roles == frozenset({"auditor"})
    assert not access.decide(actor, "users.manage")
