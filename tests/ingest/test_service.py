"""load_source / load_file: events, progress, modes, and failures that leave no version."""

from __future__ import annotations

from itertools import pairwise

import pyarrow as pa
import pytest
from sqlalchemy import select

from longshu.errors import Forbidden
from longshu.ingest import load_file, load_source
from longshu.ingest.errors import AmbiguousResource, InvalidOption
from longshu.ingest.service import target_table
from longshu.ingest.source import Source
from longshu.lake import tables
from longshu.lake.errors import DuplicateKeys, TableNotFound
from longshu.lake.models import LakeVersion

SCHEMA = pa.schema([("id", pa.int64()), ("区县", pa.string()), ("人口", pa.int64())])


def batches(count: int, rows: int = 10, fail_at: int | None = None):
    for b in range(count):
        if b == fail_at:
            raise InvalidOption(option="page", detail="the server broke off")
        start = b * rows
        yield pa.record_batch(
            [
                pa.array(range(start, start + rows), pa.int64()),
                pa.array(["城关区"] * rows),
                pa.array([1000 + i for i in range(rows)], pa.int64()),
            ],
            schema=SCHEMA,
        )


def streamed(count: int, fail_at: int | None = None) -> Source:
    """A connector's Source whose rows come batch by batch (like an API's pages)."""
    reader = pa.RecordBatchReader.from_batches(SCHEMA, batches(count, fail_at=fail_at))
    return Source(data=reader, rows=None, format="http", details={"pages": count})


def versions(session, table) -> list[LakeVersion]:
    return list(session.scalars(select(LakeVersion).where(LakeVersion.table_id == table.id)))


def test_a_streamed_source_becomes_a_version_with_progress_and_events(
    session, loader, target, emitted
):
    seen: list[tuple[int, int]] = []
    result = load_source(
        session,
        loader,
        target,
        lambda: streamed(5),
        label="人口@api",
        on_progress=lambda rows, size: seen.append((rows, size)),
    )
    session.commit()
    assert (result.version, result.rows, result.table_rows, result.format) == (1, 50, 50, "http")
    assert [r for r, _ in seen] == [10, 20, 30, 40, 50, 50]  # each batch, then the end
    assert all(b2 >= b1 > 0 for (_, b1), (_, b2) in pairwise(seen))
    started = emitted("ingest.load_started")[-1].payload
    finished = emitted("ingest.load_finished")[-1].payload
    assert started["label"] == finished["label"] == "人口@api"
    assert started["load_id"] == finished["load_id"] == result.load_id
    assert (finished["rows"], finished["version"], finished["status"]) == (50, 1, "ready")
    assert finished["details"] == {"pages": 5}
    version = tables.get_version(session, target, 1)
    assert version.source == "http:人口@api" and version.load_id == result.load_id
    assert emitted("lake.version_loaded")[-1].payload["load_id"] == result.load_id


def test_a_source_failing_mid_stream_leaves_no_version_and_a_recorded_failure(
    session, loader, target, emitted
):
    with pytest.raises(InvalidOption) as caught:
        load_source(session, loader, target, lambda: streamed(5, fail_at=3), label="api")
    assert caught.value.params["option"] == "page"  # the source's own error, not the writer's
    session.commit()
    assert versions(session, target) == []
    failed = emitted("ingest.load_failed")[-1].payload
    assert failed["error"] == "ingest.invalid_option" and failed["rows"] == 30
    assert emitted("lake.version_loaded") == []
    # the next load is unaffected by the broken one
    assert load_source(session, loader, target, lambda: streamed(2), label="api").version == 1


def test_a_failed_load_keeps_the_previous_version_readable(session, loader, target, tmp_path):
    good = tmp_path / "good.csv"
    good.write_text("id,区县\n1,城关区\n2,敦煌市\n", encoding="utf-8")
    load_file(session, loader, target, good)
    session.commit()
    bad = tmp_path / "bad.csv"
    bad.write_text("id,区县\n3,西固区\n4\n", encoding="utf-8")
    with pytest.raises(Exception, match="malformed"):
        load_file(session, loader, target, bad)
    session.commit()
    assert [v.number for v in versions(session, target)] == [1]
    data = tables.open_delta(tables.get_table(session, "people")).to_pyarrow_table()
    assert sorted(data.column("id").to_pylist()) == [1, 2]


