"""The worker's side of load jobs: run one attempt (claim, load, record the outcome),
report progress, retry transient failures with backoff, recover the jobs of a worker that
died, and the periodic housekeeping that also starts scheduled pulls.

A job is claimed with a conditional ``UPDATE … WHERE status = 'queued'``, so a job enqueued
twice runs once. The load runs in one transaction that also marks the job ``succeeded``: a
version exists exactly when its job succeeded. Progress (rows, bytes) is written by a
separate thread in its own short transactions at most every ``progress_seconds`` (and kept
in the queue's store, which SQLite readers use while the load holds the write lock); the
same thread notices a cancellation request, which stops the load at its next batch."""

from __future__ import annotations

import datetime as dt
import logging
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sqlalchemy import or_, select, update
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from longshu import events
from longshu.actor import Actor
from longshu.db import Database, get_database, utcnow
from longshu.errors import LongshuError
from longshu.ingest.jobs import (
    JOB_CANCELLED,
    JOB_FAILED,
    JOB_RETRY,
    JOB_STARTED,
    JOB_SUCCEEDED,
    InvalidJob,
    JobCancelled,
    NothingNew,
    WorkerLost,
    enqueue,
    enqueue_after_commit,
    huey,
    job_actor,
    job_facts,
    job_settings,
    progress_key,
    remove_upload,
    writing,
)
from longshu.ingest.models import IngestJob

log = logging.getLogger("longshu.ingest.runner")


# --- running --------------------------------------------------------------------------------


@huey.task()
def run_job(job_id: int) -> str:
    """The worker's entry: run one attempt of a job (a no-op unless it is queued)."""
    return run(get_database(), job_id)


def run(database: Database, job_id: int) -> str:
    """Claim the job, load, and record the outcome. Returns the job's new status."""
    job = claim(database, job_id)
    if job is None:
        return "skipped"
    actor = job_actor(job)
    progress = Progress(database, job.id)
    outcome = "failed"
    if _streaming(database, job):
        return _finish(job, _run_stream(database, actor, job, progress))
    with database.sessionmaker() as session:
        if database.engine.dialect.name == "sqlite":  # the load writes after reading
            session.connection(execution_options={"sqlite_immediate": True})
        progress.start()
        try:
            try:
                result = _load(session, actor, job, progress.report)
            except NothingNew:
                result = None  # the pull found nothing since the last one: done, no version
            progress.stop()
            outcome = _succeed(session, actor, job, result, progress)
            session.commit()
        except BaseException as error:
            progress.stop()
            if isinstance(error, LongshuError) and session.is_active:
                # the connector rolled its savepoint back and recorded ingest.load_failed
                try:
                    outcome = record_failure(session, actor, job, error, progress)
                    session.commit()
                except DBAPIError:
                    session.rollback()
                    outcome = _fail_apart(database, actor, job, error, progress)
            else:
                session.rollback()
                if not isinstance(error, Exception):
                    raise  # KeyboardInterrupt, SystemExit: the stall check requeues it
                log.exception("load job failed", extra={"job": job.id})
                outcome = _fail_apart(database, actor, job, error, progress)
    return _finish(job, outcome)


def _finish(job: IngestJob, outcome: str) -> str:
    try:
        huey.delete(progress_key(job.id))
    except Exception:
        log.debug("progress key not removed", exc_info=True)
    if outcome in ("succeeded", "cancelled"):
        remove_upload(job)
    return outcome


def _streaming(database: Database, job: IngestJob) -> bool:
    if job.kind != "pull" or job.source_id is None:
        return False
    from longshu.ingest import pulls
    from longshu.ingest.models import IngestSource

    with database.sessionmaker() as session:
        source = session.get(IngestSource, job.source_id)
        return source is not None and pulls.streams(source)


