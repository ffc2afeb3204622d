"""Running a planned query: DuckDB embedded (default), locked down.

Each query gets its own in-memory DuckDB connection with external access disabled and the
configuration locked (no file readers, COPY, ATTACH of files, extension installs or SET),
bounded memory and threads. The only relations it knows are the granted table versions,
registered as Arrow datasets under internal names, and the only extra functions are the
masking functions of this query. Results stream out batch by batch, so a query over the
row limit stops as soon as it passes the limit; a timer interrupts a query past its time."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Iterator
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


def locked_connection(ordered: bool = True) -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB connection that cannot reach files, extensions or settings.
    ``ordered=False``: rows without an ``ORDER BY`` may come in any order, which spares
    DuckDB the reordering buffers of its parallel pipelines (memory, on large exports)."""
    lake = lake_settings()
    return duckdb.connect(
        ":memory:",
        config={
            "enable_external_access": False,
            "autoinstall_known_extensions": False,
            "autoload_known_extensions": False,
            "memory_limit": lake.duckdb_memory_limit,
            "threads": lake.duckdb_threads,
            "preserve_insertion_order": ordered,
            "lock_configuration": True,
        },
    )


def run_duckdb(
    plan: Plan,
    datasets: dict[str, pads.Dataset],
    maskers: dict[str, Masker],
    limits: Limits,
) -> pa.Table:
    """Run ``plan`` over ``datasets`` (internal name → Arrow dataset) and return the whole
    result, refusing it once it passes ``limits.max_rows``."""
    with DuckStream(plan, datasets, maskers, limits, BATCH_ROWS) as stream:
        batches = list(stream)
        return pa.Table.from_batches(batches, schema=stream.schema)


class DuckStream:
    """A planned query's result, batch by batch, on a locked connection of its own.

    The query starts when the stream is made and is pulled one batch at a time, so memory
    holds DuckDB's small streaming buffer and the Arrow scanner's read-ahead, not the result.
    A batch that would take the rows past ``limits.max_rows`` raises ``RowLimitExceeded``
    instead of being returned; ``limits.timeout_seconds`` counts from the start to the last
    batch (a watchdog interrupts a fetch in progress; a fetch asked for after the time is up
    is refused). ``close`` (or the end of a ``with`` block) closes the connection."""

    def __init__(
        self,
        plan: Plan,
        datasets: dict[str, pads.Dataset | StreamSource],
        maskers: dict[str, Masker],
        limits: Limits,
        batch_rows: int,
        ordered: bool = True,
    ) -> None:
        self.plan = plan
        self.limits = limits
        self.rows = 0
        self.bytes = 0
        self._con: duckdb.DuckDBPyConnection | None = locked_connection(ordered)
        self._watchdog = Watchdog(limits.timeout_seconds, self._con.interrupt)
        try:
            with self._engine_errors():
                for name, dataset in datasets.items():
                    self._con.register(name, dataset)
                for name, masker in maskers.items():
                    self._con.create_function(
                        name,
                        _vectorised(masker),
                        [duckdb.sqltype("VARCHAR")],
                        duckdb.sqltype("VARCHAR"),
                        type="arrow",
                        side_effects=False,
                    )
                self._watchdog.start()
                self._reader = self._con.sql(plan.sql("duckdb")).to_arrow_reader(batch_rows)
        except BaseException:
            self.close()
            raise
        self.schema: pa.Schema = self._reader.schema

    def __enter__(self) -> DuckStream:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __iter__(self) -> Iterator[pa.RecordBatch]:
        return self

    def __next__(self) -> pa.RecordBatch:
        if self._con is None:
            raise StopIteration
        try:
            if self._watchdog.fired.is_set():
                raise QueryTimeout(seconds=_seconds(self.limits.timeout_seconds))
            with self._engine_errors():
                batch = self._reader.read_next_batch()
        except StopIteration:
            self.close()
            raise
        except BaseException:
            self.close()
            raise
        if self.rows + batch.num_rows > self.limits.max_rows:
            self.close()
            raise RowLimitExceeded(limit=self.limits.max_rows)
        self.rows += batch.num_rows
        self.bytes += batch.nbytes
        return batch

    @property
    def closed(self) -> bool:
        return self._con is None

    def settings(self) -> dict[str, str]:
        """The lockdown settings of this stream's database (for checks and tests), read
        through a cursor: the connection itself is busy with the open result."""
        assert self._con is not None
        with self._con.cursor() as cursor:
            return lockdown_settings(cursor)

    def close(self) -> None:
        """Stop the query and close the connection; safe to call twice."""
        con, self._con = self._con, None
        if con is None:
            return
        self._watchdog.finish()
        reader = getattr(self, "_reader", None)
        if reader is not None:
            # A streaming query still runs on DuckDB's threads (masking functions included):
            # stop it and let the engine wind its tasks down before the connection goes.
            con.interrupt()
            with contextlib.suppress(duckdb.Error, pa.ArrowException, OSError, StopIteration):
                reader.read_next_batch()
            reader.close()
        con.close()

    @contextlib.contextmanager
    def _engine_errors(self) -> Iterator[None]:
        """DuckDB's errors as the lake's typed ones, without internal names."""
        watchdog, limits = self._watchdog, self.limits
        try:
            yield
        except duckdb.InterruptException as exc:
            if watchdog.fired.is_set():
                raise QueryTimeout(seconds=_seconds(limits.timeout_seconds)) from exc
            raise QueryFailed(detail="interrupted") from exc
        except duckdb.PermissionException as exc:
            raise ConstructNotAllowed(construct="Access to files or settings") from exc
        except (duckdb.Error, pa.ArrowException, OSError) as exc:
            # past the first batch, DuckDB's errors reach us through Arrow's stream as OSError
            if watchdog.fired.is_set():
                raise QueryTimeout(seconds=_seconds(limits.timeout_seconds)) from exc
            raise QueryFailed(detail=public_detail(str(exc), self.plan)) from exc


class StreamSource:
    """A granted version as a stream's DuckDB sees it: a fresh Arrow scanner for every scan
    (a table read twice in one query is read twice), over the given columns only, reading one
    file and one batch ahead. DuckDB's own scan of a dataset uses pyarrow's defaults (4 files
    and 16 batches ahead), which on large tables holds several of its Parquet files decoded
    at once; this keeps a stream's memory near a batch. Filters are not pushed down into the
    scan: DuckDB applies them (the row filter included) to what it reads."""

    def __init__(self, dataset: pads.Dataset, columns: list[str], batch_rows: int) -> None:
        self.dataset = dataset
        self.columns = columns
        self.batch_rows = batch_rows

    def __arrow_c_stream__(self, requested_schema: object = None) -> object:
        scanner = self.dataset.scanner(
            columns=self.columns,
            batch_size=self.batch_rows,
            batch_readahead=1,
            fragment_readahead=1,
        )
        return scanner.to_reader().__arrow_c_stream__(requested_schema)


LOCKDOWN = (
    "enable_external_access",
    "autoinstall_known_extensions",
    "autoload_known_extensions",
    "lock_configuration",
    "memory_limit",
    "threads",
)


def lockdown_settings(con: duckdb.DuckDBPyConnection) -> dict[str, str]:
    """The values of the settings ``locked_connection`` sets, as DuckDB reports them."""
    names = ", ".join(f"'{name}'" for name in LOCKDOWN)
    found = con.execute(
        f"SELECT name, value FROM duckdb_settings() WHERE name IN ({names})"
    ).fetchall()
    return {str(name): str(value) for name, value in found}


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
