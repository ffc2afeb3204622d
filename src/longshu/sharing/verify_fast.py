"""A fast path for verification (核验) over HTTP: a raw-ASGI accelerator in front of the
FastAPI router for exactly ``POST /api/v1/sharing/grants/{id}/verify`` and ``.../verify/batch``.

It answers ONLY the common, fully valid case, from caches of this process; anything else
falls through, untouched (the body it read is replayed), to the FastAPI route, which does
everything: refusals, their events, translated errors. Served fast only when all hold:

- ``Authorization: Bearer <token>`` once, no ``X-Longshu-Signature`` / LONGSHU-SM2 signature,
  no session cookie (``longshu_session``), ``Content-Type: application/json``, a
  ``Content-Length`` within the platform's body limit;
- the token's digest is in the token cache (filled after a successful verification on the
  normal path; kept ``LONGSHU_SHARING_FAST_TOKEN_TTL`` seconds, 5 at most) and the token's
  expiry is still ahead; the cached actor holds ``sharing.use`` (``access.decide``);
- the grant's facts are in the grant cache (filled the same way; ``LONGSHU_SHARING_FAST_
  GRANT_TTL`` seconds, 2 at most): held by the actor's department, ``verify`` among its
  modes, ``active``, inside ``valid_from``..``valid_until`` now, not region-scoped, its fields
  covering the index's key and attribute columns;
- the resource's ready index is known and loaded in this process (``IndexCache.ready``: no
  database read), the body is well-formed for the route's model and every item passes the
  index's own checks (computed first: pure, nothing counted when it falls through);
- the same ``ratelimit.admit`` and ``EnumerationGuard.after`` the service calls admit the
  call. When either refuses, the call was already counted: the refusal is handed to the
  normal path in the request's state (``verify_service.verify(refused=...)``), which records
  its event (once per window) and answers it — never counted twice.

Then the answer is the route's JSON byte for byte; usage goes to the same ``USAGE`` meter.
Entries with less than half their TTL left are refreshed by one call going the normal way;
expired ones likewise, the other calls of that token and grant waiting for it (up to 2 s)
rather than all crowding onto the normal path.
The accelerator sits inside ``PlatformMiddleware`` and ``LocaleMiddleware`` (request id,
security headers, CSRF cookie, metrics, ``Vary``), so their headers are the same.

Revocation: in this process the caches are emptied (and a generation counter bumped) when an
event of ``INVALIDATING`` is inserted and again when its transaction commits; a normal-path
request that started before the bump never fills the caches. Other processes learn it when
their entries expire: at most the token TTL (5 s) for a token, user or application, at most
the grant TTL (2 s) for a grant; the same bounds hold for changes made without an event
(direct SQL)."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import json
import os
import re
import threading
import time
from dataclasses import dataclass
from typing import Any

from sqlalchemy import event as sa_event
from sqlalchemy import select
from sqlalchemy.orm import Session, object_session
from starlette.concurrency import run_in_threadpool
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from longshu.actor import Actor
from longshu.errors import LongshuError
from longshu.events import Event
from longshu.security.access import decide
from longshu.sharing import ratelimit, verify_service
from longshu.sharing.verify_api_errors import Throttled

PATH = re.compile(r"/api/v1/sharing/grants/([1-9][0-9]{0,17})/verify(/batch)?")
SESSION_COOKIE = b"longshu_session="
MAX_TOKEN_TTL = 5.0
MAX_GRANT_TTL = 2.0
MAX_FAST_BODY = 1 << 20
REFRESH_RETRY = 5.0  # seconds after which a refresh not heard of is tried again
WAIT_STEP, WAIT_STEPS = 0.005, 400  # a call waits up to 2 s for another's refresh
CLAIM = "verify_fast_claim"
FALL_THROUGH_CONCURRENCY = 8  # below the database pool (5 + 10) and the thread pool (40)
THREAD_BATCH = 64  # batches larger than this are checked in the threadpool
KEY_MAX, NAME_MAX = 100, 400  # the route's model (api_verify.Key / Name)

# state keys the normal path reads (request.state.<name>)
GENERATION = "verify_fast_generation"
REFUSED = "verify_fast_refused"

# events after which this process stops answering from its caches at once
INVALIDATING = frozenset(
    {
        "identity.token_revoked",
        "identity.user_disabled",
        "identity.roles_changed",
        "sharing.credential_disabled",
        "sharing.grant_revoked",
        "sharing.grant_expired",
        "sharing.grant_masks_tightened",
        "sharing.verify_setup",
        "sharing.verify_index_retired",
    }
)


@dataclass(frozen=True)
class _Token:
    actor: Actor
    expires_at: float  # the token's own expiry (epoch seconds)
    until: float  # this entry's (monotonic)
    ttl: float


@dataclass(frozen=True)
class _Grant:
    consumer_org_id: int
    resource_id: int
    modes: frozenset[str]
    fields: frozenset[str]
    status: str
    valid_from: float
    valid_until: float
    rate_per_minute: int
    region_scoped: bool
    until: float
    ttl: float


@dataclass(frozen=True)
class _RouteTag:
    """What ``PlatformMiddleware`` reads from ``scope["route"]`` for its metrics."""

    path: str


SINGLE_ROUTE = _RouteTag("/api/v1/sharing/grants/{grant_id}/verify")
BATCH_ROUTE = _RouteTag("/api/v1/sharing/grants/{grant_id}/verify/batch")


class FastCaches:
    """Tokens (by digest) and grants (by id) seen valid on the normal path, with a generation
    bumped by every invalidation."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.tokens: dict[str, _Token] = {}
        self.grants: dict[int, _Grant] = {}
        self.generation = 0
        self._refreshing: dict[tuple[str, int], float] = {}

    def invalidate(self) -> None:
        with self._lock:
            self.generation += 1
            self.tokens = {}
            self.grants = {}
            self._refreshing = {}

    def claim_refresh(self, key: tuple[str, int], now: float) -> bool:
        """True for one caller (per token and grant, per second): that call goes the normal
        way and refreshes the entries before they expire; the others stay fast."""
        with self._lock:
            claimed = self._refreshing.get(key)
            if claimed is not None and now - claimed < REFRESH_RETRY:
                return False
            self._refreshing[key] = now
            return True

    def refreshing(self, key: tuple[str, int], now: float) -> bool:
        claimed = self._refreshing.get(key)
        return claimed is not None and now - claimed < REFRESH_RETRY

    def release(self, key: tuple[str, int], refused: bool) -> None:
        """The refreshing call is answered. Not filled and refused (4xx): its entries go,
        so the calls waiting for it and the next ones go the normal way at once."""
        with self._lock:
            if self._refreshing.pop(key, None) is not None and refused:
                self.tokens.pop(key[0], None)
                self.grants.pop(key[1], None)

    def fill(
        self, generation: int, digest: str, token: _Token | None, grant_id: int, grant: _Grant
    ) -> bool:
        with self._lock:
            if generation != self.generation:
                return False
            if token is not None:
                self.tokens[digest] = token
            self.grants[grant_id] = grant
            self._refreshing.pop((digest, grant_id), None)
            return True


