"""Tables and versions: loads become Delta versions with schema, rows, bytes and an SM3
checksum the catalog is told about; time travel; drift; upserts; failed loads."""

from __future__ import annotations

import pyarrow as pa
import pytest
from tests.lake.conftest import people

from longshu.errors import Forbidden
from longshu.lake import checksum, tables
from longshu.lake.errors import (
    ChecksumMismatch,
    DuplicateKeys,
    DuplicateTable,
    InvalidColumnName,
    InvalidLoad,
    InvalidTableName,
    NoVersion,
    UpsertKeyMissing,
    VersionBlocked,
)
from longshu.lake.storage import storage


def test_first_load_is_version_one_with_facts_for_the_catalog(lake_env, session, admin, emitted):
    table = tables.create_table(session, admin, "population", resource_id=101, owner_org_id=7)
    version = tables.write_version(
        session, admin, table, people(), load_id="load-1", source="csv:a.csv"
    )
    assert (version.number, version.delta_version, version.rows, version.status) == (
        1,
        0,
        6,
        "ready",
    )
    assert version.bytes > 0 and version.files == 1
    assert len(version.checksum) == 64 and version.checksum_algorithm == "sm3"
    assert [c["name"] for c in version.schema] == [
        "id",
        "id_number",
        "name",
        "birth_date",
        "region_code",
        "income",
    ]
    [event] = emitted("lake.version_loaded")
    assert event.payload["resource_id"] == 101
    assert event.payload["version"] == 1 and event.payload["rows"] == 6
    assert event.payload["checksum"] == version.checksum and event.payload["load_id"] == "load-1"
    assert event.payload["source"] == "csv:a.csv" and event.payload["bytes"] == version.bytes
    assert emitted("lake.table_created")[0].payload["table"] == "population"


def test_catalog_subscriber_contract_is_met(population, session):
    """The catalog's subscriber reads resource_id, version and rows (a positive version)."""
    version = tables.readable_version(session, population)
    assert version.number >= 1


def test_append_and_time_travel(population, session, admin):
    second = tables.write_version(session, admin, population, people(3, offset=6), mode="append")
    assert (second.number, second.rows, second.rows_written) == (2, 9, 3)
    first = tables.get_version(session, population, 1)
    assert tables.open_delta(population, first).to_pyarrow_table().num_rows == 6
    assert tables.open_delta(population, second).to_pyarrow_table().num_rows == 9
    # files kept from version 1 are not hashed again: same digest in both manifests
    shared = {e["path"]: e["sm3"] for e in first.manifest}
    assert all(shared[e["path"]] == e["sm3"] for e in second.manifest if e["path"] in shared)


def test_snapshot_replaces_content(population, session, admin):
    version = tables.write_version(session, admin, population, people(2, offset=100))
    assert version.rows == 2 and version.mode == "snapshot"


def test_upsert_updates_matching_keys_and_inserts_the_rest(population, session, admin):
    change = people(3, offset=4)  # ids 5, 6 exist; 7 is new
    change = change.set_column(2, "name", pa.array(["改名5", "改名6", "新人7"]))
    version = tables.write_version(session, admin, population, change, mode="upsert")
    data = tables.open_delta(population, version).to_pyarrow_table().sort_by("id")
    assert version.rows == 7
    assert data.column("name").to_pylist()[4:] == ["改名5", "改名6", "新人7"]


def test_upsert_with_duplicate_keys_is_refused_and_leaves_no_version(population, session, admin):
    dup = pa.concat_tables([people(2), people(1)])
    with pytest.raises(DuplicateKeys) as caught:
        tables.write_version(session, admin, population, dup, mode="upsert")
    assert caught.value.params["count"] == 1
    assert tables.version_count(session, population) == 1


def test_upsert_needs_its_key(population, session, admin):
    with pytest.raises(UpsertKeyMissing):
        tables.write_version(
            session,
            admin,
            population,
            people().drop_columns(["id"]),
            mode="upsert",
            key_columns=["id"],
        )


def test_breaking_drift_blocks_the_version_until_accepted(
    population, session, admin, loader, emitted
):
    changed = (
        people().drop_columns(["income"]).set_column(0, "id", pa.array([str(i) for i in range(6)]))
    )
    version = tables.write_version(session, admin, population, changed)
    assert version.status == "blocked"
    assert version.drift["removed"] == ["income"] and "id" in version.drift["retyped"]
    assert emitted("lake.version_blocked") and len(emitted("lake.version_loaded")) == 1
    with pytest.raises(VersionBlocked):
        tables.readable_version(session, population, 2)
    assert tables.readable_version(session, population).number == 1  # readers keep version 1
    tables.accept_version(session, loader, population, 2)
    assert tables.readable_version(session, population).number == 2
    assert len(emitted("lake.version_loaded")) == 2 and emitted("lake.drift_accepted")


