"""Load jobs: an upload or a source pull queued, run by the worker's task, retried after
transient failures with backoff, cancelled, recovered after a dead worker, scheduled."""

from __future__ import annotations

import datetime as dt
import io
import os
import signal
import subprocess
import sys
import threading
import time
import uuid

import pytest
import redis
from huey import RedisHuey
from sqlalchemy import func, select

from longshu.actor import SYSTEM, Actor
from longshu.db import utcnow
from longshu.errors import Forbidden
from longshu.events import Event
from longshu.ingest import jobs, pulls, runner, sources
from longshu.ingest.models import IngestJob, IngestSource
from longshu.lake import tables
from longshu.lake.models import LakeVersion

CSV = "id,name,region_code\n1,张三,620102\n2,李四,620103\n3,王五,620202\n".encode()


@pytest.fixture
def immediate():
    """Tasks run in this process as they are enqueued (huey's own test mode)."""
    before = jobs.huey.immediate
    jobs.huey.immediate = True
    yield jobs.huey
    jobs.huey.immediate = before


@pytest.fixture
def fresh_settings(monkeypatch):
    def apply(**values):
        for name, value in values.items():
            monkeypatch.setenv(f"LONGSHU_INGEST_{name.upper()}", str(value))
        jobs.job_settings.cache_clear()

    yield apply
    jobs.job_settings.cache_clear()


def versions(db, table_id):
    with db.session() as s:
        return list(
            s.scalars(
                select(LakeVersion.number)
                .where(LakeVersion.table_id == table_id)
                .order_by(LakeVersion.number)
            )
        )


def job_of(db, job_id) -> IngestJob:
    with db.session() as s:
        return s.get(IngestJob, job_id)


def event_types(db, job_id) -> list[str]:
    from longshu.events import Event

    with db.session() as s:
        return list(
            s.scalars(
                select(Event.type)
                .where(Event.subject_type == "ingest_job", Event.subject_id == str(job_id))
                .order_by(Event.id)
            )
        )


def test_an_uploaded_file_becomes_a_version_and_its_job_succeeds(db, target, loader, immediate):
    with db.session() as s:
        job = jobs.submit_upload(s, loader, "people", io.BytesIO(CSV), "../../人口 名单.csv")
        assert job.status == "queued" and job.filename == "人口 名单.csv"
        assert job.total_bytes == len(CSV)
        job_id = job.id
    done = job_of(db, job_id)
    assert (done.status, done.version, done.rows, done.attempts) == ("succeeded", 1, 3, 1)
    assert done.version_status == "ready" and done.bytes >= len(CSV)
    assert done.finished_at is not None and done.error_key is None
    assert versions(db, target.id) == [1]
    assert event_types(db, job_id) == [
        "ingest.job_queued",
        "ingest.job_started",
        "ingest.job_succeeded",
    ]
    assert not (jobs.uploads_root() / done.load_id).exists()  # the copy is removed


def test_nothing_is_enqueued_when_the_submitting_transaction_rolls_back(
    db, target, loader, immediate
):
    with db.sessionmaker() as s:
        job = jobs.submit_upload(s, loader, "people", io.BytesIO(CSV), "a.csv")
        s.rollback()
    assert job_of(db, job.id) is None
    assert versions(db, target.id) == []
    assert not (jobs.uploads_root() / job.load_id).exists()  # nor is the file kept


def test_another_departments_table_is_refused(db, target, outsider, immediate):
    with db.session() as s, pytest.raises(Forbidden):
        jobs.submit_upload(s, outsider, "people", io.BytesIO(CSV), "a.csv")
    assert not any(jobs.uploads_root().glob("*/*")) if jobs.uploads_root().exists() else True


def test_an_upload_over_the_limit_is_refused_and_nothing_kept(db, target, loader, fresh_settings):
    fresh_settings(max_upload_bytes=10)
    with db.session() as s, pytest.raises(jobs.UploadTooLarge):
        jobs.submit_upload(s, loader, "people", io.BytesIO(CSV), "a.csv")
    with db.session() as s:
        assert s.scalar(select(func.count()).select_from(IngestJob)) == 0
    assert list(jobs.uploads_root().glob("*")) == []


