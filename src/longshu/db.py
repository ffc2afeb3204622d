"""The control-plane database: typed models, engine, sessions, migrations.

SQLite file by default, PostgreSQL when ``LONGSHU_DATABASE_URL`` names one. Times are stored
in UTC and always come back timezone-aware.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Generic, TypeVar

from sqlalchemy import JSON, DateTime, MetaData, Select, create_engine, event, func, select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker
from sqlalchemy.types import TypeDecorator

T = TypeVar("T")

UTC = dt.UTC
SHANGHAI = dt.timezone(dt.timedelta(hours=8), "Asia/Shanghai")

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utcnow() -> dt.datetime:
    return dt.datetime.now(UTC)


class UTCDateTime(TypeDecorator[dt.datetime]):
    """Aware datetimes in, aware UTC datetimes out; naive values are refused."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: Any) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime refused: store timezone-aware times")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: dt.datetime | None, dialect: Any) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map = {  # noqa: RUF012 — SQLAlchemy reads this class attribute
        dt.datetime: UTCDateTime(),
        dict[str, Any]: JSON,
        list[Any]: JSON,
    }


def make_engine(url: str, **kwargs: Any) -> Engine:
    if url.startswith("sqlite"):
        path = url.removeprefix("sqlite:///")
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(
            url, connect_args={"timeout": 30, "check_same_thread": False}, **kwargs
        )
        event.listen(engine, "connect", _sqlite_pragmas)
        event.listen(engine, "begin", _sqlite_begin)
        return engine
    return create_engine(url, pool_pre_ping=True, **kwargs)


def _sqlite_begin(conn: Any) -> None:
    """SQLAlchemy, not pysqlite, starts transactions. A connection with the execution option
    ``sqlite_immediate=True`` takes the write lock at BEGIN: use it for read-then-write work
    that must be serialised (ledger appends); WAL readers are never blocked either way."""
    immediate = conn.get_execution_options().get("sqlite_immediate", False)
    conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    dbapi_conn.isolation_level = None  # SQLAlchemy's "begin" listener issues BEGIN
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.execute("PRAGMA busy_timeout=30000")
    cur.close()


class Database:
    """One engine and its session factory."""

    def __init__(self, url: str, **engine_kwargs: Any) -> None:
        self.url = url
        self.engine = make_engine(url, **engine_kwargs)
        self.sessionmaker = sessionmaker(self.engine, expire_on_commit=False)

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A unit of work: commits on success, rolls back on error."""
        session = self.sessionmaker()
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise
        finally:
            session.close()

    def dispose(self) -> None:
        self.engine.dispose()


_database: Database | None = None


def insert_ignore(session: Session, model: type[Any], values: dict[str, Any]) -> None:
    """Insert a row unless one with the same key exists (``ON CONFLICT DO NOTHING``): safe
    when two transactions make the same row at once — one inserts, the other waits and finds
    it."""
    from sqlalchemy.dialects import postgresql, sqlite

    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        statement = postgresql.insert(model).values(values).on_conflict_do_nothing()
    elif dialect == "sqlite":
        statement = sqlite.insert(model).values(values).on_conflict_do_nothing()
    else:  # pragma: no cover - the platform runs on SQLite and PostgreSQL
        raise NotImplementedError(dialect)
    session.execute(statement)


def get_database() -> Database:
    """The process-wide database named by the settings."""
    global _database
    if _database is None:
        from longshu.config import get_settings

        _database = Database(get_settings().resolved_database_url())
    return _database


def set_database(database: Database | None) -> None:
    global _database
    _database = database


def migrate(database: Database, revision: str = "head") -> None:
    """Apply Alembic migrations (``longshu init`` and app start call this)."""
    from alembic import command

    command.upgrade(alembic_config(database.url), revision)


def migration_include_name(name: str | None, type_: str, parent_names: Any) -> bool:
    """What autogenerate compares: not SQLite's FTS5 tables (``*_fts`` and their shadow
    tables), which their own DDL creates and no model describes."""
    return not (type_ == "table" and name is not None and "_fts" in name)


def migration_include_object(dialect: str) -> Any:
    """What autogenerate compares on ``dialect``: not objects whose DDL is conditional on
    another dialect (``ddl_if``), such as a GIN index that only PostgreSQL has."""

    def include(obj: Any, name: str | None, type_: str, reflected: bool, compare_to: Any) -> bool:
        condition = getattr(obj, "_ddl_if", None)
        wanted = getattr(condition, "dialect", None)
        return wanted is None or wanted == dialect

    return include


def alembic_config(url: str) -> Any:
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(Path(__file__).parent / "migrations"))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


@dataclass(frozen=True)
class Page(Generic[T]):
    """One page of a listing: the rows, how many match in all, and where we are."""

    items: list[T]
    total: int
    page: int
    per_page: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))


def paginate(session: Session, query: Select[tuple[T]], page: int, per_page: int) -> Page[T]:
    """``query`` (already filtered and ordered) cut to one page, with the total count."""
    page = max(1, page)
    total = session.scalar(select(func.count()).select_from(query.order_by(None).subquery())) or 0
    rows = session.scalars(query.offset((page - 1) * per_page).limit(per_page))
    return Page(list(rows), total, page, per_page)
