"""Running a planned query: DuckDB embedded (default), locked down.

Each query gets its own in-memory DuckDB connection with external access disabled and the
configuration locked (no file readers, COPY, ATTACH of files, extension installs or SET),
bounded memory and threads. The only relations it knows are the granted table versions,
registered as Arrow datasets under internal names, and the only extra functions are the
masking functions of this query. Results stream out batch by batch, so a query over the
row limit stops as soon as it passes the limit; a timer interrupts a query past its time."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass

import duckdb
import pyarrow as pa
import pyarrow.dataset as pads

from longshu.lake.config import lake_settings
from longshu.lake.errors import ConstructNotAllowed, QueryFailed, QueryTimeout, RowLimitExceeded
from longshu.lake.rewrite import Plan

BATCH_ROWS = 8192
Masker = Callable[[str], str]


@dataclass
class Limits:
    max_rows: int
    timeout_seconds: float


class Watchdog:
    """Calls ``stop`` once ``seconds`` have passed, then again every ``REPEAT`` seconds until
    the work ends: a stop that lands before the engine has started the work (while it still
    plans the query) would otherwise be lost."""

    REPEAT = 0.2

    def __init__(self, seconds: float, stop: Callable[[], None]) -> None:
        self.seconds = seconds
        self.stop = stop
        self.fired = threading.Event()
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._watch, name="lake-watchdog", daemon=True)

    def _watch(self) -> None:
        if self._done.wait(self.seconds):
            return
        self.fired.set()
        while not self._done.is_set():
            self.stop()
            self._done.wait(self.REPEAT)

    def start(self) -> None:
        self._thread.start()

    def finish(self) -> None:
        self._done.set()
        if self._thread.is_alive():
            self._thread.join()


def locked_connection() -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB connection that cannot reach files, extensions or settings."""
    lake = lake_settings()
    return duckdb.connect(
        ":memory:",
        config={
            "enable_external_access": False,
            "autoinstall_known_extensions": False,
            "autoload_known_extensions": False,
            "memory_limit": lake.duckdb_memory_limit,
            "threads": lake.duckdb_threads,
            "lock_configuration": True,
        },
    )


def run_duckdb(
    plan: Plan,
    datasets: dict[str, pads.Dataset],
    maskers: dict[str, Masker],
    limits: Limits,
) -> pa.Table:
    """Run ``plan`` over ``datasets`` (internal name → Arrow dataset)."""
    con = locked_connection()
    watchdog = Watchdog(limits.timeout_seconds, con.interrupt)
    try:
        for name, dataset in datasets.items():
            con.register(name, dataset)
        for name, masker in maskers.items():
            con.create_function(
                name,
                _vectorised(masker),
                [duckdb.sqltype("VARCHAR")],
                duckdb.sqltype("VARCHAR"),
                type="arrow",
                side_effects=False,
            )
        watchdog.start()
        reader = con.sql(plan.sql("duckdb")).to_arrow_reader(BATCH_ROWS)
        batches, rows = [], 0
        for batch in reader:
            rows += batch.num_rows
            if rows > limits.max_rows:
                raise RowLimitExceeded(limit=limits.max_rows)
            batches.append(batch)
        return pa.Table.from_batches(batches, schema=reader.schema)
    except duckdb.InterruptException as exc:
        if watchdog.fired.is_set():
            raise QueryTimeout(seconds=_seconds(limits.timeout_seconds)) from exc
        raise QueryFailed(detail="interrupted") from exc
    except duckdb.PermissionException as exc:
        raise ConstructNotAllowed(construct="Access to files or settings") from exc
    except duckdb.Error as exc:
        if watchdog.fired.is_set():
            raise QueryTimeout(seconds=_seconds(limits.timeout_seconds)) from exc
        raise QueryFailed(detail=public_detail(str(exc), plan)) from exc
    finally:
        watchdog.finish()
        con.close()


def _vectorised(masker: Masker) -> Callable[[pa.Array], pa.Array]:
    def apply(values: pa.Array) -> pa.Array:
        return pa.array([None if v is None else masker(v) for v in values.to_pylist()], pa.string())

    return apply


def public_detail(message: str, plan: Plan) -> str:
    """An engine's error message without the internal names of this query's relations."""
    text = message.strip().splitlines()[0] if message.strip() else "error"
    for rel in plan.relations:
        text = text.replace(rel.internal, rel.name)
    for udf in plan.udfs:
        text = text.replace(udf.name, f"mask({udf.kind})")
    return text[:300]


def _seconds(value: float) -> str:
    return f"{value:g}"