CACHES = FastCaches()


def clear() -> None:
    CACHES.invalidate()


def _ttl(name: str, default: float, cap: float) -> float:
    try:
        value = float(os.environ.get(name, default))
    except ValueError:
        value = default
    return max(0.0, min(value, cap))


def _epoch(value: dt.datetime) -> float:
    if value.tzinfo is None:  # stored UTC (SQLite hands naive values back in some paths)
        value = value.replace(tzinfo=dt.UTC)
    return value.timestamp()


# --- in-process invalidation ------------------------------------------------------------------


@sa_event.listens_for(Event, "after_insert")
def _event_inserted(_mapper: Any, _connection: Any, target: Event) -> None:
    if target.type in INVALIDATING:
        CACHES.invalidate()
        session = object_session(target)
        if session is not None:
            session.info["verify_fast_stale"] = True


@sa_event.listens_for(Session, "after_commit")
def _committed(session: Session) -> None:
    if session.info.pop("verify_fast_stale", False):
        CACHES.invalidate()


# --- the normal path's hooks ------------------------------------------------------------------


def _bearer(headers: Any) -> str | None:
    """The bearer secret of a request the fast path may serve, or None."""
    values = headers.getlist("authorization")
    if len(values) != 1 or not values[0].lower().startswith("bearer "):
        return None
    if headers.get("x-longshu-signature") is not None:
        return None
    if SESSION_COOKIE.decode() in headers.get("cookie", ""):
        return None
    secret = values[0][7:].strip()
    return secret or None


