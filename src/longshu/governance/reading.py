"""How governance reads a version: through ``lake.access`` (the one door) under a platform
grant named for the purpose, so that every scan, rule run and profile is recorded like any
other read (``lake.accessed``)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import pyarrow as pa
from sqlalchemy.orm import Session

from longshu import lake
from longshu.actor import Actor
from longshu.lake.models import LakeTable, LakeVersion
from longshu.lake.policy import Grant, Mask, TableGrant

CONSUMER = "platform:governance"


def quote(name: str) -> str:
    """A column or table name as a DuckDB identifier (names may be Chinese)."""
    return '"' + name.replace('"', '""') + '"'


def platform_grant(
    purpose: str,
    table: str,
    *,
    masks: Mapping[str, str] | None = None,
    max_rows: int = 100_000_000,
    timeout_seconds: float = 3600.0,
) -> Grant:
    """A grant for the platform's own governance work on one table (masks: column → kind)."""
    return Grant(
        id=f"governance:{purpose}",
        consumer=CONSUMER,
        purpose=purpose,
        tables=(
            TableGrant(
                table=table,
                masks={c: Mask(kind=k) for c, k in (masks or {}).items()},  # type: ignore[arg-type]
            ),
        ),
        max_rows=max_rows,
        timeout_seconds=timeout_seconds,
    )


def read_columns(
    session: Session,
    actor: Actor,
    table: LakeTable,
    version: LakeVersion,
    columns: Sequence[str],
    *,
    purpose: str,
    limit: int | None = None,
) -> pa.Table:
    """``columns`` of ``version`` (all rows, or a sample of ``limit`` rows spread over the
    table by DuckDB's reservoir sampling, repeatable)."""
    listed = ", ".join(quote(c) for c in columns)
    sql = f"SELECT {listed} FROM {table.name}"
    if limit is not None and limit < version.rows:
        sql += f" USING SAMPLE reservoir({int(limit)} ROWS) REPEATABLE (7)"
    grant = platform_grant(purpose, table.name)
    return lake.access(session, actor, grant, sql, at={table.name: version.number}).data
