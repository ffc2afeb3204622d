"""Parquet: the file is streamed in record batches through the lake's input reader
(``lake.inputs``: only the lake may import ``pyarrow.parquet``)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyarrow as pa

from longshu.ingest.errors import EmptyFile, InvalidOption, InvalidParquet
from longshu.ingest.source import Source, check_file
from longshu.lake.inputs import parquet_input_reader


def read_parquet(path: Path, options: dict[str, Any]) -> Source:
    size = check_file(path, "parquet", options)
    if size == 0:
        raise EmptyFile(name=path.name)
    batch_rows = options.get("batch_rows", 65_536)
    if not isinstance(batch_rows, int) or batch_rows < 1:
        raise InvalidOption(option="batch_rows", detail="a positive number of rows")
    try:
        reader, rows = parquet_input_reader(path, batch_rows)
    except (pa.ArrowException, OSError) as error:
        raise InvalidParquet(name=path.name, detail=str(error)[:200]) from None
    if rows == 0:
        raise EmptyFile(name=path.name)
    state = {"rows": 0}

    def batches() -> Iterator[pa.RecordBatch]:
        try:
            for batch in reader:
                state["rows"] += batch.num_rows
                yield batch
        except (pa.ArrowException, OSError) as error:  # a damaged page, found while reading
            raise InvalidParquet(name=path.name, detail=str(error)[:200]) from None

    return Source(
        data=pa.RecordBatchReader.from_batches(reader.schema, batches()),
        rows=rows,
        format="parquet",
        details={},
        size=size,
        consumed=lambda: size * state["rows"] // rows,
    )
