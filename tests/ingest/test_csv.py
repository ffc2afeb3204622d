"""CSV and TSV files: encodings, sniffing, typed columns, and bad files refused whole."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pyarrow as pa
import pytest
from sqlalchemy import select

from longshu.ingest import load_file, read_file
from longshu.ingest.errors import (
    EmptyFile,
    FileTooLarge,
    InvalidOption,
    MalformedRows,
    SourceNotFound,
    UnknownEncoding,
)
from longshu.lake import tables
from longshu.lake.models import LakeVersion

PEOPLE = (
    "id,身份证号,姓名,区县,收入,出生日期,登记时间\n"
    "1,620102198001010011,张三,城关区,1234.50,1980-01-01,2024-03-01 08:30:00\n"
    "2,01010219900202002X,李四,七里河区,-20.05,1990-02-02,2024-03-02 09:00:00\n"
    "3,62010219991231003X,王五,敦煌市,0.10,1999-12-31,2024-03-03 10:15:30\n"
)


def lake_rows(session, table) -> pa.Table:
    """What the table's newest version holds (read straight from Delta, for the test)."""
    return tables.open_delta(tables.get_table(session, table.name)).to_pyarrow_table()


def versions(session, table) -> list[LakeVersion]:
    return list(session.scalars(select(LakeVersion).where(LakeVersion.table_id == table.id)))


def test_typed_columns_keep_codes_as_text(session, loader, target, tmp_path):
    path = tmp_path / "people.csv"
    path.write_text(PEOPLE, encoding="utf-8")
    result = load_file(session, loader, target, path)
    session.commit()
    assert (result.version, result.rows, result.format) == (1, 3, "csv")
    data = lake_rows(session, target).sort_by("id")
    types = {f.name: f.type for f in data.schema}
    assert types["id"] == pa.int64()
    assert types["身份证号"] == pa.string()  # leading zero and X: never a number
    assert pa.types.is_decimal(types["收入"]) and types["收入"].scale == 2
    assert types["出生日期"] == pa.date32()
    assert pa.types.is_timestamp(types["登记时间"])
    rows = data.to_pylist()
    assert rows[1]["身份证号"] == "01010219900202002X"
    assert rows[1]["收入"] == Decimal("-20.05")  # exact, not a float
    assert rows[2]["收入"] == Decimal("0.10")
    assert rows[0]["出生日期"] == dt.date(1980, 1, 1)
    assert rows[2]["登记时间"].replace(tzinfo=None) == dt.datetime(2024, 3, 3, 10, 15, 30)


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        (["1", "2", "-3"], pa.int64()),
        (["0931", "0932"], pa.string()),  # area codes keep their zero
        (["1234567890123456"], pa.string()),  # 16 digits: an identifier
        (["1", "2.5"], pa.decimal128(18, 1)),
        (["2024/3/1", "2024/12/31"], pa.date32()),
        (["2024-03-01", "2024-03-01 08:00"], pa.timestamp("s")),
        (["2024-02-30"], pa.string()),  # no such day
        (["1", "x"], pa.string()),
        (["1e3"], pa.string()),
    ],
)
def test_a_column_takes_the_narrowest_type_holding_every_value(tmp_path, values, expected):
    path = tmp_path / "v.csv"
    path.write_text("名称,值\n" + "".join(f"r{i},{v}\n" for i, v in enumerate(values)), "utf-8")
    source = read_file(path)
    assert source.data.schema.field("值").type == expected
    assert source.data.read_all().num_rows == len(values)


def test_types_are_settled_over_every_batch(tmp_path):
    """Integers for a whole block, then one decimal far down: the column is decimal, and
    the early integers convert without loss."""
    pad = "x" * 60
    lines = [f"{i},{i},{pad}" for i in range(200_000)] + [f"200000,1.25,{pad}"]
    path = tmp_path / "long.csv"
    path.write_text("id,amount,pad\n" + "\n".join(lines) + "\n", encoding="utf-8")
    batches = list(read_file(path).data)
    assert len(batches) > 1  # the decimal is in a later block than the first integers
    data = pa.Table.from_batches(batches)
    assert pa.types.is_decimal(data.schema.field("amount").type)
    assert data.column("amount")[7].as_py() == Decimal("7.00")
    assert data.column("amount")[-1].as_py() == Decimal("1.25")


@pytest.mark.parametrize(
    ("encoding", "bom", "expected"),
    [
        ("utf-8", b"", "utf-8"),
        ("utf-8", b"\xef\xbb\xbf", "utf-8-sig"),
        ("gbk", b"", "gbk"),
    ],
)
def test_encodings_are_detected(session, loader, target, tmp_path, encoding, bom, expected):
    path = tmp_path / "people.csv"
    path.write_bytes(bom + PEOPLE.encode(encoding))
    result = load_file(session, loader, target, path)
    assert result.details["encoding"] == expected
    data = lake_rows(session, target)
    assert data.column_names[0] == "id"  # no BOM in the first name
    assert sorted(data.column("姓名").to_pylist()) == ["张三", "李四", "王五"]


