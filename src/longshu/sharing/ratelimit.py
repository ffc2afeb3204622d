"""Rate limits of share grants and the enumeration guard of verification (核验).

**Calls a minute** (``admit``): fixed one-minute windows (UTC minute boundaries, the same in
every process), two counters a call:

- the grant: every caller of the grant together, at most ``grant.rate_per_minute``;
- the calling credential (the actor: ``app:<id>`` or ``user:<id>``) across all its grants,
  at most ``LONGSHU_SHARING_CREDENTIAL_PER_MINUTE`` (60,000).

A refused call still counts in its window (in this process's counters; shared through Redis,
a process that knows the window is used up asks Redis nothing more). Over a limit: ``RateLimited`` (429) with
``Retry-After`` = seconds to the next minute, and one ``sharing.rate_limited`` event per
counter and window (not one per refused call).

**Enumeration guard** (``EnumerationGuard``, verification only): the checks and the unmatched
ones (``no_match`` + ``not_found``) of each (grant, credential) over a sliding
``window_seconds`` (two fixed windows, the older weighted by its share still inside); when at least ``min_checks`` were made
and ``miss_ratio`` of them missed, ``sharing.verify_alarm`` is emitted (an alert monitoring
subscribes to) and the pair is refused (``VerifyCoolingDown``, 429 with ``Retry-After``) for
``cooldown_seconds``, the call that tripped it included. One alarm per cool-down.

**Where the counters live**: in this process by default; in Redis (``settings.redis_url``,
keys under ``<huey_name>:sharing:``) when ``LONGSHU_SHARING_LIMITS_BACKEND=redis``, or
``auto`` (the default) with ``LONGSHU_HUEY_BACKEND=redis`` — then every API process shares
them through ``LeasedCounters``: a process leases a block of a window's calls from Redis and
spends it locally, and buffers the guard's counts, so most calls make no round trip (the
limits stay exact — a grant never gets more than its rate — and small limits lease one call
at a time). If Redis fails, the process falls back to its own counters (logged) and retries
Redis after ``redis_retry_seconds``: limits then hold per process, never not at all."""

from __future__ import annotations

import logging
import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Protocol

from pydantic_settings import BaseSettings, SettingsConfigDict
from sqlalchemy.orm import Session

from longshu import events
from longshu.actor import Actor
from longshu.config import get_settings
from longshu.sharing.verify_api_errors import (
    CredentialRateLimited,
    RateLimited,
    Throttled,
    VerifyCoolingDown,
)

log = logging.getLogger("longshu.sharing.limits")

RATE_LIMITED = events.define(
    "sharing.rate_limited", "共享调用超出频率限制", "Share call rate limited"
)
VERIFY_ALARM = events.define(
    "sharing.verify_alarm", "核验未匹配比例异常（疑似枚举）", "Verification miss ratio alarm"
)


class LimitSettings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="LONGSHU_SHARING_", env_file=".env", extra="ignore"
    )

    limits_backend: str = "auto"  # auto | local | redis
    credential_per_minute: int = 60_000
    guard_window_seconds: int = 300
    guard_min_checks: int = 200
    guard_miss_ratio: float = 0.5
    guard_cooldown_seconds: int = 900
    redis_retry_seconds: int = 30
    # shared counters (LeasedCounters): a lease is at most lease_max calls and at most
    # 1/lease_share of what the window has left, so near the limit leases shrink to one call
    lease_max: int = 100
    lease_share: int = 8
    # a process learns another's cool-down, and sends its guard counts, at least this often
    sync_seconds: float = 1.0
    guard_flush_checks: int = 100


@lru_cache
def limit_settings() -> LimitSettings:
    return LimitSettings()


def credential_of(actor: Actor) -> str:
    """The calling credential's name in counters and events (ids only, no personal data)."""
    return f"{actor.kind}:{actor.id if actor.id is not None else 0}"


# --- counters --------------------------------------------------------------------------------


class Counters(Protocol):
    def take(
        self, limits: list[tuple[str, int]], ttl: int, peek: str | None = None
    ) -> tuple[list[bool], int]:
        """Count one call under each (key, limit) (keys made with ``ttl``): whether each is
        still within its limit; and the seconds ``peek`` has left."""

    def once(self, key: str, ttl: int) -> bool:
        """True for the first caller while ``key`` lives."""

    def ttl(self, key: str) -> int: ...

    def add_read(
        self, key: str, values: dict[str, int], ttl: int, other: str
    ) -> tuple[dict[str, int], dict[str, int]]:
        """Add ``values`` to the counts under ``key``; its counts and those under ``other``."""


