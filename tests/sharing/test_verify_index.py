"""The verification index (核验索引): built from a real lake table version through
``lake.access``, answering match / no_match / not_found from keyed hashes only."""

from __future__ import annotations

import datetime as dt
import random

import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from longshu import ids
from longshu.lake import tables
from longshu.security.crypto.hashing import hmac_sm3
from longshu.sharing.verify_errors import (
    BatchMismatch,
    IndexNotFound,
    IndexTampered,
    IndexWithoutRegions,
    MalformedAttribute,
    MalformedBatch,
    MalformedKey,
    UnknownCheckKind,
)
from longshu.sharing.verify_index import CONSUMER, IndexKey, VerifyIndex, build_index
from longshu.sharing.verify_keys import (
    normalise_key,
    normalise_name,
    resident_id_problems,
)

REGIONS = ("620102", "620103", "620502")
SURNAMES = "王李张刘陈杨黄赵吴周"
GIVEN = ["伟", "芳", "娜", "秀英", "敏", "静", "丽", "强"]


def _people(n: int, seed: int = 5) -> tuple[list[str], list[str]]:
    rng = random.Random(seed)
    numbers: set[str] = set()
    while len(numbers) < n:
        numbers.add(ids.random_resident_id(rng, REGIONS))
    people = sorted(numbers)
    names = [rng.choice(SURNAMES) + rng.choice(GIVEN) + str(i) for i in range(n)]
    return people, names


@pytest.fixture
def residents(lake_env, session, admin):
    """Lake table ``residents``: 40 people, one ID twice (two names), one bad ID, one NULL."""
    numbers, names = _people(40)
    numbers += [numbers[0], numbers[1][:17] + ("0" if numbers[1][17] != "0" else "1"), None]
    names += ["第二个名字", "错号之人", "无号之人"]
    table = tables.create_table(session, admin, "residents", resource_id=101, owner_org_id=7)
    tables.write_version(
        session, admin, table, pa.table({"sfzh": numbers, "xm": names}), source="test"
    )
    session.commit()
    return numbers[:40], names[:40]


def _build(session, admin, **kw):
    return build_index(
        session,
        admin,
        "residents",
        version=kw.pop("version", None),
        kind="resident",
        key_column="sfzh",
        attribute_column="xm",
        **kw,
    )


def test_answers_match_no_match_and_not_found(residents, session, admin):
    numbers, names = residents
    index = _build(session, admin)
    assert index.check(numbers[3], names[3]) == "match"
    assert index.check(numbers[3], names[4]) == "no_match"
    stranger = ids.make_resident_id("620102", dt.date(1990, 5, 6), 123)
    assert stranger not in numbers
    assert index.check(stranger, names[3]) == "not_found"
    facts = index.facts
    assert facts["records"] == 41 and facts["distinct_keys"] == 40
    assert facts["duplicate_keys"] == 1 and facts["skipped_malformed"] == 1
    assert facts["rows_read"] == 42  # the NULL key is not read
    assert facts["bytes_per_record"] < 24 + 1200 / 41  # 16 B a record plus one header


def test_a_key_held_twice_matches_either_name(residents, session, admin):
    numbers, names = residents
    index = _build(session, admin)
    assert index.check(numbers[0], names[0]) == "match"
    assert index.check(numbers[0], "第二个名字") == "match"
    assert index.check(numbers[0], names[5]) == "no_match"


def test_input_is_normalised_like_the_table(residents, session, admin):
    numbers, names = residents
    index = _build(session, admin)
    with_x = next((n for n in numbers if n.endswith("X")), None)
    full_width = numbers[2].translate({ord(c): 0xFF10 + int(c) for c in "0123456789"})
    assert index.check(full_width, names[2]) == "match"
    assert index.check(
        f"  {numbers[2][:6]} {numbers[2][6:]} ", f" {names[2][0]}　{names[2][1:]}"
    ) == ("match")
    if with_x is not None:
        position = numbers.index(with_x)
        assert index.check(with_x.lower(), names[position]) == "match"
    assert normalise_key("resident", "11010519491231002x") == "11010519491231002X"
    assert normalise_name(" 阿卜杜拉•买买提 ") == "阿卜杜拉·买买提"
    assert normalise_name("甘肃（兰州）有限公司") == "甘肃(兰州)有限公司"


def test_malformed_keys_are_client_errors_not_not_found(residents, session, admin):
    numbers, names = residents
    index = _build(session, admin)
    typo = numbers[3][:17] + ("0" if numbers[3][17] != "0" else "1")
    with pytest.raises(MalformedKey) as caught:
        index.check(typo, names[3])
    assert caught.value.reason == "checksum" and caught.value.status == 422
    assert typo not in caught.value.render()
    with pytest.raises(MalformedKey):
        index.check("62010219900101", names[3])
    with pytest.raises(MalformedAttribute):
        index.check(numbers[3], "  ")
    with pytest.raises(MalformedBatch) as batch:
        index.check_many([numbers[3], typo, numbers[4]], [names[3], names[3], ""])
    assert batch.value.problems == [(1, "checksum"), (2, "name")]
    with pytest.raises(BatchMismatch):
        index.check_many([numbers[3]], [])


