"""Quality rules: Longshu's one-statement evaluation beside Soda Core 4 and Great Expectations 1.x
on the SAME data and the SAME ten rules, in one run.

Data: a synthetic population of N rows (default 10,000,000) with planted faults — bad
resident-ID check digits, duplicated IDs, missing names, birth dates and sexes that disagree
with the ID, out-of-range incomes, malformed mobiles, unknown region codes — written as one
lake version (Delta/Parquet). Rules:

 1 completeness name            6 checksum id_number (GB 11643: check digit, date, region)
 2 uniqueness id_number         7 consistency id_number ↔ birth_date
 3 regex mobile                 8 consistency id_number ↔ sex
 4 enum sex (M, F)              9 checksum region_code (GB/T 2260 shape)
 5 range income 0–1,000,000    10 range birth_date 1900-01-01 – 2026-12-31

Contenders, each timed from "here are the rules" to "here are the counts":

- **longshu**: ``governance.quality.evaluate`` through ``lake.access`` (grant, SQL policy,
  locked DuckDB with the lake's 2 threads / 2 GB, event) — all ten rules in one statement.
- **soda**: Soda Core 4.28 (soda-duckdb) verifying a data contract (its v4 replacement of
  SodaCL) on a DuckDB connection with the same threads and memory, over a view of the same
  Parquet files. Built-in checks where Soda has them (missing, duplicate, invalid with
  valid_format / valid_values / valid_min / valid_max); ``failed_rows`` expressions for the
  checksum and consistency rules — the same SQL Longshu generates, staging included (each
  check in its own query, as Soda runs one query per check).
- **gx**: Great Expectations 1.24 on pandas — the fairest GX engine available here: its SQL
  engine needs a SQLAlchemy dialect for DuckDB (duckdb-engine), which is not a dependency.
  Built-in expectations where GX has them; the checksum and consistency rules as custom
  ColumnMap / ColumnPairMap expectations with vectorised numpy/pandas conditions (no Python
  loop per value). Timed twice: validation alone, and with loading the Parquet files into
  pandas (GX on pandas cannot run without it).

Counts are compared: Soda must agree with Longshu on every rule; GX on every rule but
uniqueness, where GX counts every member of a duplicated group (Longshu and Soda count the
occurrences after the first).

Run: SODA_CORE_TELEMETRY_ENABLED=false GX_ANALYTICS_ENABLED=false \\
     .venv/bin/python bench/governance/quality_vs_peers.py [rows] [--gx-rows N] [--skip-gx]
Writes bench/results/governance-quality.json.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import tempfile
import time
from pathlib import Path

os.environ.setdefault("SODA_CORE_TELEMETRY_ENABLED", "false")
os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from longshu import ids

OUT = Path(__file__).resolve().parents[1] / "results" / "governance-quality.json"
TODAY = dt.date(2026, 11, 29)
BATCH = 1_000_000
REGIONS = [f"62{c:02d}{d:02d}" for c in range(1, 15) for d in range(1, 8)]  # 98 Gansu-shaped
RULE_NAMES = [
    "completeness name",
    "uniqueness id_number",
    "regex mobile",
    "enum sex",
    "range income",
    "checksum id_number",
    "consistency id_birth_date",
    "consistency id_sex",
    "checksum region_code",
    "range birth_date",
]
MOBILE = r"^1[3-9][0-9]{9}$"


def batch(n: int, offset: int, rng: np.random.Generator) -> pa.RecordBatch:
    """``n`` rows with planted faults (rates in the module docstring's spirit, ~0.1–1 %)."""
    numbers = ids.synthetic_resident_ids(n, rng, REGIONS)
    bad_check = rng.random(n) < 0.005
    flipped = np.where(np.char.endswith(numbers, "0"), "1", "0")
    numbers = np.where(bad_check, np.char.add(numbers.astype("<U17"), flipped), numbers)
    dup = np.flatnonzero(rng.random(n) < 0.001)
    dup = dup[dup > 0]
    numbers[dup] = numbers[dup - 1]
    id_number = pa.array(numbers.astype(object))
    birth = pc.strptime(pc.utf8_slice_codeunits(id_number, 6, 14), format="%Y%m%d", unit="s")
    birth = pc.cast(birth, pa.date32()).to_numpy(zero_copy_only=False).astype("datetime64[D]")
    shifted = rng.random(n) < 0.003
    birth = np.where(shifted, birth + np.timedelta64(1, "D"), birth)
    parity = pc.cast(pc.utf8_slice_codeunits(id_number, 16, 17), pa.int8()).to_numpy() % 2
    sex = np.where(parity == 1, "M", "F").astype(object)
    sex[rng.random(n) < 0.002] = "F"  # may disagree with the ID
    sex[rng.random(n) < 0.001] = "X"
    region = numbers.astype("<U6").astype(object)
    region[rng.random(n) < 0.002] = "999999"
    income = rng.gamma(2.0, 3000.0, n).round(2)
    income[rng.random(n) < 0.001] = -1.0
    mobile = np.char.add(
        np.char.add("1", rng.integers(3, 10, n).astype("<U1")),
        np.char.zfill(rng.integers(0, 10**9, n).astype("<U9"), 9),
    ).astype(object)
    short = rng.random(n) < 0.005
    mobile[short] = [m[:10] for m in mobile[short]]
    names = pc.binary_join_element_wise(
        pa.array(np.array(["张", "王", "李", "赵", "陈", "刘"])[rng.integers(0, 6, n)]),
        pc.cast(pa.array(np.arange(offset, offset + n) % 9973), pa.string()),
        "",
    )
    names = pc.if_else(pa.array(rng.random(n) < 0.01), pa.scalar(None, pa.string()), names)
    return pa.record_batch(
        {
            "id": pa.array(np.arange(offset + 1, offset + n + 1), pa.int64()),
            "id_number": id_number,
            "name": names,
            "sex": pa.array(sex, pa.string()),
            "birth_date": pa.array(birth, pa.date32()),
            "region_code": pa.array(region, pa.string()),
            "income": pa.array(income, pa.float64()),
            "mobile": pa.array(mobile, pa.string()),
        }
    )


def data(rows: int) -> pa.RecordBatchReader:
    rng = np.random.default_rng(20261129)
    first = batch(min(rows, 10), 0, np.random.default_rng(1))

    def gen():
        for offset in range(0, rows, BATCH):
            yield batch(min(BATCH, rows - offset), offset, rng)

    return pa.RecordBatchReader.from_batches(first.schema, gen())


def longshu_rules():
    from longshu.governance.quality import RuleSpec

    return [
        RuleSpec("completeness", "name"),
        RuleSpec("uniqueness", "id_number"),
        RuleSpec("regex", "mobile", {"pattern": MOBILE}),
        RuleSpec("enum", "sex", {"values": ["M", "F"]}),
        RuleSpec("range", "income", {"min": 0, "max": 1_000_000}),
        RuleSpec("checksum", "id_number", {"validator": "resident_id"}),
        RuleSpec(
            "consistency", "id_number", {"check": "id_birth_date", "date_column": "birth_date"}
        ),
        RuleSpec("consistency", "id_number", {"check": "id_sex", "sex_column": "sex"}),
        RuleSpec("checksum", "region_code", {"validator": "region_code"}),
        RuleSpec("range", "birth_date", {"min": "1900-01-01", "max": "2026-12-31"}),
    ]


def soda_checks() -> dict[str, tuple[str, str]]:
    """The checksum, consistency and date-range rules as Soda ``failed_rows`` checks
    (``expression`` or ``query``): the very SQL Longshu generates, including its staging (the
    ID number's packed core, then its integer parts, each computed once per row in nested
    subqueries) — the best SQL we know for these rules, given to Soda too."""
    from longshu.governance.quality.validators import (
        date_ymd,
        fails_inline,
        id_stages,
        resident_id_core,
        staged_birth_valid,
        staged_birth_ymd,
        staged_odd,
        staged_resident_id_fails,
    )

    core = resident_id_core("id_number")
    base = "p"

    def query(columns: str, condition: str) -> str:
        source = f"(SELECT {columns}, {core} AS {base} FROM population)"
        for stage in id_stages(base):
            added = ", ".join(f'{e} AS "{n}"' for n, e in stage.items())
            source = f"(SELECT *, {added} FROM {source})"
        return f"SELECT 1 FROM {source} AS q WHERE id_number IS NOT NULL AND {condition}"

    odd = staged_odd(base)
    sex = "LOWER(TRIM(sex))"
    return {
        "checksum id_number": ("query", query("id_number", staged_resident_id_fails(base, TODAY))),
        "consistency id_birth_date": (
            "query",
            query(
                "id_number, birth_date",
                f"birth_date IS NOT NULL AND {staged_birth_valid(base)} "
                f"AND {date_ymd('birth_date')} <> {staged_birth_ymd(base)}",
            ),
        ),
        "consistency id_sex": (
            "query",
            query(
                "id_number, sex",
                f"sex IS NOT NULL AND {base} IS NOT NULL AND NOT (({sex} IN ('1', 'm', "
                f"'male', '男') AND {odd}) OR ({sex} IN ('2', 'f', 'female', '女') AND NOT {odd}))",
            ),
        ),
        "checksum region_code": (
            "expression",
            f"region_code IS NOT NULL AND {fails_inline('region_code', 'region_code', TODAY)}",
        ),
        "range birth_date": (
            "expression",
            "birth_date < DATE '1900-01-01' OR birth_date > DATE '2026-12-31'",
        ),
    }


def soda_contract() -> str:
    checks = soda_checks()

    def failed(name: str) -> str:
        form, text = checks[name]
        text = text.replace("'", "''")
        qualifier = name.replace(" ", "_")
        return (
            f"      - failed_rows:\n          name: {name}\n          qualifier: {qualifier}\n"
            f"          {form}: '{text}'\n"
        )

    return (
        "dataset: lake/main/population\n"
        "columns:\n"
        "  - name: name\n    checks:\n      - missing:\n"
        "  - name: id_number\n    checks:\n      - duplicate:\n"
        + failed("checksum id_number")
        + failed("consistency id_birth_date")
        + failed("consistency id_sex")
        + "  - name: mobile\n    checks:\n      - invalid:\n          valid_format:\n"
        f"            regex: '{MOBILE}'\n            name: mobile\n"
        "  - name: sex\n    checks:\n      - invalid:\n          valid_values: ['M', 'F']\n"
        "  - name: income\n    checks:\n      - invalid:\n          valid_min: 0\n"
        "          valid_max: 1000000\n"
        "  - name: region_code\n    checks:\n"
        + failed("checksum region_code")
        + "  - name: birth_date\n    checks:\n"
        + failed("range birth_date")
    )


def run_soda(files: list[str], tmp: str, scan: str = "parquet") -> tuple[float, dict[str, int]]:
    """Soda's verification; ``scan`` "parquet": a view over DuckDB's own Parquet reader (what a
    Soda user writes), "arrow": over the same pyarrow dataset lake.access registers."""
    import duckdb
    from soda_core.contracts.api.verify_api import verify_contract_locally
    from soda_duckdb.common.data_sources.duckdb_data_source import DuckDBDataSourceImpl

    contract = Path(tmp) / "contract.yaml"
    contract.write_text(soda_contract(), encoding="utf-8")
    started = time.perf_counter()
    con = duckdb.connect(config={"threads": 2, "memory_limit": "2GB"})
    if scan == "arrow":
        import pyarrow.dataset as pads

        con.register("population_arrow", pads.dataset(files, format="parquet"))
        con.execute("CREATE VIEW population AS SELECT * FROM population_arrow")
    else:
        listed = ", ".join("'" + f.replace("'", "''") + "'" for f in files)
        con.execute(f"CREATE VIEW population AS SELECT * FROM read_parquet([{listed}])")
    source = DuckDBDataSourceImpl.from_existing_cursor(con, "lake")
    result = verify_contract_locally(data_sources=[source], contract_file_path=str(contract))
    elapsed = time.perf_counter() - started
    counts: dict[str, int] = {}
    order = {
        ("name", "missing"): "completeness name",
        ("id_number", "duplicate"): "uniqueness id_number",
        ("mobile", "invalid"): "regex mobile",
        ("sex", "invalid"): "enum sex",
        ("income", "invalid"): "range income",
    }
    for verification in result.contract_verification_results:
        for check in verification.check_results:
            values = check.diagnostic_metric_values or {}
            column = check.check.column_name
            kind = check.check.type
            if kind == "failed_rows":
                counts[check.check.name] = int(values.get("failed_rows_count", -1))
            else:
                key = order.get((column, kind))
                metric = {"missing": "missing_count", "duplicate": "duplicate_count"}.get(
                    kind, "invalid_count"
                )
                if key:
                    counts[key] = int(values.get(metric, -1))
    con.close()
    return elapsed, counts


def gx_expectations():
    """Built-in GX expectations, plus custom ones for the Chinese checksum/consistency rules."""
    import great_expectations.expectations as gxe
    import pandas as pd
    from great_expectations.execution_engine import PandasExecutionEngine
    from great_expectations.expectations.expectation import (
        ColumnMapExpectation,
        ColumnPairMapExpectation,
    )
    from great_expectations.expectations.metrics.map_metric_provider import (
        ColumnMapMetricProvider,
        ColumnPairMapMetricProvider,
        column_condition_partial,
        column_pair_condition_partial,
    )

    weights = np.array(ids.ID_WEIGHTS, dtype=np.int64)
    checks = np.frombuffer(ids.ID_CHECK_CHARS.encode(), dtype=np.uint8)
    provinces = np.zeros(100, dtype=bool)
    provinces[[int(p) for p in ids.PROVINCE_PREFIXES]] = True

    def shaped(s: pd.Series) -> tuple[np.ndarray, np.ndarray]:
        ok = s.str.fullmatch(r"[0-9]{17}[0-9X]").fillna(False).to_numpy(dtype=bool)
        raw = s.where(ok, "000000000000000000").to_numpy(dtype="S18")
        return ok, np.frombuffer(raw.tobytes(), dtype=np.uint8).reshape(-1, 18)

    def region_ok(d: np.ndarray) -> np.ndarray:
        digits = d.astype(np.int64) - 48
        prefix = digits[:, 0] * 10 + digits[:, 1]
        mid, tail = digits[:, 2] * 10 + digits[:, 3], digits[:, 4] * 10 + digits[:, 5]
        return provinces[prefix] & ~((mid == 0) & (tail != 0))

    def birth_of(d: np.ndarray) -> pd.Series:
        text = pd.Series(d[:, 6:14].copy().view("S8").ravel()).str.decode("ascii")
        return pd.to_datetime(text, format="%Y%m%d", errors="coerce")

    class ResidentIdValid(ColumnMapMetricProvider):
        condition_metric_name = "column_values.cn_resident_id"

        @column_condition_partial(engine=PandasExecutionEngine)
        def _pandas(cls, column, **kwargs):
            ok, d = shaped(column)
            total = (d[:, :17].astype(np.int64) - 48) @ weights
            check = checks[total % 11] == d[:, 17]
            born = birth_of(d)
            dated = (born >= "1800-01-01") & (born <= pd.Timestamp(TODAY))
            return pd.Series(ok & region_ok(d) & dated.to_numpy() & check, index=column.index)

    class ExpectColumnValuesToBeCnResidentId(ColumnMapExpectation):
        map_metric = "column_values.cn_resident_id"

    class RegionCodeValid(ColumnMapMetricProvider):
        condition_metric_name = "column_values.cn_region_code"

        @column_condition_partial(engine=PandasExecutionEngine)
        def _pandas(cls, column, **kwargs):
            ok = column.str.fullmatch(r"[0-9]{6}").fillna(False).to_numpy(dtype=bool)
            raw = column.where(ok, "000000").to_numpy(dtype="S6")
            d = np.frombuffer(raw.tobytes(), dtype=np.uint8).reshape(-1, 6)
            return pd.Series(ok & region_ok(d), index=column.index)

    class ExpectColumnValuesToBeCnRegionCode(ColumnMapExpectation):
        map_metric = "column_values.cn_region_code"

    pair_domain = ("batch_id", "column_A", "column_B", "row_condition", "condition_parser")
    pair_domain += ("ignore_row_if",)

    class IdBirthDate(ColumnPairMapMetricProvider):
        condition_metric_name = "column_pair_values.cn_id_birth_date"
        condition_domain_keys = ("column_A", "column_B", "ignore_row_if")

        @column_pair_condition_partial(engine=PandasExecutionEngine)
        def _pandas(cls, column_A, column_B, **kwargs):
            ok, d = shaped(column_A)
            born = birth_of(d)
            given = pd.to_datetime(column_B).reset_index(drop=True)
            same = ~ok | born.isna().to_numpy() | (born == given).to_numpy()
            return pd.Series(same, index=column_A.index)

    class ExpectColumnPairCnIdBirthDate(ColumnPairMapExpectation):
        map_metric = "column_pair_values.cn_id_birth_date"
        ignore_row_if: str = "either_value_is_missing"
        domain_keys = pair_domain

    class IdSex(ColumnPairMapMetricProvider):
        condition_metric_name = "column_pair_values.cn_id_sex"
        condition_domain_keys = ("column_A", "column_B", "ignore_row_if")

        @column_pair_condition_partial(engine=PandasExecutionEngine)
        def _pandas(cls, column_A, column_B, **kwargs):
            ok, d = shaped(column_A)
            odd = (d[:, 16].astype(np.int64) - 48) % 2 == 1
            sex = column_B.to_numpy(dtype=object)
            fits = ((sex == "M") & odd) | ((sex == "F") & ~odd)
            return pd.Series(~ok | fits, index=column_A.index)

    class ExpectColumnPairCnIdSex(ColumnPairMapExpectation):
        map_metric = "column_pair_values.cn_id_sex"
        ignore_row_if: str = "either_value_is_missing"
        domain_keys = pair_domain

    return [
        ("completeness name", gxe.ExpectColumnValuesToNotBeNull(column="name")),
        ("uniqueness id_number", gxe.ExpectColumnValuesToBeUnique(column="id_number")),
        ("regex mobile", gxe.ExpectColumnValuesToMatchRegex(column="mobile", regex=MOBILE)),
        ("enum sex", gxe.ExpectColumnValuesToBeInSet(column="sex", value_set=["M", "F"])),
        (
            "range income",
            gxe.ExpectColumnValuesToBeBetween(column="income", min_value=0, max_value=1_000_000),
        ),
        ("checksum id_number", ExpectColumnValuesToBeCnResidentId(column="id_number")),
        (
            "consistency id_birth_date",
            ExpectColumnPairCnIdBirthDate(column_A="id_number", column_B="birth_date"),
        ),
        ("consistency id_sex", ExpectColumnPairCnIdSex(column_A="id_number", column_B="sex")),
        ("checksum region_code", ExpectColumnValuesToBeCnRegionCode(column="region_code")),
        (
            "range birth_date",
            gxe.ExpectColumnValuesToBeBetween(
                column="birth_date",
                min_value=dt.datetime(1900, 1, 1),
                max_value=dt.datetime(2026, 12, 31),
            ),
        ),
    ]


def run_gx(files: list[str], rows: int) -> tuple[float, float, dict[str, int]]:
    import great_expectations as gx
    import pandas as pd
    import pyarrow.dataset as pads

    started = time.perf_counter()
    table = pads.dataset(files, format="parquet").head(rows)
    frame = table.to_pandas()
    frame["birth_date"] = pd.to_datetime(frame["birth_date"])
    del table
    load = time.perf_counter() - started
    started = time.perf_counter()
    context = gx.get_context(mode="ephemeral")
    asset = context.data_sources.add_pandas("lake").add_dataframe_asset("population")
    whole = asset.add_batch_definition_whole_dataframe("all")
    suite = context.suites.add(gx.ExpectationSuite(name="quality"))
    names = {}
    for name, expectation in gx_expectations():
        suite.add_expectation(expectation)
        names[_gx_key(expectation.configuration)] = name
    validation = context.validation_definitions.add(
        gx.ValidationDefinition(name="quality", data=whole, suite=suite)
    )
    result = validation.run(batch_parameters={"dataframe": frame}, result_format="BASIC")
    validate = time.perf_counter() - started
    counts = {}
    for item in result.results:
        name = names[_gx_key(item.expectation_config)]
        counts[name] = int(item.result.get("unexpected_count", -1) or 0)
        if item.exception_info.get("raised_exception"):
            counts[name] = -1
    return load, validate, counts


def _gx_key(config) -> tuple[str, str]:
    kwargs = config.kwargs
    return config.type, str(kwargs.get("column") or kwargs.get("column_B"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("rows", nargs="?", type=int, default=10_000_000)
    parser.add_argument("--gx-rows", type=int, default=None, help="rows GX reads (memory)")
    parser.add_argument("--skip-gx", action="store_true")
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args()
    gx_rows = min(args.gx_rows or args.rows, args.rows)

    with tempfile.TemporaryDirectory(prefix="longshu-bench-quality-") as tmp:
        os.environ["LONGSHU_VAR_DIR"] = tmp
        os.environ["LONGSHU_DATABASE_URL"] = f"sqlite:///{tmp}/bench.db"
        for name in ("URI", "ENGINE", "STORAGE_OPTIONS"):
            os.environ.pop(f"LONGSHU_LAKE_{name}", None)
        from longshu.actor import SYSTEM
        from longshu.config import reset_settings
        from longshu.db import Database
        from longshu.governance.quality import evaluate
        from longshu.lake import tables
        from longshu.models import load_all

        reset_settings()
        database = Database(os.environ["LONGSHU_DATABASE_URL"])
        load_all().metadata.create_all(database.engine)
        started = time.perf_counter()
        with database.session() as session:
            table = tables.create_table(session, SYSTEM, "population")
            version = tables.write_version(session, SYSTEM, table, data(args.rows), source="bench")
            facts = {"rows": version.rows, "bytes": version.bytes, "files": version.files}
        load_seconds = time.perf_counter() - started
        with database.session() as session:
            files = tables.open_delta(tables.get_table(session, "population")).file_uris()
        files = [f.removeprefix("file://") for f in files]
        print(f"lake version: {facts} in {load_seconds:.1f}s", flush=True)

        rules = longshu_rules()
        started = time.perf_counter()
        with database.session() as session:
            rows, outcomes = evaluate(session, SYSTEM, "population", rules, today=TODAY)
        ours = time.perf_counter() - started
        our_counts = {n: o.failed for n, o in zip(RULE_NAMES, outcomes, strict=True)}
        errors = [o.error for o in outcomes if o.error]
        print(f"longshu: {ours:.2f}s {our_counts} {errors}", flush=True)

        soda_seconds, soda_counts = run_soda(files, tmp)
        print(f"soda: {soda_seconds:.2f}s {soda_counts}", flush=True)
        soda_arrow_seconds, soda_arrow_counts = run_soda(files, tmp, scan="arrow")
        print(f"soda (arrow scan): {soda_arrow_seconds:.2f}s", flush=True)

        gx = None
        if not args.skip_gx:
            if gx_rows == args.rows:
                gx_ours = ours
            else:
                with database.session() as session:
                    gx_table = tables.create_table(session, SYSTEM, "population_gx")
                    tables.write_version(
                        session,
                        SYSTEM,
                        gx_table,
                        pads_head(files, gx_rows),
                        source="bench",
                    )
                started = time.perf_counter()
                with database.session() as session:
                    evaluate(session, SYSTEM, "population_gx", rules, today=TODAY)
                gx_ours = time.perf_counter() - started
            gx_load, gx_validate, gx_counts = run_gx(files, gx_rows)
            print(
                f"gx ({gx_rows} rows): load {gx_load:.2f}s validate {gx_validate:.2f}s {gx_counts}"
            )
            gx = {
                "rows": gx_rows,
                "load_seconds": round(gx_load, 3),
                "validate_seconds": round(gx_validate, 3),
                "longshu_seconds_same_rows": round(gx_ours, 3),
                "speedup_vs_validate": round(gx_validate / gx_ours, 2),
                "speedup_vs_load_and_validate": round((gx_load + gx_validate) / gx_ours, 2),
                "failed": gx_counts,
                "agrees_with_longshu": {
                    n: gx_counts.get(n) == our_counts[n]
                    for n in RULE_NAMES
                    if n != "uniqueness id_number"
                }
                if gx_rows == args.rows
                else "not compared (fewer rows)",
            }

    report = {
        "bench": "governance quality rules: longshu vs Soda Core vs Great Expectations",
        "command": "SODA_CORE_TELEMETRY_ENABLED=false GX_ANALYTICS_ENABLED=false "
        f".venv/bin/python bench/governance/quality_vs_peers.py {args.rows}"
        + (f" --gx-rows {args.gx_rows}" if args.gx_rows else "")
        + (" --skip-gx" if args.skip_gx else ""),
        "when": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "machine": {"python": platform.python_version(), "cpus": os.cpu_count()},
        "rows": rows,
        "lake_version": facts,
        "rules": RULE_NAMES,
        "longshu": {"seconds": round(ours, 3), "failed": our_counts, "errors": errors},
        "soda": {
            "seconds": round(soda_seconds, 3),
            "failed": soda_counts,
            "agrees_with_longshu": {n: soda_counts.get(n) == our_counts[n] for n in RULE_NAMES},
        },
        "soda_same_arrow_scan": {
            "seconds": round(soda_arrow_seconds, 3),
            "note": "Soda over the same pyarrow dataset lake.access scans (isolates the engines)",
            "agrees_with_longshu": all(
                soda_arrow_counts.get(n) == our_counts[n] for n in RULE_NAMES
            ),
        },
        "speedup_vs_soda": round(soda_seconds / ours, 2),
        "speedup_vs_soda_same_scan": round(soda_arrow_seconds / ours, 2),
        "gx": gx,
        "targets": {"vs_gx": ">= 10x", "vs_soda": ">= 1x"},
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    print(json.dumps(report, ensure_ascii=False, indent=2))


def pads_head(files: list[str], rows: int) -> pa.Table:
    import pyarrow.dataset as pads

    return pads.dataset(files, format="parquet").head(rows)


if __name__ == "__main__":
    main()