def _run_stream(database: Database, actor: Actor, job: IngestJob, progress: Progress) -> str:
    """A stream lands its micro-batches in transactions of its own; the job records the
    outcome afterwards (a failure leaves the batches already landed, as a stream must)."""
    from longshu.ingest import pulls, sources

    progress.start()
    try:
        with database.sessionmaker() as session:
            source = sources.get_source(session, job.source_id)
        result = pulls.collect(database, actor, source, job, progress.report)
    except Exception as error:
        progress.stop()
        if not isinstance(error, LongshuError):
            log.exception("stream job failed", extra={"job": job.id})
        return _fail_apart(database, actor, job, error, progress)
    progress.stop()
    with writing(database) as session:
        return _succeed(session, actor, job, result, progress)


def claim(database: Database, job_id: int) -> IngestJob | None:
    with writing(database) as session:
        now = utcnow()
        claimed = session.execute(
            update(IngestJob)
            .where(
                IngestJob.id == job_id,
                IngestJob.status == "queued",
                IngestJob.cancel_requested.is_(False),
            )
            .values(
                status="running",
                attempts=IngestJob.attempts + 1,
                started_at=now,
                heartbeat_at=now,
                next_attempt_at=None,
                error_key=None,
                error_params={},
            )
            .execution_options(synchronize_session=False)
        )
        if claimed.rowcount != 1:
            return None
        job = session.get(IngestJob, job_id)
        assert job is not None
        events.emit(session, JOB_STARTED, job_actor(job), subject=job, **job_facts(job))
        return job


def _load(
    session: Session, actor: Actor, job: IngestJob, on_progress: Callable[[int, int], None]
) -> Any:
    from longshu.ingest import service

    if job.kind == "upload":
        if not job.file_path or not Path(job.file_path).is_file():
            raise InvalidJob(detail="the uploaded file is no longer kept")
        return service.load_file(
            session,
            actor,
            job.table_id,
            job.file_path,
            format=job.format,
            mode=job.mode,
            key_columns=job.key_columns or None,
            options=dict(job.options.get("reader") or {}),
            load_id=job.load_id,
            on_progress=on_progress,
        )
    from longshu.ingest import pulls, sources

    source = sources.get_source(session, job.source_id)
    return pulls.pull(session, actor, source, job, on_progress)


