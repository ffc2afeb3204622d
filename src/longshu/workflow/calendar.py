"""Chinese working days (工作日): statutory holidays and make-up workdays (调休) as data.

The State Council publishes each year's schedule late in the year before. The platform keeps
it as one JSON file per year under ``data/holidays/`` (2004..2026 exported from
``chinesecalendar`` by ``scripts/export_holidays.py``; later years added by hand from the
notice). For a year without a file the calendar counts Monday to Friday as working days, logs a
warning once and says so through :func:`coverage_warning` — it never raises.

Counting follows 民法典 art. 201/203: the start day is not counted, a period ends at the end of
its last day. Dates are Beijing dates; times are converted to Asia/Shanghai first.
"""

from __future__ import annotations

import bisect
import datetime as dt
import json
import logging
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from longshu.db import SHANGHAI

log = logging.getLogger("longshu.workflow.calendar")

# A deadline falls due at the end of its last working day, Beijing time.
END_OF_DAY = dt.time(23, 59, 59)


@dataclass(frozen=True)
class Special:
    """A day the schedule names: a day off (holiday) or a make-up workday (调休上班)."""

    date: dt.date
    holiday: str
    name_zh: str
    name_en: str


@dataclass(frozen=True)
class YearSchedule:
    year: int
    source: str
    days_off: dict[dt.date, Special]
    workdays: dict[dt.date, Special]


@dataclass(frozen=True)
class DayInfo:
    """What a date is: ``kind`` is workday | weekend | holiday | makeup_workday."""

    date: dt.date
    working: bool
    kind: str
    name_zh: str | None
    name_en: str | None
    provisional: bool  # True: the year has no official schedule yet (weekends only)


class ScheduleError(ValueError):
    """A holiday file is malformed or contradicts itself."""


def parse_year(data: dict[str, object], expected_year: int | None = None) -> YearSchedule:
    """Validate one year's schedule (the JSON format ``scripts/export_holidays.py`` writes)."""
    try:
        year = int(data["year"])  # type: ignore[call-overload]
        source = str(data.get("source", ""))
        days = {}
        for key in ("holidays", "workdays"):
            entries = {}
            for raw in data[key]:  # type: ignore[attr-defined]
                day = dt.date.fromisoformat(raw["date"])
                if day.year != year:
                    raise ScheduleError(f"{day} listed in the schedule of {year}")
                if day in entries:
                    raise ScheduleError(f"{day} listed twice in {key} of {year}")
                entries[day] = Special(day, raw["holiday"], raw["name_zh"], raw["name_en"])
            days[key] = entries
    except (KeyError, TypeError, ValueError) as exc:
        if isinstance(exc, ScheduleError):
            raise
        raise ScheduleError(f"malformed holiday schedule: {exc!r}") from exc
    if expected_year is not None and year != expected_year:
        raise ScheduleError(f"file for {expected_year} holds the schedule of {year}")
    both = set(days["holidays"]) & set(days["workdays"])
    if both:
        raise ScheduleError(f"{sorted(both)[0]} is both a day off and a workday in {year}")
    for day in days["workdays"]:
        if day.weekday() < 5:
            raise ScheduleError(f"make-up workday {day} is not a weekend day")
    return YearSchedule(year, source, days["holidays"], days["workdays"])


class Calendar:
    """The loaded schedule. Module functions use the process-wide one from :func:`current`."""

    def __init__(self, years: dict[int, YearSchedule]) -> None:
        self.years = dict(years)
        self._warned: set[int] = set()
        # Sorted weekday holidays and weekend workdays make range counts O(log n).
        self._weekday_off = sorted(
            d for y in self.years.values() for d in y.days_off if d.weekday() < 5
        )
        self._weekend_work = sorted(d for y in self.years.values() for d in y.workdays)

    @classmethod
    def load(cls, *extra_dirs: Path) -> Calendar:
        """The packaged schedule, then ``extra_dirs`` (later files replace earlier years)."""
        years: dict[int, YearSchedule] = {}
        packaged = resources.files("longshu.workflow") / "data" / "holidays"
        for entry in sorted(packaged.iterdir(), key=lambda e: e.name):
            if entry.name.endswith(".json"):
                years[int(entry.name[:-5])] = _read(entry.name, entry.read_text("utf-8"))
        for folder in extra_dirs:
            for path in sorted(Path(folder).glob("*.json")):
                years[int(path.stem)] = _read(path.name, path.read_text("utf-8"))
        return cls(years)

    def covers(self, year: int) -> bool:
        return year in self.years

    def coverage_warning(self, year: int) -> str | None:
        """None when the official schedule of ``year`` is loaded, else a warning to show."""
        if self.covers(year):
            return None
        return (
            f"No official holiday schedule for {year} is loaded: working days in {year} are "
            "counted as Monday to Friday until the State Council schedule is added."
        )

    def _note_fallback(self, year: int) -> None:
        if year not in self._warned:
            self._warned.add(year)
            log.warning(
                "holiday schedule missing, counting weekends only",
                extra={"year": year, "covered": f"{min(self.years)}-{max(self.years)}"},
            )

    def day_info(self, day: dt.date) -> DayInfo:
        schedule = self.years.get(day.year)
        if schedule is None:
            self._note_fallback(day.year)
            weekend = day.weekday() >= 5
            return DayInfo(day, not weekend, "weekend" if weekend else "workday", None, None, True)
        if day in schedule.days_off:
            s = schedule.days_off[day]
            return DayInfo(day, False, "holiday", s.name_zh, s.name_en, False)
        if day in schedule.workdays:
            s = schedule.workdays[day]
            return DayInfo(day, True, "makeup_workday", s.name_zh, s.name_en, False)
        weekend = day.weekday() >= 5
        return DayInfo(day, not weekend, "weekend" if weekend else "workday", None, None, False)

    def is_working_day(self, day: dt.date) -> bool:
        return self.day_info(day).working

    def count_after(self, a: dt.date, b: dt.date) -> int:
        """Working days in (a, b]; requires a <= b."""
        if a < b:
            for year in range((a + dt.timedelta(days=1)).year, b.year + 1):
                if not self.covers(year):
                    self._note_fallback(year)
        count = _weekdays_after(a, b)
        count -= bisect.bisect_right(self._weekday_off, b) - bisect.bisect_right(
            self._weekday_off, a
        )
        count += bisect.bisect_right(self._weekend_work, b) - bisect.bisect_right(
            self._weekend_work, a
        )
        return count


