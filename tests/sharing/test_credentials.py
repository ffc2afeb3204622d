"""Application credentials over HTTP: a department's data manager registers its systems, their
SM2 keys and tokens, and disables them; nobody manages another department's systems."""

from __future__ import annotations

import base64
import datetime as dt
import secrets
import time

import pytest
from sqlalchemy import select
from tests.conftest import bearer_for

from longshu.events import Event
from longshu.security.crypto import sm2
from longshu.security.crypto.signing import SigningKey
from longshu.security.identity import signed
from longshu.security.identity.models import ApiToken, AppSigningKey

BASE = "/api/v1/sharing/credentials"
GRANTS = "/api/v1/sharing/grants"


def events_of(db, type_: str) -> list[Event]:
    with db.session() as s:
        return list(s.scalars(select(Event).where(Event.type == type_).order_by(Event.id)))


@pytest.fixture
def admins(db, orgs, make_user):
    """Data managers of the transport and police departments."""
    transport = bearer_for(db, make_user("jt_admin", "dept_data_admin", org_id=orgs["transport"]))
    police = bearer_for(db, make_user("ga_admin", "dept_data_admin", org_id=orgs["police"]))
    return transport, police


def signed_header(app_id: int, key: SigningKey, method: str = "GET", path: str = GRANTS) -> str:
    ts, nonce = int(time.time()), secrets.token_hex(16)
    message = signed.canonical_request(method, path, "", app_id, ts, nonce, b"")
    sig = base64.b64encode(key.sign(message)).decode()
    return f"LONGSHU-SM2 app={app_id}, ts={ts}, nonce={nonce}, sig={sig}"


def test_a_data_manager_registers_a_system_of_its_own_department(client, db, orgs, admins):
    transport, _ = admins
    made = client.post(BASE, json={"name": "交通运输厅审批系统"}, headers=transport)
    assert made.status_code == 201, made.text
    app = made.json()
    assert app["org_id"] == orgs["transport"] and app["roles"] == ["data_consumer"]
    assert app["key_id"] is None and app["tokens"] == []
    (event,) = events_of(db, "sharing.credential_created")
    assert event.payload == {"org_id": orgs["transport"], "roles": ["data_consumer"]}
    other = client.post(
        BASE, json={"name": "冒名系统", "org_id": orgs["police"]}, headers=transport
    )
    assert other.status_code == 403
    assert [a["id"] for a in client.get(BASE, headers=transport).json()] == [app["id"]]


def test_a_data_manager_cannot_touch_another_department_s_systems(client, admins):
    transport, police = admins
    app = client.post(BASE, json={"name": "公安系统"}, headers=police).json()
    assert client.get(BASE, headers=transport).json() == []
    key = SigningKey.generate().public.public_bytes.hex()
    for method, path, body in [
        ("GET", f"{BASE}/{app['id']}", None),
        ("POST", f"{BASE}/{app['id']}/key", {"public_key": key}),
        ("POST", f"{BASE}/{app['id']}/tokens", {}),
        ("POST", f"{BASE}/{app['id']}/disable", {}),
    ]:
        answer = client.request(method, path, json=body, headers=transport)
        assert answer.status_code == 403, (path, answer.text)
    assert client.get(f"{BASE}/999999", headers=transport).status_code == 404


def test_the_platform_administrator_registers_for_any_department(client, bearer, orgs):
    admin = bearer("platform_admin")
    made = client.post(
        BASE, json={"name": "兰州市平台", "org_id": orgs["lanzhou_bureau"]}, headers=admin
    )
    assert made.status_code == 201 and made.json()["org_id"] == orgs["lanzhou_bureau"]
    no_org = client.post(BASE, json={"name": "无主系统"}, headers=admin)
    assert no_org.json()["error"]["key"] == "sharing.credential_org_missing"
    unknown = client.post(BASE, json={"name": "x", "org_id": 999999}, headers=admin)
    assert unknown.status_code == 422
    everything = client.get(BASE, headers=admin).json()
    assert "兰州市平台" in [a["name"] for a in everything]  # with the admin's own bearer app
    one_org = client.get(BASE, params={"org_id": orgs["police"]}, headers=admin).json()
    assert one_org == []


