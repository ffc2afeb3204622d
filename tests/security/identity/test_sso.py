from __future__ import annotations

import httpx
import pytest
from sqlalchemy import select
from tests.security.identity.oidc_provider import Provider

from longshu.config import reset_settings
from longshu.security.identity import sso
from longshu.security.identity.models import User


@pytest.fixture
def provider(monkeypatch):
    provider = Provider()
    provider.start()
    monkeypatch.setenv("LONGSHU_OIDC_ISSUER", provider.issuer)
    monkeypatch.setenv("LONGSHU_OIDC_CLIENT_ID", provider.client_id)
    monkeypatch.setenv("LONGSHU_OIDC_CLIENT_SECRET", provider.client_secret)
    reset_settings()
    sso._metadata_cache.clear()
    yield provider
    provider.stop()


def round_trip(client, provider) -> httpx.Response:
    """Browser: our /login/sso → provider /authorize → our callback."""
    start = client.get("/login/sso?next=/console/account")
    assert start.status_code == 303
    assert start.headers["location"].startswith(provider.issuer + "/authorize")
    at_provider = httpx.get(start.headers["location"], follow_redirects=False)
    assert at_provider.status_code == 302
    callback = at_provider.headers["location"].replace("http://127.0.0.1:8000", "")
    return client.get(callback)


def test_single_sign_on_signs_in_the_linked_account(provider, client, make_user, db):
    make_user("wl_admin", "dept_data_admin", org_id=3)
    done = round_trip(client, provider)
    assert done.status_code == 303
    assert done.headers["location"] == "/console/account"
    me = client.get("/api/v1/me").json()
    assert me["name"] == "wl_admin" and me["roles"] == ["dept_data_admin"]
    with db.session() as s:
        linked = s.scalar(select(User).where(User.username == "wl_admin"))
        assert linked.external_id == "oidc:gs-000001"


def test_person_without_an_account_is_refused(provider, client):
    done = round_trip(client, provider)
    assert done.status_code == 401
    assert "no account" in done.text
    assert "longshu_session" not in client.cookies


def test_forged_state_is_refused(provider, client, make_user):
    make_user("wl_admin", "dept_data_admin", org_id=3)
    client.get("/login/sso")
    done = client.get("/login/sso/callback?code=abc&state=forged")
    assert done.status_code == 401
    assert "longshu_session" not in client.cookies


def test_id_token_with_a_wrong_nonce_is_refused(provider, client, make_user):
    make_user("wl_admin", "dept_data_admin", org_id=3)
    provider.override_nonce = "replayed-nonce"
    done = round_trip(client, provider)
    assert done.status_code == 401
    assert "longshu_session" not in client.cookies


def test_sso_is_unavailable_when_not_configured(client):
    assert client.get("/login/sso").status_code == 404