def test_a_malformed_file_fails_at_once_without_retry(db, target, loader, immediate):
    ragged = b"id,name\n1,a\n2,b,extra\n"
    with db.session() as s:
        job_id = jobs.submit_upload(s, loader, "people", io.BytesIO(ragged), "bad.csv").id
    failed = job_of(db, job_id)
    assert (failed.status, failed.attempts, failed.error_key) == (
        "failed",
        1,
        "ingest.malformed_rows",
    )
    assert failed.error_params["count"] == 1
    assert versions(db, target.id) == []
    assert "ingest.job_retry_scheduled" not in event_types(db, job_id)
    assert event_types(db, job_id)[-1] == "ingest.job_failed"


def test_transient_errors_are_retried_and_data_errors_are_not():
    from longshu.ingest.errors import MalformedRows
    from longshu.lake.errors import DuplicateKeys

    assert runner.transient(OSError("disk"))
    assert runner.transient(ConnectionError())
    assert runner.transient(jobs.WorkerLost(job=1))
    assert not runner.transient(MalformedRows("a.csv", [(2, "ragged")], 1))
    assert not runner.transient(DuplicateKeys(count=1, columns="id"))
    assert not runner.transient(ValueError("a bug"))


def test_backoff_doubles_up_to_the_cap(fresh_settings):
    fresh_settings(retry_base_seconds=30, retry_max_seconds=100)
    assert [runner.backoff(n) for n in (1, 2, 3, 4)] == [30, 60, 100, 100]


def test_a_job_left_running_by_a_dead_worker_is_retried_with_backoff(
    db, target, loader, fresh_settings
):
    fresh_settings(retry_base_seconds=60)
    with db.session() as s:
        job = jobs.submit_upload(s, loader, "people", io.BytesIO(CSV), "a.csv")
        job.status, job.attempts = "running", 1
        job.heartbeat_at = utcnow() - dt.timedelta(minutes=10)
        job_id = job.id
        s.info.pop("longshu_ingest_jobs", None)  # no worker here: the queue stays empty
    assert runner.recover_stalled(db) == [job_id]
    requeued = job_of(db, job_id)
    assert (requeued.status, requeued.error_key) == ("queued", "ingest.worker_lost")
    wait = (requeued.next_attempt_at - utcnow()).total_seconds()
    assert 50 < wait <= 60
    assert runner.recover_stalled(db) == []  # once
    assert runner.run(db, job_id) == "succeeded"
    done = job_of(db, job_id)
    assert (done.status, done.attempts, done.version, done.error_key) == ("succeeded", 2, 1, None)
    assert "ingest.job_retry_scheduled" in event_types(db, job_id)


def test_the_last_attempt_of_a_lost_job_fails_it(db, target, loader):
    with db.session() as s:
        job = jobs.submit_upload(s, loader, "people", io.BytesIO(CSV), "a.csv")
        job.status, job.attempts, job.max_attempts = "running", 4, 4
        job.heartbeat_at = utcnow() - dt.timedelta(hours=1)
        job_id = job.id
        s.info.pop("longshu_ingest_jobs", None)
    runner.recover_stalled(db)
    failed = job_of(db, job_id)
    assert (failed.status, failed.error_key) == ("failed", "ingest.worker_lost")
    assert runner.run(db, job_id) == "skipped"


def test_a_queued_job_is_cancelled_and_never_runs(db, target, loader):
    with db.session() as s:
        job_id = jobs.submit_upload(s, loader, "people", io.BytesIO(CSV), "a.csv").id
        s.info.pop("longshu_ingest_jobs", None)
    with db.session() as s:
        assert jobs.cancel(s, loader, job_id).status == "cancelled"
    assert runner.run(db, job_id) == "skipped"
    assert versions(db, target.id) == []
    assert event_types(db, job_id)[-1] == "ingest.job_cancelled"
    with db.session() as s, pytest.raises(jobs.JobFinished):
        jobs.cancel(s, loader, job_id)