def test_another_departments_table_is_refused_before_anything_is_recorded(
    session, outsider, target, tmp_path, emitted
):
    path = tmp_path / "a.csv"
    path.write_text("id\n1\n", encoding="utf-8")
    with pytest.raises(Forbidden):
        load_file(session, outsider, target, path)
    assert emitted("ingest.load_started") == []


def test_append_and_upsert_by_key(session, loader, target, tmp_path):
    first = tmp_path / "v1.csv"
    first.write_text("id,区县,人口\n1,城关区,100\n2,七里河区,200\n", encoding="utf-8")
    load_file(session, loader, target, first)
    more = tmp_path / "v2.csv"
    more.write_text("id,区县,人口\n3,西固区,300\n", encoding="utf-8")
    assert load_file(session, loader, target, more, mode="append").table_rows == 3
    change = tmp_path / "v3.csv"
    change.write_text("id,区县,人口\n2,七里河区,250\n4,安宁区,400\n", encoding="utf-8")
    result = load_file(session, loader, target, change, mode="upsert", key_columns=["id"])
    assert (result.version, result.rows, result.table_rows) == (3, 2, 4)
    data = tables.open_delta(tables.get_table(session, "people")).to_pyarrow_table()
    assert dict(
        zip(data.column("id").to_pylist(), data.column("人口").to_pylist(), strict=True)
    ) == {
        1: 100,
        2: 250,
        3: 300,
        4: 400,
    }


def test_an_upsert_with_repeated_keys_is_refused_by_the_lake(
    session, loader, target, tmp_path, emitted
):
    first = tmp_path / "v1.csv"
    first.write_text("id,人口\n1,100\n2,200\n", encoding="utf-8")
    load_file(session, loader, target, first)
    session.commit()
    twice = tmp_path / "twice.csv"
    twice.write_text("id,人口\n2,250\n2,260\n3,300\n", encoding="utf-8")
    with pytest.raises(DuplicateKeys) as caught:
        load_file(session, loader, target, twice, mode="upsert")
    assert caught.value.params["count"] == 1
    session.commit()
    assert [v.number for v in versions(session, target)] == [1]
    assert emitted("ingest.load_failed")[-1].payload["error"] == "lake.duplicate_keys"


def test_the_version_carries_a_column_profile(session, loader, target, tmp_path):
    path = tmp_path / "p.csv"
    lines = [f"{i},{['城关区', '敦煌市', ''][i % 3]},{i * 10}" for i in range(1, 301)]
    path.write_text("id,区县,人口\n" + "\n".join(lines) + "\n", encoding="utf-8")
    load_file(session, loader, target, path)
    schema = {c["name"]: c["profile"] for c in tables.get_version(session, target, 1).schema}
    assert schema["id"] == {"nulls": 0, "min": 1, "max": 300, "distinct": 300}
    assert schema["区县"]["nulls"] == 100 and schema["区县"]["distinct"] == 2
    assert (schema["区县"]["min"], schema["区县"]["max"]) == ("城关区", "敦煌市")
    assert (schema["人口"]["min"], schema["人口"]["max"]) == (10, 3000)


def test_a_resource_code_finds_its_only_table(session, admin, lake_env):
    one = tables.create_table(session, admin, "weather", resource_id=5, resource_code="GS-QX-1")
    tables.create_table(session, admin, "roads_a", resource_id=6, resource_code="GS-JT-2")
    tables.create_table(session, admin, "roads_b", resource_id=6, resource_code="GS-JT-2")
    assert target_table(session, "weather") is one
    assert target_table(session, "GS-QX-1") is one
    assert target_table(session, "5") is one
    with pytest.raises(AmbiguousResource) as caught:
        target_table(session, "GS-JT-2")
    assert caught.value.params["tables"] == "roads_a, roads_b"
    with pytest.raises(TableNotFound):
        target_table(session, "GS-NONE")
