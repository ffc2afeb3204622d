"""CSV and TSV, read by Arrow's CSV parser (multi-threaded, streamed block by block).

Encoding: UTF-8 with or without BOM, GBK, GB18030 — UTF-8 is checked by the parser as it
reads; when a file is not UTF-8 the others are tried by strict decodes of the whole file,
in that order, and a file none decodes is refused naming the line. The delimiter (``,``
tab ``;`` ``|``) and whether the first row is a header are sniffed from the first 64 KB.

Two passes keep a bad file from loading anything: the first parses every row as text,
checks its shape and field sizes, settles each column's type (``columns.TextColumn``) and
spills the parsed batches to an anonymous temporary file (Arrow IPC); the second reads the
spill back, converts the columns and streams record batches to the lake. Memory stays at a
few blocks whatever the file's size."""

from __future__ import annotations

import codecs
import csv
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from longshu.ingest.columns import (
    TextColumn,
    column_names,
    holds_codes,
    text_columns_option,
    value_kind,
)
from longshu.ingest.errors import (
    EmptyFile,
    InvalidOption,
    MalformedRows,
    RowProblem,
    UnknownEncoding,
)
from longshu.ingest.source import MB, REPORT_LIMIT, Source, check_file

ENCODINGS = ("utf-8-sig", "gbk", "gb18030")
DELIMITERS = ",\t;|"
SAMPLE_BYTES = 64 * 1024
CHUNK = 1024 * 1024
DEFAULT_MAX_FIELD = MB  # characters in one field
MIN_BLOCK = 4 * MB
MAX_BLOCK = 64 * MB


class _NotUtf8(Exception):
    """The parser met bytes that are not UTF-8 (the file is tried in other encodings)."""


# --- encodings ----------------------------------------------------------------------------


def detect_encoding(path: Path) -> str:
    """The first of UTF-8 (BOM or not), GBK, GB18030 that decodes the whole file strictly."""
    furthest = -1
    for encoding in ENCODINGS:
        offset = _decode_error_at(path, encoding)
        if offset is None:
            if encoding == "utf-8-sig":
                with path.open("rb") as f:
                    return "utf-8-sig" if f.read(3) == codecs.BOM_UTF8 else "utf-8"
            return encoding
        furthest = max(furthest, offset)
    raise UnknownEncoding(name=path.name, line=_line_at(path, furthest), offset=furthest)


def _decode_error_at(path: Path, encoding: str) -> int | None:
    """The byte offset of the first byte ``encoding`` cannot decode (None: all decode)."""
    decoder = codecs.getincrementaldecoder(encoding)("strict")
    done = 0
    with path.open("rb") as f:
        while True:
            chunk = f.read(CHUNK)
            try:
                decoder.decode(chunk, final=not chunk)
            except UnicodeDecodeError as error:
                return done + max(error.start, 0)
            if not chunk:
                return None
            done += len(chunk)


def _line_at(path: Path, offset: int) -> int:
    line = 1
    with path.open("rb") as f:
        remaining = offset
        while remaining > 0:
            chunk = f.read(min(CHUNK, remaining))
            if not chunk:
                break
            line += chunk.count(b"\n")
            remaining -= len(chunk)
    return line


def _sample(path: Path, encoding: str | None) -> tuple[str, str | None]:
    """The first 64 KB as text, cut at a line end, and the encoding guessed from it (UTF-8
    if the sample is UTF-8, else None: the whole file must be tried)."""
    with path.open("rb") as f:
        raw = f.read(SAMPLE_BYTES)
    if len(raw) == SAMPLE_BYTES and b"\n" in raw:
        raw = raw[: raw.rindex(b"\n") + 1]
    if encoding is None:
        try:
            text = raw.decode("utf-8")
            encoding = "utf-8-sig" if raw.startswith(codecs.BOM_UTF8) else "utf-8"
        except UnicodeDecodeError:
            return "", None
    else:
        text = raw.decode(encoding, errors="replace")
    return text.lstrip("\ufeff"), encoding


# --- reading ------------------------------------------------------------------------------


@dataclass
class _Settings:
    encoding: str
    delimiter: str
    header: bool
    names: list[str]
    max_field: int
    quoting: bool = True
    text_columns: frozenset[str] = frozenset()

    @property
    def arrow_encoding(self) -> str:
        name = codecs.lookup(self.encoding).name
        return "utf8" if name in ("utf-8", "utf-8-sig") else self.encoding

    @property
    def block_size(self) -> int:
        # a row must fit in one block: big enough for the longest field allowed
        return max(MIN_BLOCK, min(4 * self.max_field + MB, MAX_BLOCK))


