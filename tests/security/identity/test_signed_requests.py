"""Signed requests (LONGSHU-SM2): an application's system signs each call with its SM2 key;
every way a signed request can be wrong is refused with a 401, a translated error and an
event that names the reason and the application — never the signature or the body."""

from __future__ import annotations

import base64
import datetime as dt
import secrets
import threading
import time

import pytest
from sqlalchemy import func, select

from longshu.actor import SYSTEM, Actor
from longshu.errors import Forbidden
from longshu.events import Event
from longshu.security.crypto import sm2
from longshu.security.crypto.signing import SigningKey
from longshu.security.identity import service, signed
from longshu.security.identity.errors import SignatureReplayed
from longshu.security.identity.models import AppCredential, AppSigningKey, SignedRequestNonce

GRANTS = "/api/v1/sharing/grants"


class App:
    """An application credential with a registered key, and a way to sign as it."""

    def __init__(self, app_id: int, key: SigningKey) -> None:
        self.id = app_id
        self.key = key

    def header(
        self,
        method: str,
        path: str,
        query: str = "",
        body: bytes = b"",
        *,
        ts: int | None = None,
        nonce: str | None = None,
        app_id: int | None = None,
        key: SigningKey | None = None,
    ) -> str:
        app_id = self.id if app_id is None else app_id
        ts = int(time.time()) if ts is None else ts
        nonce = nonce or secrets.token_hex(16)
        message = signed.canonical_request(method, path, query, app_id, ts, nonce, body)
        sig = base64.b64encode((key or self.key).sign(message)).decode()
        return f"LONGSHU-SM2 app={app_id}, ts={ts}, nonce={nonce}, sig={sig}"


def make_app(db, org_id: int | None = 9, *, with_key: bool = True) -> App:
    key = SigningKey.generate()
    with db.session() as s:
        app = service.create_app_credential(s, SYSTEM, "市平台", org_id, ["data_consumer"])
        if with_key:
            s.add(
                AppSigningKey(
                    app_id=app.id, public_key=key.public.public_bytes.hex(), key_id=key.key_id
                )
            )
        app_id = app.id
    return App(app_id, key)


def rejections(db) -> list[Event]:
    with db.session() as s:
        query = select(Event).where(Event.type == "identity.signature_rejected")
        return list(s.scalars(query.order_by(Event.id)))


def refused(response, key: str) -> dict:
    assert response.status_code == 401, response.text
    error = response.json()["error"]
    assert error["key"] == key
    return error


def test_a_signed_request_acts_as_its_application(client, db):
    app = make_app(db)
    answer = client.get(GRANTS, headers={"Authorization": app.header("GET", GRANTS)})
    assert answer.status_code == 200, answer.text
    assert answer.json() == []
    with db.session() as s:
        assert s.scalar(select(func.count()).select_from(SignedRequestNonce)) == 1
        assert s.scalar(select(AppSigningKey.last_used_at)) is not None


def test_the_route_reads_the_body_the_signature_covered(client, db):
    app = make_app(db)
    body = b'{"scenario": "s", "purpose": "p", "legal_basis": "l", "items": [{"resource_id": 999}]}'
    path = "/api/v1/sharing/requests"
    headers = {"Authorization": app.header("POST", path, body=body)}
    answer = client.post(path, content=body, headers=headers | {"content-type": "application/json"})
    # signed in as the application; the route parsed the JSON and its service refused the item
    assert answer.status_code == 422, answer.text
    assert answer.json()["error"]["key"].startswith("sharing.")


def test_the_query_string_is_signed_in_canonical_order(client, db):
    app = make_app(db)
    header = app.header("GET", GRANTS, "status=active&x=%E4%B8%AD+y")
    answer = client.get(
        GRANTS + "?x=%E4%B8%AD%20y&status=active", headers={"Authorization": header}
    )
    assert answer.status_code == 200, answer.text
    assert signed.canonical_query("b=2&a=1&a=0&c=%7e+") == "a=0&a=1&b=2&c=~%20"


