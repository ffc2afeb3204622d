"""Databases (数据库): pull a table or one read-only ``SELECT`` from a department's database,
named by a SQLAlchemy URL (SQLite, PostgreSQL through psycopg 3), as Arrow record batches.

    source = read_sql("postgresql+psycopg://reader:secret@db.gs.gov.cn/water",
                      table="meter_reading", watermark="read_at",
                      since="2026-11-28T00:00:00+00:00")
    source.details["watermark"]   # the newest value read: keep it, pass it as ``since`` next time

Safety: a query is parsed with sqlglot and must be one ``SELECT`` (or set operation) with no
``INTO``, locking clause, placeholder or data-changing CTE; what runs is sqlglot's rendering of
what was checked. The database is also asked for a read-only transaction (PostgreSQL
``REPEATABLE READ READ ONLY``; SQLite opened ``mode=ro`` with ``query_only``), which keeps the
row count, the newest watermark and the streamed rows one consistent snapshot. The password
never leaves this module: errors and details carry the URL with ``***`` in its place.

Types come from the database: PostgreSQL's column types (``numeric(p,s)`` → ``decimal128(p,s)``,
``timestamptz`` → UTC timestamps, ``timestamp`` read in ``local_timezone``); SQLite stores any
value in any column, so its types come from the values (a first pass over the rows, which also
counts them), refined by a table's declared ``DECIMAL(p,s)``."""

from __future__ import annotations

import datetime as dt
import re
import sqlite3
import time
import zoneinfo
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pyarrow as pa
import sqlglot
from sqlalchemy import create_engine, inspect, text
from sqlalchemy.engine import URL, Connection, Engine, make_url
from sqlalchemy.exc import (
    ArgumentError,
    DBAPIError,
    InterfaceError,
    NoSuchModuleError,
    OperationalError,
    SQLAlchemyError,
)
from sqlglot import exp
from sqlglot.errors import ParseError

from longshu.ingest.columns import column_names
from longshu.ingest.errors import IngestError, InvalidOption
from longshu.ingest.source import Source
from longshu.ingest.sqltypes import (
    Column,
    ValueKinds,
    converter,
    later,
    pg_column,
    since_value,
    sqlite_since,
    watermark_text,
)
from longshu.security.crypto.hashing import sm3_hex

DIALECTS = {"sqlite": "sqlite", "postgresql": "postgres"}  # SQLAlchemy name → sqlglot name
SUPPORTED_DRIVERS = {"sqlite", "sqlite+pysqlite", "postgresql", "postgresql+psycopg"}
DEFAULT_BATCH_ROWS = 10_000
DEFAULT_TIMEOUT_SECONDS = 600
MAX_QUERY_CHARS = 20_000
# Functions that read server files, run SQL text of their own (out of sqlglot's sight), reach
# other servers, change settings or stop sessions. The read-only transaction stops writes;
# these it would not.
DENIED_FUNCTIONS = {
    "query_to_xml",
    "query_to_xml_and_xmlschema",
    "query_to_xmlschema",
    "cursor_to_xml",
    "cursor_to_xmlschema",
    "set_config",
    "pg_terminate_backend",
    "pg_cancel_backend",
    "pg_reload_conf",
    "pg_rotate_logfile",
    "pg_promote",
    "pg_notify",
    "pg_stat_file",
    "load_extension",
    "readfile",
    "writefile",
    "fts3_tokenizer",
}
DENIED_PREFIXES = ("pg_read_", "pg_ls_", "lo_", "dblink", "pg_file", "pg_advisory")
SECRET_QUERY_KEYS = {"password", "passwd", "pwd", "sslpassword", "token", "secret"}


# --- errors (English here; Chinese in ingest.po) -------------------------------------------


class UnsupportedDatabase(IngestError):
    key = "ingest.sql_unsupported_database"
    message = "Databases of kind {dialect} are not supported; use one of: {supported}."


class InvalidDatabaseUrl(IngestError):
    key = "ingest.sql_invalid_url"
    message = "The database address is not a valid SQLAlchemy URL: {detail}"


class DatabaseUnavailable(IngestError):
    key = "ingest.sql_unavailable"
    status = 502
    message = "The database {database} could not be read: {detail}"


class QueryNotSelect(IngestError):
    key = "ingest.sql_not_select"
    message = "Only one read-only SELECT can be pulled from a database: {detail}."


class QueryInvalid(IngestError):
    key = "ingest.sql_query_invalid"
    message = "The query is not valid SQL: {detail}"


