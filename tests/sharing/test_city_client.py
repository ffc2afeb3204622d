"""The city platform's example client (docs/examples/city_platform_client.py) against a real
second Longshu server process over HTTP: a signed query within the city's grant succeeds; the
same signed request sent twice, a tampered body and another department's grant are refused."""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
from tests.conftest import running_server

from longshu.actor import SYSTEM, Actor
from longshu.governance import pipeline
from longshu.lake import tables
from longshu.sharing import credentials, requests

ROOT = Path(__file__).resolve().parents[2]
CLIENT_FILE = ROOT / "docs" / "examples" / "city_platform_client.py"


def _client_module():
    spec = importlib.util.spec_from_file_location("city_platform_client", CLIENT_FILE)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def province(db, var_dir, lake_env, tmp_path):
    """A second Longshu process serving this test's database and var directory."""
    env = {**os.environ, "LONGSHU_LOG_LEVEL": "WARNING"}
    with running_server(env, tmp_path / "province.log", cwd=ROOT) as url:
        yield url


REQUEST = {
    "scenario": "户籍信息回流核对",
    "purpose": "市级政务服务办件核对户籍地",
    "legal_basis": "《甘肃省政务数据共享管理办法》",
    "days": 30,
}


@pytest.fixture
def city(db, orgs, make_population, population_rows, tmp_path):
    """The province's police registry (无条件共享, 120 residents), granted to the Lanzhou data
    bureau (the city platform) and to the transport department; the city's system registered
    with a key made by the example client."""
    resource_id, table, _ = make_population("registry", "unconditional")
    with db.session() as s:
        tables.write_version(s, SYSTEM, table, population_rows(120))
        pipeline.govern_version(s, SYSTEM, tables.get_table(s, table), 1)
    ask = requests.ItemAsked(resource_id, ("xm", "xzqh", "sfzh"), (), ("query",))
    for key, uid in (("lanzhou_bureau", 501), ("transport", 502)):
        staff = Actor(kind="user", id=uid, org_id=orgs[key], roles=frozenset({"data_consumer"}))
        with db.session() as s:
            filed = requests.submit(s, staff, **REQUEST, items=[ask])
            assert filed.items[0].state == "granted"
    module = _client_module()
    private, public = module.generate_key()
    manager = Actor(
        kind="user", id=503, org_id=orgs["lanzhou_bureau"], roles=frozenset({"dept_data_admin"})
    )
    with db.session() as s:
        app = credentials.create(s, manager, "兰州市数据共享平台")
        credentials.set_key(s, manager, app.id, public)
        app_id = app.id
    key_file = tmp_path / "city-key.json"
    key_file.write_text(json.dumps({"private_key": private, "public_key": public}))
    return module, app_id, private, public, key_file


def test_the_city_platform_queries_its_grant_with_signed_requests(province, city, orgs):
    module, app_id, private, public, _ = city
    client = module.ProvinceClient(province, app_id, private, public)
    grants = client.grants()
    assert [g["consumer_org_id"] for g in grants] == [orgs["lanzhou_bureau"]]
    mine = grants[0]["id"]
    answer = client.query(
        mine, ["xm", "xzqh"], [{"field": "xzqh", "op": "prefix", "value": "6201"}],
        [("xm", False)], limit=5,
    )  # fmt: skip
    assert 0 < answer["count"] <= 5 and set(answer["rows"][0]) == {"xm", "xzqh"}
    assert all(row["xzqh"].startswith("6201") for row in answer["rows"])

    # the same signed request twice: the second is a replay
    request = client.prepare("POST", f"/api/v1/sharing/grants/{mine}/query", body={"limit": 1})
    assert client.send(request).status_code == 200
    replay = client.send(request)
    assert replay.status_code == 401
    assert replay.json()["error"]["key"] == "identity.signature_replayed"

    # a body changed on the way no longer matches its signature
    signed = client.prepare("POST", f"/api/v1/sharing/grants/{mine}/query", body={"limit": 1})
    headers = {k: v for k, v in signed.headers.items() if k.lower() != "content-length"}
    tampered = httpx.Request("POST", signed.url, headers=headers, content=b'{"limit": 1000}')
    answer = client.send(tampered)
    assert answer.status_code == 401
    assert answer.json()["error"]["key"] == "identity.signature_invalid"
    client.close()


def test_the_city_platform_cannot_use_another_department_s_grant(province, city, db, orgs):
    module, app_id, private, public, _ = city
    from sqlalchemy import select

    from longshu.sharing.models import ShareGrant

    with db.session() as s:
        theirs = s.scalar(
            select(ShareGrant.id).where(ShareGrant.consumer_org_id == orgs["transport"])
        )
    client = module.ProvinceClient(province, app_id, private, public)
    assert theirs not in [g["id"] for g in client.grants()]
    with pytest.raises(module.ProvinceError) as refused:
        client.query(theirs, ["xm"])
    assert refused.value.status == 403
    client.close()


def test_the_example_runs_from_the_command_line(province, city):
    _, app_id, _, _, key_file = city
    done = subprocess.run(
        [sys.executable, str(CLIENT_FILE), "--url", province, "--app", str(app_id),
         "--key", str(key_file), "grants"],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    (grant,) = json.loads(done.stdout)
    queried = subprocess.run(
        [sys.executable, str(CLIENT_FILE), "--url", province, "--app", str(app_id),
         "--key", str(key_file), "query", str(grant["id"]), "--fields", "xm",
         "--where", "xzqh=620102", "--limit", "3"],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert queried.returncode == 0, queried.stderr[-2000:]
    assert json.loads(queried.stdout)["count"] <= 3
    wrong = subprocess.run(
        [sys.executable, str(CLIENT_FILE), "--url", province, "--app", str(app_id + 1000),
         "--key", str(key_file), "grants"],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert wrong.returncode == 1
    assert json.loads(wrong.stderr)["key"] == "identity.signature_unknown_app"


def test_the_client_signs_with_gmalg_where_longshu_is_not_installed(monkeypatch):
    from longshu.security.crypto import sm2

    module = _client_module()
    private, public = module.generate_key()
    message = module.canonical_request("GET", "/api/v1/sharing/grants", "", 1, 1, "0" * 32, b"")
    import longshu.security.crypto as crypto_package

    monkeypatch.setitem(sys.modules, "longshu.security.crypto.sm2", None)  # import fails
    monkeypatch.delattr(crypto_package, "sm2")
    with pytest.raises(ImportError):
        importlib.import_module("longshu.security.crypto.sm2")
    for _ in range(8):  # r or s with leading zero bytes are padded to 32 bytes
        signature = module.sm2_sign(private, public, message)
        assert len(signature) == 64
        assert sm2.verify(bytes.fromhex(public), message, signature)
    private2, public2 = module.generate_key()  # gmalg's key pair
    assert sm2.decode_point(bytes.fromhex(public2)) and len(bytes.fromhex(private2)) == 32
