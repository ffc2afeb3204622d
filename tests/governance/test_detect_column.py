"""Detection on a column: findings, confidence and name cues, overlap resolution, types and
bad input (all nulls, one row, huge cells, mixed types), and the full-scan mode."""

from __future__ import annotations

import datetime as dt
import itertools
import json
import random

import numpy as np
import pyarrow as pa
from hypothesis import given, settings
from hypothesis import strategies as st

from longshu import ids
from longshu.governance.detect import ColumnScan, Finding, detect_column
from longshu.governance.detect.corpus import generate, luhn_check_digit


def kinds(findings: list[Finding]) -> set[str]:
    return {f.type for f in findings}


def some_ids(n: int, seed: int = 1) -> list[str]:
    rng = random.Random(seed)
    return [ids.random_resident_id(rng, ("620102", "620421", "110101")) for _ in range(n)]


def test_an_id_column_gives_one_checksum_finding_with_masked_examples():
    values = some_ids(40) + [None] * 10 + ["不详", "无"]
    (finding,) = detect_column("身份证号", pa.array(values))
    assert finding.type == "resident_id" and finding.method == "checksum"
    assert (finding.checked, finding.hits) == (42, 40)
    assert finding.hit_ratio == round(40 / 42, 6)
    assert len(finding.examples) == 3
    raw = set(values[:40])
    for example in finding.examples:
        assert example not in raw and example[6:-2] == "*" * 10
    json.dumps(finding.as_dict(), ensure_ascii=False)


def test_a_name_cue_raises_confidence_and_so_do_more_hits():
    values = pa.array(some_ids(30))
    named = detect_column("公民身份号码", values)[0].confidence
    unnamed = detect_column("col_7", values)[0].confidence
    few = detect_column("col_7", pa.array(some_ids(2) + ["x"] * 28))[0].confidence
    assert 0 < few < unnamed < named <= 1


def test_hits_below_min_ratio_are_not_reported():
    values = pa.array(some_ids(3) + ["备注"] * 97)
    assert detect_column("remark", values) == []
    assert kinds(detect_column("remark", values, min_ratio=0.01)) == {"resident_id"}


def test_hard_negative_columns_give_no_checksum_findings():
    corpus = generate(60, seed=3)
    for note in ("order_number", "id_wrong_check", "id_bad_date", "id_bad_region",
                 "card_luhn_fail", "credit_wrong_check", "phone_serial", "date", "amount"):  # fmt: skip
        values = pa.array([v.value for v in corpus if v.note == note])
        found = kinds(detect_column("c", values))
        assert not found & {"resident_id", "credit_code", "bank_card", "mobile"}, (note, found)


def test_a_version_column_holds_no_ip_addresses():
    values = pa.array(["1.2.3.4", "10.0.12.7", "2.14.0.1"] * 5)
    assert detect_column("版本号", values) == []
    assert kinds(detect_column("server", values)) == {"ip"}


def _ids_passing_luhn(n: int) -> list[str]:
    rng, found = random.Random(4), []
    while len(found) < n:
        number = ids.random_resident_id(rng, ("620102",))
        if number[-1] != "X" and luhn_check_digit(number[:-1]) == number[-1]:
            found.append(number)
    return found


def _cards(n: int, length: int = 19) -> list[str]:
    rng = random.Random(9)
    out = []
    for _ in range(n):
        body = "622848" + "".join(rng.choices("0123456789", k=length - 7))
        out.append(body + luhn_check_digit(body))
    return out


def test_values_valid_as_id_and_card_follow_the_column_name_then_the_majority():
    both = _ids_passing_luhn(6)
    assert kinds(detect_column("col", pa.array(both))) == {"resident_id"}
    assert kinds(detect_column("身份证号", pa.array(both))) == {"resident_id"}
    card_column = detect_column("银行卡号", pa.array(both))
    assert kinds(card_column) == {"bank_card"} and card_column[0].hits == 6
    mostly_cards = detect_column("col", pa.array(_cards(20) + both))
    assert kinds(mostly_cards) == {"bank_card"} and mostly_cards[0].hits == 26
    mostly_ids = detect_column("col", pa.array(some_ids(30) + both))
    assert {f.type: f.hits for f in mostly_ids} == {"resident_id": 36}


