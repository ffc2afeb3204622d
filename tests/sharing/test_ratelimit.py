"""Rate limits (calls a minute per grant and per credential), in this process and shared
through the real Redis at 127.0.0.1:6379; the enumeration guard; the query API's limit and its
daily usage row under concurrent first use (two threads, two connections)."""

from __future__ import annotations

import threading
import uuid

import pytest
from sqlalchemy import select, update
from tests.conftest import bearer_for
from tests.sharing.test_verify_api import API, grant_for, stranger_ids

from longshu.actor import SYSTEM, Actor
from longshu.config import reset_settings
from longshu.lake import tables
from longshu.sharing import ratelimit
from longshu.sharing.models import GrantUsage, ShareGrant
from longshu.sharing.query import QuerySpec, add_usage, run_query, usage_today
from longshu.sharing.verify_api_errors import (
    CredentialRateLimited,
    RateLimited,
    VerifyCoolingDown,
)

APP = Actor(kind="app", id=41, org_id=5, roles=frozenset({"data_consumer"}))
OTHER_APP = Actor(kind="app", id=42, org_id=5, roles=frozenset({"data_consumer"}))


@pytest.fixture
def local(monkeypatch, settings):
    monkeypatch.setenv("LONGSHU_SHARING_LIMITS_BACKEND", "local")
    ratelimit.reset_limits()
    yield
    ratelimit.reset_limits()


@pytest.fixture
def redis_backend(monkeypatch, settings):
    """The limits in the real Redis, under a key prefix of this test's own (removed after)."""
    import redis

    name = f"longshu-test-{uuid.uuid4().hex[:10]}"
    monkeypatch.setenv("LONGSHU_HUEY_BACKEND", "redis")  # auto: Redis with the redis queue
    monkeypatch.setenv("LONGSHU_HUEY_NAME", name)
    monkeypatch.setenv("LONGSHU_SHARING_LIMITS_BACKEND", "auto")
    reset_settings()
    ratelimit.reset_limits()
    client = redis.Redis.from_url("redis://127.0.0.1:6379/0")
    yield name
    for key in client.scan_iter(f"{name}:*"):
        client.delete(key)
    ratelimit.reset_limits()
    reset_settings()


def _window(monkeypatch, minute: int, retry: int = 20) -> None:
    monkeypatch.setattr(
        ratelimit, "current_window", lambda now=None: ratelimit.Window(minute, retry)
    )


# --- calls a minute --------------------------------------------------------------------------


def test_the_grant_limit_counts_every_caller_and_resets_each_minute(local, monkeypatch):
    _window(monkeypatch, 100)
    for _ in range(3):
        ratelimit.admit(APP, 1, 5, mode="verify")
    for _ in range(2):
        ratelimit.admit(OTHER_APP, 1, 5, mode="verify")
    with pytest.raises(RateLimited) as caught:
        ratelimit.admit(APP, 1, 5, mode="verify")
    assert caught.value.status == 429 and caught.value.headers == {"Retry-After": "20"}
    assert caught.value.event is not None and caught.value.event[3]["scope"] == "grant"
    with pytest.raises(RateLimited) as again:
        ratelimit.admit(OTHER_APP, 1, 5, mode="verify")
    assert again.value.event is None or again.value.event[3]["credential"] == "app:42"
    with pytest.raises(RateLimited) as third:
        ratelimit.admit(APP, 1, 5, mode="verify")
    assert third.value.event is None  # one event per window and credential, not per call
    ratelimit.admit(APP, 2, 5, mode="verify")  # another grant has its own count
    _window(monkeypatch, 101)
    ratelimit.admit(APP, 1, 5, mode="verify")


