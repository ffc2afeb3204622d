"""The verification fast path (``verify_fast``): it answers exactly as the normal path does,
only the fully valid bearer-token case, stops at once on a revocation in this process (and
within its TTL otherwise), and hands every refusal to the normal path."""

from __future__ import annotations

import datetime as dt
import threading
import time

import pytest
from sqlalchemy import select, update
from tests.conftest import bearer_for
from tests.sharing import test_verify_api as base

from longshu.actor import SYSTEM
from longshu.security.identity import service as identity
from longshu.security.identity.models import ApiToken
from longshu.sharing import credentials, ratelimit, verify_fast, verify_service
from longshu.sharing.models import ShareGrant

API = "/api/v1/sharing"
# the verification tests' fixtures (fresh limits and usage for each test; people; parties)
_fresh_limits, people, parties = base._fresh_limits, base.people, base.parties
_bureau, batch, check, grant_for = base._bureau, base.batch, base.check, base.grant_for
set_up_and_build, stranger_ids = base.set_up_and_build, base.stranger_ids
VOLATILE = {"x-request-id", "set-cookie", "date"}


@pytest.fixture(autouse=True)
def _fresh_fast(monkeypatch):
    verify_fast.clear()
    yield
    verify_fast.clear()


@pytest.fixture
def normal_calls(monkeypatch):
    """How many calls reached the normal path's service (the fast path never calls it)."""
    calls = []
    real = verify_service.verify

    def spy(*args, **kwargs):
        calls.append(kwargs.get("refused"))
        return real(*args, **kwargs)

    monkeypatch.setattr(verify_service, "verify", spy)
    return calls


@pytest.fixture
def served(client, people, parties):
    """Index built and a verify grant held by the transport department."""
    set_up_and_build(client, parties["provider"], people["resource"])
    return grant_for(client, parties["holder"], people["resource"])


def _same(a, b, body: bool = True) -> None:
    assert a.status_code == b.status_code
    assert a.content == b.content or not body
    assert {k: v for k, v in a.headers.items() if k not in VOLATILE} == {
        k: v for k, v in b.headers.items() if k not in VOLATILE
    }


def _app_token(db, name, org_id):
    with db.session() as s:
        app = identity.create_app_credential(s, SYSTEM, name, org_id, ("data_consumer",))
        _, secret = identity.create_token(s, SYSTEM, name, ["*"], app=app)
        return app.id, {"Authorization": f"Bearer {secret}"}


# --- the same answers ----------------------------------------------------------------------------


def test_fast_answers_are_the_normal_answers_byte_for_byte(
    client, people, parties, served, normal_calls
):
    holder, grant_id = parties["holder"], served
    numbers, names = people["ids"], people["names"]
    other_name = next(n for n in names if n != names[5])
    unknown = stranger_ids(1)[0]
    cases = [(numbers[5], names[5]), (numbers[5], other_name), (unknown, names[5])]
    for key, name in cases:
        verify_fast.clear()
        normal = check(client, holder, grant_id, key, name)
        assert len(normal_calls) == 1
        fast = check(client, holder, grant_id, key, name)
        assert len(normal_calls) == 1, "the second call is served fast"
        _same(normal, fast)
        normal_calls.clear()
    assert [check(client, holder, grant_id, k, n).json()["result"] for k, n in cases] == [
        "match", "no_match", "not_found",
    ]  # fmt: skip
    # 120 (the threadpool path as well), mostly matches: the guard stays quiet
    keys = [numbers[0], numbers[1], unknown, *numbers[3:120]]
    attrs = [names[0], other_name if names[1] != other_name else names[5], "张三", *names[3:120]]
    for size in (3, 120):
        verify_fast.clear()
        normal = batch(client, holder, grant_id, keys[:size], attrs[:size])
        fast = batch(client, holder, grant_id, keys[:size], attrs[:size])
        assert len(normal_calls) == 1
        _same(normal, fast)
        assert fast.json()["results"][:3] == ["match", "no_match", "not_found"]
        normal_calls.clear()
    # the platform's headers are there on a fast answer
    fast = check(client, holder, grant_id, numbers[5], names[5])
    assert normal_calls == []
    assert fast.headers["x-frame-options"] == "DENY" and len(fast.headers["x-request-id"]) >= 8
    asked = client.post(f"{API}/grants/{grant_id}/verify", json={"key": numbers[5], "name": names[5]},
                        headers=holder | {"X-Request-Id": "fast-path-0001"})  # fmt: skip
    assert asked.headers["x-request-id"] == "fast-path-0001" and normal_calls == []


