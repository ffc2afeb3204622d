"""Parquet: the file is streamed in record batches through the lake's input reader
(``lake.inputs``: only the lake may import ``pyarrow.parquet``)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pyarrow as pa

from longshu.ingest.errors import EmptyFile, InvalidParquet
from longshu.ingest.source import Source, check_file
from longshu.lake.inputs import parquet_input_reader


def read_parquet(path: Path, options: dict[str, Any]) -> Source:
    size = check_file(path, "parquet", options)
    if size == 0:
        raise EmptyFile(name=path.name)
    try:
        reader, rows = parquet_input_reader(path, int(options.get("batch_rows", 65_536)))
    except (pa.ArrowException, OSError) as error:
        raise InvalidParquet(name=path.name, detail=str(error)[:200]) from None
    if rows == 0:
        raise EmptyFile(name=path.name)
    return Source(data=reader, rows=rows, format="parquet", details={})
