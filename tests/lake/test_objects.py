"""Multimodal objects: stored once by SM3 digest (encrypted if asked), described by the rows
of a collection table, and handed out only through a grant that reaches their row."""

from __future__ import annotations

import io

import pytest

from longshu.lake import objects, tables
from longshu.lake.config import reset_lake_settings
from longshu.lake.errors import ColumnNotGranted, ObjectNotFound, ObjectTooLarge
from longshu.lake.models import LakeObject
from longshu.lake.policy import Grant, TableGrant, rows_where
from longshu.lake.storage import storage
from longshu.security.crypto import sm3_hex

PICTURE = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 40
REPORT = "莫高窟游客接待情况报告".encode() * 1000


@pytest.fixture
def corpus(lake_env, session, admin):
    """A collection of two objects (one encrypted) from two counties."""
    picture = objects.put_object(session, admin, PICTURE, media_type="image/png")
    report = objects.put_object(
        session, admin, io.BytesIO(REPORT), media_type="text/plain", encrypt=True
    )
    table = tables.create_table(session, admin, "scenic_corpus", kind="collection")
    rows = objects.collection_rows(
        [
            (picture, {"name": "mogao.png", "region_code": "620982", "width": 64}),
            (report, {"name": "report.txt", "region_code": "620502", "pages": 3}),
        ]
    )
    tables.write_version(session, admin, table, rows)
    session.commit()
    return picture, report


def test_objects_are_addressed_by_sm3_and_stored_once(lake_env, session, admin, emitted):
    first = objects.put_object(session, admin, PICTURE, media_type="image/png")
    again = objects.put_object(session, admin, io.BytesIO(PICTURE))
    assert first.digest == again.digest == sm3_hex(PICTURE) and first.size == len(PICTURE)
    assert session.query(LakeObject).count() == 1 and len(emitted("lake.object_stored")) == 1
    store = storage()
    with store.fs.open_input_stream(store.object_path(first.digest)) as f:
        assert f.read() == PICTURE


def test_encrypted_at_rest(lake_env, session, admin):
    stored = objects.put_object(session, admin, REPORT, encrypt=True)
    store = storage()
    with store.fs.open_input_stream(store.object_path(stored.digest)) as f:
        raw = f.read()
    assert raw[:4] == b"LSE1" and "莫高窟".encode() not in raw


def test_collection_rows_and_queries(corpus, session, consumer):
    grant = Grant(id="g", consumer="c", tables=(TableGrant(table="scenic_corpus"),))
    from longshu import lake

    rows = lake.access(
        session,
        consumer,
        grant,
        "SELECT name, media_type, width, pages FROM scenic_corpus ORDER BY name",
    ).to_pylist()
    assert rows == [
        {"name": "mogao.png", "media_type": "image/png", "width": 64, "pages": None},
        {"name": "report.txt", "media_type": "text/plain", "width": None, "pages": 3},
    ]


def test_read_through_a_grant(corpus, session, consumer, emitted):
    _, report = corpus
    grant = Grant(id="sharing:3", consumer="org:9", tables=(TableGrant(table="scenic_corpus"),))
    out = io.BytesIO()
    objects.read_object(session, consumer, grant, "scenic_corpus", report.digest, out)
    assert out.getvalue() == REPORT  # decrypted
    [event] = emitted("lake.object_read")
    assert event.payload["digest"] == report.digest and event.payload["grant_id"] == "sharing:3"


def test_a_row_filter_hides_objects(corpus, session, consumer):
    picture, report = corpus
    grant = Grant(
        id="g",
        consumer="c",
        tables=(
            TableGrant(table="scenic_corpus", row_filter=rows_where("region_code", ["620982"])),
        ),
    )
    objects.read_object(session, consumer, grant, "scenic_corpus", picture.digest, io.BytesIO())
    with pytest.raises(ObjectNotFound):
        objects.read_object(session, consumer, grant, "scenic_corpus", report.digest, io.BytesIO())


def test_unknown_or_malformed_digests(corpus, session, consumer):
    grant = Grant(id="g", consumer="c", tables=(TableGrant(table="scenic_corpus"),))
    for digest in ("0" * 64, "x' OR '1'='1", "../../etc/passwd"):
        with pytest.raises(ObjectNotFound):
            objects.read_object(session, consumer, grant, "scenic_corpus", digest, io.BytesIO())
    hidden = Grant(
        id="g", consumer="c", tables=(TableGrant(table="scenic_corpus", columns=("name",)),)
    )
    with pytest.raises(ColumnNotGranted):
        objects.read_object(
            session, consumer, hidden, "scenic_corpus", corpus[0].digest, io.BytesIO()
        )


def test_size_limit_leaves_nothing_behind(lake_env, session, admin, monkeypatch):
    monkeypatch.setenv("LONGSHU_LAKE_MAX_OBJECT_BYTES", "1000")
    reset_lake_settings()
    with pytest.raises(ObjectTooLarge):
        objects.put_object(session, admin, PICTURE)
    store = storage()
    assert (
        store.fs.get_file_info(
            store.tmp_dir() and __import__("pyarrow.fs").fs.FileSelector(store.tmp_dir())
        )
        == []
    )
    assert session.query(LakeObject).count() == 0
