"""Errors of the file connectors. English templates; the Chinese text is in
``web/i18n/zh_CN/LC_MESSAGES/ingest.po``. Row-level reasons are in ``ROW_MESSAGES``."""

from __future__ import annotations

from dataclasses import dataclass, field
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
    "row_too_long": "is longer than {limit} bytes (a field this long cannot be loaded)",
    "unparsable": "cannot be parsed: {detail}",
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


@dataclass(frozen=True)
class RowProblem:
    """One malformed row: its number in the file, and why (a ``ROW_MESSAGES`` key)."""

    row: int
    reason: str
    params: dict[str, Any] = field(default_factory=dict)

    def message(self, gettext: Any = None) -> str:
        template = ROW_MESSAGES.get(self.reason, self.reason)
        text = gettext(template) if gettext else template
        try:
            return text.format(**self.params)
        except (KeyError, IndexError):
            return text


class MalformedRows(IngestError):
    key = "ingest.malformed_rows"
    message = (
        "{count} rows of {name} are malformed, so nothing was loaded. First: row {row} {reason}."
    )

    def __init__(self, name: str, problems: list[RowProblem | tuple[int, str]], count: int) -> None:
        # at most REPORT_LIMIT, in file order; ``count`` counts all
        self.problems = [p if isinstance(p, RowProblem) else RowProblem(*p) for p in problems]
        first = self.problems[0]
        super().__init__(name=name, count=count, row=first.row, reason=first.message())

    def render(self, gettext: Any = None) -> str:
        if gettext is not None and getattr(self, "problems", None):
            params = self.params | {"reason": self.problems[0].message(gettext)}
            try:
                return gettext(self.message).format(**params)
            except (KeyError, IndexError):
                return gettext(self.message)
        return super().render(gettext)

    def report(self, gettext: Any = None) -> list[dict[str, Any]]:
        """Every kept problem: ``{"row", "reason" (key), "message"}``."""
        return [
            {"row": p.row, "reason": p.reason, "message": p.message(gettext)} for p in self.problems
        ]


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


class ZipBomb(IngestError):
    key = "ingest.zip_bomb"
    message = (
        "The workbook {name} is refused as a possible zip bomb: its part {part} would expand "
        "from {packed} to {size} bytes ({ratio} to one)."
    )


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


class AmbiguousResource(IngestError):
    key = "ingest.ambiguous_resource"
    message = "Resource {resource} is held in several lake tables ({tables}); name the table."
