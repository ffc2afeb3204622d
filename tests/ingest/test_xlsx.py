"""Excel workbooks: the chosen sheet, merged cells, formulas, damaged files and zip bombs."""

from __future__ import annotations

import datetime as dt
import io
import zipfile
from pathlib import Path

import openpyxl
import pyarrow as pa
import pytest

from longshu.ingest import load_file, read_file
from longshu.ingest.errors import (
    FileTooLarge,
    FormulaWithoutValue,
    InvalidWorkbook,
    MergedCells,
    SheetNotFound,
    ZipBomb,
)
from longshu.lake import tables


def workbook(path: Path, sheets: dict[str, list[list]], merge: dict[str, str] | None = None):
    book = openpyxl.Workbook()
    book.remove(book.active)
    for title, rows in sheets.items():
        ws = book.create_sheet(title)
        for row in rows:
            ws.append(row)
        if merge and title in merge:
            ws.merge_cells(merge[title])
    book.save(path)
    return path


VISITORS = [
    ["景区", "日期", "游客人次", "门票收入"],
    ["莫高窟", dt.date(2026, 10, 1), 6000, 1280000.5],
    ["鸣沙山月牙泉", dt.date(2026, 10, 1), 25000, 2750000.0],
]


def test_the_chosen_sheet_is_loaded(session, loader, target, tmp_path):
    path = workbook(tmp_path / "v.xlsx", {"说明": [["本表说明"]], "客流": VISITORS})
    result = load_file(session, loader, target, path, options={"sheet": "客流"})
    assert (result.rows, result.format, result.details["sheet"]) == (2, "xlsx", "客流")
    data = tables.open_delta(tables.get_table(session, "people")).to_pyarrow_table()
    assert data.schema.names == ["景区", "日期", "游客人次", "门票收入"]
    assert sorted(data.column("游客人次").to_pylist()) == [6000, 25000]
    assert by_number(path, 2).details["sheet"] == "客流"


def by_number(path: Path, number: int):
    return read_file(path, options={"sheet": number})


def test_the_first_sheet_is_the_default(tmp_path):
    path = workbook(tmp_path / "v.xlsx", {"客流": VISITORS, "其他": [["a"], [1]]})
    source = read_file(path)
    assert source.details["sheet"] == "客流"
    assert source.data.num_rows == 2


def test_a_missing_sheet_names_the_sheets_there_are(tmp_path):
    path = workbook(tmp_path / "v.xlsx", {"客流": VISITORS, "说明": [["x"]]})
    with pytest.raises(SheetNotFound) as caught:
        read_file(path, options={"sheet": "气象"})
    assert caught.value.params["sheets"] == "客流, 说明"
    with pytest.raises(SheetNotFound):
        read_file(path, options={"sheet": 3})


def test_merged_cells_in_the_data_are_refused(tmp_path):
    path = workbook(tmp_path / "m.xlsx", {"客流": VISITORS}, merge={"客流": "A2:A3"})
    with pytest.raises(MergedCells) as caught:
        read_file(path)
    assert caught.value.params["ranges"] == "A2:A3"


def test_a_merged_title_above_the_header_row_is_allowed(tmp_path):
    rows = [["2026年国庆景区客流", None, None, None], *VISITORS]
    path = workbook(tmp_path / "t.xlsx", {"客流": rows}, merge={"客流": "A1:D1"})
    with pytest.raises(MergedCells):
        read_file(path)
    source = read_file(path, options={"header_row": 2})
    assert source.data.column_names[0] == "景区" and source.rows == 2


def test_a_formula_without_a_saved_value_is_refused(tmp_path):
    rows = [["a", "b", "sum"], [1, 2, "=A2+B2"]]
    path = workbook(tmp_path / "f.xlsx", {"算": rows})  # openpyxl saves no computed value
    with pytest.raises(FormulaWithoutValue) as caught:
        read_file(path)
    assert caught.value.params["cell"] == "C2"


def test_a_formula_with_a_saved_value_loads_the_value(tmp_path):
    path = workbook(tmp_path / "f.xlsx", {"算": [["a", "b", "sum"], [1, 2, "=A2+B2"]]})
    saved = _rewrite(
        path, "xl/worksheets/sheet1.xml", b"<f>A2+B2</f><v />", b"<f>A2+B2</f><v>3</v>"
    )
    source = read_file(saved)
    assert source.data.column("sum").to_pylist() == [3]


def _rewrite(path: Path, member: str, old: bytes, new: bytes) -> Path:
    out = path.with_name("saved.xlsx")
    with zipfile.ZipFile(path) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for item in src.infolist():
            data = src.read(item.filename)
            if item.filename == member:
                assert old in data
                data = data.replace(old, new)
            dst.writestr(item, data)
    return out


