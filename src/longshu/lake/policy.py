"""What a grant lets its holder read: the policy object ``lake.access`` enforces.

Sharing (共享授权), open-data applications and operation authorisations (授权运营) each
decide in their own domain who may read what; they hand the lake a ``Grant`` built from that
decision. The lake does not store grants: it trusts the object it is given only as far as
the object itself says (tables and versions covered, permitted columns, masks, row filters,
row and time limits, validity window, holder), and records each use in an event.

Masks (脱敏) per column:

| kind | result | note |
|---|---|---|
| ``hash`` | HMAC-SM3 hex under the table's key | the same for every consumer: joinable across them |
| ``pseudonym`` | HMAC-SM3 hex under a key derived for the grant's consumer | differs between consumers, so two extracts cannot be joined |
| ``keep_last`` | ``*`` for all but the last ``keep`` characters | e.g. ``**************1234`` |
| ``null`` | NULL of the column's type | the column stays, its content does not |
| ``year_only`` | the year: 1 January of it for dates and times, the first 4 characters of text | |
"""

from __future__ import annotations

import datetime as dt
from typing import Literal

import sqlglot
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator
from sqlglot import exp

from longshu.db import utcnow
from longshu.errors import LongshuError
from longshu.lake.storage import TABLE_NAME

MaskKind = Literal["hash", "pseudonym", "keep_last", "null", "year_only"]


class Mask(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    kind: MaskKind
    keep: int = Field(default=4, ge=1, le=64)  # keep_last: characters left visible


class TableGrant(BaseModel):
    """One table a grant covers.

    ``versions``: the load numbers covered (None: every ready version; a query reads the
    newest covered one unless it asks for another). ``columns``: the columns the holder sees
    (None: all). ``masks``: column → mask. ``row_filter``: a SQL condition over the table's
    own columns that every row read must meet (e.g. ``region_code IN ('620100')``);
    build it with ``rows_where`` to quote values safely."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    table: str
    versions: tuple[int, ...] | None = None
    columns: tuple[str, ...] | None = None
    masks: dict[str, Mask] = Field(default_factory=dict)
    row_filter: str | None = None

    @field_validator("table")
    @classmethod
    def _table_name(cls, value: str) -> str:
        if not TABLE_NAME.match(value):
            raise ValueError(f"table name {value!r} is not valid")
        return value

    @field_validator("versions")
    @classmethod
    def _versions(cls, value: tuple[int, ...] | None) -> tuple[int, ...] | None:
        if value is not None and (not value or any(v < 1 for v in value)):
            raise ValueError("versions are load numbers from 1")
        return value

    @model_validator(mode="after")
    def _masks_on_visible_columns(self) -> TableGrant:
        if self.columns is not None:
            hidden = sorted(set(self.masks) - set(self.columns))
            if hidden:
                raise ValueError(f"masks on columns the grant does not permit: {hidden}")
        if self.row_filter is not None:
            from longshu.lake.rewrite import check_condition

            try:
                check_condition(self.row_filter)
            except LongshuError as exc:
                raise ValueError(f"row filter: {exc.render()}") from exc
        return self

    def covers(self, number: int) -> bool:
        return self.versions is None or number in self.versions

    def visible(self, column: str) -> bool:
        return self.columns is None or column in self.columns


class Grant(BaseModel):
    """A grant as ``lake.access`` sees it.

    ``id`` names the grant in its own domain (``"sharing:12"``, ``"operation:3"``,
    ``"opendata:preview"``); ``consumer`` keys the pseudonyms (normally ``"org:<id>"``);
    ``holder_org_id`` (if set) is the only organisation whose people may use it;
    ``max_rows`` caps the rows one query returns; ``timeout_seconds`` its running time.
    A stream (``lake.access_batches``) has its own caps: ``max_stream_rows`` and
    ``stream_timeout_seconds`` (from opening to the last batch); each defaults to its
    query counterpart when not set."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str = Field(min_length=1, max_length=100)
    consumer: str = Field(min_length=1, max_length=100)
    tables: tuple[TableGrant, ...] = Field(min_length=1)
    holder_org_id: int | None = None
    purpose: str = Field(default="", max_length=500)
    max_rows: int = Field(default=10_000, ge=1, le=100_000_000)
    timeout_seconds: float = Field(default=30.0, gt=0, le=24 * 3600)
    max_stream_rows: int | None = Field(default=None, ge=1, le=100_000_000)
    stream_timeout_seconds: float | None = Field(default=None, gt=0, le=24 * 3600)
    valid_from: dt.datetime | None = None
    valid_until: dt.datetime | None = None

    @model_validator(mode="after")
    def _unique_tables(self) -> Grant:
        names = [t.table for t in self.tables]
        if len(set(names)) != len(names):
            raise ValueError("a table appears twice in the grant")
        for moment in (self.valid_from, self.valid_until):
            if moment is not None and moment.tzinfo is None:
                raise ValueError("validity times must be timezone-aware")
        return self

    @property
    def stream_rows(self) -> int:
        """The most rows one stream delivers."""
        return self.max_stream_rows if self.max_stream_rows is not None else self.max_rows

    @property
    def stream_seconds(self) -> float:
        """The longest a stream may run, from opening to its last batch."""
        if self.stream_timeout_seconds is not None:
            return self.stream_timeout_seconds
        return self.timeout_seconds

    def table(self, name: str) -> TableGrant | None:
        for item in self.tables:
            if item.table == name:
                return item
        return None

    def validity_problem(self, now: dt.datetime | None = None) -> str | None:
        """Why the grant cannot be used now, or None."""
        now = now or utcnow()
        if self.valid_from is not None and now < self.valid_from:
            return f"starts {self.valid_from.isoformat()}"
        if self.valid_until is not None and now >= self.valid_until:
            return f"ended {self.valid_until.isoformat()}"
        return None


def rows_where(column: str, values: list[str] | list[int] | tuple[str | int, ...]) -> str:
    """A row filter ``column IN (values…)`` with the column quoted and values as literals."""
    items = [
        exp.Literal.number(v) if isinstance(v, int) else exp.Literal.string(str(v)) for v in values
    ]
    if not items:
        return "FALSE"
    condition = exp.In(this=exp.column(column, quoted=True), expressions=items)
    return condition.sql(dialect="duckdb")


def rows_prefix(column: str, prefixes: list[str]) -> str:
    """A row filter: ``column`` starts with one of ``prefixes`` (e.g. a city's region codes
    all start with its first four digits)."""
    if not prefixes:
        return "FALSE"
    parts = [
        exp.Like(
            this=exp.column(column, quoted=True),
            expression=exp.Literal.string(_like_escape(p) + "%"),
        )
        for p in prefixes
    ]
    return sqlglot.or_(*parts).sql(dialect="duckdb")


def _like_escape(value: str) -> str:
    if any(ch in value for ch in "%_\\"):
        raise ValueError("prefix contains LIKE wildcards")
    return value
