"""A batch exchange package of N rows: the streaming door beside the old whole-table path.

A synthetic population of N residents (default 1,000,000; 25,000,000 by argument) is written
as one lake version; a share grant's policy (``sharing.grants.lake_grant``: 4 fields, the ID
number masked keep-last-4, the name pseudonymised, 3 of 4 regions) is read into an encrypted,
signed Parquet package two ways, each in a fresh process so that its peak RSS is its own:

- ``stream``: ``packages.build_package`` as it is now — ``lake.access_batches``, batch by batch
  into the encrypting writer;
- ``whole``: the path before the streaming door — ``lake.access`` returns the whole result as
  one Arrow table (row cap lifted for the bench), then the same writer. Skipped above
  ``--whole-max`` rows (default 5,000,000) so it cannot take the shared machine's memory.

Per path: seconds, rows/s, peak RSS of the process (``VmHWM``; ``ru_maxrss`` would include the
parent's memory at the fork), RSS sampled every 0.1 s during the build, and its RSS before the
build (the interpreter, the libraries, the lake table's metadata). The load average is
recorded before and after: the machine is shared.

Run: .venv/bin/python bench/exchange/package_stream.py [rows] [--whole-max N]
Writes bench/results/exchange_package_stream[_<rows>].json (the suffix when rows ≠ 1,000,000).
"""

from __future__ import annotations

import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

ARGS = [a for a in sys.argv[1:] if not a.startswith("--")]
ROWS = int(ARGS[0]) if ARGS else 1_000_000
WHOLE_MAX = next(
    (int(a.split("=", 1)[1]) for a in sys.argv[1:] if a.startswith("--whole-max=")), 5_000_000
)
CHUNK = 1_000_000
REGIONS = ["620102", "620103", "620502", "620702"]
SQL = "SELECT id, sfzh, xm, xzqh FROM residents"
HERE = Path(__file__).resolve()
OUT = (
    HERE.parents[1]
    / "results"
    / (
        "exchange_package_stream.json"
        if ROWS == 1_000_000
        else f"exchange_package_stream_{ROWS}.json"
    )
)


def chunk(start: int, n: int) -> pa.RecordBatch:
    ids = np.arange(start + 1, start + n + 1, dtype=np.int64)
    region = pa.array(np.array(REGIONS)[ids % len(REGIONS)])
    digits = pc.cast(pa.array(ids % 100_000_000 + 100_000_000), pa.string())
    return pa.record_batch(
        {
            "id": pa.array(ids),
            "sfzh": pc.binary_join_element_wise(region, "19", digits, ""),
            "xm": pc.binary_join_element_wise("居民", pc.cast(pa.array(ids), pa.string()), ""),
            "xzqh": region,
            "sr": pa.array(ids.astype(np.float64)),
        }
    )


def setup(tmp: str) -> None:
    """The lake table (one version of ROWS rows), written CHUNK rows at a time."""
    from longshu.actor import SYSTEM
    from longshu.db import Database
    from longshu.lake import tables
    from longshu.models import load_all

    database = Database(os.environ["LONGSHU_DATABASE_URL"])
    load_all().metadata.create_all(database.engine)
    schema = chunk(0, 1).schema
    reader = pa.RecordBatchReader.from_batches(
        schema, (chunk(i, min(CHUNK, ROWS - i)) for i in range(0, ROWS, CHUNK))
    )
    with database.session() as session:
        table = tables.create_table(session, SYSTEM, "residents", resource_id=1, owner_org_id=7)
        tables.write_version(session, SYSTEM, table, reader, source="bench")