def test_a_running_job_stops_at_its_next_progress_report(db, target, loader, fresh_settings):
    """Cancellation reaches the load through the progress callback; no version is kept."""
    fresh_settings(progress_seconds=0.05)
    with db.session() as s:
        job_id = jobs.submit_upload(s, loader, "people", io.BytesIO(CSV), "a.csv").id
        s.info.pop("longshu_ingest_jobs", None)
    job = runner.claim(db, job_id)
    progress = runner.Progress(db, job_id)
    progress.start()
    try:
        progress.report(1, 10)
        with db.session() as s:
            jobs.cancel(s, loader, job_id)
        assert progress.cancelled.wait(5)
        with pytest.raises(jobs.JobCancelled):
            progress.report(2, 20)
    finally:
        progress.stop()
    with db.session() as s:
        assert (
            runner.record_failure(s, loader, job, jobs.JobCancelled(job=job_id), progress)
            == "cancelled"
        )
    assert job_of(db, job_id).status == "cancelled"
    assert versions(db, target.id) == []


def test_progress_is_written_in_its_own_transactions(db, target, loader, fresh_settings):
    fresh_settings(progress_seconds=0.05)
    with db.session() as s:
        job_id = jobs.submit_upload(s, loader, "people", io.BytesIO(CSV), "a.csv").id
        s.info.pop("longshu_ingest_jobs", None)
    runner.claim(db, job_id)
    progress = runner.Progress(db, job_id)
    progress.start()
    seen = threading.Event()
    try:
        progress.report(1234, 56789)
        for _ in range(100):
            current = job_of(db, job_id)
            if (current.rows, current.bytes) == (1234, 56789):
                seen.set()
                break
            threading.Event().wait(0.05)
    finally:
        progress.stop()
    assert seen.is_set()


def test_a_source_keeps_its_secrets_sealed(db, target, admin):
    with db.session() as s:
        source = sources.create_source(
            s,
            admin,
            name="水表读数",
            connector="sql",
            table="people",
            options={
                "url": "postgresql+psycopg://reader:s3cret-pw@db.example/water",
                "table": "meter",
                "password": "hunter2",
            },
        )
        source_id = source.id
    with db.session() as s:
        stored = s.get(IngestSource, source_id)
        assert stored.options == {"table": "meter"}
        assert "hunter2" not in stored.sealed_options and "s3cret" not in stored.sealed_options
        assert sources.source_options(stored)["password"] == "hunter2"
        assert sources.shown_options(stored) == {
            "table": "meter",
            "url": sources.REDACTED,
            "password": sources.REDACTED,
        }
        # "***" sent back keeps the secret; a new value replaces it
        sources.update_source(
            s, admin, source_id, options={"table": "meter2", "url": "***", "password": "new"}
        )
    with db.session() as s:
        opened = sources.source_options(s.get(IngestSource, source_id))
        assert opened["url"].endswith("@db.example/water") and opened["password"] == "new"
        assert opened["table"] == "meter2"


def test_creating_a_source_needs_lake_manage(db, target, loader):
    with db.session() as s, pytest.raises(Forbidden):
        sources.create_source(s, loader, name="x", connector="file", table="people")


def test_daily_schedule_fires_at_the_next_beijing_time():
    source = IngestSource(enabled=True, schedule_kind="daily", daily_at="02:30")
    after = dt.datetime(2026, 11, 29, 1, 0, tzinfo=dt.UTC)  # 09:00 in Beijing
    assert sources.next_run(source, after) == dt.datetime(2026, 11, 29, 18, 30, tzinfo=dt.UTC)
    source.enabled = False
    assert sources.next_run(source, after) is None


