"""Excel xlsx through openpyxl: one sheet (by name or 1-based index), a header row, and the
rows below it. Refused: merged cells from the header down, formulas without a saved value,
files over the size limit or whose parts unzip to more than ``max_unzipped_bytes``."""

from __future__ import annotations

import zipfile
from pathlib import Path
from typing import Any

import pyarrow as pa

from longshu.ingest.columns import column_names, value_column
from longshu.ingest.errors import (
    EmptyFile,
    FileTooLarge,
    FormulaWithoutValue,
    InvalidOption,
    InvalidWorkbook,
    MergedCells,
    SheetNotFound,
)
from longshu.ingest.source import MB, Source, check_file

DEFAULT_MAX_UNZIPPED = 500 * MB


def read_xlsx(path: Path, options: dict[str, Any]) -> Source:
    import openpyxl

    check_file(path, "xlsx", options)
    limit = options.get("max_unzipped_bytes", DEFAULT_MAX_UNZIPPED)
    try:
        with zipfile.ZipFile(path) as archive:
            unzipped = sum(i.file_size for i in archive.infolist())
    except (zipfile.BadZipFile, OSError) as error:
        raise InvalidWorkbook(name=path.name, detail=str(error)[:200]) from None
    if unzipped > limit:
        raise FileTooLarge(name=path.name, size=unzipped, limit=limit, format="xlsx (unzipped)")
    try:
        formulas = openpyxl.load_workbook(path, data_only=False)
        values = openpyxl.load_workbook(path, data_only=True)
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
    arrays = [value_column([r[i] if i < len(r) else None for r in body]) for i in range(width)]
    table = pa.Table.from_arrays(arrays, names=names_out)
    return Source(
        data=table,
        rows=table.num_rows,
        format="xlsx",
        details={"sheet": title, "header_row": header_row},
    )
