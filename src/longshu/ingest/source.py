"""What a connector hands back: the data for the lake, and what it found out on the way.

Every connector (files, SQL, HTTP, MQTT, media) returns a ``Source``; ``ingest.load_source``
streams its ``data`` to the lake and reports progress from its batches."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyarrow as pa

from longshu.ingest.errors import FileTooLarge, InvalidOption, SourceNotFound

REPORT_LIMIT = 100  # malformed rows listed in an error (all are counted)
MB = 1024 * 1024
DEFAULT_MAX_BYTES = {
    "csv": 20 * 1024 * MB,
    "json": 512 * MB,  # read whole
    "ndjson": 20 * 1024 * MB,
    "xlsx": 50 * MB,  # openpyxl holds the workbook in memory
    "parquet": 50 * 1024 * MB,
}


@dataclass
class Source:
    """One connector's output.

    ``data``: a ``pyarrow.Table`` or a ``RecordBatchReader`` (streamed, read once).
    ``rows``: the rows it will yield, when known before streaming (else ``None``).
    ``size``: the source's size in bytes when known (a file's length), for progress bars.
    ``consumed``: how many source bytes have been read so far (called while streaming);
    without it progress counts the Arrow bytes of the batches handed over.
    ``details``: what the connector found (encoding, delimiter, sheet …), put in the events."""

    data: pa.Table | pa.RecordBatchReader
    rows: int | None
    format: str
    details: dict[str, Any] = field(default_factory=dict)
    size: int | None = None
    consumed: Callable[[], int] | None = None


def check_file(path: Path, fmt: str, options: dict[str, Any]) -> int:
    """The file's size, refused when missing or over the format's limit."""
    try:
        size = path.stat().st_size
    except OSError:
        raise SourceNotFound(name=path.name) from None
    if not path.is_file():
        raise SourceNotFound(name=path.name)
    limit = options.get("max_bytes", DEFAULT_MAX_BYTES[fmt])
    if not isinstance(limit, int) or isinstance(limit, bool) or limit <= 0:
        raise InvalidOption(option="max_bytes", detail="a positive number of bytes")
    if size > limit:
        raise FileTooLarge(name=path.name, size=size, limit=limit, format=fmt)
    return size