def test_added_columns_do_not_block(population, session, admin):
    wider = people().append_column("household", pa.array(["户1"] * 6))
    version = tables.write_version(session, admin, population, wider)
    assert version.status == "ready" and version.drift["added"] == ["household"]


def test_append_with_other_types_is_refused(population, session, admin):
    bad = people(1).set_column(5, "income", pa.array(["many"]))
    with pytest.raises(InvalidLoad):
        tables.write_version(session, admin, population, bad, mode="append")
    assert tables.version_count(session, population) == 1


def test_append_widens_narrow_numbers_and_fills_missing_columns(population, session, admin):
    narrow = (
        people(2, offset=6)
        .set_column(0, "id", pa.array([7, 8], pa.int32()))
        .drop_columns(["income"])
    )
    version = tables.write_version(session, admin, population, narrow, mode="append")
    assert version.status == "ready" and version.drift["missing"] == ["income"]
    assert [c["type"] for c in version.schema if c["name"] == "id"] == ["int64"]


def test_unrecorded_delta_commit_is_undone_before_the_next_load(
    population, session, admin, lake_env
):
    """A load whose transaction never committed leaves a Delta commit and no version;
    the next load starts from the last recorded version, not from the orphan."""
    tables.write_version(session, admin, population, people(50, offset=10), mode="append")
    session.rollback()  # the transaction is lost: Delta has a commit no version records
    assert tables.open_delta(population).to_pyarrow_table().num_rows == 56
    version = tables.write_version(session, admin, population, people(1, offset=6), mode="append")
    assert (version.number, version.rows) == (2, 7)


def test_names_are_checked(lake_env, session, admin):
    for bad in ("Population", "1x", "a-b", "../etc", "x" * 64, "表"):
        with pytest.raises(InvalidTableName):
            tables.create_table(session, admin, bad)
    table = tables.create_table(session, admin, "good_name")
    with pytest.raises(DuplicateTable):
        tables.create_table(session, admin, "good_name")
    for columns in (["a b"], ["1a"], ["x", "X"], ["a;drop"]):
        with pytest.raises(InvalidColumnName):
            tables.write_version(
                session,
                admin,
                table,
                pa.table({c: [1] for c in columns})
                if len(set(columns)) == len(columns)
                else pa.Table.from_arrays([pa.array([1])] * 2, names=columns),
            )
    version = tables.write_version(
        session, admin, table, pa.table({"姓名": ["张三"], "年龄": [30]})
    )
    assert [c["name"] for c in version.schema] == ["姓名", "年龄"]


def test_a_department_loads_only_its_own_tables(lake_env, session, admin, loader, consumer):
    own = tables.create_table(session, loader, "own_table")
    assert own.owner_org_id == 7
    other = tables.create_table(session, admin, "other_table", owner_org_id=8)
    tables.write_version(session, loader, own, people(1))
    with pytest.raises(Forbidden):
        tables.write_version(session, loader, other, people(1))
    with pytest.raises(Forbidden):
        tables.create_table(session, consumer, "mine")


def test_no_version_yet(lake_env, session, admin):
    table = tables.create_table(session, admin, "empty_table")
    with pytest.raises(NoVersion):
        tables.readable_version(session, table)


def test_verify_detects_a_changed_file(population, session, admin, emitted):
    version = tables.verify_version(session, admin, population, 1)
    store = storage()
    path = store.fs_path(f"{store.table_uri('population')}/{version.manifest[0]['path']}")
    with open(path, "r+b") as handle:
        handle.seek(10)
        handle.write(b"\x00\x01")
    with pytest.raises(ChecksumMismatch):
        tables.verify_version(session, admin, population, 1)
    assert [e.payload["ok"] for e in emitted("lake.version_verified")] == [True, False]


def test_checksum_is_sm3_over_the_manifest(population, session):
    from longshu.security.crypto import sm3_hex

    version = tables.get_version(session, population, 1)
    text = "".join(f"{e['path']}\t{e['size']}\t{e['sm3']}\n" for e in version.manifest)
    assert sm3_hex(text.encode()) == version.checksum
    altered = [dict(e, sm3="0" * 64) for e in version.manifest]
    assert checksum.manifest_checksum(altered) != version.checksum


def test_streamed_load(lake_env, session, admin):
    table = tables.create_table(session, admin, "streamed")
    source = people(1000)
    reader = pa.RecordBatchReader.from_batches(source.schema, source.to_batches(max_chunksize=100))
    version = tables.write_version(session, admin, table, reader)
    assert (version.rows, version.rows_written) == (1000, 1000)