def _succeed(
    session: Session, actor: Actor, job: IngestJob, result: Any, progress: Progress
) -> str:
    rows = int(getattr(result, "rows", progress.rows) or 0)
    values = {
        "status": "succeeded",
        "rows": rows,
        "bytes": int(getattr(result, "bytes", None) or progress.bytes),
        "version": getattr(result, "version", None),
        "version_status": getattr(result, "status", None),
        "finished_at": utcnow(),
        "heartbeat_at": utcnow(),
    }
    done = session.execute(
        update(IngestJob)
        .where(IngestJob.id == job.id, IngestJob.status == "running")
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    if done.rowcount != 1:  # recovered as stalled meanwhile: keep no version twice
        raise WorkerLost(job=job.id)
    job = session.get(IngestJob, job.id, populate_existing=True)
    assert job is not None
    if job.source_id is not None:
        from longshu.ingest import pulls

        pulls.record_pull(session, job.source_id, result)
    events.emit(
        session,
        JOB_SUCCEEDED,
        actor,
        subject=job,
        **job_facts(job, version=job.version, version_status=job.version_status, rows=rows),
    )
    return "succeeded"


# connectors' errors that say the other side is unreachable for now, not that the data is bad
TRANSIENT_KEYS = frozenset(
    {
        "ingest.sql_unavailable",
        "ingest.sql_timeout",
        "ingest.http_unavailable",
        "ingest.http_timeout",
        "ingest.mqtt.broker_unavailable",
    }
)


def transient(error: BaseException) -> bool:
    """Worth another attempt: the database, the network, the disk or the worker failed —
    not the data (a malformed file fails the same way every time)."""
    if isinstance(error, WorkerLost):
        return True
    if isinstance(error, LongshuError):
        return error.key in TRANSIENT_KEYS or bool(getattr(error, "transient", False))
    return isinstance(error, OSError | DBAPIError | TimeoutError | ConnectionError)


def backoff(attempts: int) -> float:
    """Seconds before attempt ``attempts + 1``: base × 2^(attempts − 1), capped."""
    cfg = job_settings()
    return min(cfg.retry_max_seconds, cfg.retry_base_seconds * 2 ** max(0, attempts - 1))


def record_failure(
    session: Session, actor: Actor, job: IngestJob, error: BaseException, progress: Progress
) -> str:
    """Record the outcome of a failed attempt in ``session`` (cancelled, retried or failed)."""
    current = session.get(IngestJob, job.id, populate_existing=True)
    if current is None or current.status != "running":
        return current.status if current else "failed"
    key = error.key if isinstance(error, LongshuError) else "ingest.job_crashed"
    params = _safe_params(error)
    now = utcnow()
    current.rows, current.bytes = progress.rows, progress.bytes
    current.heartbeat_at = now
    if isinstance(error, JobCancelled) or current.cancel_requested:
        current.status, current.finished_at = "cancelled", now
        events.emit(session, JOB_CANCELLED, actor, subject=current, **job_facts(current))
        return "cancelled"
    if transient(error) and current.attempts < current.max_attempts:
        delay = backoff(current.attempts)
        current.status = "queued"
        current.next_attempt_at = now + dt.timedelta(seconds=delay)
        current.error_key, current.error_params = key, params
        events.emit(
            session,
            JOB_RETRY,
            actor,
            subject=current,
            **job_facts(current, error=key, delay_seconds=round(delay, 3)),
        )
        enqueue_after_commit(session, current.id, delay)
        return "queued"
    current.status, current.finished_at = "failed", now
    current.error_key, current.error_params = key, params
    events.emit(session, JOB_FAILED, actor, subject=current, **job_facts(current, error=key))
    return "failed"


def _fail_apart(
    database: Database, actor: Actor, job: IngestJob, error: BaseException, progress: Progress
) -> str:
    with writing(database) as session:
        return record_failure(session, actor, job, error, progress)


def _safe_params(error: BaseException) -> dict[str, Any]:
    """The error's parameters, for a translated message later (JSON-safe, short)."""
    if not isinstance(error, LongshuError):
        return {"detail": type(error).__name__}
    safe: dict[str, Any] = {}
    for name, value in error.params.items():
        if isinstance(value, bool | int | float) or value is None:
            safe[name] = value
        else:
            safe[name] = str(value)[:300]
    return safe


class Progress:
    """Rows and bytes reported by the load (any thread), written by a background thread in
    its own short transactions at most every ``progress_seconds``, with a heartbeat at
    least every ``heartbeat_seconds``; it also notices a cancellation request.

    On SQLite the load's transaction holds the one write lock, so a write that cannot get
    it within a moment is skipped (the next one carries the newer figures)."""

    def __init__(self, database: Database, job_id: int) -> None:
        self.database = database
        self.job_id = job_id
        self.rows = 0
        self.bytes = 0
        self.cancelled = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._written: tuple[int, int] | None = None
        self._beat = 0.0

    def report(self, rows: int, bytes: int) -> None:
        """The ``on_progress`` callback: remember the figures; stop the load if cancelled."""
        self.rows, self.bytes = int(rows), int(bytes)
        if self.cancelled.is_set():
            raise JobCancelled(job=self.job_id)

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name=f"ingest-progress-{self.job_id}")
        self._thread.daemon = True
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=30)

    def _run(self) -> None:
        cfg = job_settings()
        while not self._stop.wait(cfg.progress_seconds):
            figures = (self.rows, self.bytes)
            due = time.monotonic() - self._beat >= cfg.heartbeat_seconds
            if figures == self._written and not due:
                continue
            if figures != self._written:
                _share(self.job_id, figures)
            try:
                self._write(figures)
            except Exception:  # a busy database: try again at the next tick
                log.debug("progress not written", exc_info=True)

    def _write(self, figures: tuple[int, int]) -> None:
        engine = self.database.engine
        sqlite = engine.dialect.name == "sqlite"
        with engine.connect() as conn:
            try:
                if sqlite:
                    conn.exec_driver_sql("PRAGMA busy_timeout=200")
                conn.execute(
                    update(IngestJob)
                    .where(IngestJob.id == self.job_id, IngestJob.status == "running")
                    .values(rows=figures[0], bytes=figures[1], heartbeat_at=utcnow())
                )
                asked = conn.scalar(
                    select(IngestJob.cancel_requested).where(IngestJob.id == self.job_id)
                )
                conn.commit()
            finally:
                conn.rollback()
                if sqlite:
                    conn.exec_driver_sql("PRAGMA busy_timeout=30000")
                    conn.commit()
        self._written, self._beat = figures, time.monotonic()
        if asked:
            self.cancelled.set()