def refused(request: Any) -> Throttled | None:
    """The refusal the fast path met after counting this call (the normal path answers it)."""
    return getattr(request.state, REFUSED, None)


def remember(request: Any, session: Session, actor: Actor, grant_id: int) -> None:
    """After a successful verification on the normal path: cache the bearer token's actor and
    the grant's facts — unless an invalidation happened since the request came in."""
    from longshu.security.identity.models import ApiToken
    from longshu.security.identity.service import secret_digest
    from longshu.sharing.models import ShareGrant

    generation = getattr(request.state, GENERATION, None)
    if generation is None or generation != CACHES.generation:
        return
    if actor.kind not in ("user", "app"):
        return
    secret = _bearer(request.headers)
    grant = session.get(ShareGrant, grant_id)
    if secret is None or grant is None:
        return
    now = time.monotonic()
    digest = secret_digest(secret)
    token = None
    held = CACHES.tokens.get(digest)
    if held is None or held.until - now < held.ttl / 2 or held.actor != actor:
        token_ttl = _ttl("LONGSHU_SHARING_FAST_TOKEN_TTL", MAX_TOKEN_TTL, MAX_TOKEN_TTL)
        row = session.execute(
            select(ApiToken.expires_at, ApiToken.revoked_at).where(ApiToken.token_hash == digest)
        ).first()
        if row is None or row.revoked_at is not None or token_ttl <= 0:
            return
        token = _Token(actor, _epoch(row.expires_at), now + token_ttl, token_ttl)
    grant_ttl = _ttl("LONGSHU_SHARING_FAST_GRANT_TTL", MAX_GRANT_TTL, MAX_GRANT_TTL)
    if grant_ttl <= 0:
        return
    facts = _Grant(
        consumer_org_id=grant.consumer_org_id, resource_id=grant.resource_id,
        modes=frozenset(grant.modes), fields=frozenset(grant.fields), status=grant.status,
        valid_from=_epoch(grant.valid_from), valid_until=_epoch(grant.valid_until),
        rate_per_minute=grant.rate_per_minute,
        region_scoped=bool(grant.region_column and grant.regions), until=now + grant_ttl,
        ttl=grant_ttl,
    )  # fmt: skip
    current = verify_service._CACHE._current.get(grant.resource_id)
    if current is None or current.expires - now < verify_service.CURRENT_TTL_SECONDS / 2:
        # the index's ready record, re-read ahead of its expiry (as the normal path does)
        with contextlib.suppress(LongshuError):
            verify_service._CACHE.current(session, grant.resource_id, fresh=True)
    CACHES.fill(generation, digest, token, grant_id, facts)


# --- the accelerator ----------------------------------------------------------------------------


class _FallThrough(Exception):
    pass


def _header_map(scope: Scope) -> dict[bytes, bytes] | None:
    """Lower-cased headers; None when one the fast path reads is repeated."""
    found: dict[bytes, bytes] = {}
    for key, value in scope["headers"]:
        name = key.lower()
        if name in found and name in (
            b"authorization",
            b"content-type",
            b"content-length",
            b"cookie",
        ):
            return None
        found[name] = value
    return found


def _secret(headers: dict[bytes, bytes]) -> str:
    auth = headers.get(b"authorization", b"")
    if not auth[:7].lower() == b"bearer " or b"x-longshu-signature" in headers:
        raise _FallThrough
    if SESSION_COOKIE in headers.get(b"cookie", b""):
        raise _FallThrough
    content_type = headers.get(b"content-type", b"").split(b";")[0].strip().lower()
    if content_type != b"application/json":
        raise _FallThrough
    try:
        secret = auth[7:].decode("latin-1").strip()
    except UnicodeDecodeError:
        raise _FallThrough from None
    if not secret:
        raise _FallThrough
    return secret


def _items(body: bytes, batch: bool) -> tuple[list[str], list[str]]:
    """Keys and names of a body the route's model accepts; anything doubtful falls through."""
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError, RecursionError):
        raise _FallThrough from None
    if not isinstance(data, dict):
        raise _FallThrough
    rows = data.get("items") if batch else [data]
    if not isinstance(rows, list) or not 1 <= len(rows) <= verify_service.MAX_BATCH:
        raise _FallThrough
    keys, names = [], []
    for row in rows:
        if not isinstance(row, dict):
            raise _FallThrough
        key, name = row.get("key"), row.get("name")
        if type(key) is not str or type(name) is not str:
            raise _FallThrough
        if len(key) > KEY_MAX or len(name) > NAME_MAX:
            raise _FallThrough
        keys.append(key)
        names.append(name)
    return keys, names


