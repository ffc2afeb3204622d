"""Identity rules: accounts, sign-in with lockout, browser sessions, second factor, tokens.

Every state change emits an ``identity.*`` event. Secrets (passwords, tokens, TOTP codes)
never reach an event, a log line or an error message.
"""

from __future__ import annotations

import base64
import datetime as dt
import re
import secrets
from collections.abc import Iterable

import pyotp
from cryptography.hazmat.primitives import hashes
from sqlalchemy import select
from sqlalchemy.orm import Session

from longshu import events
from longshu.actor import ANONYMOUS, Actor
from longshu.config import get_settings
from longshu.db import Page, paginate, utcnow
from longshu.errors import Forbidden
from longshu.security import access
from longshu.security.access.roles import ROLES
from longshu.security.crypto import envelope
from longshu.security.identity import passwords, signed
from longshu.security.identity.errors import (
    AccountDisabled,
    AccountLocked,
    InvalidCredentials,
    InvalidUsername,
    ScopeNotAllowed,
    SecondFactorInvalid,
    SignatureMalformed,
    SignatureTokenMismatch,
    TokenExpired,
    TokenInvalid,
    TokenNotFound,
    TokenRevoked,
    UnknownRole,
    UsernameTaken,
    UserNotFound,
)
from longshu.security.identity.models import (
    ApiToken,
    AppCredential,
    LoginSession,
    RoleAssignment,
    User,
)

USER_CREATED = events.define("identity.user_created", "创建用户", "User created")
USER_DISABLED = events.define("identity.user_disabled", "停用用户", "User disabled")
USER_ENABLED = events.define("identity.user_enabled", "启用用户", "User enabled")
ROLES_CHANGED = events.define("identity.roles_changed", "变更角色", "Roles changed")
PASSWORD_CHANGED = events.define("identity.password_changed", "修改密码", "Password changed")
PASSWORD_RESET = events.define("identity.password_reset", "重置密码", "Password reset")
LOGIN_SUCCEEDED = events.define("identity.login_succeeded", "登录成功", "Signed in")
LOGIN_FAILED = events.define("identity.login_failed", "登录失败", "Sign-in failed")
ACCOUNT_LOCKED = events.define("identity.account_locked", "账户锁定", "Account locked")
LOGGED_OUT = events.define("identity.logged_out", "退出登录", "Signed out")
MFA_ENROLLED = events.define("identity.mfa_enrolled", "绑定动态口令", "TOTP enrolled")
MFA_PASSED = events.define("identity.mfa_passed", "动态口令验证通过", "TOTP verified")
MFA_FAILED = events.define("identity.mfa_failed", "动态口令验证失败", "TOTP failed")
TOKEN_CREATED = events.define("identity.token_created", "创建访问令牌", "Token created")
TOKEN_REVOKED = events.define("identity.token_revoked", "撤销访问令牌", "Token revoked")
TOKEN_REJECTED = events.define("identity.token_rejected", "拒绝访问令牌", "Token refused")
APP_CREATED = events.define(
    "identity.app_created", "创建应用凭证", "Application credential created"
)

USERNAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{2,63}")
TOKEN_PREFIX = "lsk_"
MAX_TOKEN_DAYS = 366


def secret_digest(secret: str) -> str:
    """SM3 digest of a high-entropy secret (session cookie, API token), tagged with its algorithm."""
    digest = hashes.Hash(hashes.SM3())
    digest.update(secret.encode())
    return "sm3:" + digest.finalize().hex()


# --- accounts --------------------------------------------------------------------------------


def _check_roles(roles: Iterable[str]) -> list[str]:
    roles = list(dict.fromkeys(roles))
    for role in roles:
        if role not in ROLES:
            raise UnknownRole(role=role)
    return roles


def create_user(
    session: Session,
    actor: Actor,
    username: str,
    password: str | None,
    display_name: str,
    org_id: int | None = None,
    roles: Iterable[str] = (),
    email: str | None = None,
) -> User:
    """Create an account. ``password`` None makes an SSO-only account."""
    access.require(actor, "users.manage")
    if not USERNAME.fullmatch(username):
        raise InvalidUsername()
    if session.scalar(select(User.id).where(User.username == username)) is not None:
        raise UsernameTaken(username=username)
    settings = get_settings()
    user = User(username=username, display_name=display_name, org_id=org_id, email=email)
    if password is not None:
        passwords.check_policy(password, username, settings.password_min_length)
        user.password_hash = passwords.hash_password(password)
        user.password_changed_at = utcnow()
    user.roles = [RoleAssignment(role=r, granted_by=actor.id) for r in _check_roles(roles)]
    session.add(user)
    session.flush()
    events.emit(
        session, USER_CREATED, actor, subject=user, org_id=org_id, roles=sorted(user.role_codes)
    )
    return user