def test_a_scheduled_file_source_is_pulled_when_due(db, target, admin, immediate):
    folder = pulls.drop_folder() / "dept7"
    folder.mkdir(parents=True)
    (folder / "people.csv").write_bytes(CSV)
    with db.session() as s:
        source = sources.create_source(
            s,
            admin,
            name="人口名单",
            connector="file",
            table="people",
            options={"path": "dept7/people.csv"},
            schedule_kind="interval",
            interval_seconds=3600,
        )
        first = source.next_run_at
        source_id = source.id
    assert sources.enqueue_due(db) == []  # not yet
    later = first + dt.timedelta(seconds=1)
    [job_id] = sources.enqueue_due(db, now=later)
    done = job_of(db, job_id)
    assert (done.kind, done.status, done.version, done.source_id) == (
        "pull",
        "succeeded",
        1,
        source_id,
    )
    assert sources.enqueue_due(db, now=later) == []  # moved on by an hour
    with db.session() as s:
        pulled = s.get(IngestSource, source_id)
        assert pulled.last_run_at is not None
        assert pulled.next_run_at == later + dt.timedelta(hours=1)


def test_a_file_source_cannot_leave_the_drop_folder(db, target, admin, immediate):
    with db.session() as s:
        source = sources.create_source(
            s, admin, name="逃逸", connector="file", table="people", options={"path": "../x.csv"}
        )
        job_id = jobs.submit_pull(s, admin, source).id
    failed = job_of(db, job_id)
    assert (failed.status, failed.error_key) == ("failed", "ingest.invalid_source")


def test_a_queued_job_whose_task_was_lost_is_enqueued_again(db, target, loader, immediate):
    with db.session() as s:
        job = jobs.submit_upload(s, loader, "people", io.BytesIO(CSV), "a.csv")
        job.created_at = utcnow() - dt.timedelta(minutes=5)
        job_id = job.id
        s.info.pop("longshu_ingest_jobs", None)  # the queue lost it (a restart, a flush)
    assert runner.requeue_lost(db) == [job_id]
    assert job_of(db, job_id).status == "succeeded"
    assert runner.requeue_lost(db) == []


def test_scheduler_actor_is_the_system():
    assert isinstance(sources.SCHEDULER, Actor) and sources.SCHEDULER.kind == "system"


# --- a real worker, killed mid-load ---------------------------------------------------------

