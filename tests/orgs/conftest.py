"""Fixtures of the organisations tests: regions loaded, and actors with and without rights."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from longshu.actor import Actor
from longshu.events import Event
from longshu.orgs.regions import load_regions


@pytest.fixture
def regions(session):
    """A session whose region table holds Gansu's divisions."""
    load_regions(session)
    session.commit()
    return session


@pytest.fixture
def admin() -> Actor:
    return Actor(kind="user", id=1, name="admin", roles=frozenset({"platform_admin"}), mfa=True)


@pytest.fixture
def staff() -> Actor:
    return Actor(kind="user", id=2, name="dept", org_id=5, roles=frozenset({"dept_data_admin"}))


@pytest.fixture
def citizen() -> Actor:
    return Actor(kind="user", id=3, name="citizen", roles=frozenset({"public"}))


@pytest.fixture
def emitted(session):
    """``emitted("orgs.created")``: events of one type, oldest first."""

    def of_type(type_: str) -> list[Event]:
        return list(session.scalars(select(Event).where(Event.type == type_).order_by(Event.id)))

    return of_type


# --- HTTP -------------------------------------------------------------------------------------


@pytest.fixture
def api(settings, db):
    """A client of the whole application (lifespan not run: the test schema is in place)."""
    from fastapi.testclient import TestClient

    from longshu.app import create_app
    from longshu.orgs import api as orgs_api
    from longshu.orgs import views as orgs_views

    app = create_app(settings, db)
    mounted = {getattr(r, "path", None) for r in app.routes}
    # Until the app mounts this domain's routers itself, mount them here.
    for module, probe in ((orgs_api, "/api/v1/orgs"), (orgs_views, "/console/orgs")):
        if probe not in mounted:
            app.include_router(module.router)
    return TestClient(app, follow_redirects=False)


@pytest.fixture
def bearer(db):
    """``bearer("platform_admin")``: an Authorization header acting with those roles.

    A personal token never carries roles that need a second factor, so those are given to an
    application credential (an administrator's automation) instead."""
    from longshu.actor import SYSTEM
    from longshu.security.access.roles import ROLES
    from longshu.security.identity import service as identity

    made = iter(range(1, 1000))

    def header(*roles: str, org_id: int | None = None) -> dict[str, str]:
        name = f"orgs_test_{next(made)}"
        with db.session() as s:
            if any(ROLES[r].needs_mfa for r in roles):
                app = identity.create_app_credential(s, SYSTEM, name, org_id, roles)
                _, secret = identity.create_token(s, SYSTEM, name, ["*"], app=app)
            else:
                user = identity.create_user(s, SYSTEM, name, None, "测试用户", org_id, roles)
                actor = Actor(kind="user", id=user.id, roles=frozenset(roles), mfa=True)
                _, secret = identity.create_token(s, actor, name, ["*"])
        return {"Authorization": f"Bearer {secret}"}

    return header
