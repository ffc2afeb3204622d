"""Structured detectors value by value: check characters agree with longshu.ids, single
errors are caught, hard negatives are refused, and masks show no more than their rule."""

from __future__ import annotations

import datetime as dt
import ipaddress
import random
import re

import pyarrow as pa
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from longshu import ids
from longshu.governance.detect import DETECTORS, classify_value, mask_example
from longshu.governance.detect.corpus import luhn_check_digit
from longshu.governance.detect.identifiers import gansu_prefectures

REGIONS = ("620102", "620421", "623001", "622901", "110101", "310104", "440305", "650102")


def matches(code: str, value: str) -> bool:
    return bool(DETECTORS[code].match(pa.array([value]))[0])


resident_ids = st.builds(
    ids.make_resident_id,
    st.sampled_from(REGIONS),
    st.dates(dt.date(1900, 1, 1), dt.date(2024, 12, 31)),
    st.integers(0, 999),
)
credit_codes = st.builds(
    lambda region, body: ids.make_credit_code(region, "MA" + body),
    st.sampled_from(("620100", "620102", "110000", "440305")),
    st.text(ids.CREDIT_CHARSET, min_size=6, max_size=6),
)
cards = st.builds(
    lambda bin_, rest: bin_ + rest + luhn_check_digit(bin_ + rest),
    st.sampled_from(("622202", "622848", "436742", "524091", "356833", "955880")),
    st.text("0123456789", min_size=9, max_size=12),
)


@given(resident_ids)
@settings(deadline=None)
def test_every_valid_resident_id_is_detected(number):
    assert matches("resident_id", number)
    assert matches("resident_id", f"  {number.lower()} ")


@given(resident_ids, st.integers(0, 17), st.sampled_from("0123456789X"))
@settings(deadline=None)
def test_a_single_changed_character_of_an_id_is_refused(number, position, char):
    assume(number[position] != char and (position == 17 or char != "X"))
    changed = number[:position] + char + number[position + 1 :]
    assert not matches("resident_id", changed)


@given(st.text("0123456789", min_size=17, max_size=17), st.sampled_from("0123456789X"))
@settings(deadline=None, max_examples=300)
def test_vectorised_id_check_agrees_with_ids(body, check):
    number = body + check
    expected = ids.check_resident_id(number).valid
    if number.startswith("62"):  # Gansu prefixes are also held to the shipped region list
        expected = expected and number[:4] in gansu_prefectures()
    assert matches("resident_id", number) == expected


def test_ids_with_bad_date_or_region_are_refused():
    future = (dt.date.today() + dt.timedelta(days=2)).strftime("%Y%m%d")
    for body in ("62010219901315123", "62010219870230123", f"620102{future}123",
                 "99010119900101123", "62990119900101123", "62001019900101123"):  # fmt: skip
        assert not matches("resident_id", body + ids.resident_id_check_char(body)), body


def test_residence_permit_numbers_under_830000_are_ids():
    body = "83000019900101123"
    assert matches("resident_id", body + ids.resident_id_check_char(body))


@given(credit_codes)
@settings(deadline=None)
def test_every_valid_credit_code_is_detected(code):
    assert matches("credit_code", code)
    assert classify_value(code) == {"credit_code"}


@given(credit_codes, st.integers(0, 17), st.sampled_from(ids.CREDIT_CHARSET))
@settings(deadline=None)
def test_a_single_changed_character_of_a_credit_code_is_refused(code, position, char):
    assume(code[position] != char)
    assert not matches("credit_code", code[:position] + char + code[position + 1 :])


@given(st.text(ids.CREDIT_CHARSET, min_size=18, max_size=18))
@settings(deadline=None, max_examples=300)
def test_vectorised_credit_check_agrees_with_ids(code):
    all_digit_rules = code[:17].isdigit() and (code.startswith("62") or code[6:8] in ("19", "20"))
    assume(not all_digit_rules)  # documented exclusions of all-digit codes
    assert matches("credit_code", code) == ids.check_credit_code(code).valid