def test_the_index_file_holds_no_raw_value(residents, session, admin):
    numbers, names = residents
    index = _build(session, admin)
    raw = index.path.read_bytes()
    for value in numbers + names:
        assert value.encode() not in raw
        assert value.encode("utf-16-le") not in raw


@pytest.fixture
def placed(lake_env, session, admin):
    """Lake table ``placed``: 6 people in two districts, one without a code, one with a code
    that is not a number, and one ID held in both districts under two names."""
    numbers, names = _people(6, seed=8)
    regions = ["620102", "620102", "620103", None, "62O103", "620103"]
    table = tables.create_table(session, admin, "placed", resource_id=102, owner_org_id=7)
    rows = pa.table({"sfzh": [*numbers, numbers[0]], "xm": [*names, "搬家后的名字"],
                     "xzqh": [*regions, "620103"]})  # fmt: skip
    tables.write_version(session, admin, table, rows, source="test")
    session.commit()
    return numbers, names


def test_an_index_with_regions_answers_within_a_grants_codes(placed, session, admin):
    numbers, names = placed
    index = build_index(session, admin, "placed", version=None, kind="resident",
                        key_column="sfzh", attribute_column="xm", region_column="xzqh")  # fmt: skip
    assert index.region_column == "xzqh" and index.facts["records"] == 7
    assert index.path.stat().st_size >= 24 * 7  # keys, pairs and regions: 24 B a record
    assert index.check(numbers[2], names[2]) == "match"  # no regions asked: every row
    assert index.check(numbers[2], names[2], ["620102"]) == "not_found"
    assert index.check(numbers[1], names[1], ["620102", "620104"]) == "match"
    # a missing or non-numeric code is in no grant's regions (fail closed)
    assert index.check(numbers[3], names[3], ["620102", "620103"]) == "not_found"
    assert index.check(numbers[4], names[4], ["620103"]) == "not_found"
    # one ID in two districts: each grant sees its own district's record
    assert index.check(numbers[0], names[0], ["620102"]) == "match"
    assert index.check(numbers[0], "搬家后的名字", ["620102"]) == "no_match"
    assert index.check(numbers[0], "搬家后的名字", ["620103"]) == "match"
    assert index.check_many([numbers[0], numbers[2]], [names[0], names[2]], ["620103"]) == [
        "no_match", "match",
    ]  # fmt: skip
    plain = build_index(session, admin, "placed", version=None, kind="resident",
                        key_column="sfzh", attribute_column="xm")  # fmt: skip
    with pytest.raises(IndexWithoutRegions):
        plain.check(numbers[0], names[0], ["620102"])
    assert plain.check(numbers[0], names[0]) == "match"


def test_a_tampered_file_is_refused(residents, session, admin):
    index = _build(session, admin)
    raw = bytearray(index.path.read_bytes())
    raw[-3] ^= 0x01
    index.path.write_bytes(bytes(raw))
    with pytest.raises(IndexTampered) as caught:
        VerifyIndex.load(index.path)
    assert "SM3" in caught.value.render()


def test_a_changed_header_is_refused(residents, session, admin):
    index = _build(session, admin)
    raw = index.path.read_bytes()
    index.path.write_bytes(raw.replace(b'"duplicate_keys": 1', b'"duplicate_keys": 0'))
    with pytest.raises(IndexTampered):
        VerifyIndex.load(index.path)


def test_a_new_version_gives_a_new_index(residents, session, admin):
    numbers, names = residents
    first = _build(session, admin)
    renamed = ["新" + n for n in names]
    tables.write_version(
        session, admin, "residents", pa.table({"sfzh": numbers, "xm": renamed}), source="test"
    )
    session.commit()
    second = _build(session, admin)
    assert second.path != first.path and second.facts["version"] == 2
    assert second.facts["key_id"] != first.facts["key_id"]
    assert second.check(numbers[3], renamed[3]) == "match"
    assert second.check(numbers[3], names[3]) == "no_match"
    assert VerifyIndex.load(first.path).check(numbers[3], names[3]) == "match"
    pinned = _build(session, admin, version=1)
    assert pinned.check(numbers[3], names[3]) == "match"


def test_the_build_reads_through_the_lake_door(residents, session, admin, emitted):
    _build(session, admin, chunk_rows=10)
    reads = emitted("lake.accessed")
    assert len(reads) == 5  # 42 rows in parts of about 10
    assert {r.payload["consumer"] for r in reads} == {CONSUMER}
    assert sum(r.payload["rows"] for r in reads) == 42
    assert all(r.payload["tables"][0]["version"] == 1 for r in reads)


