"""lake.access policy overhead, beside raw DuckDB on the same Arrow dataset in the same run.

A population table of N rows (default 10,000,000) is written as one lake version; then the
same aggregate SQL runs (a) through ``lake.access`` — parse, check, rewrite, a fresh locked
DuckDB connection, the event — and (b) on raw DuckDB: a fresh unlocked connection with the
same Delta version registered as an Arrow dataset (and, as a best case, (c) a warm connection
with the dataset already registered). Three cases: the aggregate as written, with a grant row
filter (raw: the same condition written in WHERE), and with a keep-last-4 mask on a grouped
column (raw: the same expression written out). Also the load itself beside pyarrow writing
the same table to one Parquet file. Median of R rounds; ratios in
bench/results/lake_access.json. Target (issue 5): access ≤ 1.1 × raw on the aggregate.

Run: .venv/bin/python bench/lake/run.py [rows] [rounds]
"""

from __future__ import annotations

import json
import os
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

ROWS = int(sys.argv[1]) if len(sys.argv) > 1 else 10_000_000
ROUNDS = int(sys.argv[2]) if len(sys.argv) > 2 else 7
OUT = Path(__file__).resolve().parents[1] / "results" / "lake_access.json"

AGGREGATE = (
    "SELECT region_code, count(*) AS people, avg(income) AS income, "
    "min(birth_date) AS oldest FROM population WHERE income > 2000 GROUP BY region_code"
)
REGIONS = [f"62{c:02d}{d:02d}" for c in range(1, 15) for d in range(1, 8)]  # 98 codes
ALLOWED = REGIONS[:20]
MASKED = (
    "SELECT id_number, count(*) AS n FROM population WHERE income > 9000 "
    "GROUP BY id_number ORDER BY n DESC LIMIT 10"
)
KEEP_LAST = (
    "CASE WHEN id_number IS NULL THEN NULL ELSE CONCAT(REPEAT('*', GREATEST(LENGTH("
    "CAST(id_number AS VARCHAR)) - 4, 0)), RIGHT(CAST(id_number AS VARCHAR), 4)) END"
)


def population(n: int) -> pa.Table:
    """Vectorised synthetic rows: ID numbers, birth dates, regions, incomes."""
    rng = np.random.default_rng(20261129)
    region = pa.array(np.array(REGIONS)[rng.integers(0, len(REGIONS), n)])
    days = (rng.integers(0, 365 * 70, n) - 25567).astype("int32")  # from 1900-01-01
    birth = pa.array(days, pa.int32()).cast(pa.date32())
    ymd = pc.strftime(birth.cast(pa.timestamp("s")), format="%Y%m%d")
    seq = pc.utf8_lpad(pa.array(np.arange(n) % 10000).cast(pa.string()), width=4, padding="0")
    id_number = pc.binary_join_element_wise(region, ymd, seq, "")
    return pa.table(
        {
            "id": pa.array(np.arange(1, n + 1), pa.int64()),
            "id_number": id_number,
            "region_code": region,
            "birth_date": birth,
            "income": pa.array(rng.gamma(2.0, 3000.0, n).round(2)),
        }
    )


def _rounded(result: pa.Table) -> list[dict]:
    """Rows in key order with floats rounded (parallel sums differ in the last bits)."""
    rows = result.sort_by("region_code").to_pylist()
    return [{k: round(v, 6) if isinstance(v, float) else v for k, v in r.items()} for r in rows]