@given(cards)
@settings(deadline=None)
def test_every_luhn_valid_card_is_detected(card):
    # 18 digits that read as a mistyped ID (region, 19xx/20xx, month-, day-like) are left out
    id_like = card[:2] in ids.PROVINCE_PREFIXES and card[6:8] in ("19", "20")
    assume(len(card) != 18 or not (id_like and card[10] in "01" and card[12] in "0123"))
    assert matches("bank_card", card)
    assert matches("bank_card", " ".join(card[i : i + 4] for i in range(0, len(card), 4)))


@given(cards, st.integers(0, 18), st.sampled_from("0123456789"))
@settings(deadline=None)
def test_a_single_changed_digit_of_a_card_is_refused(card, position, digit):
    assume(position < len(card) and card[position] != digit)
    assert not matches("bank_card", card[:position] + digit + card[position + 1 :])


def test_invalid_ids_are_not_taken_for_cards():
    rng = random.Random(5)
    found = 0
    for _ in range(400):
        number = ids.random_resident_id(rng, ("620102",))
        wrong = number[:-1] + ("1" if number[-1] != "1" else "2")
        body = wrong[:-1]
        if luhn_check_digit(body) == wrong[-1]:
            found += 1
            assert not matches("bank_card", wrong)
    assert found > 10


@pytest.mark.parametrize(
    ("value", "kind"),
    [
        ("13809310000", "mobile"),
        ("+86 138 0931 0000", "mobile"),
        ("0086-199-0931-0000", "mobile"),
        ("0931-8123456", "landline"),
        ("(010)62345678", "landline"),
        ("（0931）8123456转123", "landline"),
        ("09378123456", "landline"),
        ("zhang.san@gansu.gov.cn", "email"),
        ("12345678@qq.com", "email"),
        ("E12345678", "passport"),
        ("EH1234567", "passport"),
        ("G87654321", "passport"),
        ("H1234567890", "hk_macao_permit"),
        ("M12345678", "hk_macao_permit"),
        ("C12345678", "hk_macao_permit"),
        ("CK1234567", "hk_macao_permit"),
        ("L12345678", "taiwan_permit"),
        ("甘A12345", "plate"),
        ("甘A·B1234", "plate"),
        ("京AD12345", "plate"),
        ("甘A12345F", "plate"),
        ("甘A1234警", "plate"),
        ("京O12345", "plate"),  # O: 公安 in some provinces
        ("10.0.0.1", "ip"),
        ("255.255.255.255", "ip"),
        ("2001:db8::8a2e:370:7334", "ip"),
        ("::1", "ip"),
        ("103.831234,36.061234", "coordinate"),
        ("36.0612, 103.8312", "coordinate"),
        ("(116.40, 39.90)", "coordinate"),
    ],
)
def test_structured_kinds_are_recognised(value, kind):
    assert classify_value(value) == {kind}


@pytest.mark.parametrize(
    "value",
    [
        "10809310000",  # 10x is not a mobile range
        "12345678901",
        "15409310000",  # 154 is not allocated
        "138093100001",
        "0131-8123456",  # no area code 013
        "0931-0123456",  # local numbers do not start with 0
        "zhang@",
        "a@localhost",
        "E1234567",
        "A12345678",
        "EI1234567",  # no I in passport letters
        "H123456789",  # 9 digits
        "12345678",  # 台胞证 shape without a column name
        "甘A1234",
        "甘I12345",
        "甘AO1234",  # no O in the serial
        "A12345",
        "256.1.1.1",
        "01.2.3.4",
        "1.2.3",
        "12:30:45",
        "2026-11-29",
        "20261129",
        "1,234,567.89",
        "200.1234,95.1234",  # outside China
        "103.8,36.0",  # one decimal: too coarse to be a coordinate
        "202611291234567890",  # order number
        "",
        "   ",
    ],
)
def test_hard_negatives_are_no_kind(value):
    assert classify_value(value) == set()