def build(mode: str) -> dict:
    """One build in this process (called as ``--child=<mode>``)."""
    import datetime as dt

    from longshu import lake
    from longshu.actor import Actor
    from longshu.db import Database, utcnow
    from longshu.security.crypto import aead, sm2
    from longshu.sharing import grants, packages
    from longshu.sharing import package_crypto as pcrypto
    from longshu.sharing.models import ShareGrant

    database = Database(os.environ["LONGSHU_DATABASE_URL"])
    now = utcnow()
    share = ShareGrant(
        id=1, consumer_org_id=9, provider_org_id=7, resource_id=1, table_name="residents",
        fields=["id", "sfzh", "xm", "xzqh"], masks={"sfzh": "keep_last", "xm": "pseudonym"},
        region_column="xzqh", regions=REGIONS[:3], modes=["batch"], purpose="bench",
        daily_quota=100_000, valid_from=now - dt.timedelta(days=1),
        valid_until=now + dt.timedelta(days=1), status="active",
    )  # fmt: skip
    policy = grants.lake_grant(share)
    actor = Actor(kind="user", id=1, name="bench", org_id=9, roles=frozenset({"data_consumer"}))
    public = pcrypto.public_key_of(sm2.generate_private_key().to_bytes(32, "big"))
    out = Path(os.environ["LONGSHU_VAR_DIR"]) / "out"
    before = _rss_mb()
    started = time.perf_counter()
    samples: list[tuple[float, int]] = []  # (seconds since start, RSS MB) every 0.1 s
    sampling = threading.Event()

    def sample() -> None:
        while not sampling.wait(0.1):
            samples.append((time.perf_counter() - started, _rss_mb()))

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    with database.session() as session:
        if mode == "stream":
            facts = packages.build_package(
                session, actor, policy, SQL, consumer_public_key=public, out_dir=out,
                fmt="parquet", package_id="pkg-stream",
            )  # fmt: skip
            rows, cipher = facts.rows, facts.ciphertext_bytes
        else:
            whole = policy.model_copy(update={"max_rows": ROWS, "timeout_seconds": 24 * 3600})
            result = lake.access(session, actor, whole, SQL)
            folder = out / "pkg-whole"
            folder.mkdir(parents=True)
            header = aead.StreamHeader.new("bench", "bench", packages.SEGMENT_BYTES)
            with (folder / "data.parquet.lse").open("xb") as dst:
                writer = pcrypto.EncryptingWriter(pcrypto.new_data_key(), header, dst)
                packages._write_batches(
                    result.data.to_batches(max_chunksize=packages.BATCH_ROWS),
                    result.data.schema, "parquet", writer,
                )  # fmt: skip
                writer.close()
            rows, cipher = result.rows, writer.cipher_bytes
        session.rollback()
    seconds = time.perf_counter() - started
    sampling.set()
    sampler.join()
    top = max(samples, key=lambda sample: sample[1]) if samples else (0.0, before)
    step = max(1, len(samples) // 20)
    return {
        # where the peak is: RSS sampled every 0.1 s over the build (20 points kept)
        "sampled_peak_rss_mb": top[1],
        "sampled_peak_at_seconds": round(top[0], 1),
        "rss_timeline_mb": [[round(t, 1), mb] for t, mb in samples[::step]],
        "rows": rows,
        "seconds": round(seconds, 2),
        "rows_per_second": round(rows / seconds),
        "ciphertext_mb": round(cipher / 2**20, 1),
        "rss_before_build_mb": before,
        # VmHWM: this process's own high-water mark. ru_maxrss is not: across fork and exec
        # it keeps the parent's RSS at the fork (the bench's setup held the 25M rows then),
        # which was the "2.1 GB peak" reported before
        "peak_rss_mb": _peak_mb(),
        "ru_maxrss_mb_inherited": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
    }


def _rss_mb() -> int:
    with open("/proc/self/status") as fh:
        return int(fh.read().split("VmRSS:")[1].split()[0]) // 1024


def _peak_mb() -> int:
    with open("/proc/self/status") as fh:
        return int(fh.read().split("VmHWM:")[1].split()[0]) // 1024


def main() -> None:
    child = next((a.split("=", 1)[1] for a in sys.argv[1:] if a.startswith("--child=")), None)
    if child:
        print(json.dumps(build(child)))
        return
    load_before = os.getloadavg()
    with tempfile.TemporaryDirectory(prefix="longshu-bench-exchange-") as tmp:
        env = dict(os.environ)
        env["LONGSHU_VAR_DIR"] = tmp
        env["LONGSHU_DATABASE_URL"] = f"sqlite:///{tmp}/bench.db"
        os.environ.update(env)
        started = time.perf_counter()
        setup(tmp)
        load_seconds = time.perf_counter() - started
        runs = {}
        for mode in ("stream", "whole"):
            if mode == "whole" and ROWS > WHOLE_MAX:
                runs[mode] = {"skipped": f"more than --whole-max={WHOLE_MAX} rows"}
                continue
            done = subprocess.run(
                [sys.executable, str(HERE), str(ROWS), f"--child={mode}"],
                env=env, check=True, capture_output=True, text=True,
            )  # fmt: skip
            runs[mode] = json.loads(done.stdout.strip().splitlines()[-1])
            print(mode, runs[mode], flush=True)
    report = {
        "what": "batch package (Parquet, SM4-GCM) of a share grant's rows: stream vs whole table",
        "rows_in_table": ROWS,
        "rows_in_package": runs["stream"]["rows"],
        "masks": {"sfzh": "keep_last", "xm": "pseudonym"},
        "load_seconds": round(load_seconds, 1),
        "runs": runs,
        "machine": {"python": platform.python_version(), "cpus": os.cpu_count()},
        "load_average_before": [round(x, 2) for x in load_before],
        "load_average_after": [round(x, 2) for x in os.getloadavg()],
        "command": "python bench/exchange/package_stream.py " + " ".join(sys.argv[1:]),
    }
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n")
    print(json.dumps(report, indent=2, ensure_ascii=False))


if __name__ == "__main__":
    main()