def test_only_consuming_roles_and_sane_names_are_accepted(client, admins):
    transport, _ = admins
    for roles in (["dept_reviewer"], ["platform_admin"], ["data_consumer", "bureau_reviewer"], []):
        answer = client.post(BASE, json={"name": "系统", "roles": roles}, headers=transport)
        assert answer.status_code == 422, roles
    wrong = client.post(BASE, json={"name": "系统", "roles": ["dept_reviewer"]}, headers=transport)
    error = wrong.json()["error"]
    assert (
        error["key"] == "sharing.credential_role_not_allowed"
        and "data_consumer" in error["message"]
    )
    assert client.post(BASE, json={"name": "   "}, headers=transport).status_code == 422
    assert client.post(BASE, json={"name": "x" * 101}, headers=transport).status_code == 422


def test_consumers_and_reviewers_cannot_manage_credentials(client, db, orgs, make_user):
    for role in ("data_consumer", "dept_reviewer", "bureau_reviewer"):
        headers = bearer_for(db, make_user(f"u_{role}", role, org_id=orgs["transport"]))
        assert client.post(BASE, json={"name": "系统"}, headers=headers).status_code == 403
        assert client.get(BASE, headers=headers).status_code == 403
    assert client.get(BASE).status_code == 401


def test_a_token_secret_is_shown_once(client, db, admins):
    transport, _ = admins
    app = client.post(BASE, json={"name": "系统"}, headers=transport).json()
    issued = client.post(
        f"{BASE}/{app['id']}/tokens", json={"name": "生产", "days": 30}, headers=transport
    )
    assert issued.status_code == 201, issued.text
    secret = issued.json()["secret"]
    assert secret.startswith("lsk_") and issued.json()["token"]["scopes"] == ["sharing.*"]
    shown = client.get(f"{BASE}/{app['id']}", headers=transport)
    assert secret not in shown.text and secret[12:] not in shown.text
    assert shown.json()["tokens"][0]["prefix"] == secret[:12]
    with db.session() as s:
        stored = s.scalar(select(ApiToken).where(ApiToken.app_id == app["id"]))
        assert stored.token_hash.startswith("sm3:") and secret not in stored.token_hash
    (event,) = [e for e in events_of(db, "identity.token_created") if e.payload.get("app_id")]
    assert secret not in str(event.payload) and event.payload["app_id"] == app["id"]
    answer = client.get(GRANTS, headers={"Authorization": f"Bearer {secret}"})
    assert answer.status_code == 200
    too_wide = client.post(
        f"{BASE}/{app['id']}/tokens", json={"scopes": ["users.manage"]}, headers=transport
    )
    assert too_wide.status_code == 422
    too_long = client.post(f"{BASE}/{app['id']}/tokens", json={"days": 400}, headers=transport)
    assert too_long.status_code == 422


@pytest.mark.parametrize(
    "public_key",
    [
        "zz" * 65,  # not hex
        "04" + "11" * 63,  # too short
        "04" + "11" * 65,  # too long
        "02" + "11" * 64,  # not the uncompressed form
        "04" + "00" * 64,  # (0, 0) is not on the curve
        "04" + f"{sm2.GX:064x}" + f"{sm2.GY + 1:064x}",  # G with y + 1: off the curve
        "04" + f"{sm2.P:064x}" + f"{sm2.GY:064x}",  # a coordinate beyond the field
    ],
)
def test_a_public_key_must_be_a_point_on_the_curve(client, db, admins, public_key):
    transport, _ = admins
    app = client.post(BASE, json={"name": "系统"}, headers=transport).json()
    answer = client.post(
        f"{BASE}/{app['id']}/key", json={"public_key": public_key}, headers=transport
    )
    assert answer.status_code == 422
    assert answer.json()["error"]["key"] == "sharing.credential_key_invalid"
    assert "SM2" in answer.json()["error"]["message"]
    assert events_of(db, "sharing.credential_key_set") == []


def test_a_key_is_registered_and_rotated(client, db, admins):
    transport, _ = admins
    app = client.post(BASE, json={"name": "系统"}, headers=transport).json()
    old, new = SigningKey.generate(), SigningKey.generate()
    set_old = client.post(
        f"{BASE}/{app['id']}/key", json={"public_key": old.public.public_bytes.hex().upper()},
        headers=transport,
    )  # fmt: skip
    assert set_old.status_code == 200 and set_old.json()["key_id"] == old.key_id
    assert (
        client.get(GRANTS, headers={"Authorization": signed_header(app["id"], old)}).status_code
        == 200
    )
    rotated = client.post(
        f"{BASE}/{app['id']}/key", json={"public_key": new.public.public_bytes.hex()},
        headers=transport,
    )  # fmt: skip
    assert rotated.json()["key_id"] == new.key_id
    refused = client.get(GRANTS, headers={"Authorization": signed_header(app["id"], old)})
    assert (
        refused.status_code == 401
        and refused.json()["error"]["key"] == "identity.signature_invalid"
    )
    assert (
        client.get(GRANTS, headers={"Authorization": signed_header(app["id"], new)}).status_code
        == 200
    )
    first, second = events_of(db, "sharing.credential_key_set")
    assert first.payload == {"key_id": old.key_id, "replaced_key_id": None}
    assert second.payload == {"key_id": new.key_id, "replaced_key_id": old.key_id}


