"""Working days as a Gansu civil servant counts them: holidays off, make-up Saturdays on."""

from __future__ import annotations

import datetime as dt
import json
import logging

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from tests.workflow.workflow_cases import beijing

from longshu.workflow import calendar
from longshu.workflow.calendar import (
    add_working_days,
    coverage_warning,
    is_working_day,
    working_days_between,
)

D = dt.date
UTC = dt.UTC


@pytest.fixture
def restore_calendar():
    yield
    calendar.reload()


def in_beijing(value: dt.datetime) -> dt.datetime:
    return value.astimezone(beijing(2026, 1, 1).tzinfo)


def test_spring_festival_2026_days_are_off_and_make_up_saturdays_are_on():
    assert not is_working_day(D(2026, 2, 16))  # 除夕 eve week, Monday
    assert not is_working_day(D(2026, 2, 17))  # 春节, Tuesday
    assert not is_working_day(D(2026, 2, 23))  # last day of the break, Monday
    assert is_working_day(D(2026, 2, 14))  # Saturday, 调休上班
    assert is_working_day(D(2026, 2, 28))  # Saturday, 调休上班
    info = calendar.day_info(D(2026, 2, 17))
    assert (info.kind, info.name_zh, info.provisional) == ("holiday", "春节", False)
    assert calendar.day_info(D(2026, 2, 14)).kind == "makeup_workday"


def test_deadline_from_the_friday_before_spring_festival_skips_the_break():
    # Friday 13 Feb 2026: next working day is the make-up Saturday, then Tuesday 24 Feb.
    assert in_beijing(add_working_days(D(2026, 2, 13), 1)) == beijing(2026, 2, 14, 23, 59, 59)
    due = add_working_days(D(2026, 2, 13), 2)
    assert in_beijing(due) == beijing(2026, 2, 24, 23, 59, 59)
    assert due.tzinfo is UTC and due == dt.datetime(2026, 2, 24, 15, 59, 59, tzinfo=UTC)
    assert working_days_between(D(2026, 2, 13), D(2026, 2, 24)) == 2


def test_national_day_2026_and_its_make_up_saturday():
    assert not any(is_working_day(D(2026, 10, d)) for d in range(1, 8))
    assert is_working_day(D(2026, 9, 20))  # Sunday, 调休上班
    assert is_working_day(D(2026, 10, 10))  # Saturday, 调休上班
    # Wednesday 30 Sep + 1 → Thursday 8 Oct; + 3 → the make-up Saturday 10 Oct.
    assert in_beijing(add_working_days(D(2026, 9, 30), 1)).date() == D(2026, 10, 8)
    assert in_beijing(add_working_days(D(2026, 9, 30), 3)).date() == D(2026, 10, 10)
    assert working_days_between(D(2026, 9, 30), D(2026, 10, 12)) == 4


def test_ten_working_days_from_mid_september_2026_cross_both_breaks():
    # 15 Sep (Tue) +10: 16,17,18,20(Sun make-up),21,22,23,24,28,29 — 25-27 is 中秋.
    assert in_beijing(add_working_days(D(2026, 9, 15), 10)).date() == D(2026, 9, 29)


def test_start_time_is_read_as_a_beijing_date():
    # 17:00 UTC on Friday 13 Feb is already 01:00 on Saturday 14 Feb in Beijing.
    late_friday_utc = dt.datetime(2026, 2, 13, 17, 0, tzinfo=UTC)
    assert in_beijing(add_working_days(late_friday_utc, 1)).date() == D(2026, 2, 24)
    afternoon = dt.datetime(2026, 2, 13, 7, 0, tzinfo=UTC)
    assert in_beijing(add_working_days(afternoon, 1)).date() == D(2026, 2, 14)


def test_naive_times_and_negative_counts_are_refused():
    with pytest.raises(ValueError, match="naive"):
        add_working_days(dt.datetime(2026, 2, 13, 9, 0), 1)
    with pytest.raises(ValueError):
        add_working_days(D(2026, 2, 13), -1)


def test_zero_working_days_is_the_end_of_the_start_day():
    assert in_beijing(add_working_days(D(2026, 2, 17), 0)) == beijing(2026, 2, 17, 23, 59, 59)