def test_usage_is_counted_once_per_call(client, people, parties, served, normal_calls):
    holder, grant_id = parties["holder"], served
    numbers, names = people["ids"], people["names"]
    for i in range(5):
        check(client, holder, grant_id, numbers[i], names[i])
    batch(client, holder, grant_id, numbers[:10], names[:10])
    assert len(normal_calls) == 1  # the first; the rest fast
    verify_fast.clear()
    check(client, holder, grant_id, numbers[9], names[9])  # normal again
    use = verify_service.USAGE.pending()[grant_id]
    assert (use.calls, use.checks, use.answers["match"]) == (7, 16, 16)


# --- what falls through -------------------------------------------------------------------------


def test_cookie_sessions_and_signed_requests_fall_through(
    client, people, parties, served, normal_calls
):
    holder, grant_id = parties["holder"], served
    key, name = people["ids"][0], people["names"][0]
    check(client, holder, grant_id, key, name)
    assert len(normal_calls) == 1
    with_session = client.post(f"{API}/grants/{grant_id}/verify", json={"key": key, "name": name},
                               headers=holder | {"Cookie": "longshu_session=abc"})  # fmt: skip
    assert with_session.status_code == 200 and len(normal_calls) == 2
    two_cookies = client.post(f"{API}/grants/{grant_id}/verify", json={"key": key, "name": name},
                              headers=[("Authorization", holder["Authorization"]),
                                       ("Cookie", "longshu_session=abc"), ("Cookie", "a=b")])  # fmt: skip
    assert two_cookies.status_code == 200 and len(normal_calls) == 3
    signed = client.post(f"{API}/grants/{grant_id}/verify", json={"key": key, "name": name},
                         headers=holder | {"X-Longshu-Signature": "LONGSHU-SM2 junk"})  # fmt: skip
    assert signed.status_code == 401  # the normal path refuses the malformed signature
    no_bearer = client.post(f"{API}/grants/{grant_id}/verify", json={"key": key, "name": name})
    assert no_bearer.status_code == 401
    text_body = client.post(f"{API}/grants/{grant_id}/verify", headers=holder | {
        "Content-Type": "text/plain"}, content=f'{{"key": "{key}", "name": "{name}"}}')  # fmt: skip
    assert len(normal_calls) == 3  # refused before the service
    assert text_body.status_code == 422
    # a well-formed bearer call is still fast
    assert check(client, holder, grant_id, key, name).status_code == 200
    assert len(normal_calls) == 3


@pytest.mark.parametrize(
    "body",
    [
        b"{not json",
        b"[]",
        b'{"key": 1, "name": "x"}',
        b'{"key": "' + b"1" * 101 + b'", "name": "x"}',
        b'{"name": "x"}',
    ],
)
def test_a_malformed_body_falls_through_to_the_same_422(
    client, people, parties, served, normal_calls, body
):
    holder, grant_id = parties["holder"], served
    check(client, holder, grant_id, people["ids"][0], people["names"][0])
    headers = holder | {"Content-Type": "application/json"}
    fast_try = client.post(f"{API}/grants/{grant_id}/verify", content=body, headers=headers)
    verify_fast.clear()
    normal = client.post(f"{API}/grants/{grant_id}/verify", content=body, headers=headers)
    assert fast_try.status_code == 422
    _same(fast_try, normal, body=False)
    assert {**fast_try.json(), "request_id": ""} == {**normal.json(), "request_id": ""}


def test_malformed_keys_fall_through_uncounted_by_the_fast_path(
    client, people, parties, served, normal_calls
):
    holder, grant_id = parties["holder"], served
    check(client, holder, grant_id, people["ids"][0], people["names"][0])
    bad = check(client, holder, grant_id, "12345", "王伟")
    assert bad.status_code == 422 and len(normal_calls) == 2
    wrong = batch(client, holder, grant_id, [people["ids"][0], "x"], ["王伟", "王伟"])
    assert wrong.status_code == 422 and len(normal_calls) == 3
    assert wrong.json()["error"]["problems"][0]["position"] == 1
    empty = client.post(f"{API}/grants/{grant_id}/verify/batch", json={"items": []},
                        headers=holder)  # fmt: skip
    assert empty.status_code == 422
    big = batch(client, holder, grant_id, [people["ids"][0]] * 1001, ["王伟"] * 1001)
    assert big.status_code == 413 or big.status_code == 422
    assert len(normal_calls) == 4  # the over-long batch reached the service; the empty did not
    use = verify_service.USAGE.pending()[grant_id]
    assert use.calls == 1  # only the first, good call is counted as used