def get_user(session: Session, user_id: int) -> User:
    user = session.get(User, user_id)
    if user is None:
        raise UserNotFound()
    return user


def list_users(
    session: Session,
    actor: Actor,
    query: str = "",
    role: str | None = None,
    active: bool | None = None,
    page: int = 1,
    per_page: int = 50,
) -> Page[User]:
    """Accounts matching a name fragment, role and status, newest first, one page."""
    access.require(actor, "users.manage")
    if role and role not in ROLES:
        raise UnknownRole(role=role)
    conditions = []
    if query:
        pattern = f"%{query.strip()[:64]}%"
        conditions.append(User.username.ilike(pattern) | User.display_name.ilike(pattern))
    if role:
        conditions.append(User.roles.any(RoleAssignment.role == role))
    if active is not None:
        conditions.append(User.is_active.is_(active))
    query = select(User).where(*conditions).order_by(User.id.desc())
    return paginate(session, query, page, per_page)


def find_user(session: Session, username: str) -> User:
    user = session.scalar(select(User).where(User.username == username))
    if user is None:
        raise UserNotFound()
    return user


def set_roles(session: Session, actor: Actor, user: User, roles: Iterable[str]) -> User:
    access.require(actor, "users.manage")
    wanted = set(_check_roles(roles))
    user.roles = [r for r in user.roles if r.role in wanted] + [
        RoleAssignment(role=r, granted_by=actor.id) for r in sorted(wanted - user.role_codes)
    ]
    session.flush()
    events.emit(session, ROLES_CHANGED, actor, subject=user, roles=sorted(wanted))
    return user


def set_active(session: Session, actor: Actor, user: User, active: bool) -> User:
    access.require(actor, "users.manage")
    if user.is_active == active:
        return user
    user.is_active = active
    if not active:
        _end_sessions(session, user)
    events.emit(session, USER_ENABLED if active else USER_DISABLED, actor, subject=user)
    return user


def reset_password(session: Session, actor: Actor, user: User, new_password: str) -> None:
    """An administrator sets a new password; the lockout is lifted and sessions end."""
    access.require(actor, "users.manage")
    passwords.check_policy(new_password, user.username, get_settings().password_min_length)
    user.password_hash = passwords.hash_password(new_password)
    user.password_changed_at = utcnow()
    user.failed_logins = 0
    user.locked_until = None
    _end_sessions(session, user)
    events.emit(session, PASSWORD_RESET, actor, subject=user)


def change_password(session: Session, actor: Actor, old: str, new: str) -> None:
    access.require(actor, "account.self")
    user = get_user(session, actor.id or 0)
    if not passwords.verify_password(user.password_hash, old):
        raise InvalidCredentials()
    passwords.check_policy(new, user.username, get_settings().password_min_length)
    user.password_hash = passwords.hash_password(new)
    user.password_changed_at = utcnow()
    events.emit(session, PASSWORD_CHANGED, actor, subject=user)


def _end_sessions(session: Session, user: User) -> None:
    now = utcnow()
    for login in session.scalars(
        select(LoginSession).where(
            LoginSession.user_id == user.id, LoginSession.revoked_at.is_(None)
        )
    ):
        login.revoked_at = now


# --- sign-in -------------------------------------------------------------------------------


def authenticate(session: Session, username: str, password: str) -> User:
    """Check a username and password, counting failures towards the lockout.

    Failures are recorded (and committed by the caller) even though an error is raised."""
    settings = get_settings()
    user = session.scalar(select(User).where(User.username == username))
    now = utcnow()
    if user is None:
        passwords.verify_password(None, password)
        events.emit(session, LOGIN_FAILED, ANONYMOUS, reason="unknown_user")
        raise InvalidCredentials()
    who = ANONYMOUS  # not signed in until the password checks out
    if user.locked_until and user.locked_until > now:
        events.emit(session, LOGIN_FAILED, who, subject=user, reason="locked")
        raise AccountLocked(until=user.locked_until)
    if not passwords.verify_password(user.password_hash, password):
        user.failed_logins += 1
        events.emit(session, LOGIN_FAILED, who, subject=user, reason="wrong_password")
        if user.failed_logins >= settings.lockout_threshold:
            user.locked_until = now + dt.timedelta(minutes=settings.lockout_minutes)
            user.failed_logins = 0
            events.emit(
                session, ACCOUNT_LOCKED, who, subject=user, minutes=settings.lockout_minutes
            )
            raise AccountLocked(until=user.locked_until)
        raise InvalidCredentials()
    if not user.is_active:
        events.emit(session, LOGIN_FAILED, who, subject=user, reason="disabled")
        raise AccountDisabled()
    user.failed_logins = 0
    user.locked_until = None
    if user.password_hash and passwords.needs_rehash(user.password_hash):
        user.password_hash = passwords.hash_password(password)
    return user


