"""Signed requests: a department's system signs each call with its SM2 key (X-Road's model).

The header::

    Authorization: LONGSHU-SM2 app=<credential id>, ts=<unix seconds>, nonce=<32 hex>, sig=<base64>

or, beside ``Authorization: Bearer <token of the same application>``, the same value in
``X-Longshu-Signature``. ``sig`` is the SM2 signature r ‖ s (64 bytes; signer ID "1234567812345678") of the canonical
string (``canonical_request``): eight lines joined by "\\n" — the version tag, the method, the
percent-decoded path, the sorted query, the app id, ts, nonce and the SM3 hex digest of the body.

A request is refused (401, one error per reason, an ``identity.signature_rejected`` event with
the reason and the app id, never the signature or the body) when the header is malformed, the
application is unknown or disabled, it has no key, the timestamp is more than ``WINDOW_SECONDS``
away from the server's clock, the signature does not match, or the nonce was used before. Used
nonces are rows with a unique (app, nonce) constraint: of two processes receiving the same
request at once, the database lets exactly one insert it.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import re
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import quote, unquote_plus

from sqlalchemy import delete, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from longshu import events
from longshu.actor import ANONYMOUS, Actor
from longshu.errors import LongshuError
from longshu.security.crypto import sm2
from longshu.security.crypto.hashing import SM3
from longshu.security.identity.errors import (
    SignatureAppDisabled,
    SignatureInvalid,
    SignatureMalformed,
    SignatureNoKey,
    SignatureReplayed,
    SignatureStale,
    SignatureUnknownApp,
)
from longshu.security.identity.models import AppCredential, AppSigningKey, SignedRequestNonce

SCHEME = "LONGSHU-SM2"
SIGNATURE_HEADER = "x-longshu-signature"  # a signature beside ``Authorization: Bearer``
VERSION = "LONGSHU-SM2-V1"
WINDOW_SECONDS = 300
PURGE_EVERY_SECONDS = 60
MAX_HEADER_LENGTH = 400
# A signed request acts in sharing only (as an application token scoped "sharing.*" does):
# never on account routes, whose "self" is a user.
SIGNED_SCOPES = frozenset({"sharing.*"})

SIGNATURE_REJECTED = events.define(
    "identity.signature_rejected", "拒绝签名请求", "Signed request refused"
)

_APP = re.compile(r"[1-9][0-9]{0,17}")
_TS = re.compile(r"[0-9]{1,12}")
_NONCE = re.compile(r"[0-9a-f]{32}")
_FIELDS = ("app", "ts", "nonce", "sig")


@dataclass(frozen=True)
class SignedHeader:
    app_id: int
    ts: int
    nonce: str
    signature: bytes


def is_signed(authorization: str) -> bool:
    """True when the Authorization header uses the LONGSHU-SM2 scheme (any letter case)."""
    return authorization[: len(SCHEME) + 1].upper() == SCHEME + " "


def signature_of(headers: Mapping[str, str]) -> str | None:
    """The request's LONGSHU-SM2 signature: the Authorization header when it uses the scheme,
    else the ``X-Longshu-Signature`` header (same form, sent beside a bearer token), else None.
    A present but malformed ``X-Longshu-Signature`` is returned, to be refused."""
    authorization = headers.get("authorization", "")
    if is_signed(authorization):
        return authorization
    return headers.get(SIGNATURE_HEADER)


def parse_header(authorization: str) -> SignedHeader:
    """The four parameters of a LONGSHU-SM2 header; ``SignatureMalformed`` if any is missing,
    repeated, unknown or out of form."""
    if not is_signed(authorization) or len(authorization) > MAX_HEADER_LENGTH:
        raise SignatureMalformed()
    params: dict[str, str] = {}
    for piece in authorization[len(SCHEME) + 1 :].split(","):
        name, sep, value = piece.strip().partition("=")
        if not sep or name not in _FIELDS or name in params:
            raise SignatureMalformed()
        # base64 padding ends in "=": partition split on the first one only
        params[name] = value.strip()
    if len(params) != len(_FIELDS):
        raise SignatureMalformed()
    if not (
        _APP.fullmatch(params["app"])
        and _TS.fullmatch(params["ts"])
        and _NONCE.fullmatch(params["nonce"])
    ):
        raise SignatureMalformed()
    try:
        signature = base64.b64decode(params["sig"], validate=True)
    except (binascii.Error, ValueError):
        raise SignatureMalformed() from None
    if len(signature) != 64:
        raise SignatureMalformed()
    return SignedHeader(int(params["app"]), int(params["ts"]), params["nonce"], signature)


def canonical_query(raw: str) -> str:
    """The query string with each name and value decoded, re-encoded (RFC 3986 unreserved
    characters kept, everything else %XX in UTF-8) and the pairs sorted."""
    pairs = []
    for part in raw.split("&"):
        if not part:
            continue
        name, _, value = part.partition("=")
        pairs.append(
            (quote(unquote_plus(name), safe="-_.~"), quote(unquote_plus(value), safe="-_.~"))
        )
    return "&".join(f"{name}={value}" for name, value in sorted(pairs))


def body_digest(body: bytes) -> str:
    return SM3.new(body).digest().hex()


def canonical_request(
    method: str, path: str, query: str, app_id: int, ts: int, nonce: str, body: bytes
) -> bytes:
    """The bytes a system signs (UTF-8)."""
    lines = (
        VERSION,
        method.upper(),
        path,
        canonical_query(query),
        str(app_id),
        str(ts),
        nonce,
        body_digest(body),
    )
    return "\n".join(lines).encode()


@dataclass(frozen=True)
class _Verified:
    """What a verified request leaves for the write that follows (plain values: the read
    transaction ends before it)."""

    actor: Actor
    key_pk: int
    key_id: str
    key_last_used: dt.datetime | None
    header: SignedHeader


class _Refused(Exception):
    def __init__(self, error: LongshuError, reason: str, app_id: int | None, **facts: object):
        super().__init__(reason)
        self.error, self.reason, self.app_id, self.facts = error, reason, app_id, facts


_purge_lock = threading.Lock()
_last_purge = 0.0


def authenticate(
    session: Session,
    authorization: str,
    method: str,
    path: str,
    query: str,
    body: bytes,
    now: float | None = None,
) -> Actor:
    """The application actor of a signed request, or a 401 error after recording why.

    Runs in a session of its own and commits it: the nonce is spent (and a refusal recorded)
    whatever the route does next. ``now`` (unix seconds) is for tests."""
    now = time.time() if now is None else now
    try:
        verified = _verify(session, authorization, method, path, query, body, now)
        session.rollback()  # end the read; SQLite: the write below takes the lock at BEGIN
        _spend_nonce(session, verified, now)
    except _Refused as refused:
        session.rollback()
        _write_lock(session)
        subject = ("app_credential", refused.app_id) if refused.app_id else None
        events.emit(
            session, SIGNATURE_REJECTED, ANONYMOUS, subject=subject, reason=refused.reason,
            app_id=refused.app_id, method=method.upper(), path=path[:200], **refused.facts,
        )  # fmt: skip
        session.commit()
        raise refused.error from None
    return verified.actor


def _verify(
    session: Session,
    authorization: str,
    method: str,
    path: str,
    query: str,
    body: bytes,
    now: float,
) -> _Verified:
    try:
        header = parse_header(authorization)
    except SignatureMalformed as error:
        raise _Refused(error, "malformed", None) from None
    app = session.get(AppCredential, header.app_id)
    if app is None:
        raise _Refused(SignatureUnknownApp(), "unknown_app", None, claimed_app=header.app_id)
    if app.disabled_at is not None:
        raise _Refused(SignatureAppDisabled(), "app_disabled", app.id)
    keys = live_keys(session, app.id, dt.datetime.fromtimestamp(now, dt.UTC))
    if not keys:
        raise _Refused(SignatureNoKey(), "no_key", app.id)
    skew = int(now) - header.ts
    if abs(skew) > WINDOW_SECONDS:
        raise _Refused(SignatureStale(window=WINDOW_SECONDS), "stale_timestamp", app.id, skew=skew)
    message = canonical_request(method, path, query, app.id, header.ts, header.nonce, body)
    # the current key first; a key being rotated out is still accepted until it retires
    key = next(
        (k for k in keys if sm2.verify(_point(k.public_key), message, header.signature)), None
    )
    if key is None:
        raise _Refused(SignatureInvalid(), "bad_signature", app.id, key_id=keys[0].key_id)
    actor = Actor(
        kind="app",
        id=app.id,
        name=app.name,
        org_id=app.org_id,
        roles=frozenset(app.roles),
        scopes=SIGNED_SCOPES,
        mfa=True,
    )
    return _Verified(actor, key.id, key.key_id, key.last_used_at, header)


def live_key(session: Session, app_id: int) -> AppSigningKey | None:
    """The application's current key (the newest never set to retire)."""
    return session.scalar(
        select(AppSigningKey)
        .where(AppSigningKey.app_id == app_id, AppSigningKey.retired_at.is_(None))
        .order_by(AppSigningKey.id.desc())
        .limit(1)
    )


