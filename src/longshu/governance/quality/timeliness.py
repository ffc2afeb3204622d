"""Timeliness (及时性): is a table's newest load fresh for its declared update frequency
(更新周期, the catalog's ``UPDATE_CYCLES`` codes)?"""

from __future__ import annotations

import calendar
import datetime as dt
from dataclasses import dataclass

from longshu.catalog.vocab import UPDATE_CYCLES
from longshu.governance.quality.errors import UnknownPeriod

# How long a load stays fresh, per 更新周期 code: a fixed span, or whole calendar months.
# "irregular" (不定期) and "static" (不更新) resources are never stale.
SPANS = {
    "realtime": dt.timedelta(hours=1),
    "daily": dt.timedelta(days=1),
    "weekly": dt.timedelta(days=7),
}
MONTHS = {"monthly": 1, "quarterly": 3, "half_yearly": 6, "yearly": 12}


@dataclass(frozen=True)
class Timeliness:
    """The verdict: fresh or stale, and when the next load is (or was) due (None: never).
    Shaped like a rule outcome: one thing checked, failed if stale."""

    fresh: bool
    due: dt.datetime | None
    last_loaded_at: dt.datetime
    period: str

    @property
    def checked(self) -> int:
        return 1

    @property
    def failed(self) -> int:
        return 0 if self.fresh else 1

    @property
    def passed_ratio(self) -> float:
        return 1.0 if self.fresh else 0.0

    @property
    def error(self) -> None:
        return None


def add_months(moment: dt.datetime, months: int) -> dt.datetime:
    """``moment`` plus whole calendar months (31 January + 1 month → 28/29 February)."""
    month = moment.month - 1 + months
    year, month = moment.year + month // 12, month % 12 + 1
    day = min(moment.day, calendar.monthrange(year, month)[1])
    return moment.replace(year=year, month=month, day=day)


def due_date(last_loaded_at: dt.datetime, period: str) -> dt.datetime | None:
    """When the load after ``last_loaded_at`` is due, or None for irregular/static."""
    if period not in UPDATE_CYCLES:
        raise UnknownPeriod(period=str(period)[:40], periods=", ".join(UPDATE_CYCLES))
    if period in SPANS:
        return last_loaded_at + SPANS[period]
    if period in MONTHS:
        return add_months(last_loaded_at, MONTHS[period])
    return None


def timeliness(
    last_loaded_at: dt.datetime, period: str, now: dt.datetime | None = None
) -> Timeliness:
    """Fresh while ``now`` has not passed the due date of the next load. Naive times are
    taken as UTC (the database stores UTC)."""
    last = _aware(last_loaded_at)
    now = _aware(now or dt.datetime.now(dt.UTC))
    due = due_date(last, period)
    return Timeliness(fresh=due is None or now <= due, due=due, last_loaded_at=last, period=period)


def _aware(moment: dt.datetime) -> dt.datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)