def test_a_truncated_workbook_is_refused(session, loader, target, tmp_path, emitted):
    path = workbook(tmp_path / "v.xlsx", {"客流": VISITORS})
    path.write_bytes(path.read_bytes()[:-300])
    with pytest.raises(InvalidWorkbook):
        load_file(session, loader, target, path)
    assert emitted("ingest.load_failed")[-1].payload["error"] == "ingest.invalid_workbook"


def test_bytes_that_are_no_workbook_are_refused(tmp_path):
    path = tmp_path / "fake.xlsx"
    path.write_bytes(b"PK\x03\x04" + b"\x00garbage" * 50)
    with pytest.raises(InvalidWorkbook):
        read_file(path)
    corrupt = tmp_path / "corrupt.xlsx"
    good = workbook(tmp_path / "v.xlsx", {"客流": VISITORS}).read_bytes()
    corrupt.write_bytes(good[:200] + bytes(200) + good[400:])  # a damaged local header
    with pytest.raises(InvalidWorkbook):
        read_file(corrupt)


def _bomb(path: Path, size: int) -> Path:
    """A real workbook whose sheet XML is padded with ``size`` spaces: a few KB on disk."""
    good = workbook(path.with_name("base.xlsx"), {"客流": VISITORS})
    with zipfile.ZipFile(good) as src, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as dst:
        for item in src.infolist():
            data = src.read(item.filename)
            if item.filename == "xl/worksheets/sheet1.xml":
                stream = io.BytesIO()
                stream.write(data.replace(b"<sheetData>", b"<sheetData>" + b" " * size, 1))
                data = stream.getvalue()
            dst.writestr(item.filename, data, compress_type=zipfile.ZIP_DEFLATED, compresslevel=9)
    return path


def test_a_zip_bomb_is_refused_before_it_is_expanded(tmp_path):
    path = _bomb(tmp_path / "bomb.xlsx", 64 * 1024 * 1024)
    assert path.stat().st_size < 1024 * 1024  # 64 MB of sheet in well under 1 MB
    with pytest.raises(ZipBomb) as caught:
        read_file(path)
    assert caught.value.params["part"] == "xl/worksheets/sheet1.xml"
    assert caught.value.params["ratio"] > 200


def test_a_directory_that_lies_about_sizes_cannot_make_the_reader_expand_more(tmp_path):
    """The zip's directory says the sheet is small; Python's zipfile stops at the declared
    size, so the read fails instead of expanding the real 64 MB."""
    path = _bomb(tmp_path / "liar.xlsx", 64 * 1024 * 1024)
    raw = bytearray(path.read_bytes())
    with zipfile.ZipFile(path) as archive:
        info = archive.getinfo("xl/worksheets/sheet1.xml")
    real = info.file_size.to_bytes(4, "little")
    small = (4096).to_bytes(4, "little")
    assert raw.count(real) >= 2  # local header and central directory
    path.write_bytes(bytes(raw).replace(real, small))
    with pytest.raises(InvalidWorkbook):
        read_file(path)


def test_the_unzipped_total_has_a_limit(tmp_path):
    path = workbook(tmp_path / "v.xlsx", {"客流": VISITORS})
    with pytest.raises(FileTooLarge) as caught:
        read_file(path, options={"max_unzipped_bytes": 2000})
    assert caught.value.params["format"] == "xlsx (unzipped)"


def test_cell_types_are_kept(tmp_path):
    rows = [
        ["代码", "数量", "比例", "日期", "时间", "是否"],
        ["0931", 1, 0.5, dt.date(2026, 1, 1), dt.datetime(2026, 1, 1, 8, 30), True],
        ["0932", 2, 1, dt.date(2026, 1, 2), dt.datetime(2026, 1, 2, 9, 0), False],
    ]
    data = read_file(workbook(tmp_path / "t.xlsx", {"s": rows})).data
    types = {f.name: str(f.type) for f in data.schema}
    assert types["代码"] == "string" and data.column("代码").to_pylist() == ["0931", "0932"]
    assert types["数量"] == "int64" and types["比例"] == "double"
    assert types["是否"] == "bool"
    assert data.column("日期")[0].as_py() in (dt.date(2026, 1, 1), dt.datetime(2026, 1, 1))


def test_code_columns_of_a_workbook_stay_text(tmp_path):
    """A spreadsheet stores 620102 as a number; the code column keeps it as the text 620102."""
    path = workbook(
        tmp_path / "regions.xlsx",
        {"区划": [["行政区划代码", "人口"], [620102, 12.0], [620103.0, 15]]},
    )
    table = read_file(path).data
    assert table.schema.field("行政区划代码").type == pa.string()
    assert table.column("行政区划代码").to_pylist() == ["620102", "620103"]
    assert table.schema.field("人口").type == pa.int64()  # a quantity stays a number