REDIS_URL = os.environ.get("LONGSHU_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
ROWS = 2_000_000  # the big file: long enough to be killed while its rows stream

SUBMIT = """
import sys
from longshu.actor import Actor
from longshu.db import get_database
from longshu.ingest import jobs
actor = Actor(kind="user", id=2, name="dept", org_id=7, roles=frozenset({"dept_data_admin"}))
with get_database().session() as s, open(sys.argv[1], "rb") as f:
    job = jobs.submit_upload(s, actor, "people", f, "big.csv")
print(job.id)
"""


@pytest.fixture
def worker_env(db, var_dir, target):
    client = redis.Redis.from_url(REDIS_URL)
    client.ping()  # make test starts Redis; a missing server is a failure, not a skip
    name = f"longshu_test_{uuid.uuid4().hex[:10]}"
    env = {
        **os.environ,
        "LONGSHU_DATABASE_URL": db.url,
        "LONGSHU_VAR_DIR": str(var_dir),
        "LONGSHU_HUEY_BACKEND": "redis",
        "LONGSHU_HUEY_NAME": name,
        "LONGSHU_REDIS_URL": REDIS_URL,
        "LONGSHU_AUTO_MIGRATE": "false",
        "LONGSHU_INGEST_STALL_SECONDS": "3",
        "LONGSHU_INGEST_RETRY_BASE_SECONDS": "1",
        "LONGSHU_INGEST_HEARTBEAT_SECONDS": "0.5",
        "LONGSHU_INGEST_PROGRESS_SECONDS": "0.05",  # so that the first figures show at once
    }
    yield env, RedisHuey(name, url=REDIS_URL)
    for key in client.scan_iter(f"*{name}*"):
        client.delete(key)
    client.close()


def start_worker(env) -> subprocess.Popen:
    command = ["huey.bin.huey_consumer", "longshu.worker.huey", "-w", "1", "-k", "thread"]
    return subprocess.Popen(
        [sys.executable, "-m", *command, "-d", "0.1"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def big_csv(path, rows: int) -> None:
    with path.open("w", encoding="utf-8") as f:
        f.write("id,name,region_code\n")
        for start in range(1, rows + 1, 100_000):
            f.write(
                "".join(
                    f"{i},居民{i},6201{i % 100:02d}\n"
                    for i in range(start, min(rows, start + 99_999) + 1)
                )
            )


def wait_for(condition, seconds: float, what: str, every: float = 0.1):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(every)
    raise AssertionError(f"timed out waiting for {what}")


def test_a_worker_killed_mid_load_leaves_no_version_and_the_retry_loads(
    db, target, loader, worker_env, tmp_path
):
    env, queue = worker_env
    with db.session() as s:  # version 1: what readers see before, during and after
        jobs_first = jobs.submit_upload(s, loader, "people", io.BytesIO(CSV), "first.csv")
        first_id = jobs_first.id
        s.info.pop("longshu_ingest_jobs", None)
    assert runner.run(db, first_id) == "succeeded"
    big = tmp_path / "big.csv"
    big_csv(big, ROWS)

    worker = start_worker(env)
    try:
        submitted = subprocess.run(
            [sys.executable, "-c", SUBMIT, str(big)],
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert submitted.returncode == 0, submitted.stderr
        job_id = int(submitted.stdout.strip())
        # mid-load: the connector is handing rows to the Delta writer (Arrow hands them over
        # in a moment; writing the Parquet files and the checksum take the seconds after)
        streamed = wait_for(
            lambda: (queue.get(f"ingest-progress:{job_id}", peek=True) or [0])[0],
            180,
            "the load to stream rows",
            every=0.01,
        )
        os.kill(worker.pid, signal.SIGKILL)
        worker.wait(timeout=10)
    finally:
        if worker.poll() is None:
            worker.kill()
    killed = job_of(db, job_id)
    assert streamed > 0  # rows were handed to the lake's writer …
    assert (killed.status, killed.attempts, killed.version) == ("running", 1, None)  # … unfinished
    assert versions(db, target.id) == [1]  # nothing of the killed load is recorded

    time.sleep(3.5)  # longer than the stall time: the job's worker is gone
    worker = start_worker(env)  # a restarted worker requeues it, then runs it
    try:
        done = wait_for(
            lambda: (j := job_of(db, job_id)).status in ("succeeded", "failed") and j,
            300,
            "the retried load",
        )
    finally:
        worker.terminate()
        worker.wait(timeout=20)
    assert (done.status, done.attempts, done.version, done.rows) == ("succeeded", 2, 2, ROWS)
    assert versions(db, target.id) == [1, 2]
    types = event_types(db, job_id)
    assert types.count("ingest.job_started") == 2
    assert "ingest.job_retry_scheduled" in types and types[-1] == "ingest.job_succeeded"
    with db.session() as s:
        retry = s.scalars(
            select(Event).where(
                Event.type == "ingest.job_retry_scheduled", Event.subject_id == str(job_id)
            )
        ).one()
    assert retry.payload["error"] == "ingest.worker_lost"
    with db.session() as s:  # the version holds exactly the new load, nothing of the killed one
        version = s.scalars(select(LakeVersion).where(LakeVersion.number == 2)).one()
        assert version.rows == ROWS and version.status == "ready"
        assert tables.verify_version(s, SYSTEM, "people", 2).number == 2


def test_a_sql_source_pulls_only_rows_after_its_watermark(db, target, admin, immediate, tmp_path):
    import sqlite3

    path = tmp_path / "water.db"
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE meter (id INTEGER, name TEXT, region_code TEXT, read_at TEXT)")
        conn.executemany(
            "INSERT INTO meter VALUES (?, ?, ?, ?)",
            [
                (1, "一号表", "620102", "2026-11-28T08:00:00"),
                (2, "二号表", "620103", "2026-11-28T09:00:00"),
            ],
        )
    with db.session() as s:
        source = sources.create_source(
            s,
            admin,
            name="水表读数",
            connector="sql",
            table="people",
            mode="append",
            options={"url": f"sqlite:///{path}", "table": "meter", "watermark": "read_at"},
        )
        source_id = source.id
        first = jobs.submit_pull(s, admin, source).id
    done = job_of(db, first)
    assert (done.status, done.version, done.rows) == ("succeeded", 1, 2), done.error_params
    with db.session() as s:
        assert s.get(IngestSource, source_id).watermark.startswith("2026-11-28T09:00")
    with sqlite3.connect(path) as conn:
        conn.execute("INSERT INTO meter VALUES (3, '三号表', '620202', '2026-11-28T10:00:00')")
    with db.session() as s:
        second = jobs.submit_pull(s, admin, source_id).id
    again = job_of(db, second)
    assert (again.status, again.version, again.rows) == ("succeeded", 2, 1)
    with db.session() as s:
        version = s.scalars(select(LakeVersion).where(LakeVersion.number == 2)).one()
        assert version.rows == 3 and version.mode == "append"
        third = jobs.submit_pull(s, admin, source_id).id
    idle = job_of(db, third)  # nothing newer: done, and no empty version
    assert (idle.status, idle.version, idle.rows) == ("succeeded", None, 0)
    assert versions(db, target.id) == [1, 2]


def test_a_media_source_loads_only_the_files_added_since_its_last_pull(
    db, lake_env, admin, immediate
):
    import os as _os

    from PIL import Image

    folder = pulls.drop_folder() / "mogao"
    folder.mkdir(parents=True)

    def picture(name: str, colour: str, age: int) -> None:
        path = folder / name
        Image.new("RGB", (8, 8), colour).save(path)
        stamp = time.time() - age
        _os.utime(path, (stamp, stamp))

    picture("cave45.png", "red", 100)
    picture("cave57.png", "blue", 90)
    with db.session() as s:
        tables.create_table(s, admin, "mogao_images", kind="collection", owner_org_id=7)
        source = sources.create_source(
            s, admin, name="莫高窟图像", connector="media", table="mogao_images",
            mode="append", options={"folder": "mogao", "pattern": "*.png"},
        )  # fmt: skip
        first = jobs.submit_pull(s, admin, source).id
        source_id = source.id
    done = job_of(db, first)
    assert (done.status, done.version, done.rows) == ("succeeded", 1, 2), done.error_params
    picture("cave96.png", "green", 10)
    with db.session() as s:
        second = jobs.submit_pull(s, admin, source_id).id
    again = job_of(db, second)
    assert (again.status, again.version, again.rows) == ("succeeded", 2, 1), again.error_params
    with db.session() as s:
        nothing = jobs.submit_pull(s, admin, source_id).id
    idle = job_of(db, nothing)  # nothing new: done, without a version
    assert (idle.status, idle.version, idle.rows) == ("succeeded", None, 0)
    with db.session() as s:
        assert s.get(IngestSource, source_id).last_run_at is not None


def test_an_unreachable_api_is_retried_with_backoff_then_fails(db, target, admin, immediate):
    """A transient failure (connection refused) goes back to the queue with a doubling delay
    until the last attempt (huey's immediate mode runs each retry at once)."""
    import socket

    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with db.session() as s:
        source = sources.create_source(
            s, admin, name="客流接口", connector="http", table="people",
            options={"url": f"http://127.0.0.1:{port}/visitors", "retries": 0},
        )  # fmt: skip
        job_id = jobs.submit_pull(s, admin, source).id
    failed = job_of(db, job_id)
    assert (failed.status, failed.attempts, failed.error_key) == (
        "failed",
        4,
        "ingest.http_unavailable",
    )
    with db.session() as s:
        delays = [
            e.payload["delay_seconds"]
            for e in s.scalars(
                select(Event)
                .where(Event.type == "ingest.job_retry_scheduled", Event.subject_id == str(job_id))
                .order_by(Event.id)
            )
        ]
    assert delays == [30, 60, 120]
    assert versions(db, target.id) == []


def test_the_minute_housekeeping_requeues_stalled_jobs_and_starts_due_pulls(
    db, target, admin, loader, immediate
):
    folder = pulls.drop_folder()
    folder.mkdir(parents=True)
    (folder / "people.csv").write_bytes(CSV)
    with db.session() as s:
        stalled = jobs.submit_upload(s, loader, "people", io.BytesIO(CSV), "a.csv")
        stalled.status, stalled.attempts = "running", 1
        stalled.heartbeat_at = utcnow() - dt.timedelta(hours=1)
        s.info.pop("longshu_ingest_jobs", None)
        source = sources.create_source(
            s, admin, name="每日名单", connector="file", table="people",
            options={"path": "people.csv"}, schedule_kind="interval", interval_seconds=60,
        )  # fmt: skip
        source.next_run_at = utcnow() - dt.timedelta(seconds=1)
    figures = runner.ingest_housekeeping.call_local()
    assert figures == {"stalled": 1, "lost": 0, "due": 1}
    with db.session() as s:
        finished = s.scalars(select(IngestJob.status).order_by(IngestJob.id)).all()
    assert finished == ["succeeded", "succeeded"]  # the retry ran at once in immediate mode


def test_an_mqtt_source_lands_its_readings_as_a_job(db, lake_env, admin, immediate):
    """A stream's pull: a bounded collection whose micro-batches are versions of their own."""
    import json

    import paho.mqtt.client as paho
    from paho.mqtt.enums import CallbackAPIVersion

    run = uuid.uuid4().hex[:10]
    schema = {"station": "string", "ts": "timestamp", "temp_c": "float"}
    options = {
        "host": "127.0.0.1", "port": 1883, "client_id": f"longshu-jobs-{run}",
        "topics": [f"j{run}/weather/+/reading"], "schema": schema, "batch_size": 100,
        "max_seconds": 0.5, "stop_after": 20, "idle_seconds": 1.0, "session_expiry": 60,
    }  # fmt: skip
    with db.session() as s:
        tables.create_table(s, admin, "weather", key_columns=["station", "ts"], owner_org_id=7)
        source = sources.create_source(
            s, admin, name="气象站", connector="mqtt", table="weather", mode="append",
            options={**options, "max_messages": 1, "idle_seconds": 0.5},
        )  # fmt: skip
        source_id = source.id
        opening = jobs.submit_pull(s, admin, source).id  # subscribes: the broker keeps the rest
    assert job_of(db, opening).status == "succeeded"
    client = paho.Client(CallbackAPIVersion.VERSION2, protocol=paho.MQTTv5)
    client.connect("127.0.0.1", 1883)
    client.loop_start()
    try:
        for i in range(5):
            body = {"station": f"ws{i}", "ts": f"2026-11-29T08:0{i}:00+00:00", "temp_c": -3.5 + i}
            client.publish(
                f"j{run}/weather/ws{i}/reading", json.dumps(body), qos=1
            ).wait_for_publish(10)
    finally:
        client.loop_stop()
        client.disconnect()
    with db.session() as s:
        sources.update_source(s, admin, source_id, options={**options, "max_messages": 5})
        job_id = jobs.submit_pull(s, admin, source_id).id
    done = job_of(db, job_id)
    assert (done.status, done.rows) == ("succeeded", 5), done.error_params
    assert done.version == max(versions(db, tables_id(db, "weather")))


def tables_id(db, name: str) -> int:
    with db.session() as s:
        return tables.get_table(s, name).id


def test_a_running_jobs_progress_is_read_from_the_queue_store_too(db, target, loader, immediate):
    """On SQLite the load holds the write lock: the worker's figures reach readers through
    the queue's own store; the newer figures win and the bar stops short of 100 %."""
    with db.session() as s:
        job = jobs.submit_upload(s, loader, "people", io.BytesIO(CSV), "a.csv")
        job.status, job.rows, job.bytes, job.total_bytes = "running", 5, 10, 1000
        s.info.pop("longshu_ingest_jobs", None)
    jobs.huey.put(jobs.progress_key(job.id), [400, 1000])
    try:
        assert jobs.live_progress(job_of(db, job.id)) == (400, 1000, 99)
    finally:
        jobs.huey.delete(jobs.progress_key(job.id))
    assert jobs.live_progress(job_of(db, job.id)) == (5, 10, 1)
