from __future__ import annotations

import datetime as dt
import random

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from longshu import ids

GANSU_COUNTIES = ["620102", "620902", "620982", "623001", "622927", "620171"]

# --- strategies -------------------------------------------------------------------------------

births = st.dates(min_value=dt.date(1900, 1, 1), max_value=dt.date(2020, 12, 31))
sequences = st.integers(min_value=0, max_value=999)
regions = st.sampled_from([*GANSU_COUNTIES, "110105", "440305", "650102"])


@st.composite
def resident_ids(draw: st.DrawFn) -> str:
    return ids.make_resident_id(draw(regions), draw(births), draw(sequences))


@st.composite
def credit_codes(draw: st.DrawFn) -> str:
    authority = draw(st.sampled_from(sorted(ids.REGISTRATION_AUTHORITIES)))
    category = draw(st.sampled_from(sorted(ids.REGISTRATION_AUTHORITIES[authority][1])))
    body = draw(st.text(alphabet=ids.CREDIT_CHARSET, min_size=8, max_size=8))
    return ids.make_credit_code(draw(regions), body, authority, category)


# --- 公民身份号码 ------------------------------------------------------------------------------


def test_standard_example_numbers_are_valid():
    # The example in GB 11643-1999 and a widely used specimen.
    assert ids.check_resident_id("11010519491231002X").valid
    assert ids.check_resident_id("440524188001010014").valid
    assert ids.resident_id_sex("11010519491231002X") == "F"


def test_lower_case_x_and_spaces_are_normalised():
    assert ids.validate_resident_id(" 11010519491231002x ") == "11010519491231002X"


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ("11010519491231002", "length"),
        ("11010519491231002X1", "length"),
        ("", "length"),
        ("1101051949123100XX", "charset"),
        ("11010519491231002Y", "charset"),
        ("１１０１０５１９４９１２３１００２Ｘ", "charset"),  # full-width digits
        (None, "charset"),
        (11010519491231002, "charset"),
        ("99010519491231002X", "region"),
        ("11010519491331002X", "birth_date"),  # month 13
        ("11010519490230002X", "birth_date"),  # 30 February
        ("11010517991231002X", "birth_date"),  # before 1800
        ("11010519491231002Y"[:17] + "3", "checksum"),
    ],
)
def test_bad_resident_ids_say_why(value, reason):
    verdict = ids.check_resident_id(value)
    assert not verdict.valid
    assert verdict.reason == reason
    assert verdict.message


def test_birth_date_in_the_future_is_refused():
    number = ids.make_resident_id("620102", dt.date(2026, 6, 1), 11)
    assert ids.check_resident_id(number, today=dt.date(2026, 5, 31)).reason == "birth_date"
    assert ids.check_resident_id(number, today=dt.date(2026, 6, 1)).valid


def test_validate_raises_with_the_reason():
    with pytest.raises(ids.InvalidIdentifier) as caught:
        ids.validate_resident_id("110105194912310021")
    assert caught.value.reason == "checksum"
    assert caught.value.status == 422
    assert "check character" in str(caught.value)


def test_residence_permit_numbers_for_taiwan_residents_are_accepted():
    number = ids.make_resident_id("620102", dt.date(1990, 1, 1), 1)
    permit = "830000" + number[6:17]
    assert ids.check_resident_id(permit + ids.resident_id_check_char(permit)).valid


@given(resident_ids())
def test_generated_resident_ids_are_valid(number):
    assert ids.check_resident_id(number).valid


@settings(max_examples=200)
@given(resident_ids(), st.integers(min_value=0, max_value=17), st.sampled_from("0123456789X"))
def test_any_single_character_change_breaks_a_resident_id(number, position, replacement):
    if number[position] == replacement:
        replacement = "X" if replacement != "X" else "0"
    changed = number[:position] + replacement + number[position + 1 :]
    assert not ids.check_resident_id(changed).valid


@given(resident_ids(), st.integers(min_value=0, max_value=15))
def test_swapping_adjacent_different_digits_breaks_a_resident_id(number, position):
    a, b = number[position], number[position + 1]
    if a == b:
        return
    swapped = number[:position] + b + a + number[position + 2 :]
    assert not ids.check_resident_id(swapped).valid


def test_random_resident_id_is_reproducible_and_honours_sex():
    first = ids.random_resident_id(random.Random(7), GANSU_COUNTIES, sex="F")
    again = ids.random_resident_id(random.Random(7), GANSU_COUNTIES, sex="F")
    assert first == again and ids.resident_id_sex(first) == "F"
    assert first[:6] in GANSU_COUNTIES


def test_vectorised_check_characters_match_the_scalar_ones():
    rng = np.random.default_rng(3)
    digits = rng.integers(0, 10, size=(500, 17))
    checks = ids.resident_id_check_chars(digits)
    for row, check in zip(digits, checks, strict=True):
        assert ids.resident_id_check_char("".join(map(str, row))) == check


