"""Excel xlsx through openpyxl: one sheet (by name or 1-based index), a header row, and the
rows below it. Refused: merged cells from the header down, formulas without a saved value,
files over the size limit, and zip bombs — checked from the zip's directory before any part
is expanded: parts that unzip to more than ``max_unzipped_bytes`` in all, a part packed more
tightly than ``MAX_RATIO`` to one, or too many parts. (Python's zipfile never expands a part
beyond the size its directory declares, so a lying directory only makes the read fail.)"""

from __future__ import annotations

import zipfile
from pathlib import Path
from typing import Any

import pyarrow as pa

from longshu.ingest.columns import column_names, holds_codes, text_columns_option, value_column
from longshu.ingest.errors import (
    EmptyFile,
    FileTooLarge,
    FormulaWithoutValue,
    InvalidOption,
    InvalidWorkbook,
    MergedCells,
    SheetNotFound,
    ZipBomb,
)
from longshu.ingest.source import MB, Source, check_file

DEFAULT_MAX_UNZIPPED = 500 * MB
# Real sheets' XML packs 5–30 to one; a bomb of repeated bytes packs ~1000 to one (DEFLATE's
# limit). Parts under RATIO_FLOOR are never refused for their ratio.
MAX_RATIO = 200
RATIO_FLOOR = MB
MAX_PARTS = 10_000


def read_xlsx(path: Path, options: dict[str, Any]) -> Source:
    import openpyxl

    check_file(path, "xlsx", options)
    _check_package(path, options.get("max_unzipped_bytes", DEFAULT_MAX_UNZIPPED))
    try:
        formulas = openpyxl.load_workbook(path, data_only=False)
        values = openpyxl.load_workbook(path, data_only=True)
    except MemoryError:
        raise
    except Exception as error:  # openpyxl raises many kinds on a corrupt file
        raise InvalidWorkbook(name=path.name, detail=str(error)[:200]) from None
    sheet = options.get("sheet", 1)
    names = formulas.sheetnames
    if isinstance(sheet, str) and sheet.isdigit() and sheet not in names:
        sheet = int(sheet)
    if isinstance(sheet, int):
        if not 1 <= sheet <= len(names):
            raise SheetNotFound(name=path.name, sheet=sheet, sheets=", ".join(names))
        title = names[sheet - 1]
    elif sheet in names:
        title = sheet
    else:
        raise SheetNotFound(name=path.name, sheet=str(sheet)[:80], sheets=", ".join(names))
    ws, wv = formulas[title], values[title]
    header_row = options.get("header_row", 1)
    if not isinstance(header_row, int) or header_row < 1:
        raise InvalidOption(option="header_row", detail="a row number from 1")
    merged = [str(r) for r in ws.merged_cells.ranges if r.max_row >= header_row]
    if merged:
        raise MergedCells(sheet=title, ranges=", ".join(merged[:5]))
    rows = list(wv.iter_rows(min_row=header_row, values_only=True))
    for row in ws.iter_rows(min_row=header_row):
        for cell in row:
            if cell.data_type == "f" and wv[cell.coordinate].value is None:
                raise FormulaWithoutValue(cell=cell.coordinate, sheet=title)
    while rows and all(v is None or v == "" for v in rows[-1]):
        rows.pop()
    if len(rows) < 2:
        raise EmptyFile(name=path.name)
    head = list(rows[0])
    while head and head[-1] in (None, ""):
        head.pop()
    width = len(head)
    names_out = column_names(head)
    body = [r for r in rows[1:] if any(v not in (None, "") for v in r)]
    text = text_columns_option(options)
    arrays = [
        value_column([r[i] if i < len(r) else None for r in body], holds_codes(names_out[i], text))
        for i in range(width)
    ]
    table = pa.Table.from_arrays(arrays, names=names_out)
    return Source(
        data=table,
        rows=table.num_rows,
        format="xlsx",
        details={"sheet": title, "header_row": header_row},
    )


def _check_package(path: Path, limit: int) -> None:
    """Refuse a zip bomb from the zip's directory alone, before anything is expanded."""
    if not isinstance(limit, int) or isinstance(limit, bool) or limit <= 0:
        raise InvalidOption(option="max_unzipped_bytes", detail="a positive number of bytes")
    try:
        with zipfile.ZipFile(path) as archive:
            parts = archive.infolist()
    except (zipfile.BadZipFile, OSError, ValueError) as error:
        raise InvalidWorkbook(name=path.name, detail=str(error)[:200]) from None
    if len(parts) > MAX_PARTS:
        raise InvalidWorkbook(name=path.name, detail=f"{len(parts)} parts")
    for part in parts:
        packed = max(part.compress_size, 1)
        if part.file_size > RATIO_FLOOR and part.file_size > MAX_RATIO * packed:
            raise ZipBomb(
                name=path.name,
                part=part.filename[:100],
                size=part.file_size,
                packed=part.compress_size,
                ratio=part.file_size // packed,
            )
    unzipped = sum(p.file_size for p in parts)
    if unzipped > limit:
        raise FileTooLarge(name=path.name, size=unzipped, limit=limit, format="xlsx (unzipped)")
