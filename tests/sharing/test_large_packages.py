"""Batch packages larger than a query may be: a share grant's package holds every permitted
row of its table (250,000 here, past the 100,000 rows a query returns), read through the
streaming door batch by batch, masked and filtered, and opened again row for row."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pytest

from longshu import lake
from longshu.db import utcnow
from longshu.lake import tables
from longshu.lake.errors import RowLimitExceeded
from longshu.security.crypto import pseudonymizer, sm2
from longshu.sharing import grants, packages
from longshu.sharing import package_crypto as pcrypto
from longshu.sharing.models import ShareGrant
from longshu.sharing.packages import build_package, open_package

ROWS = 250_000
REGIONS = ["620102", "620103", "620502", "620702"]


def _residents(n: int) -> pa.Table:
    """``n`` synthetic residents, built column-wise (fast enough for a quarter million)."""
    ids = np.arange(1, n + 1, dtype=np.int64)
    digits = pc.cast(pa.array(ids % 10_000_000 + 10_000_000), pa.string())
    region = pa.array(np.array(REGIONS)[ids % len(REGIONS)])
    return pa.table(
        {
            "id": pa.array(ids),
            "sfzh": pc.binary_join_element_wise(region, digits, "X", ""),
            "xm": pc.binary_join_element_wise("居民", pc.cast(pa.array(ids), pa.string()), ""),
            "xzqh": region,
            "sr": pa.array(ids.astype(np.float64)),
        }
    )


@pytest.fixture(scope="module")
def source() -> pa.Table:
    return _residents(ROWS)


@pytest.fixture
def residents(lake_env, session, admin, source):
    table = tables.create_table(session, admin, "residents", resource_id=501, owner_org_id=7)
    tables.write_version(session, admin, table, source, source="test")
    session.commit()
    return source


def share_grant(**overrides: object) -> ShareGrant:
    """A share grant as approval makes it (not stored: ``lake_grant`` only reads it)."""
    now = utcnow()
    values: dict[str, object] = {
        "id": 77,
        "consumer_org_id": 9,
        "provider_org_id": 7,
        "resource_id": 501,
        "table_name": "residents",
        "fields": ["id", "sfzh", "xm", "xzqh"],
        "masks": {"sfzh": "keep_last", "xm": "pseudonym"},
        "region_column": "xzqh",
        "regions": ["620102", "620103", "620502"],
        "modes": ["query", "batch"],
        "purpose": "全省低保对象年度复核",
        "daily_quota": 100_000,
        "valid_from": now - dt.timedelta(days=1),
        "valid_until": now + dt.timedelta(days=30),
        "status": "active",
    }
    values.update(overrides)
    return ShareGrant(**values)


@pytest.fixture
def recipient():
    private = sm2.generate_private_key().to_bytes(32, "big")
    return private, pcrypto.public_key_of(private)


def _expected(source: pa.Table) -> pa.Table:
    keep = pc.is_in(source["xzqh"], pa.array(["620102", "620103", "620502"]))
    return source.filter(keep).select(["id", "sfzh", "xm", "xzqh"])


def test_a_package_past_the_query_cap_holds_every_permitted_row(
    residents, session, consumer, recipient, tmp_path, emitted
):
    policy = grants.lake_grant(share_grant())
    sql = "SELECT id, sfzh, xm, xzqh FROM residents"
    with pytest.raises(RowLimitExceeded):  # a query still stops at 100,000 rows
        lake.access(session, consumer, policy, sql)
    facts = build_package(
        session, consumer, policy, sql, consumer_public_key=recipient[1],
        out_dir=tmp_path / "out", fmt="parquet", package_id="pkg-big",
    )  # fmt: skip
    expected = _expected(residents)
    assert facts.rows == expected.num_rows == ROWS * 3 // 4 > 100_000
    assert facts.manifest["row_limit"] == grants.PACKAGE_MAX_ROWS
    got = open_package(facts.path, recipient[0]).sort_by("id")
    assert got.num_rows == facts.rows and got["id"].equals(expected["id"])
    assert got["xzqh"].equals(expected["xzqh"])
    # masks on every row: the ID number keeps its last 4 characters, names are pseudonyms
    sfzh = expected["sfzh"].to_pylist()
    assert got["sfzh"].to_pylist() == ["*" * (len(s) - 4) + s[-4:] for s in sfzh]
    pseudonym = pseudonymizer("lake.residents", "org:9")
    names = got["xm"].to_pylist()
    assert names[0] == pseudonym(expected["xm"][0].as_py())
    assert names[-1] == pseudonym(expected["xm"][-1].as_py())
    assert not any(name.startswith("居民") for name in names)
    [read] = [e for e in emitted("lake.accessed") if e.payload.get("streamed")]
    assert read.payload["rows"] == facts.rows and read.payload["complete"] is True
    [built] = emitted("sharing.package_built")
    assert built.payload["rows"] == facts.rows


def test_a_large_csv_package_round_trips(residents, session, consumer, recipient, tmp_path):
    policy = grants.lake_grant(share_grant(regions=["620702"], region_column="xzqh"))
    facts = build_package(
        session, consumer, policy, "SELECT id, xm FROM residents", consumer_public_key=recipient[1],
        out_dir=tmp_path / "out", fmt="csv", package_id="pkg-csv",
    )  # fmt: skip
    got = open_package(facts.path, recipient[0])
    assert got.num_rows == facts.rows == ROWS // 4
    assert sorted(int(v) for v in got["id"].to_pylist()) == list(range(3, ROWS + 1, 4))


def test_the_stream_cap_still_stops_a_package(
    residents, session, consumer, recipient, tmp_path, emitted, monkeypatch
):
    monkeypatch.setattr(grants, "PACKAGE_MAX_ROWS", 150_000)
    monkeypatch.setattr(packages, "BATCH_ROWS", 20_000)
    policy = grants.lake_grant(share_grant())
    with pytest.raises(RowLimitExceeded):
        build_package(
            session, consumer, policy, "SELECT id FROM residents",
            consumer_public_key=recipient[1], out_dir=tmp_path / "out", fmt="parquet",
            package_id="pkg-capped",
        )  # fmt: skip
    assert not (tmp_path / "out" / "pkg-capped").exists()  # nothing half-made stays
    [refused] = emitted("lake.access_refused")
    assert refused.payload["reason"] == "rows"
    assert 100_000 < refused.payload["rows_delivered"] <= 150_000
    assert emitted("sharing.package_built") == []


def test_an_ended_grant_gives_no_package(residents, session, consumer):
    from longshu.sharing.errors import GrantInactive

    with pytest.raises(GrantInactive):
        grants.lake_grant(share_grant(valid_until=utcnow() - dt.timedelta(seconds=1)))
