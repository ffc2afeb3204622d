"""Verification (核验) index beside DuckDB on the same population table, in one run.

A synthetic population of N rows (default 25,000,000; ``longshu.demo.lake_data.population``,
columns 公民身份号码 gmsfhm and 姓名 xm) is written as one lake version. Then:

- build: ``build_index`` (reads through ``lake.access``, HMAC-SM3 per record, sort, write,
  load with SM3 check): seconds, bytes per record; the HMAC-SM3 rate alone, ours (padded key
  absorbed once) beside ``hashing.HmacKey`` (the standard hmac module's copy);
- batch: C checks (default 1,000,000; a third each real pair, real ID with another person's
  name, valid ID not in the table) answered by ``VerifyIndex.check_many`` in batches of B
  (default 10,000), beside DuckDB joining the same checks (a temp table) to (a) the Delta
  version as an Arrow dataset, (b) a native DuckDB table of the same rows (loaded before
  timing); answers must agree;
- single: P checks (default 2,000) one at a time: ``VerifyIndex.check`` beside a DuckDB point
  query (prepared SELECT on the native table with an ART index on gmsfhm): p50 / p99.

HTTP latency at 1,000 req/s needs the sharing route (not written yet): not measured here.

Run: .venv/bin/python bench/verify/run.py [rows] [checks] [batch] [points]
Writes bench/results/verify.json.
"""

from __future__ import annotations

import json
import os
import platform
import resource
import sys
import tempfile
import time
from pathlib import Path

import duckdb
import numpy as np
import pyarrow as pa

ROWS = int(sys.argv[1]) if len(sys.argv) > 1 else 25_000_000
CHECKS = int(sys.argv[2]) if len(sys.argv) > 2 else 1_000_000
BATCH = int(sys.argv[3]) if len(sys.argv) > 3 else 10_000
POINTS = int(sys.argv[4]) if len(sys.argv) > 4 else 2_000
OUT = Path(__file__).resolve().parents[1] / "results" / "verify.json"

JOIN = """
SELECT c.i, CASE WHEN bool_or(p.xm = c.n) THEN 'match'
                 WHEN count(p.gmsfhm) > 0 THEN 'no_match' ELSE 'not_found' END AS answer
FROM checks c LEFT JOIN {people} p ON p.gmsfhm = c.k
GROUP BY c.i ORDER BY c.i
"""


def rss_mb() -> float:
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def percentiles(samples: list[float]) -> dict[str, float]:
    ms = np.asarray(samples) * 1000
    return {
        "p50_ms": round(float(np.percentile(ms, 50)), 4),
        "p99_ms": round(float(np.percentile(ms, 99)), 4),
        "mean_ms": round(float(ms.mean()), 4),
    }