@pytest.mark.parametrize(
    "header",
    [
        "LONGSHU-SM2 app=1, ts=1",
        "LONGSHU-SM2 app=1, ts=1, nonce=" + "0" * 32 + ", sig=AAAA, sig=AAAA",
        "LONGSHU-SM2 app=1, ts=1, nonce=" + "0" * 31 + ", sig=" + "A" * 88,
        "LONGSHU-SM2 app=1, ts=1, nonce=" + "G" * 32 + ", sig=" + "A" * 88,
        "LONGSHU-SM2 app=0, ts=1, nonce=" + "0" * 32 + ", sig=" + "A" * 88,
        "LONGSHU-SM2 app=1, ts=-1, nonce=" + "0" * 32 + ", sig=" + "A" * 88,
        "LONGSHU-SM2 app=1, ts=1, nonce=" + "0" * 32 + ", sig=!!notbase64!!",
        "LONGSHU-SM2 app=1, ts=1, nonce=" + "0" * 32 + ", sig=" + "A" * 84,  # 63 bytes
        "LONGSHU-SM2 app=1, ts=1, nonce=" + "0" * 32 + ", sig=" + "A" * 88 + ", extra=1",
        "LONGSHU-SM2 app=1, ts=1, nonce=" + "0" * 32 + ", sig=" + "A" * 88 + " " * 400,
        "LONGSHU-SM2 ",
    ],
)
def test_a_malformed_header_is_refused(client, db, header):
    error = refused(
        client.get(GRANTS, headers={"Authorization": header}), "identity.signature_malformed"
    )
    assert "格式有误" in error["message"]
    (event,) = rejections(db)
    assert event.payload["reason"] == "malformed" and event.payload["app_id"] is None


def test_an_unknown_application_is_refused(client, db):
    app = make_app(db)
    header = app.header("GET", GRANTS, app_id=app.id + 100)
    refused(client.get(GRANTS, headers={"Authorization": header}), "identity.signature_unknown_app")
    (event,) = rejections(db)
    assert event.payload["reason"] == "unknown_app" and event.payload["claimed_app"] == app.id + 100


def test_a_disabled_application_is_refused_at_once(client, db):
    app = make_app(db)
    assert (
        client.get(GRANTS, headers={"Authorization": app.header("GET", GRANTS)}).status_code == 200
    )
    with db.session() as s:
        s.get(AppCredential, app.id).disabled_at = dt.datetime.now(dt.UTC)
    answer = client.get(GRANTS, headers={"Authorization": app.header("GET", GRANTS)})
    assert "已停用" in refused(answer, "identity.signature_app_disabled")["message"]
    (event,) = rejections(db)
    assert (event.subject_type, event.subject_id) == ("app_credential", str(app.id))
    assert event.payload["reason"] == "app_disabled" and event.payload["app_id"] == app.id


def test_an_application_without_a_key_is_refused(client, db):
    app = make_app(db, with_key=False)
    refused(
        client.get(GRANTS, headers={"Authorization": app.header("GET", GRANTS)}),
        "identity.signature_no_key",
    )
    assert rejections(db)[0].payload["reason"] == "no_key"


def test_a_signature_by_another_key_is_refused(client, db):
    app = make_app(db)
    header = app.header("GET", GRANTS, key=SigningKey.generate())
    refused(client.get(GRANTS, headers={"Authorization": header}), "identity.signature_invalid")
    (event,) = rejections(db)
    assert event.payload["reason"] == "bad_signature"
    assert set(event.payload) == {"reason", "app_id", "method", "path", "key_id"}


@pytest.mark.parametrize("what", ["body", "path", "query", "method"])
def test_a_tampered_request_is_refused(client, db, what):
    app = make_app(db)
    path = "/api/v1/sharing/grants/1/revoke"
    body = b'{"reason": "scenario ended"}'
    method, signed_path, query, signed_body = "POST", path, "a=1", body
    if what == "body":
        signed_body = b'{"reason": "scenario ended."}'
    elif what == "path":
        signed_path = "/api/v1/sharing/grants/2/revoke"
    elif what == "query":
        query = "a=2"
    else:
        method = "PUT"
    header = app.header(method, signed_path, query, signed_body)
    answer = client.post(path + "?a=1", content=body, headers={"Authorization": header})
    refused(answer, "identity.signature_invalid")
    assert rejections(db)[-1].payload["reason"] == "bad_signature"


@pytest.mark.parametrize("skew", [-301, 301, -10_000_000])
def test_a_timestamp_outside_the_window_is_refused(client, db, skew):
    app = make_app(db)
    header = app.header("GET", GRANTS, ts=int(time.time()) + skew)
    error = refused(
        client.get(GRANTS, headers={"Authorization": header}), "identity.signature_stale"
    )
    assert "300 秒" in error["message"]
    (event,) = rejections(db)
    assert event.payload["reason"] == "stale_timestamp" and abs(event.payload["skew"]) >= 300


