"""Column profiles (字段画像) of a table version, read through ``lake.access`` in three
statements: counts and bounds (one aggregate), top values (one UNION ALL, sensitive columns
masked by the lake), histograms (one aggregate of DuckDB ``histogram``s)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

import pyarrow as pa
from sqlalchemy.orm import Session

from longshu import lake
from longshu.actor import Actor
from longshu.governance.quality.compile import ident, number
from longshu.governance.quality.rules import is_number, is_scalar, is_temporal, is_text
from longshu.governance.quality.run import lake_grant, table_schema
from longshu.lake import tables

# Up to this many rows the distinct count is exact; above it, approx_count_distinct
# (HyperLogLog, a few per cent off) keeps memory flat.
EXACT_DISTINCT_ROWS = 1_000_000
TEXT_CUT = 200  # characters of a text value shown in a profile (huge cells stay readable)


def profile_version(
    session: Session,
    actor: Actor,
    table: str,
    *,
    version: int | None = None,
    sensitive: Mapping[str, str] | None = None,
    top: int = 10,
    bins: int = 10,
    grant_id: str = "governance:profile",
    timeout_seconds: float = 600.0,
) -> dict[str, dict[str, Any]]:
    """Per column: ``type``, ``rows``, ``nulls``, ``null_pct``, ``distinct`` (and
    ``distinct_exact``), ``min``, ``max``, ``top`` ([{value, count}], most frequent first),
    ``histogram`` ({edges, counts}, numeric and date columns) and ``masked``.

    Columns in ``sensitive`` (column → lake mask kind) never show a raw value: their top
    values are grouped and shown as the lake masks them, and they get no min, max or
    histogram. Counts (nulls, distinct) are of the raw values. Values are JSON-ready (dates
    as ISO text, decimals as text, text cut to 200 characters)."""
    sensitive = dict(sensitive or {})
    columns, number_read = table_schema(session, actor, table, version, grant_id)
    stored = tables.get_version(session, tables.get_table(session, table), number_read)
    exact = stored.rows <= EXACT_DISTINCT_ROWS
    names = list(columns)
    if not names:
        return {}

    def grant(masks: Mapping[str, str] | None = None, max_rows: int = 1) -> tuple[Any, Any]:
        return lake_grant(
            grant_id, table, number_read, masks=masks, max_rows=max_rows, timeout=timeout_seconds
        )

    source = ident(table)
    # 1. counts and bounds, raw values only inside the engine
    parts = ['COUNT(*) AS "rows"']
    for i, name in enumerate(names):
        c, t = ident(name), columns[name]
        parts.append(f'COUNT({c}) AS "n{i}"')
        if is_scalar(t):
            distinct = f"COUNT(DISTINCT {c})" if exact else f"APPROX_COUNT_DISTINCT({c})"
            parts.append(f'{distinct} AS "d{i}"')
        if is_scalar(t) and name not in sensitive:
            low, high = f"MIN({c})", f"MAX({c})"
            if is_text(t):
                low, high = f"SUBSTRING({low}, 1, {TEXT_CUT})", f"SUBSTRING({high}, 1, {TEXT_CUT})"
            parts.append(f'{low} AS "lo{i}", {high} AS "hi{i}"')
    g, at = grant()
    counts = lake.access(session, actor, g, f"SELECT {', '.join(parts)} FROM {source}", at=at)
    row = counts.to_pylist()[0]
    rows = int(row["rows"])
    out: dict[str, dict[str, Any]] = {}
    for i, name in enumerate(names):
        nonnull = int(row[f"n{i}"])
        out[name] = {
            "type": str(columns[name]),
            "rows": rows,
            "nulls": rows - nonnull,
            "null_pct": round((rows - nonnull) / rows * 100, 2) if rows else 0.0,
            "distinct": row.get(f"d{i}"),
            "distinct_exact": exact,
            "min": _json(row.get(f"lo{i}")),
            "max": _json(row.get(f"hi{i}")),
            "top": [],
            "histogram": None,
            "masked": name in sensitive,
        }
    # 2. top values; sensitive columns as the lake masks them
    branches = []
    for i, name in enumerate(names):
        if not is_scalar(columns[name]) or top <= 0:
            continue
        c = ident(name)
        branches.append(
            f"SELECT * FROM (SELECT {number(i)} AS col, SUBSTRING(CAST({c} AS VARCHAR), 1, "
            f"{TEXT_CUT}) AS value, COUNT(*) AS n FROM {source} WHERE {c} IS NOT NULL "
            f"GROUP BY {c} ORDER BY n DESC, value LIMIT {int(top)})"
        )
    if branches:
        g, at = grant(masks=sensitive, max_rows=len(branches) * top)
        for item in lake.access(session, actor, g, " UNION ALL ".join(branches), at=at).to_pylist():
            name = names[item["col"]]
            out[name]["top"].append({"value": item["value"], "count": int(item["n"])})
        for entry in out.values():
            entry["top"].sort(key=lambda v: (-v["count"], str(v["value"])))
    # 3. histograms of numeric and date columns
    hist = _histograms(names, columns, out, sensitive, row, bins)
    if hist:
        g, at = grant()
        sql = f"SELECT {', '.join(expr for _, expr, _ in hist)} FROM {source}"
        result = lake.access(session, actor, g, sql, at=at).to_pylist()[0]
        for i, (name, _, edges) in enumerate(hist):
            counts_by_bin = _pairs(result[f"h{i}"])
            out[name]["histogram"] = {
                "edges": edges,
                "counts": [int(counts_by_bin.get(b, 0)) for b in range(len(edges) - 1)],
            }
    return out


def _histograms(
    names: list[str],
    columns: Mapping[str, pa.DataType],
    out: Mapping[str, dict[str, Any]],
    sensitive: Mapping[str, str],
    row: Mapping[str, Any],
    bins: int,
) -> list[tuple[str, str, list[Any]]]:
    """(column, HISTOGRAM(bin) expression, bin edges) for each numeric/date column with data."""
    hist = []
    for i, name in enumerate(names):
        t = columns[name]
        low, high = row.get(f"lo{i}"), row.get(f"hi{i}")
        if name in sensitive or low is None or bins <= 0 or not (is_number(t) or is_temporal(t)):
            continue
        c = ident(name)
        if is_number(t):
            x, lo, hi = f"CAST({c} AS DOUBLE)", float(low), float(high)
        elif pa.types.is_date(t):
            x = f"DATE_DIFF('day', DATE '1970-01-01', {c})"
            lo, hi = (
                float((low - dt.date(1970, 1, 1)).days),
                float((high - dt.date(1970, 1, 1)).days),
            )
        else:
            x, lo, hi = f"EPOCH({c})", _epoch(low), _epoch(high)
        n = bins if hi > lo else 1
        width = (hi - lo) / n if hi > lo else 1.0
        expr = (
            f"HISTOGRAM(LEAST(CAST(FLOOR(({x} - {number(repr(lo))}) / {number(repr(width))}) "
            f'AS BIGINT), {n - 1})) AS "h{len(hist)}"'
        )
        hist.append((name, expr, _edges(t, lo, width, n)))
    return hist


def _edges(t: pa.DataType, lo: float, width: float, n: int) -> list[Any]:
    edges = [lo + k * width for k in range(n + 1)]
    if pa.types.is_date(t):
        return [(dt.date(1970, 1, 1) + dt.timedelta(days=e)).isoformat() for e in edges]
    if pa.types.is_timestamp(t):
        return [dt.datetime.fromtimestamp(e, dt.UTC).isoformat() for e in edges]
    return edges


def _epoch(moment: dt.datetime) -> float:
    # DuckDB's EPOCH reads a naive timestamp as UTC; Python would read it as local time.
    return (moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)).timestamp()


def _pairs(value: Any) -> dict[int, int]:
    if value is None:
        return {}
    if isinstance(value, dict):
        return {int(k): int(v) for k, v in value.items()}
    return {int(k): int(v) for k, v in value}


def _json(value: Any) -> Any:
    if isinstance(value, dt.date | dt.datetime):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, bytes):
        return None
    return value
