"""How long the demo's population table takes to generate (numpy, vectorised) and write as
Parquet, for given sizes: ``.venv/bin/python bench/demo/generate.py 1000000 10000000``.
Prints seconds per size and rows per second; the file is removed afterwards."""

from __future__ import annotations

import json
import sys
import tempfile
import time
from pathlib import Path

from longshu.demo import lake_data
from longshu.demo.files import write_parquet


def main(sizes: list[int]) -> None:
    results = []
    with tempfile.TemporaryDirectory() as folder:
        for rows in sizes:
            path = Path(folder) / f"population_{rows}.parquet"
            started = time.perf_counter()
            cpu = time.process_time()
            written = write_parquet(lake_data.population(rows), path)
            seconds = time.perf_counter() - started
            result = {
                "rows": written,
                "seconds": round(seconds, 2),
                "cpu_seconds": round(time.process_time() - cpu, 2),
                "rows_per_second": round(written / seconds),
                "file_bytes": path.stat().st_size,
            }
            print(json.dumps(result), flush=True)
            results.append(result)
            path.unlink()


if __name__ == "__main__":
    main([int(a) for a in sys.argv[1:]] or [1_000_000])