class QueryFailed(IngestError):
    key = "ingest.sql_query_failed"
    message = "The database {database} refused the pull: {detail}"


class SourceTableNotFound(IngestError):
    key = "ingest.sql_table_not_found"
    status = 404
    message = "The database {database} has no table {table}."


class WatermarkMissing(IngestError):
    key = "ingest.sql_watermark_missing"
    message = "The watermark column {column} is not among the columns pulled ({columns})."


class TooManyRows(IngestError):
    key = "ingest.sql_too_many_rows"
    message = "The pull would read {rows} rows, over the limit of {limit}; narrow the query or raise the limit."


class StatementTimeout(IngestError):
    key = "ingest.sql_timeout"
    status = 504
    message = "The database pull did not finish within {seconds} seconds."


class ValueDoesNotFit(IngestError):
    key = "ingest.sql_value_does_not_fit"
    message = "A value of column {column} does not fit its type {type}: {detail}. Cast the column in a query (for example to numeric(20,4) or text)."


# --- the URL and the statement -------------------------------------------------------------


def masked_url(url: str | URL) -> str:
    """The URL as it may appear in errors, logs and events: the password (and any
    password-like query option) replaced by ``***``."""
    try:
        parsed = make_url(url) if isinstance(url, str) else url
    except ArgumentError:
        return "(invalid database URL)"
    query = {k: ("***" if k.lower() in SECRET_QUERY_KEYS else v) for k, v in parsed.query.items()}
    return parsed.set(query=query).render_as_string(hide_password=True)


@dataclass(frozen=True)
class _Plan:
    inner: str  # the checked SELECT, rendered for the database's dialect
    label: str  # table name or "query"
    query_sm3: str | None


def check_query(query: str, dialect: str = "postgres") -> str:
    """The query as it will run: one read-only SELECT, else ``QueryNotSelect``/``QueryInvalid``."""
    if len(query) > MAX_QUERY_CHARS:
        raise QueryInvalid(detail=f"longer than {MAX_QUERY_CHARS} characters")
    try:
        trees = [t for t in sqlglot.parse(query, dialect=dialect) if t is not None]
    except ParseError as error:
        raise QueryInvalid(detail=str(error).splitlines()[0][:300]) from None
    if len(trees) != 1:
        raise QueryNotSelect(detail=f"found {len(trees)} statements")
    tree = trees[0]
    if not isinstance(tree, exp.Query):
        raise QueryNotSelect(detail=f"found {tree.key.upper()}")
    refused = {
        exp.Into: "SELECT … INTO",
        exp.Lock: "a locking clause (FOR UPDATE/SHARE)",
        exp.Placeholder: "a parameter placeholder",
        exp.Parameter: "a parameter placeholder",
        exp.Insert: "INSERT",
        exp.Update: "UPDATE",
        exp.Delete: "DELETE",
        exp.Merge: "MERGE",
        exp.Create: "CREATE",
        exp.Drop: "DROP",
        exp.Alter: "ALTER",
        exp.Command: "a command",
        exp.Pragma: "PRAGMA",
        exp.Set: "SET",
        exp.Copy: "COPY",
    }
    for node in tree.walk():
        for kind, what in refused.items():
            if isinstance(node, kind):
                raise QueryNotSelect(detail=f"it contains {what}")
        if isinstance(node, exp.Func):
            name = (node.name if isinstance(node, exp.Anonymous) else node.sql_name()).lower()
            if name in DENIED_FUNCTIONS or name.startswith(DENIED_PREFIXES):
                raise QueryNotSelect(detail=f"it calls {name}()")
    return tree.sql(dialect=dialect, comments=False)


def _table_plan(name: str, dialect: str) -> tuple[str, str | None, str]:
    """``schema.table`` → (rendered quoted name, schema, table)."""
    parts = name.split(".")
    if not 1 <= len(parts) <= 2 or not all(re.fullmatch(r"[^\W\d]\w{0,62}", p) for p in parts):
        raise InvalidOption(option="table", detail="a table name, optionally schema.table")
    rendered = ".".join(exp.to_identifier(p, quoted=True).sql(dialect=dialect) for p in parts)
    schema, table = (parts[0], parts[1]) if len(parts) == 2 else (None, parts[0])
    return rendered, schema, table


# --- reading -------------------------------------------------------------------------------