class LocalCounters:
    """Counters of this process (thread-safe), each with its expiry."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._values: dict[str, tuple[float, Any]] = {}
        self._purged = time.monotonic()

    def _purge(self, now: float) -> None:
        if now - self._purged > 30:
            self._values = {k: v for k, v in self._values.items() if v[0] > now}
            self._purged = now

    def _get(self, key: str, now: float) -> Any:
        found = self._values.get(key)
        return found[1] if found and found[0] > now else None

    def take(
        self, limits: list[tuple[str, int]], ttl: int, peek: str | None = None
    ) -> tuple[list[bool], int]:
        now = time.monotonic()
        out = []
        with self._lock:
            self._purge(now)
            for key, limit in limits:
                found = self._values.get(key)
                if found and found[0] > now:
                    value = found[1] + 1
                    self._values[key] = (found[0], value)
                else:
                    value = 1
                    self._values[key] = (now + ttl, 1)
                out.append(value <= limit)
            left = self._values.get(peek) if peek else None
        return out, int(left[0] - now) + 1 if left and left[0] > now else 0

    def value(self, key: str) -> int:
        """What ``key`` counts now (0 when absent or expired)."""
        with self._lock:
            return self._get(key, time.monotonic()) or 0

    def once(self, key: str, ttl: int) -> bool:
        now = time.monotonic()
        with self._lock:
            if self._get(key, now) is not None:
                return False
            self._values[key] = (now + ttl, 1)
            return True

    def ttl(self, key: str) -> int:
        now = time.monotonic()
        with self._lock:
            found = self._values.get(key)
            return int(found[0] - now) + 1 if found and found[0] > now else 0

    def add_read(
        self, key: str, values: dict[str, int], ttl: int, other: str
    ) -> tuple[dict[str, int], dict[str, int]]:
        now = time.monotonic()
        with self._lock:
            found = self._get(key, now)
            merged = dict(found) if found else {}
            for name, value in values.items():
                merged[name] = merged.get(name, 0) + value
            expires = self._values[key][0] if found else now + ttl
            self._values[key] = (expires, merged)
            return dict(merged), dict(self._get(other, now) or {})


class RedisCounters:
    """The counters' round trips to Redis (one pipeline each), shared by every API process.
    ``LeasedCounters`` decides when a round trip is needed."""

    def __init__(self, url: str, prefix: str) -> None:
        import redis

        self.prefix = prefix
        self.client = redis.Redis.from_url(url, socket_timeout=0.5, socket_connect_timeout=0.5)

    def lease(
        self, blocks: list[tuple[str, int]], ttl: int, peek: str | None = None
    ) -> tuple[list[int], int]:
        """Add each block's size to its key (made with ``ttl``): the keys' new totals; and
        the seconds ``peek`` has left."""
        pipe = self.client.pipeline(transaction=False)
        for key, size in blocks:
            pipe.incrby(self.prefix + key, size)
            pipe.expire(self.prefix + key, ttl, nx=True)
        if peek:
            pipe.ttl(self.prefix + peek)
        replies = pipe.execute()
        left = int(replies[-1]) if peek else 0
        return [int(v) for v in replies[0 : 2 * len(blocks) : 2]], max(left, 0)

    def once(self, key: str, ttl: int) -> bool:
        return bool(self.client.set(self.prefix + key, 1, nx=True, ex=ttl))

    def ttl(self, key: str) -> int:
        left = int(self.client.ttl(self.prefix + key))
        return left if left > 0 else 0

    def add_read(
        self, key: str, values: dict[str, int], ttl: int, other: str
    ) -> tuple[dict[str, int], dict[str, int]]:
        names = list(values)
        pipe = self.client.pipeline(transaction=False)
        for name in names:
            pipe.hincrby(self.prefix + key, name, values[name])
        pipe.expire(self.prefix + key, ttl, nx=True)
        pipe.hmget(self.prefix + other, names)
        replies = pipe.execute()
        mine = {name: int(v) for name, v in zip(names, replies[: len(names)], strict=True)}
        theirs = {name: int(v or 0) for name, v in zip(names, replies[-1], strict=True)}
        return mine, theirs


@dataclass
class _Lease:
    left: int = 0  # calls of this process's blocks not spent yet
    total: int = 0  # the key's total in Redis at the last lease (every process's blocks)
    until: float = 0.0  # when this entry may be forgotten (monotonic)


@dataclass
class _Buffered:
    pending: dict[str, int]  # counted here, not yet sent
    known: dict[str, int]  # the key's counts in Redis at the last round trip
    other: dict[str, int]  # the other key's
    sent: float  # when they were sent (monotonic)
    until: float


class LeasedCounters:
    """Shared counters with few round trips (the token-bucket lease pattern of distributed
    rate limiters):

    - ``take``: each process leases a block of a window's calls (``INCRBY`` of the block's
      size, atomic in Redis) and admits calls from it without asking Redis again. The blocks of
      all processes never exceed the limit by more than the last, refused, part of one block,
      so no more than ``limit`` calls are admitted in a window. A block is at most
      ``lease_max`` and at most 1/``lease_share`` of what is left, so small limits (and the end
      of any window) lease one call at a time: exact. Calls a process leased and did not spend
      are lost to the others for that window (at most one block a process).
    - the cool-down (``peek``) is read with every lease and at least every ``sync_seconds``;
      a cool-down this process started is known at once.
    - ``add_read`` (the guard): counts are buffered and sent every ``guard_flush_checks``
      checks or ``sync_seconds``; the answer is Redis's counts at the last send plus this
      process's since, so a single process's flood is judged exactly, and floods spread over
      processes within one send.
    - ``once`` remembers keys it saw taken (no round trip for the next refused call)."""

    def __init__(self, shared: RedisCounters, settings: LimitSettings) -> None:
        self.shared, self.settings = shared, settings
        self._lock = threading.Lock()
        self._leases: dict[str, _Lease] = {}
        self._buffered: dict[str, _Buffered] = {}
        self._cooling: dict[str, tuple[float, float]] = {}  # key: (ends, read at), monotonic
        self._taken: dict[str, float] = {}  # once() keys known taken: until
        self._purged = time.monotonic()
        self.round_trips = 0

    def _purge(self, now: float) -> None:
        if now - self._purged > 30:
            for table in (self._leases, self._buffered):
                for key in [k for k, v in table.items() if v.until <= now]:  # type: ignore[attr-defined]
                    del table[key]
            self._taken = {k: v for k, v in self._taken.items() if v > now}
            self._cooling = {k: v for k, v in self._cooling.items() if v[0] > now - 60}
            self._purged = now

    def _block(self, lease: _Lease, limit: int) -> int:
        left = limit - lease.total
        return max(1, min(self.settings.lease_max, left // max(1, self.settings.lease_share)))

    def _cool_left(self, key: str, now: float) -> int:
        found = self._cooling.get(key)
        # (now + ttl) - now may come back a hair above ttl in floating point: not a second more
        return max(1, math.ceil(found[0] - now - 1e-6)) if found and found[0] > now else 0

    def _cool_stale(self, key: str, now: float) -> bool:
        found = self._cooling.get(key)
        return found is None or (found[0] <= now and now - found[1] >= self.settings.sync_seconds)

    def take(
        self, limits: list[tuple[str, int]], ttl: int, peek: str | None = None
    ) -> tuple[list[bool], int]:
        now = time.monotonic()
        with self._lock:
            self._purge(now)
            leases = [self._leases.setdefault(k, _Lease(until=now + ttl)) for k, _ in limits]
            blocks = [
                (key, self._block(lease, limit))
                for (key, limit), lease in zip(limits, leases, strict=True)
                if lease.left == 0 and lease.total < limit
            ]
            if blocks or (peek and self._cool_stale(peek, now)):
                self.round_trips += 1
                totals, cool = self.shared.lease(blocks, ttl, peek)
                limit_of = dict(limits)
                for (key, size), total in zip(blocks, totals, strict=True):
                    lease = self._leases[key]
                    limit = limit_of[key]
                    lease.left += max(0, min(size, limit - (total - size)))
                    lease.total = total
                if peek:
                    self._cooling[peek] = (now + cool if cool else now, now)
            admitted = []
            for lease in leases:
                admitted.append(lease.left > 0)
                lease.left = max(0, lease.left - 1)
            return admitted, self._cool_left(peek, now) if peek else 0

    def once(self, key: str, ttl: int) -> bool:
        now = time.monotonic()
        with self._lock:
            if self._taken.get(key, 0) > now:
                return False
        first = self.shared.once(key, ttl)
        with self._lock:
            self.round_trips += 1
            self._taken[key] = now + ttl
            if first and key.startswith("eg:cool:"):
                self._cooling[key] = (now + ttl, now)
        return first

    def ttl(self, key: str) -> int:
        now = time.monotonic()
        with self._lock:
            if key in self._cooling and not self._cool_stale(key, now):
                return self._cool_left(key, now)
        left = self.shared.ttl(key)
        with self._lock:
            self.round_trips += 1
            self._cooling[key] = (now + left if left else now, now)
        return left

    def add_read(
        self, key: str, values: dict[str, int], ttl: int, other: str
    ) -> tuple[dict[str, int], dict[str, int]]:
        now = time.monotonic()
        s = self.settings
        with self._lock:
            found = self._buffered.get(key)
            if found is None:
                found = _Buffered({}, {}, {}, float("-inf"), now + ttl)
                self._buffered[key] = found
            for name, value in values.items():
                found.pending[name] = found.pending.get(name, 0) + value
            if (
                now - found.sent >= s.sync_seconds
                or found.pending.get("checks", 0) >= s.guard_flush_checks
            ):
                self.round_trips += 1
                known, other_counts = self.shared.add_read(key, found.pending, ttl, other)
                found.known, found.other, found.pending, found.sent = known, other_counts, {}, now
            mine = {
                name: found.known.get(name, 0) + found.pending.get(name, 0)
                for name in set(found.known) | set(found.pending)
            }
            return mine, dict(found.other)


class Fallback:
    """Shared counters that fall back to this process's own when Redis fails."""

    def __init__(self, primary: LeasedCounters, local: LocalCounters, retry: int) -> None:
        self.primary, self.local, self.retry = primary, local, retry
        self._down_until = 0.0

    def __getattr__(self, name: str) -> Callable[..., Any]:
        import redis

        def call(*args: Any) -> Any:
            if time.monotonic() >= self._down_until:
                try:
                    return getattr(self.primary, name)(*args)
                except redis.RedisError:
                    self._down_until = time.monotonic() + self.retry
                    log.warning("rate limit counters: Redis unavailable, using this process's")
            return getattr(self.local, name)(*args)

        return call