def test_deadline_crossing_into_2027_counts_weekends_only_there_and_warns(caplog):
    calendar.reload()  # forget which years already warned
    caplog.set_level(logging.WARNING, logger="longshu.workflow.calendar")
    assert coverage_warning(2026) is None
    warning = coverage_warning(2027)
    assert warning is not None and "2027" in warning
    # Wed 30 Dec 2026 + 5: 31 Dec, then 1 Jan 2027 (no schedule yet: a Friday), 4, 5, 6 Jan.
    due = add_working_days(D(2026, 12, 30), 5)
    assert in_beijing(due).date() == D(2027, 1, 6)
    assert working_days_between(D(2026, 12, 30), due) == 5
    assert not calendar.covers(D(2026, 12, 30), due)
    assert calendar.day_info(D(2027, 1, 1)).provisional
    records = [r for r in caplog.records if getattr(r, "year", None) == 2027]
    assert len(records) == 1  # once per year, not once per day
    assert not is_working_day(D(2027, 1, 2))  # still a Saturday


def test_a_published_2027_schedule_replaces_the_fallback(tmp_path, restore_calendar):
    new_year = {"holiday": "new_years_day", "name_zh": "元旦", "name_en": "New Year's Day"}
    (tmp_path / "2027.json").write_text(
        json.dumps({"year": 2027, "source": "test", "holidays": [{"date": "2027-01-01", **new_year}], "workdays": []}),
        encoding="utf-8",
    )  # fmt: skip
    calendar.reload(tmp_path)
    assert coverage_warning(2027) is None
    assert not is_working_day(D(2027, 1, 1))
    assert in_beijing(add_working_days(D(2026, 12, 30), 5)).date() == D(2027, 1, 7)


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        ("{not json", "holiday file"),
        ('{"year": 2027, "holidays": [], "workdays": [{"date": "2027-01-04", '
         '"holiday": "x", "name_zh": "x", "name_en": "x"}]}', "not a weekend"),
        ('{"year": 2026, "holidays": [], "workdays": []}', "holds the schedule of 2026"),
        ('{"year": 2027, "holidays": [{"date": "2027-01-01"}], "workdays": []}', "malformed"),
    ],
)  # fmt: skip
def test_a_malformed_holiday_file_stops_loading_with_its_name(tmp_path, content, problem):
    (tmp_path / "2027.json").write_text(content, encoding="utf-8")
    with pytest.raises(calendar.ScheduleError, match=problem):
        calendar.Calendar.load(tmp_path)


def test_a_day_listed_both_off_and_on_is_refused():
    entry = {"date": "2027-01-02", "holiday": "x", "name_zh": "x", "name_en": "x"}
    with pytest.raises(calendar.ScheduleError, match="both"):
        calendar.parse_year({"year": 2027, "holidays": [entry], "workdays": [entry]})


# --- properties --------------------------------------------------------------------------

days = st.dates(min_value=D(2004, 1, 1), max_value=D(2027, 10, 31))


@settings(max_examples=300, deadline=None)
@given(start=days, n=st.integers(min_value=1, max_value=60))
def test_adding_n_working_days_lands_on_a_working_day_n_working_days_later(start, n):
    due = add_working_days(start, n)
    assert is_working_day(due)
    assert working_days_between(start, due) == n
    assert in_beijing(due).time() == dt.time(23, 59, 59)
    # and it is the first such day: the day before is fewer than n working days away
    assert working_days_between(start, in_beijing(due).date() - dt.timedelta(days=1)) == n - 1


@settings(max_examples=200, deadline=None)
@given(a=days, b=days, c=days)
def test_working_days_between_is_antisymmetric_and_additive(a, b, c):
    assert working_days_between(a, b) == -working_days_between(b, a)
    assert working_days_between(a, b) + working_days_between(b, c) == working_days_between(a, c)


@settings(max_examples=200, deadline=None)
@given(a=days, span=st.integers(min_value=0, max_value=120))
def test_range_count_agrees_with_counting_day_by_day(a, span):
    b = a + dt.timedelta(days=span)
    by_hand = sum(is_working_day(a + dt.timedelta(days=i)) for i in range(1, span + 1))
    assert working_days_between(a, b) == by_hand
