"""JSON (an array of objects) and NDJSON (one object per line). Nested objects are flattened
to ``parent_child`` names (the lake's column names allow no dots); lists are refused per row."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pyarrow as pa

from longshu.ingest.columns import column_names, holds_codes, text_columns_option, value_column
from longshu.ingest.csvfile import detect_encoding
from longshu.ingest.errors import (
    EmptyFile,
    InvalidJson,
    MalformedRows,
    NotRecords,
    RowProblem,
)
from longshu.ingest.source import REPORT_LIMIT, Source, check_file


def read_json(path: Path, options: dict[str, Any]) -> Source:
    check_file(path, "json", options)
    encoding = detect_encoding(path)
    text = path.read_text(encoding=encoding)
    if not text.strip():
        raise EmptyFile(name=path.name)
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as error:
        raise InvalidJson(
            name=path.name, line=error.lineno, column=error.colno, detail=error.msg
        ) from None
    if isinstance(doc, dict):  # {"data": [...]} is common; accept one list-valued key
        lists = [v for v in doc.values() if isinstance(v, list)]
        doc = lists[0] if len(lists) == 1 else doc
    if not isinstance(doc, list):
        raise NotRecords(name=path.name)
    return records_source(
        path, list(enumerate(doc, start=1)), "json", encoding, text_columns_option(options)
    )


def read_ndjson(path: Path, options: dict[str, Any]) -> Source:
    check_file(path, "ndjson", options)
    encoding = detect_encoding(path)
    items: list[tuple[int, Any]] = []
    problems: list[RowProblem] = []
    count = 0
    with path.open(encoding=encoding) as f:
        for number, line in enumerate(f, start=1):
            if not line.strip():
                continue
            try:
                items.append((number, json.loads(line)))
            except json.JSONDecodeError as error:
                count += 1
                if len(problems) < REPORT_LIMIT:
                    problems.append(RowProblem(number, "bad_json", {"detail": error.msg}))
    if count:
        raise MalformedRows(path.name, problems, count)
    return records_source(path, items, "ndjson", encoding, text_columns_option(options))


def records_source(
    path: Path,
    items: list[tuple[int, Any]],
    fmt: str,
    encoding: str,
    text_columns: frozenset[str] = frozenset(),
) -> Source:
    """Numbered JSON records → one flattened table (every record checked first)."""
    if not items:
        raise EmptyFile(name=path.name)
    problems: list[RowProblem] = []
    count = 0
    flat_rows: list[dict[str, Any]] = []
    keys: dict[str, None] = {}
    for number, item in items:
        reason: RowProblem | None = None
        if not isinstance(item, dict):
            reason = RowProblem(number, "not_object")
        else:
            flat: dict[str, Any] = {}
            reason = _flatten(item, "", flat, number)
        if reason:
            count += 1
            if len(problems) < REPORT_LIMIT:
                problems.append(reason)
            continue
        flat_rows.append(flat)
        keys.update(dict.fromkeys(flat))
    if count:
        raise MalformedRows(path.name, problems, count)
    raw = list(keys)
    names = column_names(raw)
    arrays = [
        value_column([r.get(k) for r in flat_rows], holds_codes(name, text_columns))
        for k, name in zip(raw, names, strict=True)
    ]
    table = pa.Table.from_arrays(arrays, names=names)
    return Source(data=table, rows=table.num_rows, format=fmt, details={"encoding": encoding})


def _flatten(
    obj: dict[str, Any], prefix: str, out: dict[str, Any], number: int
) -> RowProblem | None:
    for key, value in obj.items():
        name = f"{prefix}_{key}" if prefix else str(key)
        if isinstance(value, dict):
            reason = _flatten(value, name, out, number)
            if reason:
                return reason
        elif isinstance(value, list):
            return RowProblem(number, "nested_list", {"field": name})
        elif name in out:
            return RowProblem(number, "name_clash", {"field": name})
        else:
            out[name] = value
    return None
