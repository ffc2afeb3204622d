"""Loading a source into the lake.

``load_source`` is the one entry every connector goes through (files, SQL, HTTP, MQTT,
media, and the jobs worker): it checks ``lake.load``, records ``ingest.load_started``, asks
the connector for its ``Source`` (parse and check — a source with any malformed row loads
nothing), streams the data to ``lake.tables.write_version`` inside a savepoint while
reporting progress, and records ``ingest.load_finished`` or ``ingest.load_failed``.
``load_file`` is the file connectors' front: format detection, then ``load_source``."""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyarrow as pa
from sqlalchemy.orm import Session

from longshu import events
from longshu.actor import Actor
from longshu.errors import LongshuError
from longshu.ingest.csvfile import read_csv
from longshu.ingest.errors import (
    AmbiguousResource,
    MalformedRows,
    SourceNotFound,
    UnknownFormat,
)
from longshu.ingest.jsonfile import read_json, read_ndjson
from longshu.ingest.parquetfile import read_parquet
from longshu.ingest.source import Source
from longshu.ingest.xlsx import read_xlsx
from longshu.lake import tables
from longshu.lake.errors import TableNotFound
from longshu.lake.models import LakeTable
from longshu.security import access

log = logging.getLogger(__name__)

LOAD_STARTED = events.define("ingest.load_started", "数据加载开始", "Load started")
LOAD_FINISHED = events.define("ingest.load_finished", "数据加载完成", "Load finished")
LOAD_FAILED = events.define("ingest.load_failed", "数据加载失败", "Load failed")

# on_progress(rows, bytes): rows handed to the lake so far, and source bytes read so far
# (or Arrow bytes when the source cannot say). Called once per batch, and once at the end.
ProgressCallback = Callable[[int, int], None]
TABLE_BATCH_ROWS = 65_536  # an in-memory Table is streamed in batches of this size

FORMATS = ("csv", "tsv", "xlsx", "json", "ndjson", "parquet")
EXTENSIONS = {
    ".csv": "csv",
    ".txt": "csv",
    ".tsv": "tsv",
    ".tab": "tsv",
    ".xlsx": "xlsx",
    ".json": "json",
    ".ndjson": "ndjson",
    ".jsonl": "ndjson",
    ".parquet": "parquet",
    ".pq": "parquet",
}
READERS: dict[str, Callable[[Path, dict[str, Any]], Source]] = {
    "csv": read_csv,
    "tsv": lambda path, options: read_csv(path, options, tab=True),
    "xlsx": read_xlsx,
    "json": read_json,
    "ndjson": read_ndjson,
    "parquet": read_parquet,
}


@dataclass
class LoadResult:
    table: str
    version: int
    delta_version: int
    status: str  # ready | blocked (breaking drift waits for acceptance)
    rows: int  # rows the source delivered
    table_rows: int  # rows in the new version
    bytes: int  # source bytes read (or Arrow bytes)
    format: str
    load_id: str
    details: dict[str, Any] = field(default_factory=dict)


def target_table(session: Session, ref: str) -> LakeTable:
    """The lake table a load goes to: by table name, else by the catalog resource's code
    (or id) when exactly one table holds that resource."""
    try:
        return tables.get_table(session, ref)
    except TableNotFound:
        found = tables.tables_for_resource(session, int(ref) if ref.isdigit() else ref)
        if len(found) == 1:
            return found[0]
        if found:
            names = ", ".join(t.name for t in found)
            raise AmbiguousResource(resource=ref[:80], tables=names) from None
        raise