def test_another_departments_token_never_gets_a_cached_answer(
    client, db, people, parties, served, normal_calls
):
    holder, other, grant_id = parties["holder"], parties["other"], served
    key, name = people["ids"][0], people["names"][0]
    theirs = grant_for(client, other, people["resource"])  # health's own grant
    assert check(client, other, theirs, key, name).status_code == 200
    assert check(client, holder, grant_id, key, name).status_code == 200
    assert check(client, other, theirs, key, name).status_code == 200  # both cached now
    calls = len(normal_calls)
    for _ in range(2):
        refused = check(client, other, grant_id, key, name)
        assert refused.status_code == 403
        assert refused.json()["error"]["key"] == "sharing.verify.not_holder"
    assert len(normal_calls) == calls + 2
    provider = check(client, parties["provider"], grant_id, key, name)
    assert provider.status_code == 403


# --- revocation ---------------------------------------------------------------------------------


def test_a_revoked_grant_stops_at_once(client, db, people, parties, served, normal_calls):
    holder, grant_id = parties["holder"], served
    key, name = people["ids"][0], people["names"][0]
    check(client, holder, grant_id, key, name)
    assert check(client, holder, grant_id, key, name).status_code == 200
    assert len(normal_calls) == 1
    revoked = client.post(f"{API}/grants/{grant_id}/revoke", json={"reason": "场景结束"},
                          headers=bearer_for(db, _bureau(db)))  # fmt: skip
    assert revoked.status_code == 200
    after = check(client, holder, grant_id, key, name)
    assert after.status_code == 403 and after.json()["error"]["key"] == "sharing.grant_inactive"


def test_a_grant_changed_without_an_event_stops_within_its_ttl(
    client, db, people, parties, served, normal_calls, monkeypatch
):
    monkeypatch.setenv("LONGSHU_SHARING_FAST_GRANT_TTL", "0.3")
    holder, grant_id = parties["holder"], served
    key, name = people["ids"][0], people["names"][0]
    check(client, holder, grant_id, key, name)
    with db.session() as s:  # another process revoked it (no event seen here)
        s.execute(update(ShareGrant).where(ShareGrant.id == grant_id).values(status="revoked"))
    started = time.monotonic()
    while time.monotonic() - started < 1.5:
        answer = check(client, holder, grant_id, key, name)
        if answer.status_code == 403:
            break
        time.sleep(0.05)
    assert answer.status_code == 403 and answer.json()["error"]["key"] == "sharing.grant_inactive"
    assert time.monotonic() - started < 1.0  # within the TTL (0.3 s), with room for a slow run


def test_an_expired_grant_stops_at_its_expiry_even_when_cached(
    client, db, people, parties, served, normal_calls
):
    holder, grant_id = parties["holder"], served
    key, name = people["ids"][0], people["names"][0]
    check(client, holder, grant_id, key, name)
    facts = verify_fast.CACHES.grants[grant_id]
    # the cached expiry passes (as if the clock reached valid_until)
    verify_fast.CACHES.grants[grant_id] = type(facts)(**{**facts.__dict__,
                                                        "valid_until": time.time() - 1})  # fmt: skip
    with db.session() as s:
        s.execute(update(ShareGrant).where(ShareGrant.id == grant_id)
                  .values(valid_until=dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1)))  # fmt: skip
    expired = check(client, holder, grant_id, key, name)
    assert expired.status_code == 403 and expired.json()["error"]["key"] == "sharing.grant_inactive"
    assert len(normal_calls) == 2


def test_a_revoked_token_stops_at_once_and_by_ttl(
    client, db, people, parties, served, normal_calls, monkeypatch
):
    holder, grant_id = parties["holder"], served
    key, name = people["ids"][0], people["names"][0]
    check(client, holder, grant_id, key, name)
    assert check(client, holder, grant_id, key, name).status_code == 200
    secret = holder["Authorization"][7:]
    with db.session() as s:
        token = s.scalar(
            select(ApiToken).where(ApiToken.token_hash == identity.secret_digest(secret))
        )
        identity.revoke_token(s, SYSTEM, token.id)
    after = check(client, holder, grant_id, key, name)
    assert after.status_code == 401
    # another process revoked a token: this one stops within the token TTL
    monkeypatch.setenv("LONGSHU_SHARING_FAST_TOKEN_TTL", "0.3")
    second = bearer_for(db, _consumer(db))
    check(client, second, grant_id, key, name)
    assert check(client, second, grant_id, key, name).status_code == 200
    assert len(normal_calls) == 2  # the first call of each token; the refusal came before
    with db.session() as s:
        s.execute(update(ApiToken).where(ApiToken.token_hash == identity.secret_digest(
            second["Authorization"][7:])).values(revoked_at=dt.datetime.now(dt.UTC)))  # fmt: skip
    time.sleep(0.4)
    assert check(client, second, grant_id, key, name).status_code == 401


def _consumer(db):
    from longshu.security.identity.models import User

    with db.session() as s:
        user = s.scalar(select(User).where(User.username == "jt1"))
        s.expunge(user)
        return user