def test_a_rotation_with_an_overlap_accepts_both_keys_until_the_old_one_retires(client, db, admins):
    transport, _ = admins
    app = client.post(BASE, json={"name": "多实例系统"}, headers=transport).json()
    old, new, third = SigningKey.generate(), SigningKey.generate(), SigningKey.generate()
    key_url = f"{BASE}/{app['id']}/key"
    client.post(key_url, json={"public_key": old.public.public_bytes.hex()}, headers=transport)
    too_long = client.post(
        key_url, json={"public_key": new.public.public_bytes.hex(), "overlap_hours": 169},
        headers=transport,
    )  # fmt: skip
    assert too_long.status_code == 422
    assert too_long.json()["error"]["key"] == "sharing.credential_overlap_invalid"
    assert "168" in too_long.json()["error"]["message"]  # 旧密钥可继续签名的时长 … 168 小时
    rotated = client.post(
        key_url, json={"public_key": new.public.public_bytes.hex(), "overlap_hours": 24},
        headers=transport,
    )  # fmt: skip
    assert rotated.json()["key_id"] == new.key_id  # the new key is the current one
    for key in (old, new):  # both sign during the overlap
        answer = client.get(GRANTS, headers={"Authorization": signed_header(app["id"], key)})
        assert answer.status_code == 200
    outsider = client.get(GRANTS, headers={"Authorization": signed_header(app["id"], third)})
    assert outsider.json()["error"]["key"] == "identity.signature_invalid"
    _, second = events_of(db, "sharing.credential_key_set")
    assert second.payload["replaced_key_id"] == old.key_id
    retires = dt.datetime.fromisoformat(second.payload["replaced_key_retires_at"])
    assert (
        dt.timedelta(hours=23, minutes=59) < retires - second.occurred_at <= dt.timedelta(hours=24)
    )
    with db.session() as s:  # the overlap ends
        retiring = s.scalar(select(AppSigningKey).where(AppSigningKey.key_id == old.key_id))
        retiring.retired_at = retiring.retired_at - dt.timedelta(hours=25)
    refused = client.get(GRANTS, headers={"Authorization": signed_header(app["id"], old)})
    assert refused.status_code == 401
    assert refused.json()["error"]["key"] == "identity.signature_invalid"
    assert (
        client.get(GRANTS, headers={"Authorization": signed_header(app["id"], new)}).status_code
        == 200
    )


def test_a_disabled_credential_is_refused_at_once(client, db, admins):
    transport, _ = admins
    app = client.post(BASE, json={"name": "系统"}, headers=transport).json()
    key = SigningKey.generate()
    client.post(
        f"{BASE}/{app['id']}/key",
        json={"public_key": key.public.public_bytes.hex()},
        headers=transport,
    )
    secret = client.post(f"{BASE}/{app['id']}/tokens", json={}, headers=transport).json()["secret"]
    bearer = {"Authorization": f"Bearer {secret}"}
    assert client.get(GRANTS, headers=bearer).status_code == 200
    assert (
        client.get(GRANTS, headers={"Authorization": signed_header(app["id"], key)}).status_code
        == 200
    )
    disabled = client.post(
        f"{BASE}/{app['id']}/disable", json={"reason": "系统下线"}, headers=transport
    )
    assert disabled.status_code == 200 and disabled.json()["disabled_at"]
    assert client.get(GRANTS, headers=bearer).status_code == 401
    signed_call = client.get(GRANTS, headers={"Authorization": signed_header(app["id"], key)})
    assert signed_call.json()["error"]["key"] == "identity.signature_app_disabled"
    (event,) = events_of(db, "sharing.credential_disabled")
    assert event.payload == {"reason": "系统下线"}
    again = client.post(f"{BASE}/{app['id']}/disable", json={}, headers=transport)
    assert again.status_code == 200 and len(events_of(db, "sharing.credential_disabled")) == 1
    for path, body in (
        (f"{BASE}/{app['id']}/tokens", {}),
        (f"{BASE}/{app['id']}/key", {"public_key": key.public.public_bytes.hex()}),
    ):
        late = client.post(path, json=body, headers=transport)
        assert (
            late.status_code == 409 and late.json()["error"]["key"] == "sharing.credential_disabled"
        )
