"""How fast do we make and check synthetic identifiers? Writes bench/results/ids_generate.json.

Run: .venv/bin/python bench/ids/run.py [n]
"""

from __future__ import annotations

import datetime as dt
import json
import platform
import random
import sys
import time
from pathlib import Path

import numpy as np

from longshu import ids

GANSU = ["620102", "620103", "620902", "620982", "621102", "623001", "622901"]


def timed(fn, *args):  # type: ignore[no-untyped-def]
    start = time.perf_counter()
    result = fn(*args)
    return result, time.perf_counter() - start


def main(n: int = 100_000) -> dict[str, object]:
    rng = np.random.default_rng(2026)
    numbers, vector_s = timed(
        ids.synthetic_resident_ids, n, rng, GANSU, dt.date(1940, 1, 1), dt.date(2008, 12, 31)
    )
    scalar_rng = random.Random(2026)
    _, scalar_s = timed(lambda: [ids.random_resident_id(scalar_rng, GANSU) for _ in range(n)])
    as_list = numbers.tolist()
    verdicts, check_s = timed(lambda: [ids.check_resident_id(x).valid for x in as_list])
    codes, credit_s = timed(lambda: [ids.random_credit_code(scalar_rng) for _ in range(n // 10)])
    _, credit_check_s = timed(lambda: [ids.check_credit_code(c).valid for c in codes])
    result = {
        "n": n,
        "all_valid": all(verdicts),
        "resident_ids_vectorised_per_s": round(n / vector_s),
        "resident_ids_scalar_per_s": round(n / scalar_s),
        "resident_id_checks_per_s": round(n / check_s),
        "credit_codes_generated_per_s": round(len(codes) / credit_s),
        "credit_code_checks_per_s": round(len(codes) / credit_check_s),
        "python": platform.python_version(),
        "numpy": np.__version__,
        "machine": f"{platform.machine()}, {platform.processor() or 'cpu'}",
    }
    out = Path(__file__).resolve().parents[1] / "results" / "ids_generate.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    return result


if __name__ == "__main__":
    print(json.dumps(main(int(sys.argv[1]) if len(sys.argv) > 1 else 100_000), indent=2))