def make_checks(people: pa.Table, n: int) -> tuple[list[str], list[str]]:
    """A third real pairs, a third real IDs with another row's name, a third unknown IDs."""
    from longshu.ids import synthetic_resident_ids

    rng = np.random.default_rng(7)
    rows = rng.choice(people.num_rows, size=n, replace=people.num_rows < n)
    ids = people.column("gmsfhm").take(rows).to_pylist()
    names = people.column("xm").take(rows).to_pylist()
    other = people.column("xm").take(rng.choice(people.num_rows, size=n)).to_pylist()
    # Beijing (110105) IDs: valid, never in a Gansu register
    strangers = synthetic_resident_ids(n, rng, ("110105",)).tolist()
    kind = rng.integers(0, 3, n)
    keys = [s if k == 2 else i for i, s, k in zip(ids, strangers, kind, strict=True)]
    attrs = [o if k == 1 else m for m, o, k in zip(names, other, kind, strict=True)]
    return keys, attrs


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="longshu-bench-verify-") as tmp:
        os.environ["LONGSHU_VAR_DIR"] = tmp
        os.environ["LONGSHU_DATABASE_URL"] = f"sqlite:///{tmp}/bench.db"
        os.environ["LONGSHU_GOVERNANCE_ON_LOAD"] = "false"
        from longshu.actor import SYSTEM
        from longshu.config import reset_settings
        from longshu.db import Database
        from longshu.demo.lake_data import population
        from longshu.lake import tables
        from longshu.models import load_all
        from longshu.security.crypto.hashing import HmacKey
        from longshu.sharing.verify_index import IndexKey, VerifyIndex, build_index

        reset_settings()
        database = Database(os.environ["LONGSHU_DATABASE_URL"])
        load_all().metadata.create_all(database.engine)
        report: dict = {
            "command": ".venv/bin/python bench/verify/run.py " + " ".join(sys.argv[1:]),
            "rows": ROWS,
            "machine": f"{platform.machine()}, {os.cpu_count()} cores, shared",
            "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        }

        started = time.perf_counter()
        schema = pa.schema([("gmsfhm", pa.string()), ("xm", pa.string())])
        batches = (b.select(["gmsfhm", "xm"]) for b in population(ROWS))
        with database.session() as session:
            tables.create_table(session, SYSTEM, "population")
        with database.session() as session:
            reader = pa.RecordBatchReader.from_batches(schema, batches)
            version = tables.write_version(session, SYSTEM, "population", reader, source="bench")
            report["load"] = {"seconds": round(time.perf_counter() - started, 1),
                              "lake_bytes": version.bytes}  # fmt: skip
        print("loaded", report["load"], flush=True)

        # HMAC-SM3 rate alone, on 200,000 ID numbers
        sample = [f"62010219{i:010d}" for i in range(200_000)]
        ours = IndexKey(b"k" * 32)
        t = time.perf_counter()
        ours.digests(sample, ["张三"] * len(sample))
        ours_rate = 2 * len(sample) / (time.perf_counter() - t)
        std = HmacKey(b"k" * 32)
        t = time.perf_counter()
        for s in sample:
            std.digest(s.encode())
            std.digest(s.encode() + b"\x1f" + "张三".encode())
        std_rate = 2 * len(sample) / (time.perf_counter() - t)
        report["hmac_sm3_per_second"] = {
            "ours_precomputed_pads": round(ours_rate),
            "hashing_HmacKey": round(std_rate),
            "ratio": round(ours_rate / std_rate, 2),
        }
        print("hmac", report["hmac_sm3_per_second"], flush=True)

        rss_before_build = rss_mb()
        cpu0 = time.process_time()
        t = time.perf_counter()
        with database.session() as session:
            index = build_index(session, SYSTEM, "population", version=None, kind="resident",
                                key_column="gmsfhm", attribute_column="xm")  # fmt: skip
            session.commit()
        build_seconds = time.perf_counter() - t
        facts = index.facts
        t = time.perf_counter()
        index = VerifyIndex.load(index.path)
        load_seconds = time.perf_counter() - t
        report["build"] = {
            "seconds": round(build_seconds, 1),
            "cpu_seconds": round(time.process_time() - cpu0, 1),
            "records_per_second": round(facts["records"] / build_seconds),
            "records": facts["records"],
            "bytes": facts["bytes"],
            "bytes_per_record": facts["bytes_per_record"],
            "target_bytes_per_record": 24,
            "load_with_sm3_check_seconds": round(load_seconds, 2),
            "peak_rss_mb_before_build": rss_before_build,
            "peak_rss_mb_after_build": rss_mb(),
            "lake_reads": -(-ROWS // 2_000_000),
        }
        print("build", report["build"], flush=True)

        with database.session() as session:
            delta = tables.open_delta(tables.get_table(session, "population"))
        dataset = delta.to_pyarrow_dataset()
        people = dataset.to_table(columns=["gmsfhm", "xm"])
        keys, attrs = make_checks(people, CHECKS)

        t = time.perf_counter()
        answers: list[str] = []
        for start in range(0, CHECKS, BATCH):
            answers += index.check_many(keys[start : start + BATCH], attrs[start : start + BATCH])
        ours_seconds = time.perf_counter() - t
        counts = {a: answers.count(a) for a in ("match", "no_match", "not_found")}

        con = duckdb.connect()
        con.register("people_arrow", dataset)
        t = time.perf_counter()
        con.sql("CREATE TABLE people AS SELECT gmsfhm, xm FROM people_arrow")
        native_load = time.perf_counter() - t
        del people
        checks = pa.table({"i": np.arange(CHECKS), "k": keys, "n": attrs})

        def join(target: str) -> tuple[float, list[str]]:
            t = time.perf_counter()
            con.register("checks", checks)
            result = con.sql(JOIN.format(people=target)).fetchall()
            con.unregister("checks")
            return time.perf_counter() - t, [r[1] for r in result]

        arrow_seconds, arrow_answers = join("people_arrow")
        native_seconds, native_answers = join("people")
        agree = answers == arrow_answers == native_answers
        report["batch"] = {
            "checks": CHECKS,
            "batch_size": BATCH,
            "answers": counts,
            "answers_agree_with_duckdb": agree,
            "ours_checks_per_second": round(CHECKS / ours_seconds),
            "duckdb_join_on_lake_dataset_checks_per_second": round(CHECKS / arrow_seconds),
            "duckdb_join_on_native_table_checks_per_second": round(CHECKS / native_seconds),
            "duckdb_native_table_load_seconds": round(native_load, 1),
            "ratio_ours_vs_join_dataset": round(arrow_seconds / ours_seconds, 2),
            "ratio_ours_vs_join_native": round(native_seconds / ours_seconds, 2),
            "target_checks_per_second": 200_000,
        }
        print("batch", report["batch"], flush=True)

        t = time.perf_counter()
        con.sql("CREATE INDEX people_id ON people (gmsfhm)")
        art_seconds = time.perf_counter() - t
        ours_lat, duck_lat, differ = [], [], 0
        point = "SELECT xm FROM people WHERE gmsfhm = $1"
        for k, a in zip(keys[:POINTS], attrs[:POINTS], strict=True):
            t = time.perf_counter()
            mine = index.check(k, a)
            ours_lat.append(time.perf_counter() - t)
            t = time.perf_counter()
            names = [r[0] for r in con.execute(point, [k]).fetchall()]
            theirs = "match" if a in names else "no_match" if names else "not_found"
            duck_lat.append(time.perf_counter() - t)
            differ += mine != theirs
        report["single"] = {
            "checks": POINTS,
            "ours": percentiles(ours_lat),
            "duckdb_point_query_art_index": percentiles(duck_lat),
            "duckdb_art_index_build_seconds": round(art_seconds, 1),
            "answers_differ": differ,
            "ratio_p50": round(float(np.percentile(duck_lat, 50) / np.percentile(ours_lat, 50)), 1),
            "http": "not measured: needs the sharing route (serve_checks hook)",
        }
        report["peak_rss_mb"] = rss_mb()
        print("single", report["single"], flush=True)
        con.close()
    OUT.write_text(json.dumps(report, ensure_ascii=False, indent=2) + "\n")
    print(json.dumps(report, ensure_ascii=False, indent=2))


if __name__ == "__main__":
    main()