def _dumps(content: dict[str, Any]) -> bytes:
    """As ``JSONResponse.render``."""
    return json.dumps(
        content, ensure_ascii=False, allow_nan=False, indent=None, separators=(",", ":")
    ).encode("utf-8")


class _Stale(_FallThrough):
    """An entry is missing or expired (as opposed to facts that refuse the call)."""


def _lookup(
    state: dict[str, Any], digest: str, grant_id: int, now_m: float
) -> tuple[Actor, _Grant, Any]:
    """The cached actor, grant and index for a call they all allow; ``_Stale`` when an entry
    is missing or expired, or (for one call) due for its refresh; ``_FallThrough`` when the
    cached facts do not allow the call (the normal path says why)."""
    now = time.time()
    token = CACHES.tokens.get(digest)
    if token is None or token.until <= now_m:
        raise _Stale
    if token.expires_at <= now:
        raise _FallThrough
    actor = token.actor
    if not decide(actor, "sharing.use").allowed:
        raise _FallThrough
    grant = CACHES.grants.get(grant_id)
    if grant is None or grant.until <= now_m:
        raise _Stale
    if (
        actor.org_id is None
        or actor.org_id != grant.consumer_org_id
        or "verify" not in grant.modes
        or grant.status != "active"
        or not grant.valid_from <= now < grant.valid_until
        or grant.region_scoped
    ):
        raise _FallThrough
    ready = verify_service._CACHE.ready(grant.resource_id)
    if ready is None:
        raise _Stale
    index, current = ready
    if not {current.key_column, current.attribute_column} <= grant.fields:
        raise _FallThrough
    # ahead of expiry, one call goes the normal way to refresh the entries (no stampede of
    # every call onto the normal path when they expire); they never outlive their TTL
    if (
        token.until - now_m < token.ttl / 2
        or grant.until - now_m < grant.ttl / 2
        or current.expires - now_m < verify_service.CURRENT_TTL_SECONDS / 2
    ) and CACHES.claim_refresh((digest, grant_id), now_m):
        state[CLAIM] = (digest, grant_id)
        raise _FallThrough
    return actor, grant, index


def _admit_and_count(
    actor: Actor, grant_id: int, rate_per_minute: int, answers: list[str]
) -> Throttled | None:
    """What ``verify_service.verify`` does around the check, with the same functions: admit
    (rate, cool-down), meter, guard. The refusal met, if any (the call is counted by then)."""
    try:
        ratelimit.admit(actor, grant_id, rate_per_minute, mode="verify", guarded=True)
    except Throttled as error:
        return error
    verify_service.USAGE.record(grant_id, actor, answers)
    misses = sum(1 for a in answers if a in verify_service.GUARD_MISSES)
    try:
        ratelimit.EnumerationGuard().after(actor, grant_id, len(answers), misses)
    except Throttled as error:
        return error
    return None