def test_a_replayed_request_is_refused(client, db):
    app = make_app(db)
    header = {"Authorization": app.header("GET", GRANTS)}
    assert client.get(GRANTS, headers=header).status_code == 200
    error = refused(client.get(GRANTS, headers=header), "identity.signature_replayed")
    assert "拒绝重放" in error["message"]
    (event,) = rejections(db)
    assert event.payload["reason"] == "replayed" and event.payload["app_id"] == app.id
    # the same nonce under a fresh timestamp and signature is still a replay
    nonce = header["Authorization"].split("nonce=")[1].split(",")[0]
    again = {"Authorization": app.header("GET", GRANTS, nonce=nonce)}
    refused(client.get(GRANTS, headers=again), "identity.signature_replayed")


def test_a_refused_route_still_spends_the_nonce(client, db):
    app = make_app(db)
    header = {"Authorization": app.header("POST", "/api/v1/sharing/grants/999/revoke", body=b"{}")}
    first = client.post("/api/v1/sharing/grants/999/revoke", content=b"{}", headers=header)
    assert first.status_code == 403  # a consuming system may not revoke
    second = client.post("/api/v1/sharing/grants/999/revoke", content=b"{}", headers=header)
    refused(second, "identity.signature_replayed")


def test_the_same_nonce_of_another_application_is_its_own(client, db):
    one, two = make_app(db), make_app(db)
    nonce = secrets.token_hex(16)
    for app in (one, two):
        header = {"Authorization": app.header("GET", GRANTS, nonce=nonce)}
        assert client.get(GRANTS, headers=header).status_code == 200


def test_signed_requests_need_no_csrf_token_and_ignore_the_session_cookie(client, db, make_user):
    from tests.conftest import sign_in

    make_user("qian_jun", "dept_data_admin", org_id=3)
    sign_in(client, "qian_jun")
    app = make_app(db)
    path = "/api/v1/sharing/requests"
    body = b'{"scenario": "s", "purpose": "p", "legal_basis": "l", "items": [{"resource_id": 1}]}'
    answer = client.post(
        path, content=body,
        headers={"Authorization": app.header("POST", path, body=body),
                 "content-type": "application/json"},
    )  # fmt: skip
    assert answer.status_code == 422, answer.text  # past CSRF and sign-in, refused by the service
    assert not rejections(db)
    with db.session() as s:
        types = set(s.scalars(select(Event.type)))
    assert "identity.csrf_rejected" not in types


def test_a_signed_application_cannot_use_account_routes(client, db):
    app = make_app(db)
    answer = client.get("/api/v1/me", headers={"Authorization": app.header("GET", "/api/v1/me")})
    assert answer.status_code == 403
    body = b'{"name": "x", "scopes": ["*"]}'
    tokens = client.post(
        "/api/v1/tokens", content=body,
        headers={"Authorization": app.header("POST", "/api/v1/tokens", body=body)},
    )  # fmt: skip
    assert tokens.status_code == 403


def test_an_application_never_gets_a_personal_token(session):
    app_actor = Actor(kind="app", id=1, org_id=9, roles=frozenset({"data_consumer"}), mfa=True)
    with pytest.raises(Forbidden):
        service.create_token(session, app_actor, "mine", ["account.self"])


def test_a_disabled_application_s_bearer_token_is_refused_and_recorded(client, db):
    with db.session() as s:
        app = service.create_app_credential(s, SYSTEM, "局系统", 9, ["data_consumer"])
        _, secret = service.create_token(s, SYSTEM, "t", ["sharing.*"], app=app)
        app_id = app.id
    bearer = {"Authorization": f"Bearer {secret}"}
    assert client.get(GRANTS, headers=bearer).status_code == 200
    with db.session() as s:
        s.get(AppCredential, app_id).disabled_at = dt.datetime.now(dt.UTC)
    assert client.get(GRANTS, headers=bearer).status_code == 401
    with db.session() as s:
        reasons = [
            e.payload["reason"]
            for e in s.scalars(select(Event).where(Event.type == "identity.token_rejected"))
        ]
    assert reasons == ["app_disabled"]


