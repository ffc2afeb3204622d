"""People and programs that act on the platform: users, their roles, browser sessions,
API tokens and application credentials. Organisations are referred to by id only."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from longshu.db import Base, utcnow


class User(Base):
    __tablename__ = "user_account"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(100))
    email: Mapped[str | None] = mapped_column(String(200))
    org_id: Mapped[int | None] = mapped_column(index=True)
    external_id: Mapped[str | None] = mapped_column(String(200), unique=True)  # OIDC subject
    password_hash: Mapped[str | None] = mapped_column(String(200))
    password_changed_at: Mapped[dt.datetime | None]
    is_active: Mapped[bool] = mapped_column(default=True)
    failed_logins: Mapped[int] = mapped_column(default=0)
    locked_until: Mapped[dt.datetime | None]
    last_login_at: Mapped[dt.datetime | None]
    totp_secret: Mapped[str | None] = mapped_column(String(400))  # SM4-sealed, base64
    totp_enabled: Mapped[bool] = mapped_column(default=False)
    totp_last_step: Mapped[int | None]  # the last accepted time step: a code is used once
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

    roles: Mapped[list[RoleAssignment]] = relationship(
        back_populates="user", cascade="all, delete-orphan", lazy="selectin"
    )

    @property
    def role_codes(self) -> frozenset[str]:
        return frozenset(r.role for r in self.roles)


class RoleAssignment(Base):
    __tablename__ = "role_assignment"
    __table_args__ = (UniqueConstraint("user_id", "role"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"))
    role: Mapped[str] = mapped_column(String(40))
    granted_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    granted_by: Mapped[int | None]

    user: Mapped[User] = relationship(back_populates="roles")


class LoginSession(Base):
    """A browser session. The cookie holds a random token; only its hash is stored."""

    __tablename__ = "login_session"

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(80), unique=True)
    user_id: Mapped[int] = mapped_column(
        ForeignKey("user_account.id", ondelete="CASCADE"), index=True
    )
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[dt.datetime]
    last_seen_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    mfa_passed: Mapped[bool] = mapped_column(default=False)
    revoked_at: Mapped[dt.datetime | None]
    user_agent: Mapped[str | None] = mapped_column(String(200))

    user: Mapped[User] = relationship(lazy="joined")


class AppCredential(Base):
    """A program acting for an organisation (a department's system, an operator's service)."""

    __tablename__ = "app_credential"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    org_id: Mapped[int | None] = mapped_column(index=True)
    roles: Mapped[list[Any]] = mapped_column(default=list)
    created_by: Mapped[int | None]
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    disabled_at: Mapped[dt.datetime | None]


class ApiToken(Base):
    """A bearer token owned by a user (personal token) or an application credential.
    Stored hashed; scoped to permission names; expiring; revocable."""

    __tablename__ = "api_token"
    __table_args__ = (Index("ix_api_token_owner", "user_id", "app_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    prefix: Mapped[str] = mapped_column(String(16))  # shown to people to tell tokens apart
    token_hash: Mapped[str] = mapped_column(String(80), unique=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"))
    app_id: Mapped[int | None] = mapped_column(ForeignKey("app_credential.id", ondelete="CASCADE"))
    scopes: Mapped[list[Any]] = mapped_column(default=list)
    # The roles the creating session held: a token never gains a role its creator lacked
    # (e.g. an administrator's role before the second factor was verified).
    roles: Mapped[list[Any]] = mapped_column(default=list)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[dt.datetime]
    revoked_at: Mapped[dt.datetime | None]
    last_used_at: Mapped[dt.datetime | None]

    user: Mapped[User | None] = relationship(lazy="joined")
    app: Mapped[AppCredential | None] = relationship(lazy="joined")


class AppSigningKey(Base):
    """An application's SM2 public key for signed requests (``signed.py``). One key is live per
    application; registering a new one retires the old at once (``retired_at``)."""

    __tablename__ = "app_signing_key"

    id: Mapped[int] = mapped_column(primary_key=True)
    app_id: Mapped[int] = mapped_column(
        ForeignKey("app_credential.id", ondelete="CASCADE"), index=True
    )
    public_key: Mapped[str] = mapped_column(String(130))  # hex of 04 ‖ x ‖ y
    key_id: Mapped[str] = mapped_column(String(16))  # signing.key_id_for("sm2-sm3", key)
    created_by: Mapped[int | None]
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    retired_at: Mapped[dt.datetime | None]
    last_used_at: Mapped[dt.datetime | None]


class SignedRequestNonce(Base):
    """A nonce an application has used in a signed request. The unique constraint is what
    refuses a replay, also when two processes see the same request at once; rows older than
    the timestamp window are purged (a request that old is refused by its timestamp)."""

    __tablename__ = "signed_request_nonce"
    __table_args__ = (UniqueConstraint("app_id", "nonce"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    app_id: Mapped[int] = mapped_column(ForeignKey("app_credential.id", ondelete="CASCADE"))
    nonce: Mapped[str] = mapped_column(String(32))
    signed_at: Mapped[dt.datetime] = mapped_column(index=True)  # the request's own timestamp