def _read(name: str, text: str) -> YearSchedule:
    try:
        return parse_year(json.loads(text), expected_year=int(name.removesuffix(".json")))
    except (json.JSONDecodeError, ValueError) as exc:
        raise ScheduleError(f"holiday file {name}: {exc}") from exc


def _weekdays_after(a: dt.date, b: dt.date) -> int:
    """Monday-to-Friday days in (a, b]."""

    def upto(day: dt.date) -> int:  # weekdays from an arbitrary Monday epoch through ``day``
        ordinal = day.toordinal() - 1  # ordinal 1 (0001-01-01) is a Monday
        weeks, rest = divmod(ordinal, 7)
        return weeks * 5 + min(rest + 1, 5)

    return upto(b) - upto(a)


_current: Calendar | None = None


def current() -> Calendar:
    """The process-wide calendar, loaded on first use."""
    global _current
    if _current is None:
        _current = Calendar.load()
    return _current


def reload(*extra_dirs: Path) -> Calendar:
    """Load the schedule again, adding files from ``extra_dirs`` (e.g. a newly published year)."""
    global _current
    _current = Calendar.load(*extra_dirs)
    return _current


def _as_date(value: dt.date | dt.datetime) -> dt.date:
    if isinstance(value, dt.datetime):
        if value.tzinfo is None:
            raise ValueError("naive datetime refused: pass a timezone-aware time")
        return value.astimezone(SHANGHAI).date()
    return value


def end_of_day(day: dt.date) -> dt.datetime:
    """The end of a Beijing day, as an aware UTC datetime."""
    return dt.datetime.combine(day, END_OF_DAY, tzinfo=SHANGHAI).astimezone(dt.UTC)


def is_working_day(day: dt.date | dt.datetime) -> bool:
    """Is this Beijing date a working day (make-up Saturdays included, holidays excluded)?"""
    return current().is_working_day(_as_date(day))


def day_info(day: dt.date | dt.datetime) -> DayInfo:
    """What the schedule says about a date (holiday name, make-up workday, provisional)."""
    return current().day_info(_as_date(day))


def add_working_days(start: dt.date | dt.datetime, n: int) -> dt.datetime:
    """The end (23:59:59 Beijing, returned in UTC) of the ``n``-th working day after ``start``.

    The start day itself is not counted; ``n == 0`` gives the end of the start day. Promise:
    for n >= 1 the result is a working day and ``working_days_between(start, result) == n``."""
    if n < 0:
        raise ValueError("n must be zero or more working days")
    day = _as_date(start)
    cal = current()
    while n > 0:
        day += dt.timedelta(days=1)
        if cal.is_working_day(day):
            n -= 1
    return end_of_day(day)


def working_days_between(a: dt.date | dt.datetime, b: dt.date | dt.datetime) -> int:
    """Working days after ``a``'s date up to and including ``b``'s date; negative if b < a."""
    first, last = _as_date(a), _as_date(b)
    if last < first:
        return -current().count_after(last, first)
    return current().count_after(first, last)


def covers(start: dt.date | dt.datetime, end: dt.date | dt.datetime) -> bool:
    """Is the official schedule loaded for every year from ``start`` to ``end``?"""
    cal = current()
    first, last = sorted((_as_date(start), _as_date(end)))
    return all(cal.covers(y) for y in range(first.year, last.year + 1))


def coverage_warning(year: int) -> str | None:
    """None when ``year``'s official schedule is loaded; else the warning to show people."""
    return current().coverage_warning(year)


def covered_years() -> list[int]:
    return sorted(current().years)
