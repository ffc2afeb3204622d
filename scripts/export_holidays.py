"""Export China's official holiday schedule (国务院办公厅节假日安排) to one JSON file per year.

The platform owns its working-day calendar as data (src/longshu/workflow/data/holidays/), so a
year that the ``chinesecalendar`` package does not know yet can be added by hand from the State
Council notice without waiting for a release. This script regenerates the files for the years
the package knows:

    .venv/bin/python scripts/export_holidays.py            # 2004..2026
    .venv/bin/python scripts/export_holidays.py 2025 2026  # some years
"""

from __future__ import annotations

import datetime as dt
import json
import sys
from pathlib import Path

import chinese_calendar

OUT = Path(__file__).resolve().parent.parent / "src/longshu/workflow/data/holidays"

NAMES_ZH = {
    "new_years_day": "元旦",
    "spring_festival": "春节",
    "tomb_sweeping_day": "清明节",
    "labour_day": "劳动节",
    "dragon_boat_festival": "端午节",
    "national_day": "国庆节",
    "mid_autumn_festival": "中秋节",
    "anti_fascist_70th_day": "中国人民抗日战争暨世界反法西斯战争胜利70周年纪念日",
}


def _entry(day: dt.date, english_name: str) -> dict[str, str]:
    holiday = chinese_calendar.Holiday(english_name)
    return {
        "date": day.isoformat(),
        "holiday": holiday.name,
        "name_zh": NAMES_ZH[holiday.name],
        "name_en": holiday.value,
    }


def export_year(year: int) -> dict[str, object]:
    """The schedule of one year: days off (法定节假日及其连休) and make-up workdays (调休上班)."""
    holidays = [
        _entry(d, h) for d, h in sorted(chinese_calendar.holidays.items()) if d.year == year
    ]
    workdays = [
        _entry(d, h) for d, h in sorted(chinese_calendar.workdays.items()) if d.year == year
    ]
    return {
        "year": year,
        "source": f"chinesecalendar {_package_version()} (国务院办公厅关于{year}年部分节假日安排的通知)",
        "holidays": holidays,
        "workdays": workdays,
    }


def _package_version() -> str:
    from importlib.metadata import version

    return version("chinesecalendar")


def _compact_json(data: dict[str, object]) -> str:
    """One day per line: easy to review against the State Council notice in a diff."""
    lines = ["{"]
    lines.append(f' "year": {data["year"]},')
    lines.append(f' "source": {json.dumps(data["source"], ensure_ascii=False)},')
    for key in ("holidays", "workdays"):
        entries = [json.dumps(e, ensure_ascii=False) for e in data[key]]  # type: ignore[attr-defined]
        body = ",\n  ".join(entries)
        tail = "," if key == "holidays" else ""
        lines.append(f' "{key}": [\n  {body}\n ]{tail}' if entries else f' "{key}": []{tail}')
    lines.append("}")
    return "\n".join(lines) + "\n"


def main(argv: list[str]) -> None:
    years = [int(a) for a in argv] or list(range(2004, 2027))
    OUT.mkdir(parents=True, exist_ok=True)
    for year in years:
        data = export_year(year)
        path = OUT / f"{year}.json"
        path.write_text(_compact_json(data), encoding="utf-8")
        print(
            f"{path.name}: {len(data['holidays'])} days off, {len(data['workdays'])} make-up workdays"
        )


if __name__ == "__main__":
    main(sys.argv[1:])