_counters: dict[tuple[str, str, str], Counters] = {}
_counters_lock = threading.Lock()


def counters() -> Counters:
    """This process's counters for the configured backend (made once per configuration)."""
    settings = get_settings()
    chosen = limit_settings().limits_backend
    if chosen == "auto":
        chosen = "redis" if settings.huey_backend == "redis" else "local"
    prefix = f"{settings.huey_name}:sharing:"
    key = (chosen, settings.redis_url if chosen == "redis" else "", prefix)
    found = _counters.get(key)
    if found is None:
        with _counters_lock:
            found = _counters.get(key)
            if found is None:
                local = LocalCounters()
                found = (
                    Fallback(
                        LeasedCounters(RedisCounters(settings.redis_url, prefix), limit_settings()),
                        local,
                        limit_settings().redis_retry_seconds,
                    )
                    if chosen == "redis"
                    else local
                )  # type: ignore[assignment]
                _counters[key] = found  # type: ignore[assignment]
    return found  # type: ignore[return-value]


def reset_limits() -> None:
    """Forget counters and settings (tests change the environment)."""
    with _counters_lock:
        _counters.clear()
    limit_settings.cache_clear()


def record_refusal(session: Session, error: Throttled) -> None:
    """Undo the refused call's work and record its pending event (if this refusal is the
    first of its window) in ``session``, committed at once. Called by the services that
    admit calls, so the record never waits on the call's own transaction (SQLite: one
    writer) and survives the refusal."""
    session.rollback()
    if error.event is not None:
        type_, actor, subject, facts = error.event
        events.emit(session, type_, actor, subject=subject, **facts)
        session.commit()


