"""Alembic environment: the schema is every domain's models (longshu.models)."""

from alembic import context

from longshu.db import make_engine, migration_include_name, migration_include_object
from longshu.models import load_all

target_metadata = load_all().metadata


def run_migrations() -> None:
    url = context.config.get_main_option("sqlalchemy.url")
    connectable = context.config.attributes.get("connection")
    if connectable is not None:
        _run(connectable)
        return
    engine = make_engine(url)
    with engine.connect() as connection:
        _run(connection)
    engine.dispose()


def _run(connection) -> None:  # type: ignore[no-untyped-def]
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
        include_name=migration_include_name,
        include_object=migration_include_object(connection.dialect.name),
    )
    with context.begin_transaction():
        context.run_migrations()


run_migrations()