def _share(job_id: int, figures: tuple[int, int]) -> None:
    """Also keep the figures in the queue's own store: on SQLite the load's transaction
    holds the database's one write lock until it commits, so readers find them there."""
    try:
        huey.put(progress_key(job_id), list(figures))
    except Exception:
        log.debug("progress not shared", exc_info=True)


# --- recovery and schedule --------------------------------------------------------------------


def recover_stalled(database: Database, now: dt.datetime | None = None) -> list[int]:
    """Jobs left ``running`` by a worker that died (no heartbeat for ``stall_seconds``):
    requeued with backoff, or failed after their last attempt. Returns their ids."""
    now = now or utcnow()
    cutoff = now - dt.timedelta(seconds=job_settings().stall_seconds)
    with database.session() as session:
        stalled = list(
            session.scalars(
                select(IngestJob.id).where(
                    IngestJob.status == "running",
                    or_(IngestJob.heartbeat_at.is_(None), IngestJob.heartbeat_at < cutoff),
                )
            )
        )
    recovered = []
    for job_id in stalled:
        with writing(database) as session:
            job = session.get(IngestJob, job_id)
            if job is None or job.status != "running" or (job.heartbeat_at or cutoff) > cutoff:
                continue
            progress = Progress(database, job_id)
            progress.rows, progress.bytes = job.rows, job.bytes
            record_failure(session, job_actor(job), job, WorkerLost(job=job_id), progress)
            recovered.append(job_id)
    return recovered


def requeue_lost(database: Database, now: dt.datetime | None = None) -> list[int]:
    """Queued jobs whose task is overdue by a minute (a queue emptied by a restart, a
    retry scheduled in a worker that died): enqueued again. Claiming is conditional, so a
    job enqueued twice still runs once."""
    now = now or utcnow()
    late = now - dt.timedelta(seconds=60)
    with database.session() as session:
        ids = list(
            session.scalars(
                select(IngestJob.id).where(
                    IngestJob.status == "queued",
                    IngestJob.cancel_requested.is_(False),
                    or_(
                        IngestJob.next_attempt_at < late,
                        IngestJob.next_attempt_at.is_(None) & (IngestJob.created_at < late),
                    ),
                )
            )
        )
    for job_id in ids:
        enqueue(job_id)
    return ids


@huey.on_startup()
def recover_at_start() -> None:
    """A restarted worker picks up what its predecessor left running."""
    try:
        recover_stalled(get_database())
    except Exception:
        log.exception("could not recover stalled load jobs")


@huey.periodic_task(lambda now: True)
def ingest_housekeeping() -> dict[str, int]:
    """Every minute: requeue stalled and lost jobs, and start the scheduled pulls due."""
    from longshu.ingest import sources

    database = get_database()
    return {
        "stalled": len(recover_stalled(database)),
        "lost": len(requeue_lost(database)),
        "due": len(sources.enqueue_due(database)),
    }
