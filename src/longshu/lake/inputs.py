"""Readers of *input* files a user hands in for loading (not lake data): Parquet is read
here because only the lake may import ``pyarrow.parquet`` (tests/lake/test_one_door.py).
The ingest connectors call this; it never touches the lake's own folder."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq


def parquet_input_reader(
    path: Path | str, batch_rows: int = 65_536
) -> tuple[pa.RecordBatchReader, int]:
    """A user's Parquet file as streamed record batches, and its row count (from the footer).
    Raises ``pyarrow.ArrowException`` for a file that is not readable Parquet."""
    file = pq.ParquetFile(str(path))
    rows = file.metadata.num_rows
    schema = file.schema_arrow
    return pa.RecordBatchReader.from_batches(schema, file.iter_batches(batch_size=batch_rows)), rows