@dataclass
class _Scan:
    """What the first pass found."""

    rows: int = 0
    parsed: int = 0  # rows parsed so far, spilled or not (to number long fields)
    typers: list[TextColumn] = field(default_factory=list)
    problems: list[tuple[int | None, str, dict[str, Any]]] = field(default_factory=list)
    count: int = 0

    def problem(self, line: int | None, reason: str, **params: Any) -> None:
        self.count += 1
        if len(self.problems) < REPORT_LIMIT:
            self.problems.append((line, reason, params))


def read_csv(path: Path, options: dict[str, Any], *, tab: bool = False) -> Source:
    """Check and type the whole file; returns a Source streaming its converted batches."""
    size = check_file(path, "csv", options)
    if size == 0:
        raise EmptyFile(name=path.name)
    given = options.get("encoding")
    if given:
        try:
            codecs.lookup(given)
        except (LookupError, TypeError):
            raise InvalidOption(option="encoding", detail=str(given)[:40]) from None
    max_field = options.get("max_field", DEFAULT_MAX_FIELD)
    if not isinstance(max_field, int) or isinstance(max_field, bool) or max_field < 1:
        raise InvalidOption(option="max_field", detail="a positive number of characters")
    text, encoding = _sample(path, given)
    if encoding is None:
        encoding = detect_encoding(path)
        text, _ = _sample(path, encoding)
    settings = _settings(path, text, encoding, options, tab, max_field)
    spill = tempfile.TemporaryFile(prefix="longshu-ingest-")  # noqa: SIM115 (closed by pass 2)
    try:
        try:
            scan = _scan(path, settings, spill)
        except _NotUtf8:
            if given:
                offset = _decode_error_at(path, given) or 0
                raise UnknownEncoding(
                    name=path.name, line=_line_at(path, offset), offset=offset
                ) from None
            encoding = detect_encoding(path)  # raises UnknownEncoding when nothing fits
            text, _ = _sample(path, encoding)
            settings = _settings(path, text, encoding, options, tab, max_field)
            spill.seek(0)
            spill.truncate()
            scan = _scan(path, settings, spill)
        if scan.count:
            raise MalformedRows(path.name, _numbered(path, settings, scan), scan.count)
        if scan.rows == 0:
            raise EmptyFile(name=path.name)
    except BaseException:
        spill.close()
        raise
    schema = pa.schema(
        [pa.field(n, t.arrow_type()) for n, t in zip(settings.names, scan.typers, strict=True)]
    )
    state = {"rows": 0}

    def batches() -> Iterator[pa.RecordBatch]:
        try:
            spill.seek(0)
            for batch in pa.ipc.open_stream(pa.PythonFile(spill, mode="r")):
                arrays = [t.convert(c) for t, c in zip(scan.typers, batch.columns, strict=True)]
                state["rows"] += batch.num_rows
                yield pa.RecordBatch.from_arrays(arrays, schema=schema)
        finally:
            spill.close()

    return Source(
        data=pa.RecordBatchReader.from_batches(schema, batches()),
        rows=scan.rows,
        format="tsv" if settings.delimiter == "\t" else "csv",
        details={
            "encoding": settings.encoding,
            "delimiter": settings.delimiter,
            "header": settings.header,
        },
        size=size,
        consumed=lambda: size * state["rows"] // scan.rows,
    )


def _settings(
    path: Path, text: str, encoding: str, options: dict[str, Any], tab: bool, max_field: int
) -> _Settings:
    if not text.strip():
        raise EmptyFile(name=path.name)
    delimiter = options.get("delimiter") or ("\t" if tab else _sniff_delimiter(text))
    if not isinstance(delimiter, str) or len(delimiter) != 1 or delimiter in '\r\n"':
        raise InvalidOption(option="delimiter", detail="one character")
    header = options.get("header", "auto")
    if header == "auto":
        header = _sniff_header(text, delimiter)
    elif not isinstance(header, bool):
        raise InvalidOption(option="header", detail="true, false or auto")
    first = next(csv.reader(text.splitlines()[:1], delimiter=delimiter), [])
    if not first:
        raise EmptyFile(name=path.name)
    names = column_names(first) if header else [f"col_{i}" for i in range(1, len(first) + 1)]
    text_columns = text_columns_option(options)
    return _Settings(encoding, delimiter, header, names, max_field, text_columns=text_columns)


