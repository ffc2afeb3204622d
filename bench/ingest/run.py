"""A CSV file → a lake version (checksum and column profile), beside DuckDB's own
``COPY (SELECT * FROM read_csv(...)) TO '...parquet'`` on the same file, in the same run.

The CSV is a deterministic, realistic Gansu population file (``gen.py``: 身份证号 with valid
check digits, names, counties, phones, incomes, timestamps; ~123 bytes a row) written by
Arrow's CSV writer. Each side runs in its own child process, timed from inside (the work,
not the interpreter's start) and measured for peak memory with ``os.wait4`` (the child's own
``ru_maxrss``; ``RUSAGE_CHILDREN`` is the largest over all children). Ours runs
``ingest.load_file`` — two passes over the file, typed columns, a Delta version with SM3
manifest checksum and profile, the events — on a fresh SQLite control plane and lake.
DuckDB gets the same two threads and no memory limit beyond its default. Results in
bench/results/ingest.json. Targets (issue 5): time ≤ 2 × DuckDB's, peak memory ≤ 2 GB.

Run: .venv/bin/python bench/ingest/run.py [rows]   (default 10,000,000)
Keep the CSV between runs: LONGSHU_BENCH_CSV=/path/people.csv (regenerated if its row
count differs).
"""

from __future__ import annotations

import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
OUT = HERE.parent / "results" / "ingest.json"
ROWS = int(sys.argv[1]) if len(sys.argv) > 1 and sys.argv[1].isdigit() else 10_000_000
GB = 1024**3

DUCKDB_CHILD = """
import json, sys, time, duckdb
csv, out = sys.argv[1], sys.argv[2]
con = duckdb.connect(config={"threads": 2})
started = time.perf_counter()
con.execute(f"COPY (SELECT * FROM read_csv('{csv}')) TO '{out}' (FORMAT parquet)")
seconds = time.perf_counter() - started
rows = con.execute(f"SELECT count(*) FROM read_parquet('{out}')").fetchone()[0]
print(json.dumps({"seconds": seconds, "rows": rows}))
"""

LONGSHU_CHILD = """
import json, os, sys, time
csv, tmp = sys.argv[1], sys.argv[2]
os.environ["LONGSHU_VAR_DIR"] = tmp
os.environ["LONGSHU_DATABASE_URL"] = f"sqlite:///{tmp}/bench.db"
os.environ["LONGSHU_LAKE_DUCKDB_THREADS"] = "2"
from longshu.actor import SYSTEM
from longshu.config import reset_settings
from longshu.db import Database
from longshu.ingest import load_file
from longshu.lake import tables
from longshu.models import load_all
reset_settings()
database = Database(os.environ["LONGSHU_DATABASE_URL"])
load_all().metadata.create_all(database.engine)
with database.session() as session:
    tables.create_table(session, SYSTEM, "population", key_columns=["id"])
progress = []
started = time.perf_counter()
with database.session() as session:
    result = load_file(session, SYSTEM, "population", csv,
                       on_progress=lambda rows, size: progress.append((rows, size)))
    version = tables.get_version(session, tables.get_table(session, "population"), result.version)
    facts = {"rows": version.rows, "bytes": version.bytes, "files": version.files,
             "checksum": version.checksum, "checksum_algorithm": version.checksum_algorithm,
             "schema": version.schema}
seconds = time.perf_counter() - started
print(json.dumps({"seconds": seconds, "rows": result.rows, "version": facts,
                  "progress_calls": len(progress), "last_progress": progress[-1],
                  "details": result.details}, ensure_ascii=False, default=str))
"""


def child(code: str, *args: str) -> dict:
    """Run ``code`` in a fresh interpreter; its JSON answer, wall time and peak RSS."""
    started = time.perf_counter()
    proc = subprocess.Popen(
        [sys.executable, "-c", code, *args], stdout=subprocess.PIPE, cwd=ROOT, text=True
    )
    out = proc.stdout.read() if proc.stdout else ""
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode:
        raise SystemExit(f"child failed ({proc.returncode})")
    answer = json.loads(out.strip().splitlines()[-1])
    answer["wall_s"] = time.perf_counter() - started
    answer["peak_rss_bytes"] = usage.ru_maxrss * 1024  # Linux reports KiB
    return answer


def csv_file(rows: int, folder: Path) -> tuple[Path, float | None]:
    sys.path.insert(0, str(HERE))
    from gen import generate

    path = Path(os.environ.get("LONGSHU_BENCH_CSV") or folder / "people.csv")
    marker = path.with_suffix(".rows")
    if path.exists() and marker.exists() and marker.read_text() == str(rows):
        return path, None
    started = time.perf_counter()
    generate(rows, path)
    marker.write_text(str(rows))
    return path, time.perf_counter() - started


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="longshu-bench-ingest-") as tmp:
        folder = Path(tmp)
        path, generate_s = csv_file(ROWS, folder)
        size = path.stat().st_size
        print(f"CSV: {ROWS:,} rows, {size / GB:.2f} GiB at {path}", flush=True)
        duck = child(DUCKDB_CHILD, str(path), str(folder / "duck.parquet"))
        print(
            f"DuckDB COPY → Parquet: {duck['seconds']:.2f}s, peak {duck['peak_rss_bytes'] / GB:.2f} GiB",
            flush=True,
        )
        (folder / "duck.parquet").unlink()
        ours = child(LONGSHU_CHILD, str(path), str(folder / "var"))
        print(
            f"load_file → lake version: {ours['seconds']:.2f}s, peak {ours['peak_rss_bytes'] / GB:.2f} GiB",
            flush=True,
        )
        children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * 1024
    ratio = ours["seconds"] / duck["seconds"]
    report = {
        "benchmark": "CSV → lake version (SM3 checksum, profile) vs DuckDB COPY read_csv → Parquet",
        "command": f".venv/bin/python bench/ingest/run.py {ROWS}",
        "rows": ROWS,
        "csv_bytes": size,
        "machine": {
            "python": platform.python_version(),
            "cpus": os.cpu_count(),
            "load_average_at_end": os.getloadavg(),
        },
        "generate_s": None if generate_s is None else round(generate_s, 2),
        "duckdb": {
            "seconds": round(duck["seconds"], 3),
            "peak_rss_bytes": duck["peak_rss_bytes"],
            "rows": duck["rows"],
        },
        "longshu": {
            "seconds": round(ours["seconds"], 3),
            "peak_rss_bytes": ours["peak_rss_bytes"],
            "rows": ours["rows"],
            "version_rows": ours["version"]["rows"],
            "version_bytes": ours["version"]["bytes"],
            "files": ours["version"]["files"],
            "checksum": ours["version"]["checksum"],
            "checksum_algorithm": ours["version"]["checksum_algorithm"],
            "progress_calls": ours["progress_calls"],
            "last_progress": ours["last_progress"],
            "details": ours["details"],
            "schema": ours["version"]["schema"],
        },
        "ratio": round(ratio, 3),
        "largest_child_rss_bytes": children,
        "targets": {"ratio": 2.0, "peak_rss_bytes": 2 * GB},
        "met": {
            "ratio": ratio <= 2.0,
            "memory": ours["peak_rss_bytes"] <= 2 * GB,
        },
    }
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    print(
        f"ratio {ratio:.2f}× (target ≤ 2×); peak {ours['peak_rss_bytes'] / GB:.2f} GiB; wrote {OUT}"
    )


if __name__ == "__main__":
    main()
