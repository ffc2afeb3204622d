"""How fast are working-day sums and workflow moves? Writes bench/results/workflow.json.

Run: .venv/bin/python bench/workflow/run.py [moves]
(SQLite file in a temporary folder; set LONGSHU_DATABASE_URL to measure PostgreSQL.)
"""

from __future__ import annotations

import datetime as dt
import json
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

from longshu.actor import Actor
from longshu.db import Database
from longshu.models import load_all
from longshu.workflow import State, Transition, Workflow, calendar, move, start

TICKET = Workflow(
    name="bench.ticket",
    states=[
        State("open", "处理中", "Open"),
        State("checking", "核查中", "Checking"),
        State("done", "已办结", "Done", terminal=True),
    ],
    transitions=[
        Transition("check", "open", "checking", {"dept_reviewer"}, "核查", "Check",
                   deadline_working_days=5),
        Transition("reopen", "checking", "open", {"dept_reviewer"}, "退回", "Reopen",
                   deadline_working_days=3),
        Transition("close", "checking", "done", {"dept_reviewer"}, "办结", "Close"),
    ],
    initial="open",
    initial_deadline_working_days=10,
)  # fmt: skip
REVIEWER = Actor(kind="user", id=1, org_id=1, roles=frozenset({"dept_reviewer"}))


def per_second(count: int, seconds: float) -> float:
    return round(count / seconds, 1)


def calendar_figures(n: int = 20_000) -> dict[str, float]:
    start_day = dt.date(2026, 1, 1)
    t0 = time.perf_counter()
    for i in range(n):
        calendar.add_working_days(start_day + dt.timedelta(days=i % 700), 10)
    add_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    for i in range(n):
        calendar.working_days_between(dt.date(2004, 1, 1), start_day + dt.timedelta(days=i % 700))
    between_s = time.perf_counter() - t0
    return {
        "add_10_working_days_per_s": per_second(n, add_s),
        "between_over_22_years_per_s": per_second(n, between_s),
    }


def move_figures(moves: int) -> dict[str, float | str]:
    url = os.environ.get("LONGSHU_DATABASE_URL")
    with tempfile.TemporaryDirectory() as tmp:
        database = Database(url or f"sqlite:///{Path(tmp) / 'bench.db'}")
        load_all().metadata.create_all(database.engine)
        t0 = time.perf_counter()
        for i in range(moves // 2):
            with database.session() as s:
                instance = start(s, REVIEWER, TICKET, ("bench_ticket", f"{time.time_ns()}-{i}"), 1)
            with database.session() as s:
                move(s, REVIEWER, instance.id, "check")
        elapsed = time.perf_counter() - t0
        database.dispose()
    return {
        "database": database.engine.dialect.name,
        "start_then_move_transactions_per_s": per_second(moves, elapsed),
    }


def main(moves: int = 2_000) -> dict[str, object]:
    result = {
        "when": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "machine": f"{platform.machine()} {os.cpu_count()} cores, Python {platform.python_version()}",
        **calendar_figures(),
        **move_figures(moves),
    }
    out = Path(__file__).resolve().parents[1] / "results" / "workflow.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return result


if __name__ == "__main__":
    print(json.dumps(main(*(int(a) for a in sys.argv[1:])), indent=2))