def test_two_processes_receiving_the_same_request_accept_it_once(db):
    app = make_app(db)
    rounds, outcomes = 4, []
    for _ in range(rounds):
        header = app.header("GET", GRANTS)
        barrier = threading.Barrier(2)
        results: list[str] = []

        def receive(
            header: str = header,
            barrier: threading.Barrier = barrier,
            results: list[str] = results,
        ) -> None:
            with db.sessionmaker() as session:
                barrier.wait()
                try:
                    signed.authenticate(session, header, "GET", GRANTS, "", b"")
                    results.append("accepted")
                except SignatureReplayed:
                    results.append("replayed")

        threads = [threading.Thread(target=receive) for _ in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        outcomes.append(sorted(results))
    assert outcomes == [["accepted", "replayed"]] * rounds
    assert [e.payload["reason"] for e in rejections(db)] == ["replayed"] * rounds


def test_old_nonces_are_purged_and_their_requests_stay_refused(db):
    app = make_app(db)
    now = time.time()
    old_header = app.header("GET", GRANTS, ts=int(now) - 200)
    with db.sessionmaker() as session:
        signed.authenticate(session, old_header, "GET", GRANTS, "", b"", now=now)
    with db.sessionmaker() as session:
        assert signed.purge_nonces(session, now=now) == 0  # still inside twice the window
        assert signed.purge_nonces(session, now=now + 500) == 1
        session.commit()
    with db.sessionmaker() as session, pytest.raises(Exception) as refusal:
        signed.authenticate(session, old_header, "GET", GRANTS, "", b"", now=now + 500)
    assert refusal.value.key == "identity.signature_stale"


def test_the_canonical_string_is_the_documented_one():
    message = signed.canonical_request(
        "post", "/api/v1/sharing/grants/5/query", "b=2&a=1", 3, 1764400000, "ab" * 16, b"{}"
    )
    assert message.decode().split("\n") == [
        "LONGSHU-SM2-V1",
        "POST",
        "/api/v1/sharing/grants/5/query",
        "a=1&b=2",
        "3",
        "1764400000",
        "ab" * 16,
        signed.body_digest(b"{}"),
    ]
    key = SigningKey.generate()
    assert sm2.verify(key.public.public_bytes, message, key.sign(message))


def _app_token(db, app: App) -> dict[str, str]:
    with db.session() as s:
        _, secret = service.create_token(
            s, SYSTEM, "t", ["sharing.read"], app=s.get(AppCredential, app.id)
        )
    return {"Authorization": f"Bearer {secret}"}


def test_a_signature_beside_a_bearer_token_of_the_same_application(client, db):
    app = make_app(db)
    headers = _app_token(db, app) | {"X-Longshu-Signature": app.header("GET", GRANTS)}
    assert client.get(GRANTS, headers=headers).status_code == 200
    # the token's scopes still apply: sharing.read only, so no share request
    path = "/api/v1/sharing/requests"
    body = b'{"scenario": "s", "purpose": "p", "legal_basis": "l", "items": []}'
    post = _app_token(db, app) | {"X-Longshu-Signature": app.header("POST", path, body=body)}
    assert client.post(path, content=body, headers=post).status_code == 403
    # and the signature is checked in full: a replay is refused although the token is good
    refused(client.get(GRANTS, headers=headers), "identity.signature_replayed")


def test_a_signature_of_another_application_beside_a_token_is_refused(client, db):
    one, two = make_app(db), make_app(db)
    headers = _app_token(db, one) | {"X-Longshu-Signature": two.header("GET", GRANTS)}
    error = refused(client.get(GRANTS, headers=headers), "identity.signature_token_mismatch")
    assert "不属于同一应用" in error["message"]
    (event,) = rejections(db)
    assert event.payload["reason"] == "token_mismatch" and event.payload["app_id"] == two.id


def test_a_malformed_signature_beside_a_token_is_refused(client, db):
    app = make_app(db)
    headers = _app_token(db, app) | {"X-Longshu-Signature": "app=1"}
    refused(client.get(GRANTS, headers=headers), "identity.signature_malformed")
    bad = _app_token(db, app) | {
        "X-Longshu-Signature": app.header("GET", GRANTS, key=SigningKey.generate())
    }
    refused(client.get(GRANTS, headers=bad), "identity.signature_invalid")


def test_an_application_s_token_never_reaches_a_user_s_tokens(session, make_user):
    # an application and a user may share a numeric id; "own token" means a user's own
    user = make_user("zhou_jie", "data_consumer")
    service.create_token(session, _as_user(user), "mine", ["account.self"])
    session.commit()
    app_actor = Actor(kind="app", id=user.id, org_id=9, roles=frozenset({"data_consumer"}))
    assert service.list_tokens(session, app_actor) == []
    token_id = service.list_tokens(session, _as_user(user))[0].id
    with pytest.raises(Exception) as refusal:
        service.revoke_token(session, app_actor, token_id)
    assert refusal.value.key == "identity.token_not_found"


def _as_user(user) -> Actor:
    return Actor(kind="user", id=user.id, roles=user.role_codes, mfa=True)
