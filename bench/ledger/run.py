"""Ledger benchmark: appends/s beside raw SM3, full verification beside hashing the bytes once,
inclusion-proof latency. Writes bench/results/ledger.json.

    .venv/bin/python bench/ledger/run.py                    # 1,000,000 entries, SQLite
    .venv/bin/python bench/ledger/run.py --entries 20000    # a quick run (CI)
    .venv/bin/python bench/ledger/run.py --database-url postgresql+psycopg://postgres@127.0.0.1/bench
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path


def records(n: int) -> list[bytes]:
    """Event-shaped canonical JSON records (~270 bytes, like the spine's)."""
    out = []
    for i in range(n):
        rec = {
            "actor": {"id": 1000 + i % 97, "kind": "user", "org_id": 40 + i % 13},
            "id": i + 1,
            "occurred_at": f"2026-11-28T08:{i // 60 % 60:02d}:{i % 60:02d}.{i % 1000000:06d}+00:00",
            "payload": {"grant_id": i % 5000, "rows": i * 7 % 100000, "bytes": i * 131 % 10**7},
            "request_id": f"{i:032x}",
            "subject": {"id": str(i % 20000), "type": "share_request"},
            "type": "sharing.query_answered",
            "uid": f"{i:08x}-0000-4000-8000-{i:012x}",
        }
        out.append(json.dumps(rec, sort_keys=True, separators=(",", ":")).encode())
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--entries", type=int, default=1_000_000)
    parser.add_argument("--batch", type=int, default=1000, help="entries per append transaction")
    parser.add_argument("--proofs", type=int, default=2000, help="inclusion proofs to time")
    parser.add_argument("--database-url", default="", help="default: a fresh SQLite file")
    parser.add_argument(
        "--out", default=str(Path(__file__).resolve().parents[1] / "results" / "ledger.json")
    )
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="ledger-bench-"))
    os.environ["LONGSHU_VAR_DIR"] = str(work / "var")
    url = args.database_url or f"sqlite:///{work / 'bench.db'}"
    os.environ["LONGSHU_DATABASE_URL"] = url

    from sqlalchemy import text

    from longshu.db import Database
    from longshu.models import load_all
    from longshu.security.crypto.hashing import SM3
    from longshu.security.ledger import audit, service
    from longshu.security.ledger.settings import ledger_settings

    db = Database(url)
    load_all().metadata.create_all(db.engine)
    data = records(args.entries)
    total_bytes = sum(len(d) for d in data)
    name = f"bench{int(time.time())}"

    # The limit: SM3 of the same leaf bytes (H(0x00 ‖ data)), one call per entry.
    leaf = SM3.new(b"\x00")
    started = time.perf_counter()
    for d in data:
        h = leaf.copy()
        h.update(d)
        h.digest()
    sm3_seconds = time.perf_counter() - started

    started = time.perf_counter()
    for i in range(0, len(data), args.batch):
        with db.session() as session:
            service.append(session, data[i : i + args.batch], name)
    append_seconds = time.perf_counter() - started

    with db.session() as session:
        service.issue_checkpoint(session, name)

    # Baseline for verification: read every entry's bytes from the database and hash them once.
    with db.session() as session:
        ledger = service.get_ledger(session, name)
        started = time.perf_counter()
        rows = session.connection().execute(
            text(
                "SELECT data FROM ledger_entry WHERE ledger_id = :l ORDER BY idx"
            ).execution_options(stream_results=True, yield_per=20000),
            {"l": ledger.id},
        )
        for (d,) in rows:
            h = leaf.copy()
            h.update(d)
            h.digest()
        read_hash_seconds = time.perf_counter() - started

    with db.session() as session:
        report = audit.verify_ledger(session, name)
    assert report.ok, report.as_json()

    with db.session() as session:
        ledger = service.get_ledger(session, name)
        size = service.tree_size(session, ledger)
        rng = random.Random(7)
        timings = []
        for _ in range(args.proofs):
            index = rng.randrange(size)
            started = time.perf_counter()
            service.inclusion_proof(session, ledger, index, size)
            timings.append(time.perf_counter() - started)

    result = {
        "machine": {
            "python": sys.version.split()[0],
            "platform": platform.platform(),
            "cpus": os.cpu_count(),
        },
        "database": db.engine.dialect.name,
        "entries": args.entries,
        "batch": args.batch,
        "bytes": total_bytes,
        "hash_alg": "sm3",
        "checkpoint_every": ledger_settings().checkpoint_every,
        "checkpoints": report.checkpoints,
        "append": {
            "seconds": round(append_seconds, 3),
            "entries_per_second": round(args.entries / append_seconds),
            "raw_sm3_entries_per_second": round(args.entries / sm3_seconds),
            "ratio_raw_sm3_to_append": round(sm3_seconds and append_seconds / sm3_seconds, 2),
            "target_entries_per_second": 20000,
        },
        "verify": {
            "seconds": round(report.seconds, 3),
            "hash_bytes_once_seconds": round(sm3_seconds, 3),
            "read_and_hash_once_seconds": round(read_hash_seconds, 3),
            "ratio_to_hash_once": round(report.seconds / sm3_seconds, 2),
            "ratio_to_read_and_hash_once": round(report.seconds / read_hash_seconds, 2),
            "target_seconds": 15,
            "target_ratio": 3,
        },
        "inclusion_proof": {
            "tree_size": size,
            "samples": len(timings),
            "median_ms": round(statistics.median(timings) * 1000, 3),
            "p95_ms": round(sorted(timings)[int(len(timings) * 0.95)] * 1000, 3),
            "target_median_ms": 2,
        },
    }
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))
    db.dispose()


if __name__ == "__main__":
    main()