class VerifyFastPath:
    """The accelerator (see the module doc). ``enabled=False`` (or ``LONGSHU_SHARING_FAST_PATH
    =0``): every request goes the normal way."""

    def __init__(self, app: ASGIApp, max_body_bytes: int = MAX_FAST_BODY) -> None:
        self.app = app
        self.max_body = min(max_body_bytes, MAX_FAST_BODY)
        self.enabled = os.environ.get("LONGSHU_SHARING_FAST_PATH", "1") not in ("0", "false")
        self._slots: tuple[asyncio.AbstractEventLoop, asyncio.Semaphore] | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if not self.enabled or scope["type"] != "http" or scope["method"] != "POST":
            await self.app(scope, receive, send)
            return
        match = PATH.fullmatch(scope["path"])
        if match is None or scope.get("root_path"):
            await self.app(scope, receive, send)
            return
        state = scope.setdefault("state", {})
        state[GENERATION] = CACHES.generation
        headers = _header_map(scope)
        length = headers.get(b"content-length", b"") if headers is not None else b""
        if headers is None or not length.isdigit() or int(length) > self.max_body:
            await self.app(scope, receive, send)
            return
        messages: list[Message] = []
        failure: BaseException | None = None
        body = b""
        try:
            while True:
                message = await receive()
                messages.append(message)
                if message["type"] != "http.request":
                    break
                body += message.get("body", b"")
                if not message.get("more_body", False):
                    break
        except Exception as exc:  # handed to the normal path as it came
            failure = exc

        replay = list(messages)

        async def replayed() -> Message:
            if replay:
                return replay.pop(0)
            if failure is not None:
                raise failure
            return await receive()

        answer = None
        if failure is None and messages and messages[-1]["type"] == "http.request":
            try:
                answer = await self._serve(state, headers, body, int(match[1]), bool(match[2]))
            except _FallThrough:
                answer = None
        if answer is None:
            async with self._fall_through_slot():
                await self._normal(scope, state, replayed, send)
            return
        scope["route"] = BATCH_ROUTE if match[2] else SINGLE_ROUTE
        await send(
            {
                "type": "http.response.start",
                "status": 200,
                "headers": [
                    (b"content-length", str(len(answer)).encode()),
                    (b"content-type", b"application/json"),
                ],
            }
        )
        await send({"type": "http.response.body", "body": answer})

    @contextlib.asynccontextmanager
    async def _fall_through_slot(self) -> Any:
        """At most ``FALL_THROUGH_CONCURRENCY`` verification calls of this process on the
        normal path at once; the rest wait here, on the event loop. A burst of fall-throughs
        (every cache expiring together) would otherwise fill the thread pool with calls
        waiting for a database connection while the calls holding the connections wait for a
        thread: stuck until the pool's 30-s timeout (seen at 1,000 req/s)."""
        loop = asyncio.get_running_loop()
        if self._slots is None or self._slots[0] is not loop:
            self._slots = (loop, asyncio.Semaphore(FALL_THROUGH_CONCURRENCY))
        async with self._slots[1]:
            yield

    async def _normal(
        self, scope: Scope, state: dict[str, Any], receive: Receive, send: Send
    ) -> None:
        """The normal path (the FastAPI route); a call that claimed a refresh releases it."""
        claim = state.pop(CLAIM, None)
        if claim is None:
            await self.app(scope, receive, send)
            return
        status = {"code": 500}

        async def noting(message: Message) -> None:
            if message["type"] == "http.response.start":
                status["code"] = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, noting)
        finally:
            CACHES.release(claim, refused=400 <= status["code"] < 500)

    async def _serve(
        self,
        state: dict[str, Any],
        headers: dict[bytes, bytes],
        body: bytes,
        grant_id: int,
        batch: bool,
    ) -> bytes:
        from longshu.security.identity.service import secret_digest

        secret = _secret(headers)
        digest = secret_digest(secret)
        for step in range(WAIT_STEPS + 1):
            now_m = time.monotonic()
            try:
                actor, grant, index = _lookup(state, digest, grant_id, now_m)
                break
            except _Stale:
                # entries that expired (not ones never filled or dropped by an invalidation):
                # one call refreshes them the normal way; the others wait for it a little
                # instead of all crowding onto the normal path (and the database)
                key = (digest, grant_id)
                known = digest in CACHES.tokens and grant_id in CACHES.grants
                if not known or step == WAIT_STEPS:
                    raise _FallThrough from None
                if not CACHES.refreshing(key, now_m) and CACHES.claim_refresh(key, now_m):
                    state[CLAIM] = key
                    raise _FallThrough from None
                await asyncio.sleep(WAIT_STEP)
        keys, names = _items(body, batch)
        # the answers first (pure): malformed input falls through with nothing counted
        try:
            if not batch:
                answers = [index.check(keys[0], names[0])]
            elif len(keys) > THREAD_BATCH:
                answers = await run_in_threadpool(index.check_many, keys, names)
            else:
                answers = index.check_many(keys, names)
        except LongshuError:
            raise _FallThrough from None
        # the limits on the event loop: with Redis most calls spend a leased block without a
        # round trip (ratelimit.LeasedCounters); the rare round trip (~0.1 ms) is not worth a
        # thread-pool hop on every call
        refusal = _admit_and_count(actor, grant_id, grant.rate_per_minute, answers)
        if refusal is not None:
            state[REFUSED] = refusal
            raise _FallThrough
        if not batch:
            return _dumps({"grant": grant_id, "result": answers[0]})
        counts = {a: answers.count(a) for a in verify_service.ANSWERS}
        return _dumps(
            {"grant": grant_id, "count": len(answers), "counts": counts, "results": answers}
        )
