"""The holiday files the platform owns agree with chinesecalendar and with their script."""

from __future__ import annotations

import datetime as dt
import importlib.util
import json
from pathlib import Path

import chinese_calendar
import pytest

from longshu.workflow import calendar

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT / "src/longshu/workflow/data/holidays"


def _export_script():
    spec = importlib.util.spec_from_file_location(
        "export_holidays", ROOT / "scripts/export_holidays.py"
    )
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_every_year_from_2004_to_2026_has_a_file():
    assert calendar.covered_years() == list(range(2004, 2027))


@pytest.mark.parametrize("year", range(2004, 2027))
def test_each_day_matches_chinesecalendar(year):
    day = dt.date(year, 1, 1)
    while day.year == year:
        assert calendar.is_working_day(day) == chinese_calendar.is_workday(day), day
        day += dt.timedelta(days=1)


def test_chinesecalendar_itself_stops_at_2026():
    # Why the platform keeps its own files: the package raises for later years.
    with pytest.raises(NotImplementedError):
        chinese_calendar.is_workday(dt.date(2027, 1, 4))
    assert calendar.is_working_day(dt.date(2027, 1, 4))  # Monday, weekends-only fallback


def test_export_script_reproduces_the_committed_files():
    script = _export_script()
    for year in (2015, 2026):
        committed = json.loads((DATA / f"{year}.json").read_text("utf-8"))
        assert json.loads(script._compact_json(script.export_year(year))) == committed


def test_holiday_names_are_given_in_chinese_and_english():
    info = calendar.day_info(dt.date(2026, 10, 1))
    assert (info.name_zh, info.name_en) == ("国庆节", "National Day")
    assert calendar.day_info(dt.date(2015, 9, 3)).name_zh.startswith("中国人民抗日战争")