def test_the_credential_limit_spans_its_grants(local, monkeypatch):
    monkeypatch.setenv("LONGSHU_SHARING_CREDENTIAL_PER_MINUTE", "4")
    ratelimit.reset_limits()
    _window(monkeypatch, 200)
    for grant_id in range(1, 5):
        ratelimit.admit(APP, grant_id, 100, mode="query")
    with pytest.raises(CredentialRateLimited) as caught:
        ratelimit.admit(APP, 9, 100, mode="query")
    assert caught.value.event[3]["scope"] == "credential"
    assert caught.value.key == "sharing.credential_rate_limited"
    ratelimit.admit(OTHER_APP, 9, 100, mode="query")


def _process(prefix: str) -> ratelimit.LeasedCounters:
    """Another API process's view of the shared counters: its own client and leases."""
    shared = ratelimit.RedisCounters("redis://127.0.0.1:6379/0", f"{prefix}:sharing:")
    return ratelimit.LeasedCounters(shared, ratelimit.limit_settings())


def test_redis_counters_are_shared_by_processes(redis_backend, monkeypatch):
    _window(monkeypatch, 300)
    assert isinstance(ratelimit.counters(), ratelimit.Fallback)
    first, second = _process(redis_backend), _process(redis_backend)
    # a small limit is leased one call at a time: exact across processes
    assert first.take([("rl:g:7:300", 3)], 70) == ([True], 0)
    assert second.take([("rl:g:7:300", 3)], 70, "eg:cool:7:app:41") == ([True], 0)
    assert 0 < first.shared.client.ttl(f"{redis_backend}:sharing:rl:g:7:300") <= 70
    # admit() through the configured backend sees what the other "processes" counted
    ratelimit.admit(APP, 7, 3, mode="verify")
    with pytest.raises(RateLimited) as caught:
        ratelimit.admit(APP, 7, 3, mode="verify")
    assert caught.value.event is not None
    assert second.once("rl:ev:grant:7:app:41:300", 70) is False  # the event was claimed once
    with pytest.raises(RateLimited) as later:
        ratelimit.admit(OTHER_APP, 7, 3, mode="verify")
    assert later.value.event is not None  # another credential's first refusal is its own


def test_leases_never_admit_more_than_the_limit_and_save_round_trips(redis_backend):
    first, second = _process(redis_backend), _process(redis_backend)
    admitted = {"first": 0, "second": 0}
    for call in range(1500):  # two processes taking turns, well past a limit of 1,000
        name, store = ("first", first) if call % 2 else ("second", second)
        (within,), _ = store.take([("rl:g:8:1", 1000)], 70)
        admitted[name] += within
    assert admitted["first"] + admitted["second"] == 1000
    assert admitted["first"] > 400 and admitted["second"] > 400
    assert first.round_trips + second.round_trips < 60  # not one per call
    calls = first.round_trips
    for _ in range(50):  # refused calls ask Redis nothing more
        assert first.take([("rl:g:8:1", 1000)], 70) == ([False], 0)
    assert first.round_trips == calls


def test_another_process_learns_a_cool_down_within_the_sync_interval(redis_backend, monkeypatch):
    monkeypatch.setenv("LONGSHU_SHARING_SYNC_SECONDS", "0")
    ratelimit.limit_settings.cache_clear()
    first, second = _process(redis_backend), _process(redis_backend)
    cooling = "eg:cool:5:app:41"
    assert second.take([("rl:g:5:1", 100)], 70, cooling) == ([True], 0)
    assert first.once(cooling, 900) is True
    _, left = second.take([("rl:g:5:1", 100)], 70, cooling)
    assert 880 < left <= 900
    assert first.take([("rl:g:5:1", 100)], 70, cooling)[1] > 880  # known at once where it began


