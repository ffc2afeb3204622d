"""Writing the demo's source files — what a department would hand the platform: CSV and TSV
(UTF-8, UTF-8 with BOM, or GBK) and Parquet. These are *input* files outside the lake;
``tests/lake/test_one_door.py`` lets this module (only) import ``pyarrow.parquet``."""

from __future__ import annotations

import io
from collections.abc import Iterable
from pathlib import Path

import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from longshu.security.crypto.hashing import SM3


def write_text_table(
    table: pa.Table, path: Path, *, encoding: str = "utf-8", tab: bool = False
) -> int:
    """A table as delimited text with a header row; returns the bytes written."""
    buffer = io.BytesIO()
    options = pacsv.WriteOptions(
        include_header=True, delimiter="\t" if tab else ",", quoting_style="needed"
    )
    pacsv.write_csv(table, buffer, options)
    data = buffer.getvalue()
    if encoding == "utf-8-sig":
        data = b"\xef\xbb\xbf" + data
    elif encoding != "utf-8":
        data = data.decode("utf-8").encode(encoding)
    path.write_bytes(data)
    return len(data)


def write_parquet(batches: Iterable[pa.RecordBatch], path: Path) -> int:
    """Record batches as one Parquet file (zstd, one row group a batch); returns the rows."""
    rows = 0
    writer: pq.ParquetWriter | None = None
    try:
        for batch in batches:
            if writer is None:
                writer = pq.ParquetWriter(str(path), batch.schema, compression="zstd")
            writer.write_batch(batch)
            rows += batch.num_rows
    finally:
        if writer is not None:
            writer.close()
    return rows


def file_sm3(path: Path) -> str:
    """The SM3 digest (hex) of a file, read in 1 MB pieces."""
    state = SM3.new()
    with path.open("rb") as f:
        while chunk := f.read(1 << 20):
            state.update(chunk)
    return state.digest().hex()
