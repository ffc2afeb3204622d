"""Alembic migrations build exactly the schema the models describe, on SQLite and PostgreSQL,
and the ledger's tables come out append-only."""

from __future__ import annotations

import uuid

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine, inspect, text
from sqlalchemy.exc import DBAPIError
from tests.conftest import BACKEND, PG_SERVER

from longshu.db import (
    Database,
    alembic_config,
    migrate,
    migration_include_name,
    migration_include_object,
)
from longshu.models import load_all


@pytest.fixture
def empty_url(tmp_path):
    """A database with nothing in it, on the backend of this run."""
    if BACKEND != "pg":
        yield f"sqlite:///{tmp_path / 'fresh.db'}"
        return
    name = f"longshu_mig_{uuid.uuid4().hex[:10]}"
    admin = create_engine(PG_SERVER, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f"CREATE DATABASE \"{name}\" ENCODING 'UTF8' TEMPLATE template0"))
    yield PG_SERVER.rsplit("/", 1)[0] + f"/{name}"
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def test_upgrade_builds_the_models_schema(empty_url):
    database = Database(empty_url)
    migrate(database)
    with database.engine.connect() as conn:
        context = MigrationContext.configure(
            conn,
            opts={
                "compare_type": True,
                "include_name": migration_include_name,
                "include_object": migration_include_object(conn.dialect.name),
            },
        )
        differences = compare_metadata(context, load_all().metadata)
    database.dispose()
    assert differences == [], "models and migrations differ: run `longshu db revision`"


def test_ledger_tables_refuse_updates_after_migration(empty_url):
    database = Database(empty_url)
    migrate(database)
    with database.engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO ledger (name, hash_alg, created_at) "
                "VALUES ('probe', 'sm3', CURRENT_TIMESTAMP)"
            )
        )
    with pytest.raises(DBAPIError, match="append-only"), database.engine.begin() as conn:
        conn.execute(text("UPDATE ledger SET name = 'changed'"))
    with pytest.raises(DBAPIError, match="append-only"), database.engine.begin() as conn:
        conn.execute(text("DELETE FROM ledger"))
    database.dispose()


def test_downgrade_to_base_removes_every_table(empty_url):
    database = Database(empty_url)
    migrate(database)
    command.downgrade(alembic_config(empty_url), "base")
    with database.engine.connect() as conn:
        left = set(inspect(conn).get_table_names()) - {"alembic_version"}
    database.dispose()
    assert left == set()
    migrate(database)  # and back up again: the downgrade left nothing that blocks it
    database.dispose()