def test_column_names_decide_shape_only_kinds():
    assert classify_value("12345678", "台胞证号码") == {"taiwan_permit"}
    assert classify_value("1.2.3.4", "版本号") == set()
    assert classify_value("1.2.3.4", "client_ip") == {"ip"}
    assert classify_value("103.8312", "经度") == {"coordinate"}
    assert classify_value("36.0612", "lat") == {"coordinate"}
    assert classify_value("36.0612", "经度") == set()  # a latitude out of the longitude range
    assert classify_value("103.8312", "金额") == set()


def _id_that_passes_luhn() -> str:
    rng = random.Random(11)
    while True:
        number = ids.random_resident_id(rng, ("620102",))
        if number[-1] != "X" and luhn_check_digit(number[:-1]) == number[-1]:
            return number


def test_a_value_valid_as_id_and_card_is_an_id_unless_the_column_says_card():
    number = _id_that_passes_luhn()
    assert matches("bank_card", number) and matches("resident_id", number)
    assert classify_value(number) == {"resident_id"}
    assert classify_value(number, "银行卡号") == {"bank_card"}


# --- masks ------------------------------------------------------------------------------------


@given(resident_ids)
@settings(deadline=None)
def test_an_id_mask_shows_the_region_and_last_two_only(number):
    masked = mask_example("resident_id", number)
    assert masked[:6] == number[:6] and masked[-2:] == number[-2:]
    assert set(masked[6:-2]) == {"*"}
    assert number[6:14] not in masked  # the birth date never shows


@given(cards)
@settings(deadline=None)
def test_a_card_mask_shows_bin_and_last_four(card):
    masked = mask_example("bank_card", card)
    assert masked[:6] == card[:6] and masked[-4:] == card[-4:]
    assert set(masked[6:-4]) == {"*"}


KINDS_SHOWN = {  # kind → most characters of the value a mask may show
    "resident_id": 8, "credit_code": 10, "bank_card": 10, "mobile": 7, "landline": 6,
    "passport": 4, "hk_macao_permit": 4, "taiwan_permit": 4, "plate": 3, "person_name": 1,
    "address": 6, "health": 0, "ethnicity": 0,
}  # fmt: skip


@given(st.sampled_from(sorted(KINDS_SHOWN)), st.text(min_size=0, max_size=40))
@settings(deadline=None, max_examples=400)
def test_no_mask_shows_more_characters_than_its_rule(kind, value):
    masked = mask_example(kind, value)
    shown = len(masked) - masked.count("*")
    assert shown <= KINDS_SHOWN[kind] + 1  # +1: the hyphen a landline mask writes
    text = value.strip()
    if len(text) >= 4:
        assert masked != text


def test_masks_of_the_other_kinds():
    assert mask_example("mobile", "+86 138-0931-5678") == "138****5678"
    assert mask_example("email", "zhang.san@163.com") == "z***@163.com"
    assert mask_example("ip", "10.12.3.4") == "10.12.*.*"
    assert mask_example("coordinate", "103.831234,36.061234") == "103.8*,36.0*"
    assert mask_example("landline", "0931-8123456") == "0931-*****56"
    assert mask_example("plate", "甘A·12345") == "甘A****5"
    assert re.fullmatch(r"\*+", mask_example("religion", "佛教"))


@given(st.ip_addresses(v=6))
@settings(deadline=None)
def test_every_ipv6_address_in_every_spelling_is_an_ip(address):
    for text in (str(address), address.exploded, address.compressed.upper()):
        assert matches("ip", text), text


@given(st.text("0123456789abcdefABCDEF:.", min_size=2, max_size=45))
@settings(deadline=None, max_examples=500)
def test_the_ip_pattern_agrees_with_the_ipaddress_module(text):
    try:
        ipaddress.ip_address(text)
        expected = not re.search(r"(^|\.)0\d", text) or ":" in text
    except ValueError:
        expected = False
    assert matches("ip", text) == expected, text