def test_guard_counts_of_processes_add_up(redis_backend, monkeypatch):
    monkeypatch.setenv("LONGSHU_SHARING_SYNC_SECONDS", "3600")
    monkeypatch.setenv("LONGSHU_SHARING_GUARD_FLUSH_CHECKS", "100")
    ratelimit.limit_settings.cache_clear()
    first, second = _process(redis_backend), _process(redis_backend)
    first.add_read("eg:p:2", {"checks": 10, "misses": 1}, 600, "eg:p:1")  # sent (first call)
    mine, _ = first.add_read("eg:p:2", {"checks": 20, "misses": 2}, 600, "eg:p:1")  # buffered
    assert mine == {"checks": 30, "misses": 3}
    assert second.add_read("eg:p:2", {"checks": 5, "misses": 5}, 600, "eg:p:1")[0] == {
        "checks": 15,
        "misses": 6,
    }  # its own and what the first had sent
    sent = first.round_trips
    mine, _ = first.add_read("eg:p:2", {"checks": 100, "misses": 0}, 600, "eg:p:1")
    assert first.round_trips == sent + 1  # 120 buffered checks: sent
    assert mine == {"checks": 135, "misses": 8}


def test_without_redis_the_limits_hold_per_process(monkeypatch, settings, caplog):
    monkeypatch.setenv("LONGSHU_SHARING_LIMITS_BACKEND", "redis")
    monkeypatch.setenv("LONGSHU_REDIS_URL", "redis://127.0.0.1:1/0")  # nothing listens
    reset_settings()
    ratelimit.reset_limits()
    _window(monkeypatch, 400)
    try:
        ratelimit.admit(APP, 3, 2, mode="verify")
        ratelimit.admit(APP, 3, 2, mode="verify")
        with pytest.raises(RateLimited):
            ratelimit.admit(APP, 3, 2, mode="verify")
        assert "Redis unavailable" in caplog.text
    finally:
        ratelimit.reset_limits()
        reset_settings()


# --- the enumeration guard -------------------------------------------------------------------


@pytest.mark.parametrize("backend", ["local", "redis"])
def test_a_flood_trips_the_guard_once_and_a_normal_mix_does_not(backend, request):
    request.getfixturevalue("local" if backend == "local" else "redis_backend")
    guard = ratelimit.EnumerationGuard()
    for _ in range(9):  # 900 checks, 30% unmatched: a normal day
        guard.before(OTHER_APP, 5)
        guard.after(OTHER_APP, 5, 100, 30)
    guard.after(APP, 5, 150, 150)  # below the 200 checks the ratio needs
    with pytest.raises(VerifyCoolingDown) as tripped:
        guard.after(APP, 5, 100, 90)
    assert tripped.value.event is not None
    facts = tripped.value.event[3]
    assert (facts["checks"], facts["misses"], facts["credential"]) == (250, 240, "app:41")
    with pytest.raises(VerifyCoolingDown) as waiting:
        guard.before(APP, 5)
    assert waiting.value.event is None and 880 < waiting.value.retry_after <= 900
    with pytest.raises(VerifyCoolingDown):  # admit reads the cool-down in its round trip
        ratelimit.admit(APP, 5, 1000, mode="verify", guarded=True)
    ratelimit.admit(APP, 5, 1000, mode="query")  # the query API is not held
    guard.before(OTHER_APP, 5)  # the other credential is not affected
    guard.before(APP, 6)  # nor the same credential on another grant


def test_guard_thresholds_are_configurable(local, monkeypatch):
    monkeypatch.setenv("LONGSHU_SHARING_GUARD_MIN_CHECKS", "10")
    monkeypatch.setenv("LONGSHU_SHARING_GUARD_MISS_RATIO", "0.9")
    ratelimit.reset_limits()
    guard = ratelimit.EnumerationGuard()
    guard.after(APP, 1, 10, 8)  # 80% < 90%
    with pytest.raises(VerifyCoolingDown):
        guard.after(APP, 1, 10, 10)  # 18 of 20


# --- the query API: its limit and its daily usage row -------------------------------------------