def test_synthetic_resident_ids_are_all_valid_and_within_bounds():
    rng = np.random.default_rng(11)
    sexes = np.where(np.arange(5000) % 2 == 0, "M", "F")
    numbers = ids.synthetic_resident_ids(
        5000, rng, GANSU_COUNTIES, dt.date(1950, 1, 1), dt.date(2000, 12, 31), sexes=sexes
    )
    assert numbers.shape == (5000,)
    for number, sex in zip(numbers.tolist(), sexes.tolist(), strict=True):
        assert ids.check_resident_id(number).valid, number
        assert number[:6] in GANSU_COUNTIES
        assert dt.date(1950, 1, 1) <= ids.resident_id_birth_date(number) <= dt.date(2000, 12, 31)
        assert ids.resident_id_sex(number) == sex


def test_synthetic_resident_ids_refuse_bad_region_codes():
    with pytest.raises(ids.InvalidIdentifier):
        ids.synthetic_resident_ids(3, np.random.default_rng(1), ["62010"])


def test_vectorised_check_needs_seventeen_digits():
    with pytest.raises(ValueError):
        ids.resident_id_check_chars(np.zeros((2, 16), dtype=int))


# --- 统一社会信用代码 ---------------------------------------------------------------------------


@pytest.mark.parametrize("code", ["91350100M000100Y43", "91440300708461136T", "91110000802100433B"])
def test_published_credit_codes_are_valid_even_strictly(code):
    assert ids.check_credit_code(code).valid
    assert ids.check_credit_code(code, strict=True).valid


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ("91350100M000100Y4", "length"),
        ("91350100M000100Y433", "length"),
        ("91350100M000100I43", "charset"),  # I is not in the set
        ("91350100M0001O0Y43", "charset"),  # nor O
        ("91350100M000100Y4-", "charset"),
        (None, "charset"),
        ("B1350100M000100Y43", "authority"),
        ("94350100M000100Y43", "category"),  # 工商 has categories 1-3 only
        ("Y2350100M000100Y43", "category"),  # 其他 uses 1 only
        ("91990100M000100Y43", "region"),
        ("91350100M000100Y44", "checksum"),
    ],
)
def test_bad_credit_codes_say_why(value, reason):
    verdict = ids.check_credit_code(value)
    assert (verdict.valid, verdict.reason) == (False, reason)


def test_central_registrations_carry_the_national_region():
    code = ids.make_credit_code("620000", "MA0000AA", "1", "1")
    national = "11100000" + code[8:17]
    assert ids.check_credit_code(national + ids.credit_code_check_char(national)).valid


def test_credit_code_parts_are_described():
    assert ids.describe_credit_code("91350100m000100y43") == {
        "authority": "工商",
        "category": "企业",
        "region_code": "350100",
        "organization_code": "M000100Y4",
    }


def test_strict_mode_checks_the_embedded_organisation_code():
    code = ids.make_credit_code("620100", "MA12345A")
    broken_org = code[:16] + ("0" if code[16] != "0" else "1")
    resealed = broken_org[:17] + ids.credit_code_check_char(broken_org[:17])
    assert ids.check_credit_code(resealed).valid
    assert ids.check_credit_code(resealed, strict=True).reason == "organization_code"


@given(credit_codes())
def test_generated_credit_codes_are_valid(code):
    assert ids.check_credit_code(code, strict=True).valid


@settings(max_examples=300)
@given(credit_codes(), st.integers(min_value=0, max_value=17), st.sampled_from(ids.CREDIT_CHARSET))
def test_any_single_character_change_breaks_a_credit_code(code, position, replacement):
    if code[position] == replacement:
        replacement = ids.CREDIT_CHARSET[(ids.CREDIT_VALUES[replacement] + 1) % 31]
    changed = code[:position] + replacement + code[position + 1 :]
    assert not ids.check_credit_code(changed).valid


def test_random_credit_codes_are_reproducible():
    assert ids.random_credit_code(random.Random(5)) == ids.random_credit_code(random.Random(5))


def test_make_credit_code_refuses_unknown_category():
    with pytest.raises(ValueError):
        ids.make_credit_code("620100", "MA12345A", "9", "9")


# --- 行政区划代码 -----------------------------------------------------------------------------


@pytest.mark.parametrize("code", ["620000", "620100", "620982", "110105", "810000"])
def test_region_codes_of_the_right_shape(code):
    assert ids.check_region_code(code).valid


@pytest.mark.parametrize(
    ("code", "reason"),
    [
        ("62010", "format"),
        ("6201020", "format"),
        ("62010a", "format"),
        ("６２０１０２", "format"),
        (620102, "format"),
        ("000000", "province"),
        ("990000", "province"),
        ("620012", "structure"),
    ],
)
def test_region_codes_of_the_wrong_shape_say_why(code, reason):
    assert ids.check_region_code(code).reason == reason


def test_region_level_from_the_code():
    assert [ids.region_level(c) for c in ("620000", "620900", "620982")] == [
        "province",
        "city",
        "county",
    ]