def needs_second_factor(user: User) -> bool:
    return any(ROLES[r].needs_mfa for r in user.role_codes if r in ROLES)


def start_session(session: Session, user: User, user_agent: str | None = None) -> str:
    """Open a browser session; returns the cookie value (only its digest is stored)."""
    token = secrets.token_urlsafe(32)
    now = utcnow()
    login = LoginSession(
        token_hash=secret_digest(token),
        user_id=user.id,
        created_at=now,
        last_seen_at=now,
        expires_at=now + dt.timedelta(hours=get_settings().session_hours),
        mfa_passed=False,
        user_agent=(user_agent or "")[:200] or None,
    )
    session.add(login)
    user.last_login_at = now
    session.flush()
    events.emit(session, LOGIN_SUCCEEDED, _actor_of(user), subject=user, session_id=login.id)
    return token


def end_session(session: Session, cookie: str | None) -> None:
    login = _live_session(session, cookie)
    if login is None:
        return
    login.revoked_at = utcnow()
    events.emit(session, LOGGED_OUT, _actor_of(login.user, login), subject=login.user)


def _live_session(session: Session, cookie: str | None) -> LoginSession | None:
    if not cookie or len(cookie) > 200:
        return None
    login = session.scalar(
        select(LoginSession).where(LoginSession.token_hash == secret_digest(cookie))
    )
    if login is None or login.revoked_at is not None or login.expires_at <= utcnow():
        return None
    if not login.user.is_active:
        return None
    return login


# --- second factor (TOTP) -------------------------------------------------------------------


TOTP_KEY = "identity.totp"  # the data key that seals TOTP secrets (SM4, envelope)


def totp_secret(user: User) -> str | None:
    """The user's TOTP secret. It is stored sealed with SM4 under its own data key, bound to
    the account id: a copy of the database alone does not let anyone pass the second factor."""
    if not user.totp_secret:
        return None
    sealed = base64.b64decode(user.totp_secret)
    return envelope.decrypt_value(TOTP_KEY, sealed, aad=str(user.id).encode()).decode()


def _seal_totp_secret(user: User, secret: str) -> None:
    sealed = envelope.encrypt_value(TOTP_KEY, secret.encode(), aad=str(user.id).encode())
    user.totp_secret = base64.b64encode(sealed).decode()


def totp_uri(user: User) -> str:
    secret = totp_secret(user)
    assert secret
    return pyotp.TOTP(secret).provisioning_uri(name=user.username, issuer_name="陇数 Longshu")


def verify_second_factor(session: Session, cookie: str | None, code: str) -> User:
    """Check a TOTP code for the session's user: enrols on first success, marks the session
    as second-factor verified, and refuses a code that was already used."""
    login = _live_session(session, cookie)
    if login is None:
        raise InvalidCredentials()
    user = login.user
    who = _actor_of(user, login)
    secret = totp_secret(user)
    if not secret:
        raise SecondFactorInvalid()
    totp = pyotp.TOTP(secret)
    code = code.strip().replace(" ", "")
    now = utcnow()
    step = None
    if re.fullmatch(r"\d{6}", code):
        for offset in (0, -1, 1):  # one step of clock drift either way
            at = now + dt.timedelta(seconds=30 * offset)
            if secrets.compare_digest(totp.at(at), code):
                step = totp.timecode(at)
                break
    if step is None or (user.totp_last_step is not None and step <= user.totp_last_step):
        events.emit(session, MFA_FAILED, who, subject=user)
        raise SecondFactorInvalid()
    user.totp_last_step = step
    if not user.totp_enabled:
        user.totp_enabled = True
        events.emit(session, MFA_ENROLLED, who, subject=user)
    login.mfa_passed = True
    events.emit(session, MFA_PASSED, who, subject=user)
    return user


