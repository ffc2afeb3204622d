"""Errors of the file connectors. English templates; the Chinese text is in
``web/i18n/zh_CN/LC_MESSAGES/ingest.po``. Row-level reasons are in ``ROW_MESSAGES``."""

from __future__ import annotations

from typing import Any

from longshu.errors import InvalidInput, NotFound

# Reasons reported per row of a malformed file (translated like error messages).
ROW_MESSAGES = {
    "ragged": "has {found} fields where the header has {expected}",
    "not_object": "is not a JSON object",
    "bad_json": "is not valid JSON: {detail}",
    "nested_list": "field {field} holds a list; lists cannot be loaded as a column",
    "name_clash": "flattened field {field} clashes with another field of the same name",
    "field_too_long": "field {field} is longer than {limit} characters",
}


class IngestError(InvalidInput):
    key = "ingest.invalid"
    message = "The file cannot be loaded: {detail}"


class SourceNotFound(NotFound):
    key = "ingest.source_not_found"
    message = "The file {name} does not exist or cannot be read."


class UnknownFormat(IngestError):
    key = "ingest.unknown_format"
    message = (
        "The format of {name} is not recognised; use one of: csv, tsv, xlsx, json, ndjson, parquet."
    )


class EmptyFile(IngestError):
    key = "ingest.empty_file"
    message = "The file {name} is empty or has no data rows."


class FileTooLarge(IngestError):
    key = "ingest.file_too_large"
    message = "The file {name} is {size} bytes, over the limit of {limit} bytes for {format} files."


class UnknownEncoding(IngestError):
    key = "ingest.unknown_encoding"
    message = "The file {name} is not UTF-8, GBK or GB18030 text: bytes that none of them can decode at line {line}, byte {offset}."


class MalformedRows(IngestError):
    key = "ingest.malformed_rows"
    message = (
        "{count} rows of {name} are malformed, so nothing was loaded. First: row {row} {reason}."
    )

    def __init__(self, name: str, problems: list[tuple[int, str]], count: int) -> None:
        self.problems = problems  # (row number, English reason), at most REPORT_LIMIT
        row, reason = problems[0]
        super().__init__(name=name, count=count, row=row, reason=reason)

    def report(self) -> list[dict[str, Any]]:
        return [{"row": row, "reason": reason} for row, reason in self.problems]


class SheetNotFound(IngestError):
    key = "ingest.sheet_not_found"
    message = "The workbook {name} has no sheet {sheet}; its sheets are: {sheets}."


class MergedCells(IngestError):
    key = "ingest.merged_cells"
    message = (
        "Sheet {sheet} has merged cells in the data area ({ranges}); unmerge them before loading."
    )


class FormulaWithoutValue(IngestError):
    key = "ingest.formula_without_value"
    message = "Cell {cell} of sheet {sheet} holds a formula without a saved value; open and save the workbook in a spreadsheet program first."


class InvalidWorkbook(IngestError):
    key = "ingest.invalid_workbook"
    message = "The file {name} is not a readable xlsx workbook: {detail}"


class InvalidJson(IngestError):
    key = "ingest.invalid_json"
    message = "The file {name} is not valid JSON at line {line}, column {column}: {detail}"


class NotRecords(IngestError):
    key = "ingest.not_records"
    message = "The JSON file {name} must hold an array of objects (or one object per line)."


class InvalidParquet(IngestError):
    key = "ingest.invalid_parquet"
    message = "The file {name} is not a readable Parquet file: {detail}"


class InvalidOption(IngestError):
    key = "ingest.invalid_option"
    message = "The load option {option} is not valid: {detail}"
