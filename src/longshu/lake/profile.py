"""A cheap profile of each column of a version (画像): nulls, smallest and largest value, and
an estimate of distinct values — stored with the version's schema, so the catalog and the
data managers see what a load brought without querying it.

Nulls, min and max come from the statistics Delta keeps for every Parquet file (no data is
read; text bounds are cut to 32 characters, the max rounded up). The distinct estimate comes
from a sample the writer takes while the rows stream in (the first rows of every batch, up to
``SAMPLE_ROWS``), so only a load that writes the whole version (the first load, a snapshot)
has one; the estimator is Haas and Stokes' Duj1, as PostgreSQL's ANALYZE uses it
(``n·d / (n − f1 + f1·n/N)``: n sampled values, d distinct among them, f1 seen once, N rows)."""

from __future__ import annotations

import datetime as dt
import decimal
import math
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
from deltalake import DeltaTable

SAMPLE_ROWS = 200_000
ROWS_PER_BATCH = 2_048


class Sampler:
    """Keeps the first rows of each batch streamed to the writer, up to ``SAMPLE_ROWS``."""

    def __init__(self) -> None:
        self.rows = 0
        self.parts: list[pa.RecordBatch] = []
        self.kept = 0

    def see(self, batch: pa.RecordBatch) -> None:
        self.rows += batch.num_rows
        if self.kept < SAMPLE_ROWS and batch.num_rows:
            part = batch.slice(0, min(ROWS_PER_BATCH, SAMPLE_ROWS - self.kept))
            self.parts.append(part)
            self.kept += part.num_rows

    def distinct(self) -> dict[str, int]:
        """Estimated distinct non-null values of each column over all rows seen."""
        if not self.parts:
            return {}
        sample = pa.Table.from_batches(self.parts)
        return {
            name: _duj1(sample.column(name), self.rows)
            for name in sample.column_names
            if _countable(sample.schema.field(name).type)
        }


def _countable(arrow_type: pa.DataType) -> bool:
    return not (pa.types.is_nested(arrow_type) or pa.types.is_dictionary(arrow_type))


def _duj1(column: pa.ChunkedArray, total: int) -> int:
    values = column.drop_null()
    n = len(values)
    if n == 0:
        return 0
    rows = total * n // max(len(column), 1)  # non-null rows in all, in proportion
    counts = pc.value_counts(values).field("counts")
    distinct = len(counts)
    once = pc.sum(pc.equal(counts, pa.scalar(1, counts.type))).as_py() or 0
    if n >= rows:
        return distinct  # the sample is everything
    estimate = n * distinct / (n - once + once * n / rows)
    return int(min(max(estimate, distinct), rows))


def describe(delta: DeltaTable, distinct: dict[str, int] | None) -> dict[str, dict[str, Any]]:
    """Each column's profile: ``nulls``, ``min``, ``max`` (JSON values) and ``distinct``
    (an estimate, or None when this load did not write the whole version)."""
    actions = pa.table(delta.get_add_actions(flatten=True))
    names = delta.schema().to_arrow().names
    out: dict[str, dict[str, Any]] = {}
    for name in names:
        entry: dict[str, Any] = {"nulls": None, "min": None, "max": None, "distinct": None}
        if f"null_count.{name}" in actions.column_names:
            nulls = actions.column(f"null_count.{name}")
            entry["nulls"] = None if nulls.null_count else int(pc.sum(nulls).as_py() or 0)
        for bound, fn in (("min", pc.min), ("max", pc.max)):
            column = f"{bound}.{name}"
            if column in actions.column_names and actions.num_rows:
                values = actions.column(column)
                if len(values.drop_null()) and _orderable(values.type):
                    entry[bound] = _plain(fn(values).as_py())
        if distinct is not None:
            entry["distinct"] = distinct.get(name)
        out[name] = entry
    return out


def _orderable(arrow_type: pa.DataType) -> bool:
    return not (pa.types.is_nested(arrow_type) or pa.types.is_binary(arrow_type))


def _plain(value: Any) -> Any:
    """A statistic as a JSON value (decimals, dates and times as text)."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, decimal.Decimal):
        return str(value)
    if isinstance(value, dt.date | dt.datetime | dt.time):
        return value.isoformat()
    if isinstance(value, bytes):
        return None
    return value