# --- tokens --------------------------------------------------------------------------------


def _check_scopes(scopes: Iterable[str], allowed_roles: frozenset[str]) -> list[str]:
    """A scope is a permission name, ``domain.*`` or ``*``; it must be one the owner could use."""
    result = []
    for scope in dict.fromkeys(scopes):
        if scope == "*" or scope.endswith(".*"):
            domain = scope[:-2] if scope.endswith(".*") else ""
            matching = [p for n, p in access.PERMISSIONS.items() if n.startswith(domain)]
        else:
            perm = access.PERMISSIONS.get(scope)
            matching = [perm] if perm else []
        if not matching or not any(p.roles & allowed_roles for p in matching):
            raise ScopeNotAllowed(scope=scope)
        result.append(scope)
    if not result:
        raise ScopeNotAllowed(scope="")
    return result


def create_token(
    session: Session,
    actor: Actor,
    name: str,
    scopes: Iterable[str],
    days: int = 90,
    app: AppCredential | None = None,
) -> tuple[ApiToken, str]:
    """Issue a bearer token for the actor (or for an application credential, by an
    administrator). The secret is returned once and stored only as a digest."""
    if app is None:
        access.require(actor, "account.self")
    else:
        access.require(actor, "users.manage")
    return _issue_token(session, actor, name, scopes, days, app)


def issue_app_token(
    session: Session,
    actor: Actor,
    app: AppCredential,
    name: str,
    scopes: Iterable[str],
    days: int = 90,
) -> tuple[ApiToken, str]:
    """A bearer token for an application credential, for a caller that has already decided
    ``actor`` may manage ``app`` (``sharing.credentials``: its department's data manager).
    Scopes are limited to what the application's roles allow; the secret is returned once."""
    return _issue_token(session, actor, name, scopes, days, app)


def _issue_token(
    session: Session,
    actor: Actor,
    name: str,
    scopes: Iterable[str],
    days: int,
    app: AppCredential | None,
) -> tuple[ApiToken, str]:
    if app is None and actor.kind != "user":
        # a personal token is a user's: an application's id is no user id
        raise Forbidden()
    owner_roles = actor.roles if app is None else frozenset(app.roles)
    if not 1 <= days <= MAX_TOKEN_DAYS:
        raise ScopeNotAllowed(scope=f"days={days}")
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken(
        name=name[:100] or "token",
        prefix=secret[:12],
        token_hash=secret_digest(secret),
        user_id=None if app else actor.id,
        app_id=app.id if app else None,
        scopes=_check_scopes(scopes, owner_roles),
        roles=sorted(owner_roles) if app is None else [],
        expires_at=utcnow() + dt.timedelta(days=days),
    )
    session.add(token)
    session.flush()
    events.emit(
        session, TOKEN_CREATED, actor, subject=token, scopes=token.scopes, days=days,
        app_id=token.app_id,
    )  # fmt: skip
    return token, secret


def revoke_token(session: Session, actor: Actor, token_id: int) -> ApiToken:
    token = session.get(ApiToken, token_id)
    own = actor.kind == "user" and token is not None and token.user_id == actor.id
    if token is None or (not own and not access.decide(actor, "users.manage")):
        raise TokenNotFound()
    if token.revoked_at is None:
        token.revoked_at = utcnow()
        events.emit(session, TOKEN_REVOKED, actor, subject=token)
    return token


def list_tokens(session: Session, actor: Actor) -> list[ApiToken]:
    """The actor's personal tokens (an application has none: its id is no user id)."""
    if actor.kind != "user":
        return []
    return list(
        session.scalars(select(ApiToken).where(ApiToken.user_id == actor.id).order_by(ApiToken.id))
    )


def create_app_credential(
    session: Session, actor: Actor, name: str, org_id: int | None, roles: Iterable[str]
) -> AppCredential:
    access.require(actor, "users.manage")
    app = AppCredential(name=name, org_id=org_id, roles=_check_roles(roles), created_by=actor.id)
    session.add(app)
    session.flush()
    events.emit(session, APP_CREATED, actor, subject=app, org_id=org_id, roles=app.roles)
    return app