def test_a_disabled_application_stops_at_once(client, db, people, orgs, served, normal_calls):
    app_id, headers = _app_token(db, "jt-system", orgs["transport"])
    key, name = people["ids"][0], people["names"][0]
    assert check(client, headers, served, key, name).status_code == 200
    assert check(client, headers, served, key, name).status_code == 200
    assert len(normal_calls) == 1
    with db.session() as s:
        credentials.disable(s, SYSTEM, app_id, reason="停用")
    refused = check(client, headers, served, key, name)
    assert refused.status_code == 401  # refused by the normal path's token check


def test_a_request_begun_before_a_revocation_never_fills_the_cache(
    client, db, people, parties, served
):
    holder, grant_id = parties["holder"], served
    key, name = people["ids"][0], people["names"][0]
    check(client, holder, grant_id, key, name)
    generation = verify_fast.CACHES.generation
    verify_fast.CACHES.invalidate()  # a revocation committed meanwhile
    facts = verify_fast._Grant(1, 1, frozenset(), frozenset(), "active", 0, 0, 1, False, 9e9, 2)
    assert not verify_fast.CACHES.fill(generation, "sm3:x", None, grant_id, facts)
    assert grant_id not in verify_fast.CACHES.grants


# --- limits -------------------------------------------------------------------------------------


def test_over_the_rate_the_fast_path_hands_over_one_429_and_one_event(
    client, db, people, parties, served, normal_calls, monkeypatch, emitted
):
    holder, grant_id = parties["holder"], served
    with db.session() as s:
        s.execute(update(ShareGrant).where(ShareGrant.id == grant_id).values(rate_per_minute=3))
    monkeypatch.setattr(ratelimit, "current_window", lambda now=None: ratelimit.Window(7, 17))
    key, name = people["ids"][0], people["names"][0]
    answers = [check(client, holder, grant_id, key, name) for _ in range(6)]
    assert [a.status_code for a in answers] == [200, 200, 200, 429, 429, 429]
    # the first normal; two fast; three counted by the fast path, refused by the normal one
    assert normal_calls[0] is None and len(normal_calls) == 4
    assert all(isinstance(r, ratelimit.RateLimited) for r in normal_calls[1:])
    assert answers[3].headers["Retry-After"] == "17"
    assert answers[3].json()["error"]["message"] == (
        f"共享授权 {grant_id} 调用过于频繁：每分钟最多 3 次，请在 17 秒后重试。"
    )
    assert len(emitted("sharing.rate_limited")) == 1
    assert emitted("http.request_refused") == []
    assert ratelimit.counters().value(f"rl:g:{grant_id}:7") == 6  # each call counted once
    assert verify_service.USAGE.pending()[grant_id].calls == 3


def test_the_alarm_is_raised_once_and_the_cool_down_holds_on_the_fast_path(
    client, people, parties, served, normal_calls, emitted
):
    holder, grant_id = parties["holder"], served
    check(client, holder, grant_id, people["ids"][0], people["names"][0])  # fills the cache
    flood = stranger_ids(400, seed=21)
    first = batch(client, holder, grant_id, flood[:150], ["王伟"] * 150)
    assert first.status_code == 200 and len(normal_calls) == 1
    second = batch(client, holder, grant_id, flood[150:300], ["王伟"] * 150)
    assert second.status_code == 429
    assert second.json()["error"]["key"] == "sharing.verify.cooling_down"
    assert 800 < int(second.headers["Retry-After"]) <= 900
    third = check(client, holder, grant_id, people["ids"][0], people["names"][0])
    assert third.status_code == 429
    assert [type(r).__name__ for r in normal_calls[1:]] == ["VerifyCoolingDown"] * 2
    alarms = emitted("sharing.verify_alarm")
    assert len(alarms) == 1
    assert alarms[0].payload["checks"] == 301 and alarms[0].payload["misses"] == 300
    use = verify_service.USAGE.pending()[grant_id]
    assert (use.calls, use.checks) == (3, 301)  # the tripping batch counted once


def test_concurrent_fast_calls_count_every_call(client, people, parties, served, normal_calls):
    holder, grant_id = parties["holder"], served
    numbers, names = people["ids"], people["names"]
    check(client, holder, grant_id, numbers[0], names[0])
    failures = []

    def worker(offset: int) -> None:
        for i in range(20):
            answer = check(client, holder, grant_id, numbers[(offset + i) % 100],
                           names[(offset + i) % 100])  # fmt: skip
            if answer.status_code != 200 or answer.json()["result"] != "match":
                failures.append(answer.text)

    threads = [threading.Thread(target=worker, args=(n * 7,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []
    assert verify_service.USAGE.pending()[grant_id].calls == 81
    assert len(normal_calls) == 1