# --- calls a minute --------------------------------------------------------------------------


@dataclass(frozen=True)
class Window:
    minute: int  # minutes since 1970-01-01 UTC
    retry_after: int  # seconds to the next window


def current_window(now: float | None = None) -> Window:
    now = time.time() if now is None else now
    minute = int(now // 60)
    return Window(minute, max(1, int((minute + 1) * 60 - now + 0.999)))


def admit(
    actor: Actor, grant_id: int, rate_per_minute: int, *, mode: str, guarded: bool = False
) -> None:
    """Count one call of ``actor`` on grant ``grant_id``; ``RateLimited`` over either limit.
    ``guarded`` (verification): also ``VerifyCoolingDown`` while the enumeration guard holds
    the pair, read in the same round trip."""
    window = current_window()
    credential = credential_of(actor)
    per_credential = limit_settings().credential_per_minute
    store = counters()
    cooling = f"eg:cool:{grant_id}:{credential}" if guarded else None
    (grant_ok, credential_ok), cool_left = store.take(
        [
            (f"rl:g:{grant_id}:{window.minute}", rate_per_minute),
            (f"rl:c:{credential}:{window.minute}", per_credential),
        ],
        70,
        cooling,
    )
    if cool_left > 0:
        raise VerifyCoolingDown(cool_left, grant=grant_id)
    for scope, within, limit in (
        ("grant", grant_ok, rate_per_minute),
        ("credential", credential_ok, per_credential),
    ):
        if not within:
            error: RateLimited = (
                RateLimited(window.retry_after, grant=grant_id, limit=limit)
                if scope == "grant"
                else CredentialRateLimited(window.retry_after, limit=limit)
            )
            if store.once(f"rl:ev:{scope}:{grant_id}:{credential}:{window.minute}", 70):
                error.event = (
                    RATE_LIMITED, actor, ("sharing_grant", grant_id),
                    {"scope": scope, "limit": limit, "mode": mode, "credential": credential,
                     "window_minute": window.minute},
                )  # fmt: skip
            raise error


# --- enumeration guard -----------------------------------------------------------------------


class EnumerationGuard:
    """Miss ratio per (grant, credential) over a sliding window, approximated by two fixed
    windows of ``window_seconds``: the previous one's counts weighted by the share of it still
    inside the sliding window, plus the current one's (one round trip a call)."""

    def __init__(self, settings: LimitSettings | None = None) -> None:
        self.settings = settings or limit_settings()

    def _pair(self, grant_id: int, actor: Actor) -> str:
        return f"{grant_id}:{credential_of(actor)}"

    def before(self, actor: Actor, grant_id: int) -> None:
        """``VerifyCoolingDown`` while the pair is cooling down after an alarm."""
        left = counters().ttl(f"eg:cool:{self._pair(grant_id, actor)}")
        if left > 0:
            raise VerifyCoolingDown(left, grant=grant_id)

    def seen(self, actor: Actor, grant_id: int, checks: int, misses: int) -> dict[str, float]:
        """Count a call's checks; the (weighted) checks and misses in the sliding window."""
        s = self.settings
        width = max(1, s.guard_window_seconds)
        now = time.time()
        window = int(now // width)
        pair = self._pair(grant_id, actor)
        current, previous = counters().add_read(
            f"eg:{pair}:{window}", {"checks": checks, "misses": misses}, 2 * width + 5,
            f"eg:{pair}:{window - 1}",
        )  # fmt: skip
        weight = 1 - (now - window * width) / width
        return {
            name: current.get(name, 0) + weight * previous.get(name, 0)
            for name in ("checks", "misses")
        }

    def after(self, actor: Actor, grant_id: int, checks: int, misses: int) -> None:
        """Count a call's checks; over the threshold: alarm (once) and ``VerifyCoolingDown``."""
        s = self.settings
        seen = self.seen(actor, grant_id, checks, misses)
        if (
            seen["checks"] < s.guard_min_checks
            or seen["misses"] < s.guard_miss_ratio * seen["checks"]
        ):
            return
        store = counters()
        pair = self._pair(grant_id, actor)
        first = store.once(f"eg:cool:{pair}", s.guard_cooldown_seconds)
        error = VerifyCoolingDown(
            store.ttl(f"eg:cool:{pair}") or s.guard_cooldown_seconds, grant=grant_id
        )
        if first:
            error.event = (
                VERIFY_ALARM, actor, ("sharing_grant", grant_id),
                {"credential": credential_of(actor), "checks": round(seen["checks"]),
                 "misses": round(seen["misses"]),
                 "miss_ratio": round(seen["misses"] / seen["checks"], 3),
                 "window_seconds": s.guard_window_seconds, "threshold": s.guard_miss_ratio,
                 "min_checks": s.guard_min_checks, "cooldown_seconds": s.guard_cooldown_seconds},
            )  # fmt: skip
        raise error
