"""CSV and TSV: encoding detection (UTF-8 with or without BOM, GBK, GB18030 — strict decodes
of the whole file, in that order), delimiter and header sniffing, typed columns, and two
streaming passes: the first checks every row and settles the types, the second hands the
lake record batches. A file with any malformed row loads nothing."""

from __future__ import annotations

import codecs
import csv
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyarrow as pa

from longshu.ingest.columns import TextColumn, column_names
from longshu.ingest.errors import (
    ROW_MESSAGES,
    EmptyFile,
    InvalidOption,
    MalformedRows,
    UnknownEncoding,
)
from longshu.ingest.source import REPORT_LIMIT, Source, check_file

ENCODINGS = ("utf-8-sig", "gbk", "gb18030")
DELIMITERS = ",\t;|"
SAMPLE_BYTES = 64 * 1024
CHUNK = 1024 * 1024
DEFAULT_BATCH_ROWS = 65_536
DEFAULT_MAX_FIELD = 10 * 1024 * 1024


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
    line = 1
    with path.open("rb") as f:
        remaining = furthest
        while remaining > 0:
            chunk = f.read(min(CHUNK, remaining))
            if not chunk:
                break
            line += chunk.count(b"\n")
            remaining -= len(chunk)
    raise UnknownEncoding(name=path.name, line=line, offset=furthest)


def _decode_error_at(path: Path, encoding: str) -> int | None:
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


def read_csv(path: Path, options: dict[str, Any], *, tab: bool = False) -> Source:
    check_file(path, "csv", options)
    encoding = options.get("encoding") or detect_encoding(path)
    try:
        codecs.lookup(encoding)
    except LookupError:
        raise InvalidOption(option="encoding", detail=str(encoding)[:40]) from None
    batch_rows = int(options.get("batch_rows", DEFAULT_BATCH_ROWS))
    max_field = int(options.get("max_field", DEFAULT_MAX_FIELD))
    csv.field_size_limit(max(max_field, 1024))
    with path.open("rb") as f:
        raw = f.read(SAMPLE_BYTES)
    sample = raw.decode(encoding, errors="ignore")
    if len(raw) == SAMPLE_BYTES and "\n" in sample:
        sample = sample[: sample.rindex("\n") + 1]
    if not sample.strip():
        raise EmptyFile(name=path.name)
    delimiter = options.get("delimiter") or ("\t" if tab else _sniff_delimiter(sample))
    if not isinstance(delimiter, str) or len(delimiter) != 1:
        raise InvalidOption(option="delimiter", detail="one character")
    header = options.get("header", "auto")
    if header == "auto":
        header = _sniff_header(sample, delimiter)

    def rows() -> Iterator[tuple[int, list[str] | None, str | None]]:
        """(line number, fields or None, csv error) for every non-blank record."""
        with path.open(encoding=encoding, newline="") as f:
            reader = csv.reader(f, delimiter=delimiter)
            while True:
                try:
                    row = next(reader)
                except StopIteration:
                    return
                except csv.Error as error:
                    yield reader.line_num, None, str(error)
                    continue
                if not row or (len(row) == 1 and not row[0].strip()):
                    continue
                yield reader.line_num, row, None

    # pass 1: names, row shapes, types
    records = rows()
    first = next(records, None)
    if first is None or first[1] is None:
        raise EmptyFile(name=path.name)
    width = len(first[1])
    names = column_names(first[1]) if header else [f"col_{i}" for i in range(1, width + 1)]
    typers = [TextColumn() for _ in names]
    problems: list[tuple[int, str]] = []
    count = 0
    n = 0
    pending = [] if header else [first]
    for line, row, err in _chain(pending, records):
        if row is None:
            reason = ROW_MESSAGES["field_too_long"].format(field="?", limit=max_field)
            count += 1
            if len(problems) < REPORT_LIMIT:
                problems.append((line, reason if "limit" in (err or "") else (err or "")))
            continue
        if len(row) != width:
            count += 1
            if len(problems) < REPORT_LIMIT:
                problems.append(
                    (line, ROW_MESSAGES["ragged"].format(found=len(row), expected=width))
                )
            continue
        for typer, value in zip(typers, row, strict=True):
            typer.see(value)
        n += 1
    if count:
        raise MalformedRows(path.name, problems, count)
    if n == 0:
        raise EmptyFile(name=path.name)
    schema = pa.schema(
        [pa.field(name, t.arrow_type()) for name, t in zip(names, typers, strict=True)]
    )

    # pass 2: record batches for the lake
    def batches() -> Iterator[pa.RecordBatch]:
        records = rows()
        if header:
            next(records)
        columns: list[list[str]] = [[] for _ in names]
        for _line, row, _err in records:
            for column, value in zip(columns, row or (), strict=True):
                column.append(value)
            if len(columns[0]) >= batch_rows:
                yield _batch(schema, typers, columns)
                columns = [[] for _ in names]
        if columns[0]:
            yield _batch(schema, typers, columns)

    return Source(
        data=pa.RecordBatchReader.from_batches(schema, batches()),
        rows=n,
        format="tsv" if delimiter == "\t" else "csv",
        details={"encoding": encoding, "delimiter": delimiter, "header": bool(header)},
    )


def _chain(first: list, rest: Iterator) -> Iterator:
    yield from first
    yield from rest


def _batch(schema: pa.Schema, typers: list[TextColumn], columns: list[list[str]]) -> pa.RecordBatch:
    arrays = [t.convert(c) for t, c in zip(typers, columns, strict=True)]
    return pa.RecordBatch.from_arrays(arrays, schema=schema)


def _sniff_delimiter(sample: str) -> str:
    try:
        return csv.Sniffer().sniff(sample, delimiters=DELIMITERS).delimiter
    except csv.Error:
        line = sample.splitlines()[0] if sample else ""
        counts = {d: line.count(d) for d in DELIMITERS}
        best = max(counts, key=lambda d: counts[d])
        return best if counts[best] else ","


def _sniff_header(sample: str, delimiter: str) -> bool:
    """A header when csv.Sniffer thinks so, or when the first row is distinct, non-empty
    text where no value reads as a number or date."""
    try:
        if csv.Sniffer().has_header(sample):
            return True
    except csv.Error:
        pass
    first = next(csv.reader(sample.splitlines()[:1], delimiter=delimiter), [])
    values = [v.strip() for v in first]
    return (
        bool(values)
        and all(values)
        and len(set(values)) == len(values)
        and all(TextColumn._kind(v) == "string" for v in values)
    )
