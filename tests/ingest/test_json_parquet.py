"""JSON arrays, NDJSON (nested objects flattened), and Parquet files."""

from __future__ import annotations

import json

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from longshu.ingest import load_file, read_file
from longshu.ingest.errors import (
    EmptyFile,
    InvalidJson,
    InvalidParquet,
    MalformedRows,
    NotRecords,
    UnknownFormat,
)
from longshu.lake import tables

STATIONS = [
    {"站号": "52889", "名称": "兰州", "位置": {"经度": 103.88, "纬度": 36.05}, "气温": 12.5},
    {"站号": "52418", "名称": "敦煌", "位置": {"经度": 94.68, "纬度": 40.15}, "气温": 15},
]


def test_a_json_array_of_objects_is_loaded_with_nested_fields_flattened(
    session, loader, target, tmp_path
):
    path = tmp_path / "stations.json"
    path.write_text(json.dumps(STATIONS, ensure_ascii=False), encoding="utf-8")
    result = load_file(session, loader, target, path)
    assert (result.format, result.rows) == ("json", 2)
    data = tables.open_delta(tables.get_table(session, "people")).to_pyarrow_table()
    assert data.schema.names == ["站号", "名称", "位置_经度", "位置_纬度", "气温"]
    assert data.schema.field("站号").type == pa.string()  # a string in JSON stays text
    assert data.schema.field("气温").type == pa.float64()  # 12.5 and 15 → one float column
    assert sorted(data.column("位置_纬度").to_pylist()) == [36.05, 40.15]


def test_a_wrapped_array_is_found(tmp_path):
    path = tmp_path / "wrapped.json"
    path.write_text(json.dumps({"total": 2, "data": STATIONS}), encoding="utf-8")
    assert read_file(path).rows == 2


def test_ndjson_is_one_object_a_line(tmp_path):
    path = tmp_path / "readings.ndjson"
    lines = [json.dumps(s, ensure_ascii=False) for s in STATIONS]
    path.write_text("\n".join(lines) + "\n\n", encoding="utf-8")
    source = read_file(path)
    assert (source.format, source.rows) == ("ndjson", 2)
    also = tmp_path / "readings.json"  # named .json, but one object per line
    also.write_text("\n".join(lines) + "\n", encoding="utf-8")
    assert read_file(also).format == "ndjson"


def test_bad_ndjson_lines_are_reported_by_number(tmp_path):
    path = tmp_path / "bad.ndjson"
    path.write_text('{"a": 1}\n{"a": 2\n[1, 2]\n{"a": {"b": [1]}}\n', encoding="utf-8")
    with pytest.raises(MalformedRows) as caught:
        read_file(path)
    assert [(r["row"], r["reason"]) for r in caught.value.report()] == [(2, "bad_json")]
    path.write_text('{"a": 1}\n[1, 2]\n{"a": {"b": [1]}}\n', encoding="utf-8")
    with pytest.raises(MalformedRows) as caught:
        read_file(path)
    report = caught.value.report()
    assert [(r["row"], r["reason"]) for r in report] == [(2, "not_object"), (3, "nested_list")]
    assert "a_b" in report[1]["message"]


def test_invalid_json_names_line_and_column(tmp_path):
    path = tmp_path / "bad.json"
    path.write_text('[\n  {"a": 1},\n  {"a": }\n]', encoding="utf-8")
    with pytest.raises(InvalidJson) as caught:
        read_file(path)
    assert (caught.value.params["line"], caught.value.params["column"]) == (3, 9)


def test_json_that_is_no_list_of_records_is_refused(tmp_path):
    path = tmp_path / "scalar.json"
    path.write_text("[1, 2]", encoding="utf-8")
    with pytest.raises(MalformedRows):
        read_file(path)
    path.write_text('"hello"', encoding="utf-8")
    with pytest.raises(NotRecords):
        read_file(path)
    path.write_text("[]", encoding="utf-8")
    with pytest.raises(EmptyFile):
        read_file(path)


def test_a_parquet_file_streams_in(session, loader, target, tmp_path):
    table = pa.table({"id": list(range(1000)), "区县": ["城关区", "敦煌市"] * 500})
    path = tmp_path / "p.parquet"
    pq.write_table(table, path, row_group_size=100)
    seen: list[tuple[int, int]] = []
    result = load_file(
        session,
        loader,
        target,
        path,
        options={"batch_rows": 100},
        on_progress=lambda r, b: seen.append((r, b)),
    )
    assert (result.format, result.rows, result.table_rows) == ("parquet", 1000, 1000)
    assert len(seen) >= 10  # one report per row group (and the last)
    assert [r for r, _ in seen][:3] == [100, 200, 300]
    assert seen[-1] == (1000, path.stat().st_size)


def test_a_parquet_file_is_recognised_by_its_bytes(tmp_path):
    path = tmp_path / "misnamed.csv"
    pq.write_table(pa.table({"a": [1]}), path)
    assert read_file(path).format == "parquet"


def test_a_corrupt_parquet_file_is_refused(session, loader, target, tmp_path, emitted):
    path = tmp_path / "bad.parquet"
    pq.write_table(pa.table({"a": list(range(100))}), path)
    path.write_bytes(path.read_bytes()[:-40])  # the footer is gone
    with pytest.raises(InvalidParquet):
        load_file(session, loader, target, path)
    assert emitted("ingest.load_failed")[-1].payload["error"] == "ingest.invalid_parquet"
    junk = tmp_path / "junk.parquet"
    junk.write_bytes(b"PAR1" + b"\x00" * 100 + b"PAR1")
    with pytest.raises(InvalidParquet):
        read_file(junk)


def test_old_excel_and_binary_files_are_not_guessed(tmp_path):
    xls = tmp_path / "old.xls"
    xls.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(100))
    with pytest.raises(UnknownFormat):
        read_file(xls)
    blob = tmp_path / "blob"
    blob.write_bytes(b"\x00\x01\x02" * 10)
    with pytest.raises(UnknownFormat):
        read_file(blob)


def test_code_fields_of_json_records_stay_text(tmp_path):
    path = tmp_path / "stations.json"
    path.write_text('[{"station": {"xzqhdm": 620102, "hm": 931}, "t": 3}]', encoding="utf-8")
    schema = read_file(path).data.schema
    assert schema.field("station_xzqhdm").type == pa.string()
    assert schema.field("station_hm").type == pa.string()
    assert schema.field("t").type == pa.int64()
    chosen = read_file(path, options={"text_columns": ["t"]}).data.schema
    assert chosen.field("t").type == pa.string()