def detect_format(path: Path) -> str:
    """The format by extension, checked against the file's first bytes (magic numbers)."""
    try:
        with path.open("rb") as f:
            head = f.read(512)
    except OSError:
        raise SourceNotFound(name=path.name) from None
    by_name = EXTENSIONS.get(path.suffix.lower())
    if head.startswith(b"PAR1"):
        return "parquet"
    if head.startswith(b"PK\x03\x04"):
        if by_name in (None, "xlsx"):
            return "xlsx"
        raise UnknownFormat(name=path.name)
    if head.startswith(b"\xd0\xcf\x11\xe0"):  # old binary .xls / OLE
        raise UnknownFormat(name=path.name)
    if by_name in ("xlsx", "parquet"):  # the name says binary, the bytes disagree
        return by_name  # the reader reports the file as unreadable
    stripped = head.lstrip(b"\xef\xbb\xbf \t\r\n")
    if by_name:
        if by_name == "json" and stripped.startswith(b"{"):
            text = stripped.replace(b"\r\n", b"\n")
            if b"}\n{" in text or b"}\n" in text[:-1]:
                return "ndjson"
        return by_name
    if stripped.startswith(b"["):
        return "json"
    if stripped.startswith(b"{"):
        return "ndjson"
    if b"\x00" in head:
        raise UnknownFormat(name=path.name)
    return "csv"


def read_file(
    path: Path | str, format: str = "auto", options: dict[str, Any] | None = None
) -> Source:
    """Parse and check a file without loading it (what ``load_file`` hands the lake)."""
    path = Path(path)
    fmt = detect_format(path) if format == "auto" else format
    if fmt not in READERS:
        raise UnknownFormat(name=path.name)
    return READERS[fmt](path, dict(options or {}))


def load_file(
    session: Session,
    actor: Actor,
    table_ref: LakeTable | int | str,
    path: Path | str,
    *,
    format: str = "auto",
    mode: str = "snapshot",
    key_columns: list[str] | None = None,
    options: dict[str, Any] | None = None,
    load_id: str | None = None,
    on_progress: ProgressCallback | None = None,
) -> LoadResult:
    """Load one file (csv, tsv, xlsx, json, ndjson, parquet) as the table's next version.
    See ``load_source`` for permissions, events and failure."""
    path = Path(path)
    return load_source(
        session,
        actor,
        table_ref,
        lambda: read_file(path, format, options),
        label=path.name,
        mode=mode,
        key_columns=key_columns,
        load_id=load_id,
        on_progress=on_progress,
    )