def live_keys(session: Session, app_id: int, now: dt.datetime) -> list[AppSigningKey]:
    """The keys that sign at ``now``, newest first: the current one and any key rotated out
    whose overlap has not ended (``retired_at`` still ahead)."""
    return list(
        session.scalars(
            select(AppSigningKey)
            .where(
                AppSigningKey.app_id == app_id,
                or_(AppSigningKey.retired_at.is_(None), AppSigningKey.retired_at > now),
            )
            .order_by(AppSigningKey.id.desc())
        )
    )


_points: dict[str, sm2.EcPoint] = {}


def _point(public_hex: str) -> sm2.EcPoint:
    """The decoded public point (checked on the curve when the key was registered); cached."""
    point = _points.get(public_hex)
    if point is None:
        point = sm2.decode_point(bytes.fromhex(public_hex))
        if len(_points) > 4096:
            _points.clear()
        _points[public_hex] = point
    return point


def _write_lock(session: Session) -> None:
    # SQLite: take the write lock at BEGIN so a concurrent writer makes us wait, not fail
    session.connection(execution_options={"sqlite_immediate": True})


def _spend_nonce(session: Session, verified: _Verified, now: float) -> None:
    app_id, header = verified.actor.id, verified.header
    _write_lock(session)
    purge_nonces(session, now, force=False)
    session.add(
        SignedRequestNonce(
            app_id=app_id,
            nonce=header.nonce,
            signed_at=dt.datetime.fromtimestamp(header.ts, dt.UTC),
        )
    )
    try:
        session.flush()
    except IntegrityError:
        raise _Refused(SignatureReplayed(), "replayed", app_id, key_id=verified.key_id) from None
    stamp = dt.datetime.fromtimestamp(now, dt.UTC)
    last = verified.key_last_used
    if last is None or stamp - last > dt.timedelta(minutes=1):
        session.execute(
            update(AppSigningKey)
            .where(AppSigningKey.id == verified.key_pk)
            .values(last_used_at=stamp)
        )
    session.commit()


def purge_nonces(session: Session, now: float | None = None, force: bool = True) -> int:
    """Delete nonces whose request is older than twice the window (such a request is refused
    by its timestamp anyway). Unless ``force``, runs at most once a minute per process."""
    global _last_purge
    now = time.time() if now is None else now
    with _purge_lock:
        if not force and now - _last_purge < PURGE_EVERY_SECONDS:
            return 0
        _last_purge = now
    cutoff = dt.datetime.fromtimestamp(now - 2 * WINDOW_SECONDS, dt.UTC)
    result = session.execute(
        delete(SignedRequestNonce).where(SignedRequestNonce.signed_at < cutoff)
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]