def test_parts_cover_every_row_once(residents, session, admin):
    whole = _build(session, admin)
    split = _build(session, admin, chunk_rows=7)
    assert split.facts["body_sm3"] == whole.facts["body_sm3"]


def test_unknown_kind_is_refused(residents, session, admin):
    with pytest.raises(UnknownCheckKind):
        build_index(
            session, admin, "residents", version=None, kind="passport", key_column="sfzh",
            attribute_column="xm",
        )  # fmt: skip


def test_index_key_is_hmac_sm3():
    key = bytes(range(32))
    mac = IndexKey(key)
    for message in (b"", b"abc", b"x" * 200):
        assert mac.mac(message) == hmac_sm3(key, message)


_near_ids = st.builds(
    lambda body, check, cut: (body + check)[:cut],
    st.sampled_from(
        [
            "62010219900101123",
            "62010220991301123",
            "99010219900101123",
            "62010220230229123",
            "62010220240229123",
            "62010217991231123",
            "62010219900431123",
            "83010219900101123",
        ]
    )
    | st.text("0123456789", min_size=17, max_size=17),
    st.sampled_from(list("0123456789XxA")),
    st.integers(15, 19),
)


@given(st.lists(_near_ids, max_size=30))
@settings(max_examples=200, deadline=None)
def test_batch_id_check_agrees_with_ids(keys):
    today = dt.date(2026, 11, 29)
    cleaned = [k.upper() for k in keys]
    expected = [
        (i, ids.check_resident_id(k, today).reason)
        for i, k in enumerate(cleaned)
        if not ids.check_resident_id(k, today)
    ]
    assert resident_id_problems(cleaned, today) == expected


def test_check_many_equals_check_one_by_one(residents, session, admin):
    numbers, names = residents
    index = _build(session, admin)
    strangers = [ids.make_resident_id("620103", dt.date(1985, 1, 2), s) for s in range(3)]
    pairs = st.tuples(st.sampled_from(numbers + strangers), st.sampled_from([*names, "某人"]))

    @given(st.lists(pairs, max_size=25))
    @settings(max_examples=60, deadline=None)
    def agree(picks):
        keys = [k for k, _ in picks]
        attrs = [a for _, a in picks]
        assert index.check_many(keys, attrs) == [index.check(k, a) for k, a in picks]

    agree()


def test_enterprise_and_licence_kinds(lake_env, session, admin):
    rng = random.Random(3)
    codes = [ids.random_credit_code(rng) for _ in range(5)]
    firms = ["兰州（新区）科技有限公司", "甘肃陇原商贸有限公司", "天水麦积农业合作社", "A", "B"]
    licences = ["YZ62010000000001", "jy62010200000002", "YS 620103 00000003", "X", "Y"]
    tables.create_table(session, admin, "firms", resource_id=102, owner_org_id=7)
    tables.write_version(
        session, admin, "firms",
        pa.table({"tyshxydm": codes, "dwmc": firms, "zzbh": licences}), source="test",
    )  # fmt: skip
    session.commit()
    enterprise = build_index(
        session, admin, "firms", version=None, kind="enterprise", key_column="tyshxydm",
        attribute_column="dwmc",
    )  # fmt: skip
    assert enterprise.check(codes[0].lower(), "兰州(新区)科技有限公司") == "match"
    assert enterprise.check(codes[0], firms[1]) == "no_match"
    with pytest.raises(MalformedKey) as caught:
        enterprise.check(codes[0][:17] + ("0" if codes[0][17] != "0" else "1"), firms[0])
    assert caught.value.reason == "checksum"
    licence = build_index(
        session, admin, "firms", version=None, kind="licence", key_column="zzbh",
        attribute_column="dwmc",
    )  # fmt: skip
    assert licence.check("JY62010200000002", firms[1]) == "match"
    assert licence.check("ys62010300000003", "天水 麦积农业合作社") == "match"
    assert licence.check("YZ62010000000009", firms[0]) == "not_found"
    with pytest.raises(MalformedKey):
        licence.check("Y" * 65, firms[0])


def test_a_missing_index_file_is_not_found(lake_env, tmp_path):
    with pytest.raises(IndexNotFound):
        VerifyIndex.load(tmp_path / "nothing.lsv")


def test_an_index_whose_key_left_the_keystore_is_refused(residents, session, admin):
    from longshu.security.crypto.keystore import KeyStore

    index = _build(session, admin)
    KeyStore().data_key_path(f"verify.{index.facts['index_id']}").unlink()
    with pytest.raises(IndexTampered) as caught:
        VerifyIndex.load(index.path)
    assert "keystore" in caught.value.render()
