"""OpenID Connect single sign-on with the province's unified identity platform (统一身份认证).

Authorization-code flow with PKCE. State, nonce and the PKCE verifier travel in a short-lived
signed cookie; the ID token is verified against the provider's published keys (issuer,
audience, nonce, expiry). A person signs in to an account that an administrator created
(linked by ``preferred_username`` on first use, then by the stable ``sub``): roles stay
managed here.
"""

from __future__ import annotations

import secrets
import time
from typing import Any

import httpx
from authlib.integrations.httpx_client import OAuth2Client
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet
from sqlalchemy import select
from sqlalchemy.orm import Session

from longshu.config import Settings
from longshu.security.identity.errors import SingleSignOnFailed, SingleSignOnUnavailable
from longshu.security.identity.keys import signing_secret
from longshu.security.identity.models import User

STATE_COOKIE = "longshu_sso"
STATE_MAX_AGE = 600
_metadata_cache: dict[str, tuple[float, dict[str, Any]]] = {}


def enabled(settings: Settings) -> bool:
    return bool(settings.oidc_issuer and settings.oidc_client_id)


def _metadata(settings: Settings) -> dict[str, Any]:
    issuer = settings.oidc_issuer.rstrip("/")
    cached = _metadata_cache.get(issuer)
    if cached and cached[0] > time.monotonic():
        return cached[1]
    try:
        response = httpx.get(f"{issuer}/.well-known/openid-configuration", timeout=10)
        response.raise_for_status()
        metadata = response.json()
    except (httpx.HTTPError, ValueError) as exc:
        raise SingleSignOnFailed(reason="provider metadata unavailable") from exc
    if metadata.get("issuer", "").rstrip("/") != issuer:
        raise SingleSignOnFailed(reason="issuer mismatch")
    _metadata_cache[issuer] = (time.monotonic() + 3600, metadata)
    return metadata


def _client(settings: Settings, redirect_uri: str) -> OAuth2Client:
    return OAuth2Client(
        client_id=settings.oidc_client_id,
        client_secret=settings.oidc_client_secret or None,
        scope=settings.oidc_scopes,
        redirect_uri=redirect_uri,
        code_challenge_method="S256",
        timeout=10,
    )


def _serializer(settings: Settings) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(signing_secret(settings), salt="longshu-sso")


def begin(settings: Settings, redirect_uri: str, next_path: str) -> tuple[str, str]:
    """Returns (authorization URL, signed state cookie value)."""
    if not enabled(settings):
        raise SingleSignOnUnavailable()
    metadata = _metadata(settings)
    state, nonce = secrets.token_urlsafe(24), secrets.token_urlsafe(24)
    verifier = secrets.token_urlsafe(48)
    with _client(settings, redirect_uri) as client:
        url, _ = client.create_authorization_url(
            metadata["authorization_endpoint"], state=state, code_verifier=verifier, nonce=nonce
        )
    cookie = _serializer(settings).dumps({"s": state, "n": nonce, "v": verifier, "next": next_path})
    return url, cookie


def finish(
    session: Session,
    settings: Settings,
    redirect_uri: str,
    cookie: str | None,
    params: dict[str, str],
) -> tuple[User, str]:
    """Check the provider's answer and return (user, next path)."""
    if not enabled(settings):
        raise SingleSignOnUnavailable()
    if "error" in params:
        raise SingleSignOnFailed(reason="provider refused")
    try:
        saved = _serializer(settings).loads(cookie or "", max_age=STATE_MAX_AGE)
    except (BadSignature, SignatureExpired) as exc:
        raise SingleSignOnFailed(reason="state expired") from exc
    if not secrets.compare_digest(saved["s"], params.get("state", "")):
        raise SingleSignOnFailed(reason="state mismatch")
    metadata = _metadata(settings)
    try:
        with _client(settings, redirect_uri) as client:
            token = client.fetch_token(
                metadata["token_endpoint"], code=params.get("code", ""), code_verifier=saved["v"]
            )
        keys = KeySet.import_key_set(httpx.get(metadata["jwks_uri"], timeout=10).json())
        decoded = jwt.decode(token["id_token"], keys)
        jwt.JWTClaimsRegistry(
            iss={"essential": True, "value": metadata["issuer"]},
            aud={"essential": True, "value": settings.oidc_client_id},
            nonce={"essential": True, "value": saved["n"]},
            exp={"essential": True},
            sub={"essential": True},
        ).validate(decoded.claims)
    except (httpx.HTTPError, KeyError, ValueError, JoseError) as exc:
        raise SingleSignOnFailed(reason="token not valid") from exc
    return _account_for(session, decoded.claims), saved["next"]


def _account_for(session: Session, claims: dict[str, Any]) -> User:
    subject = f"oidc:{claims['sub']}"
    user = session.scalar(select(User).where(User.external_id == subject))
    if user is None and claims.get("preferred_username"):
        user = session.scalar(
            select(User).where(
                User.username == claims["preferred_username"], User.external_id.is_(None)
            )
        )
        if user is not None:
            user.external_id = subject
    if user is None:
        raise SingleSignOnFailed(reason="no account on this platform")
    if not user.is_active:
        raise SingleSignOnFailed(reason="account disabled")
    return user