def read_sql(
    url: str,
    *,
    table: str | None = None,
    query: str | None = None,
    watermark: str | None = None,
    since: Any = None,
    limit: int | None = None,
    timeout_seconds: float = DEFAULT_TIMEOUT_SECONDS,
    batch_rows: int = DEFAULT_BATCH_ROWS,
    local_timezone: str = "Asia/Shanghai",
) -> Source:
    """Pull ``table`` or ``query`` (exactly one) from the database at ``url``.

    With ``watermark`` (a column name), only rows whose value there is greater than
    ``since`` are read (all of them when ``since`` is None); ``details["watermark"]`` is the
    newest value read, as text, for the caller to keep. More than ``limit`` rows refuses the pull before any is
    read (``TooManyRows``). ``timeout_seconds`` bounds every statement and the whole stream
    (``StatementTimeout``). Timestamps without a time zone are read in ``local_timezone``.
    The returned reader holds a read-only transaction open until it is read to the end."""
    if (table is None) == (query is None):
        raise InvalidOption(option="table/query", detail="give exactly one of a table or a query")
    if limit is not None and (not isinstance(limit, int) or limit <= 0):
        raise InvalidOption(option="limit", detail="a positive number of rows")
    if not timeout_seconds or timeout_seconds <= 0:
        raise InvalidOption(option="timeout_seconds", detail="a positive number of seconds")
    if not isinstance(batch_rows, int) or batch_rows <= 0:
        raise InvalidOption(option="batch_rows", detail="a positive number of rows")
    try:
        local = zoneinfo.ZoneInfo(local_timezone)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise InvalidOption(option="local_timezone", detail="an IANA time zone") from None
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise InvalidDatabaseUrl(
            detail="expected dialect+driver://user:password@host/database"
        ) from None
    shown = masked_url(parsed)
    backend = parsed.get_backend_name()
    if backend not in DIALECTS or parsed.drivername not in SUPPORTED_DRIVERS:
        raise UnsupportedDatabase(dialect=parsed.drivername, supported="sqlite, postgresql+psycopg")
    dialect = DIALECTS[backend]
    if query is not None:
        plan = _Plan(check_query(query, dialect), "query", sm3_hex(query.encode()))
        schema_name = table_name = None
    else:
        rendered, schema_name, table_name = _table_plan(table or "", dialect)
        plan = _Plan(f"SELECT * FROM {rendered}", table or "", None)
    engine = _engine(parsed, backend, timeout_seconds)
    deadline = time.monotonic() + timeout_seconds
    secret = parsed.password
    conn: Connection | None = None
    try:
        conn = _open(engine, backend, timeout_seconds, deadline)
        declared: dict[str, tuple[int, int]] = {}
        if table_name is not None:
            declared = _check_table(conn, schema_name, table_name, table or "", shown)
        reader, rows, until, columns = _pull(
            conn,
            backend,
            plan,
            watermark,
            since,
            limit,
            batch_rows,
            local,
            declared,
            deadline,
        )
    except BaseException as error:
        if conn is not None:
            conn.close()
        engine.dispose()
        if isinstance(error, _Timeout | DBAPIError | SQLAlchemyError):
            raise _database_error(error, shown, secret, timeout_seconds) from None
        raise
    details: dict[str, Any] = {
        "database": shown,
        "dialect": backend,
        "columns": len(columns),
        "batch_rows": batch_rows,
    }
    if plan.query_sm3:
        details["query_sm3"] = plan.query_sm3
    else:
        details["table"] = plan.label
    if watermark:
        shown_since = watermark_text(since)
        details |= {"watermark_column": watermark, "since": shown_since, "watermark": until}
        if until is None:  # nothing newer: the next pull starts where this one did
            details["watermark"] = shown_since
    if limit:
        details["limit"] = limit
    if rows == 0:  # nothing to stream: give the connection back now
        conn.close()
        engine.dispose()
        empty = pa.RecordBatchReader.from_batches(reader.schema, [])
        return Source(data=empty, rows=0, format="sql", details=details)
    guarded = _guarded(reader, conn, engine, shown, secret, timeout_seconds, deadline)
    return Source(data=guarded, rows=rows, format="sql", details=details)


