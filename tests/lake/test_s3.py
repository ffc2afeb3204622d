"""The lake on S3-compatible storage: a real S3 server (moto's, over HTTP on a free local
port) stands in for the object store; tables, versions, the one door, checksums, objects and
retention are exercised through it exactly as on a local folder."""

from __future__ import annotations

import io
import json
import socket
import subprocess
import sys
import time
import uuid

import boto3
import botocore.exceptions
import pytest
from tests.lake.conftest import people

from longshu import lake
from longshu.lake import objects, retention, tables
from longshu.lake.config import reset_lake_settings
from longshu.lake.errors import ChecksumMismatch, VersionPurged
from longshu.lake.policy import Grant, TableGrant
from longshu.lake.storage import storage

BUCKET = "longshu-lake"
KEYS = {"AWS_ACCESS_KEY_ID": "longshu-test", "AWS_SECRET_ACCESS_KEY": "longshu-test-secret"}
REPORT = "莫高窟游客接待情况报告".encode() * 1000


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="module")
def s3_endpoint(tmp_path_factory):
    """moto's S3 server as a separate process (as the store is in production: deltalake
    holds the GIL through some calls, so an in-process server thread would stall), on a
    free port for this module, with one bucket."""
    port = _free_port()
    log = (tmp_path_factory.mktemp("moto") / "moto.log").open("wb")
    server = subprocess.Popen(
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    endpoint = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                _client(endpoint).create_bucket(Bucket=BUCKET)
                break
            except botocore.exceptions.EndpointConnectionError:
                if server.poll() is not None or time.monotonic() > deadline:
                    pytest.fail(f"moto_server did not start (exit {server.poll()})")
                time.sleep(0.1)
        yield endpoint
    finally:
        server.terminate()
        server.wait(10)
        log.close()


def _client(endpoint: str):
    return boto3.client(
        "s3",
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id=KEYS["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=KEYS["AWS_SECRET_ACCESS_KEY"],
    )


@pytest.fixture
def s3(lake_env, s3_endpoint, monkeypatch):
    """The lake at ``s3://longshu-lake/<a prefix of this test's own>``; returns a boto3
    client and the prefix, to look at the bucket from outside."""
    prefix = f"t{uuid.uuid4().hex[:12]}"
    options = KEYS | {
        "AWS_ENDPOINT_URL": s3_endpoint,
        "AWS_REGION": "us-east-1",
        "AWS_ALLOW_HTTP": "true",
    }
    monkeypatch.setenv("LONGSHU_LAKE_URI", f"s3://{BUCKET}/{prefix}")
    monkeypatch.setenv("LONGSHU_LAKE_STORAGE_OPTIONS", json.dumps(options))
    reset_lake_settings()
    yield _client(s3_endpoint), prefix
    reset_lake_settings()


def _keys(client, prefix: str) -> list[str]:
    pages = client.get_paginator("list_objects_v2").paginate(Bucket=BUCKET, Prefix=prefix)
    return [item["Key"] for page in pages for item in page.get("Contents", [])]


def _grant(table: str, **limits: object) -> Grant:
    return Grant(id="sharing:5", consumer="org:9", tables=(TableGrant(table=table, **limits),))


def test_versions_read_verify_and_time_travel(s3, settings, session, admin, consumer):
    client, prefix = s3
    assert not storage().local
    table = tables.create_table(
        session, admin, "population", resource_id=101, owner_org_id=7, key_columns=["id"]
    )
    first = tables.write_version(session, admin, table, people(6), source="test")
    second = tables.write_version(session, admin, table, people(3, offset=6), mode="append")
    session.commit()
    assert (first.number, first.rows, second.number, second.rows) == (1, 6, 2, 9)
    assert second.files == 2 and first.manifest[0] in second.manifest  # appended, kept

    keys = _keys(client, f"{prefix}/tables/population/")
    assert sum(k.endswith(".parquet") for k in keys) == 2
    assert sum("/_delta_log/" in k and k.endswith(".json") for k in keys) == 2
    assert not (settings.lake_root / "tables").exists()  # nothing landed in the local folder

    newest = lake.access(session, consumer, _grant("population"), "SELECT * FROM population")
    assert newest.rows == 9 and newest.versions == {"population": 2}
    assert sorted(newest.data.column("id").to_pylist()) == list(range(1, 10))
    old = lake.access(
        session,
        consumer,
        _grant("population"),
        "SELECT count(*) AS n, max(id) AS top FROM population",
        at={"population": 1},
    )
    assert old.to_pylist() == [{"n": 6, "top": 6}] and old.versions == {"population": 1}

    for number in (1, 2):
        assert tables.verify_version(session, admin, table, number).checksum
    # a file changed behind the lake's back (same size, other bytes) fails verification
    key = f"{prefix}/tables/population/{first.manifest[0]['path']}"
    body = client.get_object(Bucket=BUCKET, Key=key)["Body"].read()
    client.put_object(Bucket=BUCKET, Key=key, Body=body[:-9] + b"X" + body[-8:])
    with pytest.raises(ChecksumMismatch):
        tables.verify_version(session, admin, table, 1)


def test_encrypted_object_put_and_read_through_a_grant(s3, session, admin, consumer):
    client, prefix = s3
    stored = objects.put_object(
        session, admin, io.BytesIO(REPORT), media_type="text/plain", encrypt=True
    )
    again = objects.put_object(session, admin, REPORT)  # stored once
    assert again.digest == stored.digest and stored.encrypted and stored.size == len(REPORT)
    d = stored.digest
    keys = _keys(client, f"{prefix}/objects/")
    # one object and no leftovers (pyarrow keeps an empty marker for the emptied tmp/ folder)
    assert [k for k in keys if not k.endswith("/")] == [
        f"{prefix}/objects/sm3/{d[:2]}/{d[2:4]}/{d}"
    ]
    assert [k for k in keys if k.endswith("/")] in ([], [f"{prefix}/objects/tmp/"])
    raw = client.get_object(Bucket=BUCKET, Key=f"{prefix}/objects/sm3/{d[:2]}/{d[2:4]}/{d}")
    raw = raw["Body"].read()
    assert raw[:4] == b"LSE1" and "莫高窟".encode() not in raw  # SM4 at rest

    collection = tables.create_table(session, admin, "scenic_corpus", kind="collection")
    rows = objects.collection_rows([(stored, {"name": "report.txt", "pages": 3})])
    tables.write_version(session, admin, collection, rows)
    session.commit()
    out = io.BytesIO()
    objects.read_object(session, consumer, _grant("scenic_corpus"), "scenic_corpus", d, out)
    assert out.getvalue() == REPORT


def test_retention_removes_an_unheld_version(s3, session, admin, consumer):
    client, prefix = s3
    table = tables.create_table(session, admin, "population", owner_org_id=7)
    for i in range(3):
        tables.write_version(session, admin, table, people(3, offset=10 * i))
    session.commit()
    v1, v2, v3 = tables.list_versions(session, admin, table)
    retention.set_retention(session, admin, table, versions=1, days=None)
    retention.hold(session, consumer, table, 2, "grant", "sharing:5")
    report = retention.apply_retention(session, admin, table)
    assert report.purged == [1] and report.held == [2] and report.bytes_freed > 0

    def present(version) -> set[bool]:
        keys = set(_keys(client, f"{prefix}/tables/population/"))
        return {f"{prefix}/tables/population/{e['path']}" in keys for e in version.manifest}

    assert present(v1) == {True}  # the files wait for the purge to commit
    session.commit()
    assert present(v1) == {False} and present(v2) == present(v3) == {True}
    with pytest.raises(VersionPurged):
        tables.readable_version(session, table, 1)
    held = lake.access(
        session,
        consumer,
        _grant("population", versions=(2,)),
        "SELECT min(id) AS low FROM population",
    )
    assert held.to_pylist() == [{"low": 11}] and held.versions == {"population": 2}
    assert tables.verify_version(session, admin, table, 3).checksum


def test_an_unrecorded_load_is_undone_on_s3(s3, session, admin, consumer):
    """A load whose transaction rolled back left a Delta commit in the bucket: the next load
    restores the table to its last recorded version first."""
    table = tables.create_table(session, admin, "population", owner_org_id=7)
    tables.write_version(session, admin, table, people(4))
    session.commit()
    tables.write_version(session, admin, table, people(50, offset=100), mode="append")
    session.rollback()
    second = tables.write_version(session, admin, table, people(2, offset=4), mode="append")
    session.commit()
    assert (second.number, second.rows, second.delta_version) == (2, 6, 3)  # 1: lost, 2: restore
    result = lake.access(
        session, consumer, _grant("population"), "SELECT count(*) AS n FROM population"
    )
    assert result.to_pylist() == [{"n": 6}]
    assert tables.verify_version(session, admin, table, 2).checksum


def test_storage_options_by_their_other_names(s3, s3_endpoint, monkeypatch, session, admin):
    """deltalake takes ``aws_endpoint``, lower case …; the file operations must agree."""
    client, prefix = s3
    options = {k.lower(): v for k, v in KEYS.items()} | {
        "aws_endpoint": s3_endpoint,
        "aws_region": "us-east-1",
        "aws_allow_http": "true",
    }
    monkeypatch.setenv("LONGSHU_LAKE_STORAGE_OPTIONS", json.dumps(options))
    reset_lake_settings()
    table = tables.create_table(session, admin, "population", owner_org_id=7)
    assert tables.write_version(session, admin, table, people(3)).manifest[0]["sm3"]
    stored = objects.put_object(session, admin, b"\x00" * 10)
    assert f"{prefix}/objects/sm3/{stored.digest[:2]}/{stored.digest[2:4]}/{stored.digest}" in (
        _keys(client, prefix)
    )