def median_seconds(fn, rounds: int) -> float:
    fn()  # warm the page cache and caches
    samples = []
    for _ in range(rounds):
        start = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - start)
    return statistics.median(samples)


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="longshu-bench-lake-") as tmp:
        os.environ["LONGSHU_VAR_DIR"] = tmp
        os.environ["LONGSHU_DATABASE_URL"] = f"sqlite:///{tmp}/bench.db"
        from longshu import lake
        from longshu.actor import SYSTEM
        from longshu.config import reset_settings
        from longshu.db import Database
        from longshu.lake import tables
        from longshu.lake.policy import Grant, Mask, TableGrant, rows_where
        from longshu.models import load_all

        reset_settings()
        database = Database(os.environ["LONGSHU_DATABASE_URL"])
        load_all().metadata.create_all(database.engine)

        started = time.perf_counter()
        data = population(ROWS)
        generate = time.perf_counter() - started

        with database.session() as session:
            table = tables.create_table(session, SYSTEM, "population")
        started = time.perf_counter()
        with database.session() as session:
            version = tables.write_version(session, SYSTEM, table.name, data, source="bench")
            facts = {"rows": version.rows, "bytes": version.bytes, "files": version.files}
        load = time.perf_counter() - started
        started = time.perf_counter()
        pq.write_table(data, f"{tmp}/plain.parquet")
        plain_write = time.perf_counter() - started
        del data

        with database.session() as session:
            delta = tables.open_delta(tables.get_table(session, "population"))
        dataset = delta.to_pyarrow_dataset()

        def raw(sql: str):
            def run() -> pa.Table:
                con = duckdb.connect()
                con.register("population", delta.to_pyarrow_dataset())
                result = con.sql(sql).to_arrow_table()
                con.close()
                return result

            return run

        warm = duckdb.connect()
        warm.register("population", dataset)

        def warm_raw(sql: str):
            return lambda: warm.sql(sql).to_arrow_table()

        def through(grant: Grant, sql: str):
            def run() -> pa.Table:
                with database.session() as session:
                    return lake.access(session, SYSTEM, grant, sql).data

            return run

        everything = Grant(
            id="bench",
            consumer="bench",
            max_rows=1000,
            timeout_seconds=600,
            tables=(TableGrant(table="population"),),
        )
        filtered = Grant(
            id="bench",
            consumer="bench",
            max_rows=1000,
            timeout_seconds=600,
            tables=(TableGrant(table="population", row_filter=rows_where("region_code", ALLOWED)),),
        )
        masked = Grant(
            id="bench",
            consumer="bench",
            max_rows=1000,
            timeout_seconds=600,
            tables=(
                TableGrant(table="population", masks={"id_number": Mask(kind="keep_last", keep=4)}),
            ),
        )
        in_list = ", ".join(f"'{r}'" for r in ALLOWED)
        cases = {
            "aggregate": (through(everything, AGGREGATE), raw(AGGREGATE), warm_raw(AGGREGATE)),
            "row_filter": (
                through(filtered, AGGREGATE),
                raw(AGGREGATE.replace("WHERE", f"WHERE region_code IN ({in_list}) AND")),
                warm_raw(AGGREGATE.replace("WHERE", f"WHERE region_code IN ({in_list}) AND")),
            ),
            "keep_last_mask": (
                through(masked, MASKED),
                raw(
                    MASKED.replace("SELECT id_number", f"SELECT {KEEP_LAST} AS id_number").replace(
                        "GROUP BY id_number", f"GROUP BY {KEEP_LAST}"
                    )
                ),
                warm_raw(
                    MASKED.replace("SELECT id_number", f"SELECT {KEEP_LAST} AS id_number").replace(
                        "GROUP BY id_number", f"GROUP BY {KEEP_LAST}"
                    )
                ),
            ),
        }
        same = _rounded(through(everything, AGGREGATE)()) == _rounded(raw(AGGREGATE)())
        results = {}
        for name, (ours, baseline, best) in cases.items():
            a, b, c = (median_seconds(f, ROUNDS) for f in (ours, baseline, best))
            results[name] = {
                "access_s": round(a, 4),
                "raw_duckdb_s": round(b, 4),
                "raw_duckdb_warm_s": round(c, 4),
                "ratio_vs_raw": round(a / b, 3),
                "ratio_vs_warm": round(a / c, 3),
            }
            print(
                f"{name:15s} access {a:.3f}s  raw {b:.3f}s  warm {c:.3f}s  ratio {a / b:.2f}x (warm {a / c:.2f}x)"
            )
        report = {
            "benchmark": "lake.access policy overhead vs raw DuckDB on the same Arrow dataset",
            "rows": ROWS,
            "rounds": ROUNDS,
            "machine": {
                "python": platform.python_version(),
                "cpus": os.cpu_count(),
                "duckdb": duckdb.__version__,
            },
            "generate_s": round(generate, 3),
            "load": {
                "lake_version_s": round(load, 3),
                "pyarrow_parquet_s": round(plain_write, 3),
                "ratio": round(load / plain_write, 3),
                **facts,
            },
            "same_result": same,
            "queries": results,
            "target": "access ≤ 1.1 × raw DuckDB on the aggregate (issue 5)",
        }
        OUT.parent.mkdir(parents=True, exist_ok=True)
        OUT.write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
        print(f"load {load:.2f}s vs pyarrow {plain_write:.2f}s; same result: {same}; wrote {OUT}")


if __name__ == "__main__":
    main()