def _engine(parsed: URL, backend: str, timeout: float) -> Engine:
    try:
        if backend == "sqlite":
            database = parsed.database or ""
            if database in ("", ":memory:") or database.startswith("file:"):
                raise InvalidOption(option="url", detail="a SQLite database file")
            ro = URL.create(
                "sqlite", database=f"file:{database}", query={"mode": "ro", "uri": "true"}
            )
            return create_engine(ro, isolation_level="AUTOCOMMIT", hide_parameters=True)
        if parsed.drivername == "postgresql":  # SQLAlchemy's default would be psycopg2
            parsed = parsed.set(drivername="postgresql+psycopg")
        return create_engine(
            parsed,
            hide_parameters=True,
            connect_args={"connect_timeout": max(1, min(int(timeout), 30))},
        )
    except (NoSuchModuleError, ImportError):
        raise UnsupportedDatabase(
            dialect=parsed.drivername, supported="sqlite, postgresql+psycopg"
        ) from None


def _open(engine: Engine, backend: str, timeout: float, deadline: float) -> Connection:
    conn = engine.connect()
    if backend == "sqlite":
        raw = conn.connection.dbapi_connection
        raw.set_progress_handler(lambda: 1 if time.monotonic() > deadline else 0, 10_000)
        conn.exec_driver_sql("PRAGMA query_only = ON")
        conn.exec_driver_sql("BEGIN")  # one snapshot for the count and the rows
    else:
        conn.exec_driver_sql("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        conn.exec_driver_sql(f"SET LOCAL statement_timeout = {int(timeout * 1000)}")
        # a reader left unread must not hold its snapshot (and locks) for ever
        conn.exec_driver_sql(
            f"SET LOCAL idle_in_transaction_session_timeout = {int(timeout * 1000)}"
        )
        conn.exec_driver_sql("SET LOCAL TIME ZONE 'UTC'")
    return conn


def _check_table(
    conn: Connection, schema: str | None, table: str, label: str, shown: str
) -> dict[str, tuple[int, int]]:
    """Refuse a missing table clearly; SQLite's declared ``DECIMAL(p,s)`` columns."""
    inspector = inspect(conn)
    if not inspector.has_table(table, schema=schema) and table not in inspector.get_view_names(
        schema=schema
    ):
        raise SourceTableNotFound(database=shown, table=label)
    declared = {}
    for column in inspector.get_columns(table, schema=schema):
        precision = getattr(column["type"], "precision", None)
        scale = getattr(column["type"], "scale", None)
        if precision and scale is not None and 0 <= scale <= precision <= 38:
            declared[column["name"]] = (precision, scale)
    return declared


def _escaped(sql: str) -> str:
    """Checked SQL placed inside ``text()``: its colons are never bind parameters."""
    return sql.replace(":", r"\:")


def _pull(
    conn: Connection,
    backend: str,
    plan: _Plan,
    watermark: str | None,
    since: Any,
    limit: int | None,
    batch_rows: int,
    local: dt.tzinfo,
    declared: dict[str, tuple[int, int]],
    deadline: float,
) -> tuple[pa.RecordBatchReader, int, str | None, list[Column]]:
    dialect = DIALECTS[backend]
    inner = f"({_escaped(plan.inner)}) AS longshu_src"
    params: dict[str, Any] = {}
    where = ""
    # the output columns (and on PostgreSQL their types) before anything is read
    probe = conn.execute(text(f"SELECT * FROM {inner} LIMIT 0"))
    names = list(probe.keys())
    pg_columns = (
        [pg_column(d.name, d.type_code, d.precision, d.scale) for d in probe.cursor.description]
        if backend == "postgresql"
        else None
    )
    probe.close()
    if watermark:
        if watermark not in names:
            raise WatermarkMissing(column=watermark, columns=", ".join(names)[:500])
        if since is not None:
            where = (
                f" WHERE {exp.to_identifier(watermark, quoted=True).sql(dialect=dialect)} > :since"
            )
            if pg_columns is not None:
                params["since"] = since_value(since, pg_columns[names.index(watermark)])
            else:
                params["since"] = sqlite_since(since)
    select = f"SELECT * FROM {inner}{where}"
    until: Any = None
    if pg_columns is not None:
        wm = (
            f", max({exp.to_identifier(watermark, quoted=True).sql(dialect=dialect)})"
            if watermark
            else ""
        )
        row = conn.execute(text(f"SELECT count(*){wm} FROM {inner}{where}"), params).one()
        rows = int(row[0])
        until = row[1] if watermark else None
        columns = pg_columns
    else:
        kinds = [ValueKinds(n, declared.get(n)) for n in names]
        rows = 0
        wm_index = names.index(watermark) if watermark else None
        for part in conn.execute(text(select), params).partitions(batch_rows):
            rows += len(part)
            for row in part:
                for kind, value in zip(kinds, row, strict=True):
                    kind.see(value)
                if wm_index is not None and row[wm_index] is not None:
                    value = row[wm_index]
                    until = value if until is None or later(value, until) else until
            if time.monotonic() > deadline:
                raise _Timeout()
        columns = [k.column() for k in kinds]
    if limit is not None and rows > limit:
        raise TooManyRows(rows=rows, limit=limit)
    if until is not None and pg_columns is None:
        until = str(until)  # SQLite compares as stored: keep the stored text
    arrow_names = column_names(names)
    schema = pa.schema([pa.field(n, c.arrow) for n, c in zip(arrow_names, columns, strict=True)])
    converters = [converter(c, local) for c in columns]
    result = conn.execution_options(stream_results=True, max_row_buffer=batch_rows).execute(
        text(select), params
    )

    def batches() -> Iterator[pa.RecordBatch]:
        for part in result.partitions(batch_rows):
            arrays = []
            values_by_column = zip(*part, strict=True)
            for column, convert, values in zip(columns, converters, values_by_column, strict=True):
                try:
                    data = values if convert is None else [convert(v) for v in values]
                    arrays.append(pa.array(data, column.arrow))
                except (pa.ArrowInvalid, pa.ArrowTypeError, ValueError, TypeError) as error:
                    raise ValueDoesNotFit(
                        column=column.name, type=str(column.arrow), detail=str(error)[:200]
                    ) from None
            yield pa.RecordBatch.from_arrays(arrays, schema=schema)
            if time.monotonic() > deadline:
                raise _Timeout()

    reader = pa.RecordBatchReader.from_batches(schema, batches())
    return reader, rows, watermark_text(until), columns


class _Timeout(Exception):
    """The pull's deadline passed between batches."""


def _guarded(
    reader: pa.RecordBatchReader,
    conn: Connection,
    engine: Engine,
    shown: str,
    secret: str | None,
    timeout: float,
    deadline: float,
) -> pa.RecordBatchReader:
    """The stream, closing the connection at its end and translating what the driver raises."""

    def batches() -> Iterator[pa.RecordBatch]:
        try:
            yield from reader
        except _Timeout:
            raise StatementTimeout(seconds=_seconds(timeout)) from None
        except (DBAPIError, SQLAlchemyError) as error:
            raise _database_error(error, shown, secret, timeout) from None
        finally:
            try:
                conn.close()
            finally:
                engine.dispose()

    return pa.RecordBatchReader.from_batches(reader.schema, batches())


def _seconds(timeout: float) -> int | float:
    return int(timeout) if float(timeout).is_integer() else timeout


def _database_error(
    error: BaseException, shown: str, secret: str | None, timeout: float
) -> IngestError:
    """A driver's error as ours, with no password and no bound values in it."""
    if isinstance(error, _Timeout):
        return StatementTimeout(seconds=_seconds(timeout))
    original = getattr(error, "orig", None)
    sqlstate = getattr(original, "sqlstate", None)
    text_ = str(original if original is not None else error)
    if sqlstate == "57014" or "interrupted" in text_:
        return StatementTimeout(seconds=_seconds(timeout))
    detail = text_.strip().splitlines()[0] if text_.strip() else type(error).__name__
    if secret:
        detail = detail.replace(secret, "***")
    if _unreachable(error, sqlstate, text_):
        return DatabaseUnavailable(database=shown, detail=detail[:300])
    return QueryFailed(database=shown, detail=detail[:300])


_UNREACHABLE_WORDS = ("unable to open", "locked", "busy", "disk i/o")


def _unreachable(error: BaseException, sqlstate: str | None, message: str) -> bool:
    """The database cannot be reached now (worth a later attempt), not a wrong query."""
    if sqlstate:  # connection, resources, shutdown
        return sqlstate.startswith(("08", "53", "57P"))
    if not isinstance(error, OperationalError | InterfaceError):
        return False
    if isinstance(getattr(error, "orig", None), sqlite3.Error):
        return any(word in message.lower() for word in _UNREACHABLE_WORDS)
    return True  # a PostgreSQL client-side failure: no server answered


def source_label(url: str, table: str | None) -> str:
    """How a pull names its source for people and the lake: ``table@database``, no
    credentials (the file name alone for SQLite)."""
    try:
        database = (make_url(url).database or "").replace("\\", "/").rsplit("/", 1)[-1]
    except ArgumentError:
        database = "?"
    return f"{table or 'query'}@{database}"[:200]