def test_an_eight_digit_column_is_a_taiwan_permit_only_by_name():
    values = pa.array([f"{n:08d}" for n in range(10_000_000, 10_000_050)])
    (finding,) = detect_column("台胞证号码", values)
    assert finding.type == "taiwan_permit" and finding.method == "name_cue"
    assert detect_column("序号", values) == []


def test_numeric_columns_are_read_as_text_where_they_can_hold_identifiers():
    mobiles = pa.array([13809310000 + i * 7919 for i in range(50)], type=pa.int64())
    assert kinds(detect_column("c", mobiles)) == {"mobile"}
    numeric_ids = [int(x) for x in some_ids(60) if not x.endswith("X")]
    assert kinds(detect_column("c", pa.array(numeric_ids, type=pa.int64()))) == {"resident_id"}
    decimal = pa.array(numeric_ids).cast(pa.decimal128(20, 0))
    assert kinds(detect_column("c", decimal)) == {"resident_id"}


def test_float_columns_are_coordinates_only_under_a_name_cue():
    rng = np.random.default_rng(2)
    lng = pa.array(rng.uniform(92.5, 108.5, 100))
    lat = pa.array(rng.uniform(32.7, 42.7, 100))
    assert kinds(detect_column("经度", lng)) == {"coordinate"}
    assert kinds(detect_column("latitude", lat)) == {"coordinate"}
    assert detect_column("金额", lng) == []
    assert detect_column("纬度", lng) == []  # longitudes out of the latitude range


def test_unread_types_give_no_findings():
    assert detect_column("flag", pa.array([True, False])) == []
    assert detect_column("day", pa.array([dt.date(2024, 1, 1)])) == []
    assert detect_column("blob", pa.array([b"13809310000"], type=pa.binary())) == []
    assert detect_column("nested", pa.array([{"a": "13809310000"}])) == []
    assert detect_column("list", pa.array([["13809310000"]])) == []


def test_all_null_empty_and_one_row_columns():
    assert detect_column("身份证号", pa.array([None, None], type=pa.string())) == []
    assert detect_column("身份证号", pa.nulls(5)) == []
    assert detect_column("身份证号", pa.array([], type=pa.string())) == []
    assert detect_column("身份证号", pa.chunked_array([], type=pa.string())) == []
    (one,) = detect_column("身份证号", pa.array(some_ids(1)))
    assert (one.checked, one.hits, one.hit_ratio) == (1, 1, 1.0)
    assert one.confidence < detect_column("身份证号", pa.array(some_ids(20)))[0].confidence


def test_huge_cells_are_read_without_trouble():
    huge = "甘肃省" * 350_000 + "13809310000"  # over 1 MB of text
    values = pa.array([huge, huge[:-11] + some_ids(1)[0], *some_ids(8)])
    found = detect_column("备注", values)
    assert {f.type: (f.checked, f.hits) for f in found} == {"resident_id": (10, 8)}
    assert detect_column("x", pa.array(["9" * 2_000_000])) == []


def test_mixed_content_dictionary_and_view_columns():
    mixed = ["13809310000", "0931-8123456", "zhang@163.com", None, "3.5", "甘A12345", ""]
    found = {f.type: f.hits for f in detect_column("联系方式", pa.array(mixed), min_ratio=0.1)}
    assert found == {"mobile": 1, "landline": 1, "email": 1, "plate": 1}
    dictionary = pa.array(some_ids(10)).dictionary_encode()
    assert kinds(detect_column("c", dictionary)) == {"resident_id"}
    view = pa.array(some_ids(10)).cast(pa.string_view())
    assert kinds(detect_column("c", view)) == {"resident_id"}
    large = pa.array(some_ids(10), type=pa.large_string())
    assert kinds(detect_column("c", large)) == {"resident_id"}
    union = pa.UnionArray.from_sparse(
        pa.array([0, 1], type=pa.int8()),
        [pa.array(["13809310000", None]), pa.array([None, 5], type=pa.int64())],
    )
    assert detect_column("u", union) == []


