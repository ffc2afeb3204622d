"""Shared fixtures. The suite runs twice in ``make test``: on SQLite (default) and on a real
PostgreSQL server (``LONGSHU_TEST_DB=pg``; server from ``LONGSHU_TEST_PG_URL`` or
127.0.0.1:5432). Each run creates and drops its own database."""

from __future__ import annotations

import os
import random
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pyarrow as pa
import pytest
from sqlalchemy import create_engine, select, text

from longshu import events
from longshu.actor import Actor
from longshu.config import Settings, reset_settings
from longshu.db import Database, set_database
from longshu.governance.config import reset_governance_settings
from longshu.ids import random_resident_id, resident_id_birth_date, resident_id_check_char
from longshu.models import load_all

# Modules make their huey queue when imported, before any fixture runs: the session's queue
# must never be the checkout's ./var/huey.db, which `make run`'s worker consumes.
os.environ.setdefault("LONGSHU_VAR_DIR", tempfile.mkdtemp(prefix="longshu-test-var-"))

BACKEND = os.environ.get("LONGSHU_TEST_DB", "sqlite")
PG_SERVER = os.environ.get(
    "LONGSHU_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)


def pytest_report_header(config: pytest.Config) -> str:
    return f"longshu database backend: {BACKEND}"


@pytest.fixture(scope="session")
def _schema_source(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """SQLite: a template file with the schema; PostgreSQL: a fresh database for the run."""
    if BACKEND == "pg":
        name = f"longshu_test_{uuid.uuid4().hex[:12]}"
        admin = create_engine(PG_SERVER, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f"CREATE DATABASE \"{name}\" ENCODING 'UTF8' TEMPLATE template0"))
            # a test database need not survive a crash: commits do not wait for the disk
            conn.execute(text(f'ALTER DATABASE "{name}" SET synchronous_commit = off'))
        url = PG_SERVER.rsplit("/", 1)[0] + f"/{name}"
        database = Database(url)
        with database.engine.begin() as conn:
            conn.execute(text("CREATE EXTENSION IF NOT EXISTS pg_trgm"))
        _create_schema(database)
        yield url
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
    else:
        template = tmp_path_factory.mktemp("schema") / "template.db"
        _create_schema(Database(f"sqlite:///{template}"))
        yield str(template)


def _create_schema(database: Database) -> None:
    """The models' schema, stamped as the newest migration (so the app's start-up migration
    has nothing to do). tests/core/test_migrations.py checks the migrations build the same."""
    from alembic import command

    from longshu.db import alembic_config

    load_all().metadata.create_all(database.engine)
    command.stamp(alembic_config(database.url), "head")
    database.dispose()


@pytest.fixture
def var_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    var = tmp_path / "var"
    var.mkdir()
    monkeypatch.setenv("LONGSHU_VAR_DIR", str(var))
    monkeypatch.setenv("LONGSHU_HUEY_BACKEND", "memory")
    monkeypatch.setenv("LONGSHU_LOG_JSON", "true")
    reset_settings()
    yield var
    reset_settings()


@pytest.fixture
def settings(var_dir: Path, _schema_source: str, db: Database) -> Settings:
    from longshu.config import get_settings

    return get_settings()


@pytest.fixture(scope="session")
def _pg_database(_schema_source: str) -> Iterator[Database | None]:
    """PostgreSQL: one engine for the run, so its pooled connections outlive a test (a new
    server connection is a new backend process: milliseconds each, several a test)."""
    if BACKEND != "pg":
        yield None
        return
    database = Database(_schema_source)
    yield database
    database.dispose()


@pytest.fixture
def db(
    _schema_source: str,
    _pg_database: Database | None,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> Iterator[Database]:
    """A clean database for each test, with inline event delivery."""
    if _pg_database is not None:
        url = _schema_source
        database = _pg_database
        _truncate_all(database)
    else:
        path = tmp_path / "longshu.db"
        shutil.copyfile(_schema_source, path)
        url = f"sqlite:///{path}"
        database = Database(url)
    monkeypatch.setenv("LONGSHU_DATABASE_URL", url)
    # Governance on every loaded version (scan, grade, profile, score) is what `make run`
    # does; other domains' tests load hundreds of versions and do not want it, so it is off
    # here and the governance and demo tests turn it on (fixture ``governance_on_load``).
    monkeypatch.setenv("LONGSHU_GOVERNANCE_ON_LOAD", "false")
    # Verification usage is counted in memory and flushed by a background thread to the
    # process's database; a test's database changes under it, so tests flush when they want.
    monkeypatch.setenv("LONGSHU_SHARING_USAGE_FLUSH_SECONDS", "0")
    # nor do they preload verification indexes in a thread of the app's start (a test that
    # wants it calls verify_service.preload)
    monkeypatch.setenv("LONGSHU_SHARING_PRELOAD_INDEXES", "0")
    _forget_verify_usage()
    reset_governance_settings()
    reset_settings()
    set_database(database)
    events.set_dispatcher(events.inline_dispatcher)
    yield database
    _forget_verify_usage()
    events.set_dispatcher(None)
    set_database(None)
    if database is not _pg_database:
        database.dispose()


def _forget_verify_usage() -> None:
    from longshu.sharing.verify_service import USAGE

    with USAGE._lock:
        USAGE._uses.clear()


def _truncate_all(database: Database) -> None:
    """Empty the tables a test wrote to and restart every used sequence. A TRUNCATE of all
    55 tables cost 0.13 s a test (1,600 tests); most tests touch a few tables."""
    tables = load_all().metadata.sorted_tables
    probe = " UNION ALL ".join(
        f"SELECT '{t.name}' WHERE EXISTS (SELECT 1 FROM \"{t.name}\")" for t in tables
    )
    with database.engine.begin() as conn:
        used = list(conn.execute(text(probe)).scalars())
        if used:
            names = ", ".join(f'"{name}"' for name in used)
            conn.execute(text(f"TRUNCATE {names} CASCADE"))
        sequences = list(
            conn.execute(
                text(
                    "SELECT quote_ident(schemaname) || '.' || quote_ident(sequencename)"
                    " FROM pg_sequences WHERE schemaname = current_schema()"
                    " AND last_value IS NOT NULL"
                )
            ).scalars()
        )
        if sequences:
            conn.execute(text("SELECT " + ", ".join(f"setval('{q}', 1, false)" for q in sequences)))


@pytest.fixture
def session(db: Database):
    with db.sessionmaker() as s:
        yield s


# --- the web application ------------------------------------------------------------------

STRONG_PASSWORD = "Lanzhou#River2026"


@pytest.fixture
def app(settings, db):
    from longshu.app import create_app

    return create_app(settings, db)


@pytest.fixture
def client(app):
    from fastapi.testclient import TestClient

    with TestClient(app, follow_redirects=False) as test_client:
        yield test_client


@pytest.fixture
def make_user(db):
    """Create a user with roles (committed); returns the User."""
    from longshu.actor import SYSTEM
    from longshu.security.identity import service

    def factory(
        username: str, *roles: str, org_id: int | None = None, password: str = STRONG_PASSWORD
    ):
        with db.session() as s:
            user = service.create_user(
                s, SYSTEM, username, password, username, org_id=org_id, roles=roles
            )
        return user

    return factory


def csrf_of(client) -> str:
    """The CSRF token the site handed this browser (fetching a page if needed)."""
    token = client.cookies.get("longshu_csrf")
    if not token:
        client.get("/login")
        token = client.cookies.get("longshu_csrf")
    return token


def sign_in(client, username: str, password: str = STRONG_PASSWORD):
    return client.post(
        "/login",
        data={
            "username": username,
            "password": password,
            "csrf_token": csrf_of(client),
            "next": "/console",
        },
    )


def bearer_for(db, user, scopes=("*",)) -> dict[str, str]:
    """Authorization header with a fresh personal token for ``user`` (second factor counted)."""
    from longshu.actor import Actor
    from longshu.security.identity import service

    with db.session() as s:
        actor = Actor(kind="user", id=user.id, org_id=user.org_id, roles=user.role_codes, mfa=True)
        _, secret = service.create_token(s, actor, "test", list(scopes))
    return {"Authorization": f"Bearer {secret}"}


@pytest.fixture
def bearer(db):
    """``bearer("platform_admin")``: an Authorization header acting with those roles.

    A personal token never carries roles that need a second factor, so those are given to an
    application credential (an administrator's automation) instead."""
    from longshu.actor import SYSTEM, Actor
    from longshu.security.access.roles import ROLES
    from longshu.security.identity import service as identity

    made = iter(range(1, 1000))

    def header(*roles: str, org_id: int | None = None) -> dict[str, str]:
        name = f"bearer_{next(made)}"
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


@pytest.fixture
def orgs(db):
    """The demo organisations by key (committed)."""
    from longshu.actor import SYSTEM
    from longshu.orgs.demo import load_demo_organisations

    with db.session() as s:
        found = load_demo_organisations(s, SYSTEM)
        return {key: org.id for key, org in found.items()}


@pytest.fixture
def lake_env(settings, monkeypatch):
    """Settings whose lake is the test's own ``var/lake``."""
    from longshu.lake.config import reset_lake_settings

    for name in ("URI", "ENGINE", "STORAGE_OPTIONS"):
        monkeypatch.delenv(f"LONGSHU_LAKE_{name}", raising=False)
    reset_lake_settings()
    yield settings
    reset_lake_settings()


def _staff(uid: int, name: str, org_id: int | None, *roles: str, mfa: bool = False):
    from longshu.actor import Actor

    return Actor(kind="user", id=uid, name=name, org_id=org_id, roles=frozenset(roles), mfa=mfa)


@pytest.fixture
def admin():
    """The platform's administrator."""
    return _staff(1, "admin", None, "platform_admin", mfa=True)


@pytest.fixture
def loader():
    """A department's data manager (organisation 7)."""
    return _staff(2, "dept", 7, "dept_data_admin")


@pytest.fixture
def consumer():
    """A data-using department's staff (organisation 9)."""
    return _staff(3, "user", 9, "data_consumer")


@pytest.fixture
def outsider():
    """Another department's data manager (organisation 8)."""
    return _staff(4, "other", 8, "dept_data_admin")


@pytest.fixture
def emitted(session):
    """``emitted(type)``: the events of that type the test's session has emitted so far."""
    from longshu.events import Event

    def of_type(type_: str) -> list:
        session.flush()
        return list(session.scalars(select(Event).where(Event.type == type_).order_by(Event.id)))

    return of_type


SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗"
GIVEN = ["伟", "芳", "娜", "秀英", "敏", "静", "丽", "强", "磊", "军", "洋", "勇", "艳", "杰", "娟"]
REGIONS = ("620102", "620103", "620104", "620502", "620902")


def _population_rows(n: int, *, bad_ids: int = 0, seed: int = 11, offset: int = 0) -> pa.Table:
    """``n`` residents: valid ID numbers (the first ``bad_ids`` with a wrong check digit),
    names, birth dates matching the IDs, county codes and mobile numbers."""
    rng = random.Random(seed)
    ids, names, births, regions, phones = [], [], [], [], []
    for i in range(n):
        number = random_resident_id(rng, REGIONS)
        if i < bad_ids:
            number = number[:17] + ("0" if number[17] != "0" else "1")
        ids.append(number)
        names.append(rng.choice(SURNAMES) + rng.choice(GIVEN))
        born = resident_id_birth_date(number[:17] + resident_id_check_char(number[:17]))
        births.append(born)
        regions.append(number[:6])
        phones.append(
            "1" + rng.choice("3578") + "".join(rng.choice("0123456789") for _ in range(9))
        )
    return pa.table(
        {
            "id": pa.array(range(offset + 1, offset + n + 1), pa.int64()),
            "sfzh": ids,
            "xm": names,
            "csrq": pa.array(births, pa.date32()),
            "xzqh": regions,
            "sjhm": phones,
        }
    )


@pytest.fixture
def population_rows():
    """``population_rows(n, bad_ids=0, seed=11)``: a table of ``n`` synthetic residents."""
    return _population_rows


@pytest.fixture
def make_population(db, orgs, lake_env):
    """``make_population(table="population", share_type="conditional")``: the police
    department's published resource 全省人口基础信息 and its empty lake table (committed).
    Returns ``(resource_id, table_name, org_id)``."""

    def factory(table: str = "population", share_type: str = "conditional"):
        return _population_resource(db, orgs, table, share_type)

    return factory


def _population_resource(db, orgs, table: str, share_type: str):
    from longshu.actor import SYSTEM
    from longshu.catalog import lifecycle, service
    from longshu.catalog.rules import FieldData, ResourceData
    from longshu.lake import tables

    data = ResourceData(
        name=f"全省人口基础信息（{table}）",
        summary="甘肃省常住人口的公民身份号码、姓名、出生日期、户籍地行政区划和联系电话。",
        domain="social_security",
        share_type=share_type,
        share_conditions="用于政务服务身份核验",
        open_type="none",
        open_conditions="含个人信息，不予开放",
        update_cycle="monthly",
        kind="table",
        formats=["CSV"],
        keywords=["人口", "户籍"],
        fields=[
            FieldData("sfzh", "公民身份号码", "string", 18),
            FieldData("xm", "姓名", "string", 50),
            FieldData("csrq", "出生日期", "date"),
            FieldData("xzqh", "户籍地行政区划", "string", 6),
            FieldData("sjhm", "手机号码", "string", 11),
        ],
    )
    with db.session() as s:
        entry = service.create_resource(s, SYSTEM, data, provider_org_id=orgs["police"])
        for move in ("submit", "approve", "publish"):
            lifecycle.take(s, SYSTEM, entry.id, move)
        tables.create_table(
            s, SYSTEM, table, resource_id=entry.id, owner_org_id=orgs["police"],
            key_columns=["id"],
        )  # fmt: skip
        s.commit()
        return entry.id, table, orgs["police"]


def staff(org_id: int, *roles: str, uid: int) -> Actor:
    """A member of a department's staff with these roles (a service-level actor)."""
    return Actor(kind="user", id=uid, name=roles[0], org_id=org_id, roles=frozenset(roles))


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def running_server(env: dict[str, str], log: Path, cwd: Path | None = None) -> Iterator[str]:
    """A real ``longshu serve`` process on a free port (its output in ``log``), once it
    answers /healthz; its URL. Stopped on exit."""
    port = free_port()
    with log.open("w") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "longshu.cli", "serve", "--host", "127.0.0.1",
             "--port", str(port)],
            env=env, stdout=out, stderr=subprocess.STDOUT, cwd=cwd,
        )  # fmt: skip
        url = f"http://127.0.0.1:{port}"
        try:
            for _ in range(240):
                try:
                    if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                assert process.poll() is None, log.read_text()[-4000:]
                time.sleep(0.25)
            else:
                pytest.fail("the server did not answer /healthz: " + log.read_text()[-4000:])
            yield url
        finally:
            process.terminate()
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