def _open(path: Path, settings: _Settings, handler: Any, threads: bool) -> pa.RecordBatchReader:
    return pacsv.open_csv(
        path,
        read_options=pacsv.ReadOptions(
            encoding=settings.arrow_encoding,
            block_size=settings.block_size,
            column_names=settings.names,
            skip_rows=1 if settings.header else 0,
            use_threads=threads,
        ),
        parse_options=pacsv.ParseOptions(
            delimiter=settings.delimiter,
            newlines_in_values=True,
            invalid_row_handler=handler,
        ),
        convert_options=pacsv.ConvertOptions(
            column_types={n: pa.string() for n in settings.names},
            strings_can_be_null=False,
            quoted_strings_can_be_null=False,
        ),
    )


def _scan(path: Path, settings: _Settings, spill: IO[bytes]) -> _Scan:
    """Pass 1: every row parsed as text; shapes, field sizes and types checked; the batches
    spilled (while the file is still good) for pass 2."""
    scan = _Scan(typers=[TextColumn(holds_codes(n, settings.text_columns)) for n in settings.names])
    expected = len(settings.names)
    first_line = 2 if settings.header else 1

    def ragged(row: Any) -> str:
        scan.problem(row.number, "ragged", found=row.actual_columns, expected=expected)
        return "skip"

    writer = None
    try:
        reader = _open(path, settings, ragged, threads=True)
        for batch in reader:
            _check_fields(batch, settings, scan, first_line)
            scan.parsed += batch.num_rows
            if scan.count:
                continue  # keep counting problems; nothing more to spill or type
            for typer, column in zip(scan.typers, batch.columns, strict=True):
                typer.see(column)
            if writer is None:
                writer = pa.ipc.new_stream(pa.PythonFile(spill, mode="w"), batch.schema)
            writer.write_batch(batch)
            scan.rows += batch.num_rows
    except pa.ArrowInvalid as error:
        message = str(error)
        if "UTF8" in message or "UTF-8" in message:
            raise _NotUtf8() from None
        line = (2 if settings.header else 1) + scan.parsed
        if "straddl" in message or "block" in message:
            scan.problem(line, "row_too_long", limit=settings.block_size)
        else:
            scan.problem(line, "unparsable", detail=message[:200])
    finally:
        if writer is not None:
            writer.close()
    return scan


def _check_fields(batch: pa.RecordBatch, settings: _Settings, scan: _Scan, first: int) -> None:
    """Fields over ``max_field`` characters, by row (cheap: only columns whose whole batch
    holds more bytes than the limit can hold such a field)."""
    for name, column in zip(settings.names, batch.columns, strict=True):
        if column.nbytes <= settings.max_field:
            continue
        long = pc.greater(pc.utf8_length(column), settings.max_field)
        if not long.true_count:
            continue
        for index in pc.indices_nonzero(long).to_pylist():
            scan.problem(
                first + scan.parsed + index, "field_too_long", field=name, limit=settings.max_field
            )


def _numbered(path: Path, settings: _Settings, scan: _Scan) -> list[RowProblem]:
    """The problems with line numbers. The threaded parser does not know the numbers of
    ragged rows, so the (already refused) file is read again single-threaded for them."""
    problems = [
        RowProblem(line, reason, params)
        for line, reason, params in scan.problems
        if line is not None
    ]
    if len(problems) < len(scan.problems):
        expected = len(settings.names)

        def number(row: Any) -> str:
            if len(problems) < REPORT_LIMIT:
                params = {"found": row.actual_columns, "expected": expected}
                problems.append(RowProblem(row.number or 0, "ragged", params))
            return "skip"

        try:
            for _ in _open(path, settings, number, threads=False):
                pass
        except pa.ArrowInvalid:
            pass
    return sorted(problems, key=lambda p: p.row)[:REPORT_LIMIT]


# --- sniffing -----------------------------------------------------------------------------


def _sniff_delimiter(sample: str) -> str:
    lines = [line for line in sample.splitlines() if line.strip()][:50]
    try:
        return csv.Sniffer().sniff("\n".join(lines), delimiters=DELIMITERS).delimiter
    except csv.Error:
        line = lines[0] if lines else ""
        counts = {d: line.count(d) for d in DELIMITERS}
        best = max(counts, key=lambda d: counts[d])
        return best if counts[best] else ","


def _sniff_header(sample: str, delimiter: str) -> bool:
    """A header when the first row is distinct, non-empty text where no value reads as a
    number or date, or when csv.Sniffer thinks so."""
    first = next(csv.reader(sample.splitlines()[:1], delimiter=delimiter), [])
    values = [v.strip() for v in first]
    if (
        values
        and all(values)
        and len(set(values)) == len(values)
        and all(value_kind(v) == "string" for v in values)
    ):
        return True
    if any(value_kind(v) != "string" for v in values if v):
        return False  # a header names columns; it does not hold numbers or dates
    try:
        return csv.Sniffer().has_header("\n".join(sample.splitlines()[:50]))
    except csv.Error:
        return False