def _table(seed: int) -> pa.Table:
    corpus = generate(12, seed)
    rng = random.Random(seed)
    rows = [rng.choice(corpus).value for _ in range(300)]
    ids_column = some_ids(250, seed) + rows[:50]
    return pa.table(
        {
            "mixed": pa.array(rows),
            "身份证号": pa.array(ids_column),
            "sparse": pa.array([v if i % 7 == 0 else None for i, v in enumerate(rows)]),
        }
    )


@given(st.integers(0, 3), st.lists(st.integers(1, 299), max_size=6))
@settings(deadline=None, max_examples=25)
def test_a_full_scan_in_batches_equals_detect_column(seed, cuts):
    table = _table(seed)
    whole = [f for name in table.column_names for f in detect_column(name, table[name])]
    scan = ColumnScan(table.column_names)
    edges = [0, *sorted(set(cuts)), table.num_rows]
    for start, stop in itertools.pairwise(edges):
        for batch in table.slice(start, stop - start).to_batches():
            scan.feed(batch)
    assert scan.findings() == whole
    assert whole  # the table does hold findings


def test_a_full_scan_skips_columns_a_batch_lacks():
    scan = ColumnScan(["身份证号", "absent"])
    scan.feed(pa.record_batch({"身份证号": pa.array(some_ids(5))}))
    assert [f.column for f in scan.findings()] == ["身份证号"]


def test_identifiers_inside_free_text_are_found_and_shown_masked():
    number = some_ids(1)[0]
    notes = pa.array([f"联系电话13809310000，身份证{number}", "请发邮件至 li.si@gansu.gov.cn",
                      "已办结", "订单2026112912345678901", None])  # fmt: skip
    found = {f.type: f for f in detect_column("备注", notes)}
    assert set(found) == {"mobile", "resident_id", "email"}
    assert found["resident_id"].examples == (f"{number[:6]}{'*' * 10}{number[-2:]}",)
    assert found["mobile"].examples == ("138****0000",)
    assert found["email"].examples == ("l***@gansu.gov.cn",)
    assert all(f.hits == 1 and f.checked == 4 for f in found.values())


def test_digits_run_together_are_not_taken_apart():
    # an 18-digit ID inside a longer digit string is no ID; nor a phone inside an ID
    number = some_ids(1)[0]
    assert detect_column("备注", pa.array([f"NO.9{number}1", f"编号{number[:-1]}"])) == []


def test_a_full_scan_takes_tables_as_well_as_batches():
    table = pa.table({"身份证号": pa.chunked_array([some_ids(3), some_ids(4, seed=2)])})
    scan = ColumnScan(["身份证号"])
    scan.feed(table)
    assert scan.findings() == detect_column("身份证号", table["身份证号"])
    assert scan.findings()[0].hits == 7


def test_negative_numbers_are_no_identifiers():
    values = pa.array([-13809310000 - i for i in range(20)], type=pa.int64())
    assert detect_column("c", values) == []
    assert detect_column("c", values.cast(pa.decimal128(20, 0))) == []


def test_a_column_named_for_people_counts_names_that_are_also_words():
    values = pa.array(["高峰", "高兴", "张伟", "李娜", "王芳"])
    named = detect_column("xm", values)
    assert [(f.type, f.hits) for f in named] == [("person_name", 5)]
    elsewhere = [f for f in detect_column("remark", values) if f.type == "person_name"]
    assert all(f.hits < 5 for f in elsewhere)