@pytest.fixture
def query_grant(client, db, make_user, orgs, make_population, population_rows, local):
    """A query grant on 60 residents (无条件共享) held by the transport department."""
    resource_id, table, _ = make_population("census", "unconditional")
    with db.session() as s:
        tables.write_version(s, SYSTEM, table, population_rows(60))
    user = make_user("jt3", "data_consumer", org_id=orgs["transport"])
    headers = bearer_for(db, user)
    grant_id = grant_for(client, headers, resource_id, modes=("query",), fields=("xm", "xzqh"))
    actor = Actor(kind="user", id=user.id, org_id=orgs["transport"],
                  roles=frozenset({"data_consumer"}))  # fmt: skip
    return grant_id, headers, actor


def test_the_query_api_is_rate_limited(client, db, query_grant, monkeypatch):
    grant_id, headers, _ = query_grant
    with db.session() as s:
        s.execute(update(ShareGrant).where(ShareGrant.id == grant_id).values(rate_per_minute=2))
    _window(monkeypatch, 500)
    codes = [
        client.post(f"{API}/grants/{grant_id}/query", json={"limit": 5}, headers=headers)
        for _ in range(4)
    ]
    assert [c.status_code for c in codes] == [200, 200, 429, 429]
    assert codes[2].json()["error"]["key"] == "sharing.rate_limited"
    assert codes[2].headers["Retry-After"] == "20"
    with db.session() as s:
        usage = s.scalar(select(GrantUsage).where(GrantUsage.grant_id == grant_id))
        assert (usage.calls, usage.rows) == (2, 10)  # refused calls read nothing
        from longshu.events import Event

        limited = s.scalars(select(Event).where(Event.type == "sharing.rate_limited")).all()
        assert len(limited) == 1 and limited[0].payload["mode"] == "query"


def _in_thread(db, work, barrier, errors, results):
    def run() -> None:
        try:
            barrier.wait(timeout=30)
            with db.sessionmaker() as session:
                if db.engine.dialect.name == "sqlite":  # what every API write request does
                    session.connection(execution_options={"sqlite_immediate": True})
                results.append(work(session))
                session.commit()
        except Exception as exc:
            errors.append(exc)

    return threading.Thread(target=run)


def test_two_first_queries_of_the_day_both_succeed(db, query_grant):
    grant_id, _, actor = query_grant
    barrier, errors, results = threading.Barrier(2), [], []
    spec = QuerySpec(fields=("xm",), limit=7)
    threads = [
        _in_thread(
            db, lambda s: run_query(s, actor, grant_id, spec)[1]["count"], barrier, errors, results
        )
        for _ in range(2)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == [] and results == [7, 7]
    with db.session() as s:
        rows = s.scalars(select(GrantUsage).where(GrantUsage.grant_id == grant_id)).all()
        assert [(u.calls, u.rows) for u in rows] == [(2, 14)]


def test_concurrent_usage_counts_are_never_lost(db, query_grant):
    grant_id, _, _ = query_grant
    barrier, errors, results = threading.Barrier(4), [], []

    def count(session):
        for _ in range(5):
            add_usage(session, grant_id, calls=1, checks=10)
        return usage_today(session, grant_id).id

    threads = [_in_thread(db, count, barrier, errors, results) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == [] and len(set(results)) == 1
    with db.session() as s:
        usage = s.scalar(select(GrantUsage).where(GrantUsage.grant_id == grant_id))
        assert (usage.calls, usage.checks) == (20, 200)


def test_stranger_ids_are_valid_and_distinct():
    found = stranger_ids(50)
    assert len(set(found)) == 50 and all(len(n) == 18 for n in found)


def test_a_cool_down_is_never_reported_a_second_longer_than_it_is(redis_backend):
    """(now + 900) - now is 900.0000000000001 for some clock readings (1.4 % of them): the
    seconds left were once reported as 901."""
    store = _process(redis_backend)
    now = 1008.1640000000001
    store._cooling["eg:cool:1:app:41"] = (now + 900, now)
    assert store._cool_left("eg:cool:1:app:41", now) == 900