def load_source(
    session: Session,
    actor: Actor,
    table_ref: LakeTable | int | str,
    read: Callable[[], Source],
    *,
    label: str,
    mode: str = "snapshot",
    key_columns: list[str] | None = None,
    load_id: str | None = None,
    on_progress: ProgressCallback | None = None,
) -> LoadResult:
    """Load what ``read()`` returns as the table's next version. Needs ``lake.load``.

    ``label`` names the source for people (a file name, ``orders@pg``, a topic); the lake
    records ``<format>:<label>`` as the version's source. ``read`` is called after
    ``ingest.load_started`` is recorded, so a source that cannot be read or parsed is a
    recorded failure too. ``on_progress(rows, bytes)`` is called as batches stream to the
    lake. Events: ``ingest.load_started``, then ``ingest.load_finished`` (beside the lake's
    ``lake.version_loaded``/``…_blocked``) or ``ingest.load_failed``. On failure the lake
    write is rolled back to a savepoint — no version exists — the failure event stays in
    the caller's transaction (commit it to keep the record), and the error is raised."""
    table = tables.get_table(session, table_ref)
    access.require(actor, "lake.load", table)
    load_id = load_id or uuid.uuid4().hex
    base = {"table": table.name, "table_id": table.id, "load_id": load_id, "label": label}
    events.emit(session, LOAD_STARTED, actor, subject=table, mode=mode, **base)
    started = time.monotonic()
    source: Source | None = None
    meter: _Meter | None = None
    savepoint = session.begin_nested()
    try:
        source = read()
        meter = _Meter(source, on_progress)
        version = tables.write_version(
            session,
            actor,
            table,
            meter.reader(),
            mode=mode,
            key_columns=key_columns,
            load_id=load_id,
            source=f"{source.format}:{label}",
        )
        savepoint.commit()
    except Exception as raised:
        if savepoint.is_active:
            savepoint.rollback()
        # an error the source raised while the lake pulled its batches reaches us wrapped
        # by the writer: the source's own error is the one to report
        error = meter.error if meter is not None and meter.error is not None else raised
        extra: dict[str, Any] = {}
        if isinstance(error, MalformedRows):
            first = [{"row": p["row"], "reason": p["reason"]} for p in error.report()[:10]]
            extra = {"bad_rows": error.params["count"], "first_rows": first}
        if isinstance(error, LongshuError):
            extra["params"] = {k: _plain(v) for k, v in error.params.items()}
        try:
            events.emit(
                session,
                LOAD_FAILED,
                actor,
                subject=table,
                format=source.format if source else None,
                mode=mode,
                error=error.key if isinstance(error, LongshuError) else "ingest.unexpected",
                rows=meter.rows if meter else 0,
                elapsed_ms=int((time.monotonic() - started) * 1000),
                **base,
                **extra,
            )
        except Exception:
            if isinstance(error, LongshuError):
                raise
            # the session itself failed (database gone …): the original error matters more
            log.exception("ingest.load_failed not recorded for load %s", load_id)
        if error is raised:
            raise
        raise error from raised
    except BaseException:  # interrupted: nothing to record, nothing kept
        if savepoint.is_active:
            savepoint.rollback()
        raise
    meter.finish()
    result = LoadResult(
        table=table.name,
        version=version.number,
        delta_version=version.delta_version,
        status=version.status,
        rows=meter.rows,
        table_rows=version.rows,
        bytes=meter.bytes,
        format=source.format,
        load_id=load_id,
        details=source.details,
    )
    events.emit(
        session,
        LOAD_FINISHED,
        actor,
        subject=table,
        format=source.format,
        mode=mode,
        version=version.number,
        status=version.status,
        rows=meter.rows,
        table_rows=version.rows,
        source_bytes=meter.bytes,
        bytes=version.bytes,
        elapsed_ms=int((time.monotonic() - started) * 1000),
        details={k: _plain(v) for k, v in source.details.items()},
        **base,
    )
    return result


class _Meter:
    """The source's data as a RecordBatchReader that counts rows and bytes as the lake
    pulls batches, and reports them to ``on_progress``."""

    def __init__(self, source: Source, on_progress: ProgressCallback | None) -> None:
        self.source = source
        self.on_progress = on_progress
        self.rows = 0
        self.arrow_bytes = 0
        self.bytes = 0
        self.error: Exception | None = None  # what the source raised while streaming

    def reader(self) -> pa.RecordBatchReader:
        data = self.source.data
        inner = (
            data.to_reader(max_chunksize=TABLE_BATCH_ROWS) if isinstance(data, pa.Table) else data
        )
        return pa.RecordBatchReader.from_batches(inner.schema, self._batches(inner))

    def _batches(self, inner: pa.RecordBatchReader) -> Iterator[pa.RecordBatch]:
        try:
            for batch in inner:
                self.rows += batch.num_rows
                self.arrow_bytes += batch.nbytes
                self._report()
                yield batch
        except Exception as error:
            self.error = error
            raise

    def _report(self) -> None:
        consumed = self.source.consumed
        self.bytes = consumed() if consumed else self.arrow_bytes
        if self.on_progress:
            self.on_progress(self.rows, self.bytes)

    def finish(self) -> None:
        """The last report: all of a sized source has been read."""
        if self.source.consumed and self.source.size is not None:
            self.bytes = max(self.bytes, self.source.size)
        elif not self.source.consumed:
            self.bytes = self.arrow_bytes
        if self.on_progress:
            self.on_progress(self.rows, self.bytes)


def _plain(value: Any) -> Any:
    """A value an event payload (JSON) can hold."""
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    return str(value)