def actor_for_token(session: Session, secret: str) -> Actor:
    """The actor a bearer token stands for; refused tokens raise and leave an event."""
    token = None
    if secret.startswith(TOKEN_PREFIX) and len(secret) < 200:
        token = session.scalar(select(ApiToken).where(ApiToken.token_hash == secret_digest(secret)))
    if token is None:
        events.emit(session, TOKEN_REJECTED, ANONYMOUS, reason="unknown")
        raise TokenInvalid()
    now = utcnow()
    if token.revoked_at is not None:
        events.emit(session, TOKEN_REJECTED, ANONYMOUS, subject=token, reason="revoked")
        raise TokenRevoked()
    if token.expires_at <= now:
        events.emit(session, TOKEN_REJECTED, ANONYMOUS, subject=token, reason="expired")
        raise TokenExpired()
    if token.app is not None:
        if token.app.disabled_at is not None:
            events.emit(session, TOKEN_REJECTED, ANONYMOUS, subject=token, reason="app_disabled")
            raise TokenRevoked()
        owner = Actor(
            kind="app",
            id=token.app.id,
            name=token.app.name,
            org_id=token.app.org_id,
            roles=frozenset(token.app.roles),
            scopes=frozenset(token.scopes),
            mfa=True,
        )
    else:
        assert token.user is not None
        if not token.user.is_active:
            raise AccountDisabled()
        # A token carries the roles its owner has now and had when creating it, limited to
        # its scopes.
        owner = Actor(
            kind="user",
            id=token.user.id,
            name=token.user.username,
            org_id=token.user.org_id,
            roles=token.user.role_codes & frozenset(token.roles),
            scopes=frozenset(token.scopes),
            mfa=True,
        )
    if token.last_used_at is None or now - token.last_used_at > dt.timedelta(minutes=1):
        token.last_used_at = now
    return owner


# --- who is asking -------------------------------------------------------------------------


def _actor_of(user: User, login: LoginSession | None = None) -> Actor:
    roles = user.role_codes
    mfa = bool(login and login.mfa_passed)
    if not mfa:
        # Roles that need the second factor are held only after it has been verified.
        roles = frozenset(r for r in roles if not (r in ROLES and ROLES[r].needs_mfa))
    return Actor(
        kind="user", id=user.id, name=user.username, org_id=user.org_id, roles=roles, mfa=mfa
    )


SESSION_COOKIE = "longshu_session"


def actor_for_session(session: Session, cookie: str | None) -> tuple[Actor, LoginSession | None]:
    login = _live_session(session, cookie)
    if login is None:
        return ANONYMOUS, None
    now = utcnow()
    if now - login.last_seen_at > dt.timedelta(minutes=1):
        login.last_seen_at = now
    return _actor_of(login.user, login), login


CSRF_REJECTED = events.define(
    "identity.csrf_rejected", "拒绝跨站请求", "Cross-site request refused"
)


def resolve_actor(session: Session, request: object) -> Actor:
    """The actor behind a request: a signed request's application (LONGSHU-SM2), a bearer
    token, else the session cookie, else anonymous.
    Sets ``request.state.actor`` (and ``login``) for the pages."""
    headers = request.headers  # type: ignore[attr-defined]
    auth = headers.get("authorization", "")
    login = None
    # a signature was verified (body and nonce included) by ``context.request_guard`` before
    # the route's session opened; a signed request without that verdict is not signed in
    signed_actor = getattr(request.state, "signed_actor", None)  # type: ignore[attr-defined]
    has_signature = signed.signature_of(headers) is not None
    if has_signature and signed_actor is None:
        raise SignatureMalformed()
    if auth.lower().startswith("bearer "):
        actor = actor_for_token(session, auth[7:].strip())
        if has_signature and (actor.kind != "app" or actor.id != signed_actor.id):
            events.emit(
                session, signed.SIGNATURE_REJECTED, ANONYMOUS,
                subject=("app_credential", signed_actor.id), reason="token_mismatch",
                app_id=signed_actor.id, token_kind=actor.kind,
            )  # fmt: skip
            raise SignatureTokenMismatch()
    elif has_signature:
        actor = signed_actor
    else:
        actor, login = actor_for_session(session, request.cookies.get(SESSION_COOKIE))  # type: ignore[attr-defined]
    request.state.actor = actor  # type: ignore[attr-defined]
    request.state.login = login  # type: ignore[attr-defined]
    return actor


def begin_totp_enrolment_for(session: Session, user: User) -> str:
    """At first sign-in of a role that needs a second factor: issue the secret to enrol."""
    if not user.totp_secret:
        session.flush()  # the sealed secret is bound to the account id
        _seal_totp_secret(user, pyotp.random_base32())
    secret = totp_secret(user)
    assert secret
    return secret