def test_gb18030_characters_gbk_lacks(session, loader, target, tmp_path):
    """𠀀 (U+20000) and 䶮 exist only in GB18030 (four-byte codes): GBK refuses the file."""
    text = "id,姓名,住址\n1,刘䶮,兰州市𠀀巷1号\n2,张三,敦煌市\n"
    path = tmp_path / "gb18030.csv"
    path.write_bytes(text.encode("gb18030"))
    with pytest.raises(UnicodeDecodeError):
        path.read_bytes().decode("gbk")
    result = load_file(session, loader, target, path)
    assert result.details["encoding"] == "gb18030"
    rows = lake_rows(session, target).sort_by("id").to_pylist()
    assert rows[0]["姓名"] == "刘䶮" and rows[0]["住址"] == "兰州市𠀀巷1号"


def test_bytes_no_encoding_decodes_are_refused_with_their_line(
    session, loader, target, tmp_path, emitted
):
    path = tmp_path / "broken.csv"
    path.write_bytes("id,名称\n1,兰州\n".encode() + b"2,\xff\xfe\xff\n3,x\n")
    with pytest.raises(UnknownEncoding) as caught:
        load_file(session, loader, target, path)
    assert caught.value.params["line"] == 3
    failed = emitted("ingest.load_failed")
    assert failed[-1].payload["error"] == "ingest.unknown_encoding"


def test_a_file_utf8_at_the_start_and_gbk_later_is_read_as_gbk(tmp_path):
    head = "".join(f"{i},abc\n" for i in range(20_000))  # >64 KB of ASCII: the sample says UTF-8
    path = tmp_path / "mixed.csv"
    path.write_bytes(("id,name\n" + head).encode() + "20000,兰州\n".encode("gbk"))
    source = read_file(path)
    assert source.details["encoding"] == "gbk"
    assert source.data.read_all().column("name")[-1].as_py() == "兰州"


@pytest.mark.parametrize("delimiter", [",", "\t", ";", "|"])
def test_the_delimiter_is_sniffed(tmp_path, delimiter):
    path = tmp_path / "d.txt"
    rows = [["区县", "人口", "备注"], ["城关区", "1000", "a,b" if delimiter != "," else "ab"]]
    rows += [["七里河区", "2000", "c"], ["西固区", "3000", "d"]]
    path.write_text("\n".join(delimiter.join(r) for r in rows) + "\n", encoding="utf-8")
    source = read_file(path)
    assert source.details["delimiter"] == delimiter
    assert source.data.schema.names == ["区县", "人口", "备注"]
    assert source.format == ("tsv" if delimiter == "\t" else "csv")


def test_a_file_without_header_gets_column_numbers(tmp_path):
    path = tmp_path / "bare.csv"
    path.write_text("1,城关区,2024-01-01\n2,七里河区,2024-01-02\n", encoding="utf-8")
    source = read_file(path)
    assert source.details["header"] is False
    assert source.data.schema.names == ["col_1", "col_2", "col_3"]
    assert source.rows == 2


def test_the_header_can_be_forced(tmp_path):
    path = tmp_path / "bare.csv"
    path.write_text("a,b\nc,d\n", encoding="utf-8")
    assert read_file(path, options={"header": False}).rows == 2
    assert read_file(path, options={"header": True}).data.schema.names == ["a", "b"]


def test_a_quoted_field_may_hold_newlines_and_delimiters(tmp_path):
    path = tmp_path / "q.csv"
    path.write_text('id,地址\n1,"兰州市\n城关区, 1号"\n2,敦煌\n', encoding="utf-8")
    data = read_file(path).data.read_all()
    assert data.column("地址").to_pylist() == ["兰州市\n城关区, 1号", "敦煌"]


def test_ragged_rows_are_reported_by_line_and_nothing_is_loaded(
    session, loader, target, tmp_path, emitted
):
    path = tmp_path / "ragged.csv"
    path.write_text("id,name,n\n1,a,1\n2,b\n3,c,3\n4,d,4,extra\n5,e,5\n", encoding="utf-8")
    with pytest.raises(MalformedRows) as caught:
        load_file(session, loader, target, path)
    session.commit()
    error = caught.value
    assert error.params["count"] == 2
    report = error.report()
    assert [(r["row"], r["reason"]) for r in report] == [(3, "ragged"), (5, "ragged")]
    assert report[0]["message"] == "has 2 fields where the header has 3"
    assert "row 3" in str(error)
    assert versions(session, target) == []
    failed = emitted("ingest.load_failed")[-1].payload
    assert failed["error"] == "ingest.malformed_rows" and failed["bad_rows"] == 2
    assert failed["first_rows"] == [{"row": 3, "reason": "ragged"}, {"row": 5, "reason": "ragged"}]


def test_a_field_over_the_limit_is_refused_with_its_row(session, loader, target, tmp_path):
    path = tmp_path / "long.csv"
    path.write_text("id,note\n1,short\n2," + "长" * 50 + "\n3,ok\n", encoding="utf-8")
    with pytest.raises(MalformedRows) as caught:
        load_file(session, loader, target, path, options={"max_field": 40})
    problem = caught.value.report()[0]
    assert (problem["row"], problem["reason"]) == (3, "field_too_long")
    assert "note" in problem["message"] and "40" in problem["message"]
    assert versions(session, target) == []


