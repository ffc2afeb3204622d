"""Several processes append at once; one is killed mid-append. The log keeps one total order
and verifies."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

from sqlalchemy import func, select

from longshu.security.ledger import audit, service
from longshu.security.ledger.models import LedgerEntry

WRITER = """
import sys
from longshu.db import Database
from longshu.security.ledger import service
url, tag, count, batch = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
db = Database(url)
i = 0
while count < 0 or i < count:
    with db.session() as session:
        service.append(session, [f"{tag}-{i}-{j}".encode() for j in range(batch)], "race")
    print(i, flush=True)
    i += 1
"""


def _writer(db, var_dir, tag, count, batch):
    env = os.environ | {"LONGSHU_VAR_DIR": str(var_dir), "LONGSHU_LEDGER_CHECKPOINT_EVERY": "7"}
    return subprocess.Popen(
        [sys.executable, "-c", WRITER, db.url, tag, str(count), str(batch)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _entries(session):
    ledger = service.get_ledger(session, "race")
    return ledger, session.execute(
        select(LedgerEntry.idx, LedgerEntry.data)
        .where(LedgerEntry.ledger_id == ledger.id)
        .order_by(LedgerEntry.idx)
    ).all()


def test_two_processes_appending_at_once_keep_one_total_order(ledger_env, var_dir, session):
    writers = [_writer(ledger_env, var_dir, tag, 40, 2) for tag in ("A", "B")]
    for w in writers:
        _, err = w.communicate(timeout=120)
        assert w.returncode == 0, err
    _, rows = _entries(session)
    assert [idx for idx, _ in rows] == list(range(160))
    for tag in ("A", "B"):
        mine = [bytes(d).decode() for _, d in rows if bytes(d).startswith(tag.encode())]
        assert mine == [f"{tag}-{i}-{j}" for i in range(40) for j in range(2)]
    report = audit.verify_ledger(session, "race", full=True)
    assert report.ok, report.as_json()
    assert report.checkpoints >= 10


def test_a_writer_killed_mid_append_leaves_a_log_that_verifies(ledger_env, var_dir, session):
    writer = _writer(ledger_env, var_dir, "K", -1, 25)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        line = writer.stdout.readline()
        if line and int(line) >= 8:
            break
    os.kill(writer.pid, signal.SIGKILL)
    writer.wait(timeout=30)
    session.rollback()
    ledger, rows = _entries(session)
    assert len(rows) >= 9 * 25 and len(rows) % 25 == 0  # whole batches only
    report = audit.verify_ledger(session, "race", full=True)
    assert report.ok, report.as_json()
    assert session.scalar(select(func.count()).select_from(LedgerEntry)) == service.tree_size(
        session, ledger
    )
    service.append(session, [b"after the crash"], "race")  # and appending goes on
    session.commit()
    assert audit.verify_ledger(session, "race").ok