def test_a_100_mb_field_is_refused_without_loading_it(session, loader, target, tmp_path):
    path = tmp_path / "huge.csv"
    with path.open("wb") as f:
        f.write(b"id,blob\n1,x\n2,")
        chunk = b"a" * (1024 * 1024)
        for _ in range(100):
            f.write(chunk)
        f.write(b"\n3,y\n")
    with pytest.raises(MalformedRows) as caught:
        load_file(session, loader, target, path)
    problem = caught.value.report()[0]
    assert (problem["row"], problem["reason"]) == (3, "row_too_long")
    assert versions(session, target) == []


def test_a_file_over_max_bytes_is_refused_before_reading(tmp_path):
    path = tmp_path / "big.csv"
    path.write_text("id\n" + "1\n" * 1000, encoding="utf-8")
    with pytest.raises(FileTooLarge) as caught:
        read_file(path, options={"max_bytes": 1000})
    assert caught.value.params["limit"] == 1000 and caught.value.params["size"] == 2003


def test_a_missing_file_is_a_recorded_failure(session, loader, target, tmp_path, emitted):
    with pytest.raises(SourceNotFound) as caught:
        load_file(session, loader, target, tmp_path / "nowhere.csv")
    assert caught.value.status == 404
    session.commit()
    assert emitted("ingest.load_failed")[-1].payload["error"] == "ingest.source_not_found"
    assert versions(session, target) == []


@pytest.mark.parametrize("content", [b"", b"\n\n", b"id,name\n"])
def test_an_empty_file_is_refused(tmp_path, content):
    path = tmp_path / "empty.csv"
    path.write_bytes(content)
    with pytest.raises(EmptyFile):
        read_file(path)


@pytest.mark.parametrize(
    "options", [{"encoding": "klingon"}, {"delimiter": "::"}, {"max_field": 0}, {"max_bytes": -1}]
)
def test_bad_options_are_refused(tmp_path, options):
    path = tmp_path / "a.csv"
    path.write_text("a,b\n1,2\n", encoding="utf-8")
    with pytest.raises(InvalidOption):
        read_file(path, options=options)


def test_a_given_encoding_that_does_not_fit_names_the_line(tmp_path):
    path = tmp_path / "gbk.csv"
    path.write_bytes("id,name\n1,a\n2,兰州\n".encode("gbk"))
    with pytest.raises(UnknownEncoding) as caught:
        read_file(path, options={"encoding": "utf-8"})
    assert caught.value.params["line"] == 3
    assert read_file(path, options={"encoding": "gb18030"}).rows == 2


def test_progress_counts_rows_and_file_bytes(session, loader, target, tmp_path):
    path = tmp_path / "many.csv"
    path.write_text("id,note\n" + "".join(f"{i},{'x' * 80}\n" for i in range(120_000)), "utf-8")
    seen: list[tuple[int, int]] = []
    result = load_file(session, loader, target, path, on_progress=lambda r, b: seen.append((r, b)))
    assert len(seen) > 2  # a report per batch, not just one at the end
    assert seen == sorted(seen)
    assert seen[-1] == (120_000, path.stat().st_size) == (result.rows, result.bytes)


def test_a_windows_excel_export_gbk_with_crlf(tmp_path):
    """What 另存为 CSV in Chinese Excel writes: GBK, CRLF line ends, quoted numbers."""
    text = '统一社会信用代码,名称,注册资本\r\n91620100MA72XXXX1X,兰州牛肉面有限公司,"1000.00"\r\n'
    text += "91620100MA72YYYY2Y,敦煌文旅有限公司,250.5\r\n"
    path = tmp_path / "企业.csv"
    path.write_bytes(text.encode("gbk"))
    source = read_file(path)
    data = source.data.read_all()
    assert source.details["encoding"] == "gbk"
    assert data.column("名称").to_pylist() == ["兰州牛肉面有限公司", "敦煌文旅有限公司"]
    assert data.column("注册资本").to_pylist() == [Decimal("1000.00"), Decimal("250.50")]


def test_code_columns_stay_text_by_name_or_option(tmp_path):
    """行政区划代码 620102 is a code: compared, never added up; its column stays text."""
    path = tmp_path / "regions.csv"
    path.write_text(
        "xzqhdm,区划代码,county_code,zip,rk,level\n620102,620102,620102,730000,12,3\n"
        "620103,620103,620103,730050,15,3\n",
        encoding="utf-8",
    )
    types = {f.name: f.type for f in read_file(path).data.schema}
    assert types["xzqhdm"] == pa.string()
    assert types["区划代码"] == pa.string()
    assert types["county_code"] == pa.string()
    assert types["zip"] == pa.string()
    assert types["rk"] == pa.int64()
    assert types["level"] == pa.int64()
    chosen = read_file(path, options={"text_columns": ["level"]}).data.schema
    assert chosen.field("level").type == pa.string()
    with pytest.raises(InvalidOption):
        read_file(path, options={"text_columns": 7})
