"""Load jobs (入湖任务): an uploaded file or one pull of a source, run by the huey worker.

    job = jobs.submit_upload(session, actor, "population", stream, "人口.csv")
    job = jobs.submit_pull(session, actor, source_id)
    jobs.cancel(session, actor, job.id)

Submitting records an ``IngestJob`` (``queued``) and, once the caller's transaction commits,
enqueues ``run_job``. The worker claims the job, runs the load through the connectors
(``ingest.service``) in one transaction, and writes progress (rows, bytes) from a separate
thread in its own short transactions at most every ``progress_seconds``. The job is marked
``succeeded`` in the same transaction that records the lake version, so a version exists
exactly when its job succeeded. A failed or killed load leaves no version: its Delta commit is
unrecorded and the lake undoes it before the next load of the table.

Transient failures (the database, the network, the disk, a lost worker) go back to ``queued``
with exponential backoff until ``max_attempts``; a malformed file fails at once. A worker that
dies mid-load leaves its job ``running`` with a stale heartbeat; ``recover_stalled`` (at worker
start and every minute) requeues it. Scheduled pulls: ``enqueue_due`` (every minute) starts a
job for every enabled source whose time has come."""

from __future__ import annotations

import datetime as dt
import logging
import shutil
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path
from typing import IO, Any

from pydantic_settings import BaseSettings, SettingsConfigDict
from sqlalchemy import or_, select, update
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from longshu import events
from longshu.actor import Actor
from longshu.config import get_settings
from longshu.db import Database, get_database, utcnow
from longshu.errors import Conflict, InvalidInput, LongshuError, NotFound, PayloadTooLarge
from longshu.ingest.models import FINISHED_STATUSES, IngestJob, IngestSource
from longshu.jobs import get_huey
from longshu.lake import tables
from longshu.lake.models import LOAD_MODES, LakeTable
from longshu.security import access
from longshu.workflow.attachments import sanitize_filename

log = logging.getLogger("longshu.ingest.jobs")


class JobSettings(BaseSettings):
    """``LONGSHU_INGEST_*``: upload limit, retries, progress and stall detection."""

    model_config = SettingsConfigDict(env_prefix="LONGSHU_INGEST_", env_file=".env", extra="ignore")

    max_upload_bytes: int = 2 * 1024**3
    max_attempts: int = 4
    retry_base_seconds: float = 30.0  # 30 s, 60 s, 120 s … capped below
    retry_max_seconds: float = 3600.0
    progress_seconds: float = 0.5
    heartbeat_seconds: float = 5.0
    stall_seconds: float = 120.0  # a running job silent this long lost its worker


@lru_cache
def job_settings() -> JobSettings:
    return JobSettings()


@contextmanager
def writing(database: Database) -> Iterator[Session]:
    """A unit of work that writes: on SQLite it takes the write lock at BEGIN (waiting its
    turn), because a deferred transaction that read first cannot write once another
    connection has written meanwhile ("database is locked" at once, no waiting)."""
    session = database.sessionmaker()
    try:
        if database.engine.dialect.name == "sqlite":
            session.connection(execution_options={"sqlite_immediate": True})
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


# --- errors ---------------------------------------------------------------------------------


class JobNotFound(NotFound):
    key = "ingest.job_not_found"
    message = "Load job {job} does not exist."


class JobFinished(Conflict):
    key = "ingest.job_finished"
    message = "Load job {job} has already finished ({status})."


class UploadTooLarge(PayloadTooLarge):
    key = "ingest.upload_too_large"
    recorded = False
    message = "The uploaded file is larger than the limit of {limit} bytes; nothing was kept."


class InvalidJob(InvalidInput):
    key = "ingest.invalid_job"
    message = "The load cannot be submitted: {detail}"


class JobCancelled(LongshuError):
    key = "ingest.job_cancelled"
    status = 409
    message = "Load job {job} was cancelled."


class WorkerLost(LongshuError):
    key = "ingest.worker_lost"
    status = 503
    message = "The worker running load job {job} stopped before it finished."


class ConnectorUnavailable(InvalidInput):
    key = "ingest.connector_unavailable"
    message = "Sources of kind {connector} cannot be pulled on this installation."


JOB_QUEUED = events.define("ingest.job_queued", "入湖任务已排队", "Load job queued")
JOB_STARTED = events.define("ingest.job_started", "入湖任务开始执行", "Load job started")
JOB_SUCCEEDED = events.define("ingest.job_succeeded", "入湖任务已完成", "Load job succeeded")
JOB_FAILED = events.define("ingest.job_failed", "入湖任务失败", "Load job failed")
JOB_RETRY = events.define(
    "ingest.job_retry_scheduled", "入湖任务将重试", "Load job retry scheduled"
)
JOB_CANCEL_REQUESTED = events.define(
    "ingest.job_cancel_requested", "已请求取消入湖任务", "Load job cancellation requested"
)
JOB_CANCELLED = events.define("ingest.job_cancelled", "入湖任务已取消", "Load job cancelled")

huey = get_huey()


# --- submitting -----------------------------------------------------------------------------


def uploads_root() -> Path:
    return get_settings().var_dir / "ingest" / "uploads"


def save_upload(stream: IO[bytes], filename: str, load_id: str, limit: int) -> tuple[Path, int]:
    """Copy an upload under the var folder (``ingest/uploads/<load id>/<name>``), refusing it
    — and keeping nothing — once it passes ``limit`` bytes."""
    name = sanitize_filename(filename)
    folder = uploads_root() / load_id
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    size = 0
    try:
        with path.open("wb") as out:
            while chunk := stream.read(1024 * 1024):
                size += len(chunk)
                if size > limit:
                    raise UploadTooLarge(limit=limit)
                out.write(chunk)
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise
    return path, size


def _check_load(mode: str, fmt: str) -> None:
    if mode not in LOAD_MODES:
        raise InvalidJob(detail=f"load mode {mode[:20]!r}")
    if fmt != "auto" and fmt not in ("csv", "tsv", "xlsx", "json", "ndjson", "parquet"):
        raise InvalidJob(detail=f"format {fmt[:20]!r}")


def submit_upload(
    session: Session,
    actor: Actor,
    table_ref: LakeTable | int | str,
    stream: IO[bytes],
    filename: str,
    *,
    format: str = "auto",
    mode: str = "snapshot",
    key_columns: list[str] | None = None,
    options: dict[str, Any] | None = None,
) -> IngestJob:
    """Keep an uploaded file and queue its load into ``table_ref``. Needs ``lake.load`` on
    the table. The worker starts once the caller's transaction commits."""
    table = tables.get_table(session, table_ref)
    access.require(actor, "lake.load", table)
    _check_load(mode, format)
    load_id = uuid.uuid4().hex
    path, size = save_upload(stream, filename, load_id, job_settings().max_upload_bytes)
    job = IngestJob(
        kind="upload",
        table_id=table.id,
        org_id=table.owner_org_id,
        filename=path.name,
        file_path=str(path.resolve()),
        format=format,
        mode=mode,
        key_columns=list(key_columns or []),
        options={"reader": dict(options or {}), "actor": actor_record(actor)},
        total_bytes=size,
        max_attempts=job_settings().max_attempts,
        load_id=load_id,
        created_by=actor.id,
    )
    return _queue(session, actor, job, table)


def submit_pull(
    session: Session, actor: Actor, source_ref: IngestSource | int, *, scheduled: bool = False
) -> IngestJob:
    """Queue one pull of a source (run now, or by the schedule)."""
    from longshu.ingest import sources  # sources imports this module

    source = sources.get_source(session, source_ref)
    table = tables.get_table(session, source.table_id)
    access.require(actor, "lake.load", table)
    job = IngestJob(
        kind="pull",
        source_id=source.id,
        table_id=table.id,
        org_id=source.org_id if source.org_id is not None else table.owner_org_id,
        filename=source.name[:200],
        format=str(source.options.get("format", "auto"))[:10],
        mode=source.mode,
        key_columns=list(source.key_columns or []),
        options={"actor": actor_record(actor), "scheduled": scheduled},
        max_attempts=job_settings().max_attempts,
        load_id=uuid.uuid4().hex,
        created_by=actor.id,
    )
    return _queue(session, actor, job, table)


def _queue(session: Session, actor: Actor, job: IngestJob, table: LakeTable) -> IngestJob:
    session.add(job)
    session.flush()
    events.emit(session, JOB_QUEUED, actor, subject=job, **_facts(job, table))
    enqueue_after_commit(session, job.id)
    return job


def actor_record(actor: Actor) -> dict[str, Any]:
    """Who submitted the job, as the worker will act for them (the decision to allow the
    load was taken at submission; the worker checks it again with the same roles)."""
    return {
        "kind": actor.kind,
        "id": actor.id,
        "name": actor.name,
        "org_id": actor.org_id,
        "roles": sorted(actor.roles),
    }


def job_actor(job: IngestJob) -> Actor:
    record = job.options.get("actor") or {}
    return Actor(
        kind=record.get("kind", "system"),
        id=record.get("id"),
        name=record.get("name", "ingest"),
        org_id=record.get("org_id"),
        roles=frozenset(record.get("roles", ["system"])),
        mfa=True,
    )


def _facts(job: IngestJob, table: LakeTable | None = None, **extra: Any) -> dict[str, Any]:
    return {
        "job": job.id,
        "kind": job.kind,
        "table_id": job.table_id,
        "table": table.name if table is not None else None,
        "source_id": job.source_id,
        "load_id": job.load_id,
        "mode": job.mode,
        "attempt": job.attempts,
        **extra,
    }


# --- enqueueing after commit ------------------------------------------------------------------

_PENDING = "longshu_ingest_jobs"


def enqueue_after_commit(session: Session, job_id: int, delay: float = 0) -> None:
    """Hand the job to the worker once the session's outermost transaction commits (a
    worker that started earlier would not see the row); a rollback forgets it."""
    pending = session.info.setdefault(_PENDING, [])
    pending.append((job_id, delay))


def _release(session: Session, transaction: Any) -> None:
    if transaction.parent is not None or transaction.nested:
        return
    pending = session.info.pop(_PENDING, None)
    if pending and session.info.pop("longshu_ingest_committed", False):
        for job_id, delay in pending:
            enqueue(job_id, delay)


def _committed(session: Session) -> None:
    if not session.in_nested_transaction():
        session.info["longshu_ingest_committed"] = True


def _rolled_back(session: Session) -> None:
    if not session.in_nested_transaction():
        session.info.pop(_PENDING, None)
        session.info.pop("longshu_ingest_committed", None)


from sqlalchemy import event as _sa_event  # noqa: E402 — listeners after their functions

_sa_event.listen(Session, "after_commit", _committed)
_sa_event.listen(Session, "after_transaction_end", _release)
_sa_event.listen(Session, "after_rollback", _rolled_back)


def enqueue(job_id: int, delay: float = 0) -> None:
    if delay > 0 and not huey.immediate:
        run_job.schedule(args=(job_id,), delay=delay)
    else:
        run_job(job_id)


# --- cancelling -----------------------------------------------------------------------------


def get_job(session: Session, actor: Actor, job_id: int) -> IngestJob:
    job = session.get(IngestJob, job_id)
    if job is None or not access.decide(actor, "lake.load", job):
        raise JobNotFound(job=job_id)
    return job


def list_jobs(
    session: Session,
    actor: Actor,
    *,
    status: str | None = None,
    table_id: int | None = None,
    source_id: int | None = None,
    limit: int = 50,
    offset: int = 0,
) -> tuple[list[IngestJob], int]:
    """Jobs the actor may see (their organisation's; all for a platform administrator),
    newest first, with the total count."""
    access.require(actor, "lake.load")
    query = select(IngestJob).order_by(IngestJob.id.desc())
    if not access.decide(actor, "lake.manage"):
        query = query.where(IngestJob.org_id == actor.org_id)
    if status:
        query = query.where(IngestJob.status == status)
    if table_id:
        query = query.where(IngestJob.table_id == table_id)
    if source_id:
        query = query.where(IngestJob.source_id == source_id)
    from longshu.db import paginate

    page = paginate(session, query, offset // max(1, limit) + 1, limit)
    return page.items, page.total


def cancel(session: Session, actor: Actor, job_id: int) -> IngestJob:
    """A queued job is cancelled at once; a running one is asked to stop, and stops at its
    next progress report (its load is rolled back, no version is recorded)."""
    job = get_job(session, actor, job_id)
    access.require(actor, "lake.load", job)
    if job.finished:
        raise JobFinished(job=job.id, status=job.status)
    if job.status == "queued":
        done = session.execute(
            update(IngestJob)
            .where(IngestJob.id == job.id, IngestJob.status == "queued")
            .values(status="cancelled", finished_at=utcnow(), cancel_requested=True)
            .execution_options(synchronize_session=False)
        )
        if done.rowcount == 1:
            session.refresh(job)
            events.emit(session, JOB_CANCELLED, actor, subject=job, **_facts(job))
            _remove_upload(job)
            return job
    session.execute(
        update(IngestJob)
        .where(IngestJob.id == job.id, IngestJob.status.not_in(FINISHED_STATUSES))
        .values(cancel_requested=True)
        .execution_options(synchronize_session=False)
    )
    session.refresh(job)
    events.emit(session, JOB_CANCEL_REQUESTED, actor, subject=job, **_facts(job))
    return job


# --- running --------------------------------------------------------------------------------


@huey.task()
def run_job(job_id: int) -> str:
    """The worker's entry: run one attempt of a job (a no-op unless it is queued)."""
    return run(get_database(), job_id)


def run(database: Database, job_id: int) -> str:
    """Claim the job, load, and record the outcome. Returns the job's new status."""
    job = _claim(database, job_id)
    if job is None:
        return "skipped"
    actor = job_actor(job)
    progress = _Progress(database, job.id)
    outcome = "failed"
    with database.sessionmaker() as session:
        if database.engine.dialect.name == "sqlite":  # the load writes after reading
            session.connection(execution_options={"sqlite_immediate": True})
        progress.start()
        try:
            result = _load(session, actor, job, progress.report)
            progress.stop()
            outcome = _succeed(session, actor, job, result, progress)
            session.commit()
        except BaseException as error:
            progress.stop()
            if isinstance(error, LongshuError) and session.is_active:
                # the connector rolled its savepoint back and recorded ingest.load_failed
                try:
                    outcome = _fail(session, actor, job, error, progress)
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
    try:
        huey.delete(_progress_key(job.id))
    except Exception:
        log.debug("progress key not removed", exc_info=True)
    if outcome in ("succeeded", "cancelled"):
        _remove_upload(job)
    return outcome


def _claim(database: Database, job_id: int) -> IngestJob | None:
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
        events.emit(session, JOB_STARTED, job_actor(job), subject=job, **_facts(job))
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
    from longshu.ingest import sources

    source = sources.get_source(session, job.source_id)
    return sources.pull(session, actor, source, job, on_progress)


def _succeed(
    session: Session, actor: Actor, job: IngestJob, result: Any, progress: _Progress
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
        from longshu.ingest import sources

        sources.record_pull(session, job.source_id, result)
    events.emit(
        session,
        JOB_SUCCEEDED,
        actor,
        subject=job,
        **_facts(job, version=job.version, version_status=job.version_status, rows=rows),
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


def _fail(
    session: Session, actor: Actor, job: IngestJob, error: BaseException, progress: _Progress
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
        events.emit(session, JOB_CANCELLED, actor, subject=current, **_facts(current))
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
            **_facts(current, error=key, delay_seconds=round(delay, 3)),
        )
        enqueue_after_commit(session, current.id, delay)
        return "queued"
    current.status, current.finished_at = "failed", now
    current.error_key, current.error_params = key, params
    events.emit(session, JOB_FAILED, actor, subject=current, **_facts(current, error=key))
    return "failed"


def _fail_apart(
    database: Database, actor: Actor, job: IngestJob, error: BaseException, progress: _Progress
) -> str:
    with writing(database) as session:
        return _fail(session, actor, job, error, progress)


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


def _remove_upload(job: IngestJob) -> None:
    if job.kind == "upload" and job.file_path:
        folder = Path(job.file_path).parent
        if folder.parent == uploads_root() or folder.parent.resolve() == uploads_root().resolve():
            shutil.rmtree(folder, ignore_errors=True)


class _Progress:
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


def _progress_key(job_id: int) -> str:
    return f"ingest-progress:{job_id}"


def _share(job_id: int, figures: tuple[int, int]) -> None:
    """Also keep the figures in the queue's own store: on SQLite the load's transaction
    holds the database's one write lock until it commits, so readers find them there."""
    try:
        huey.put(_progress_key(job_id), list(figures))
    except Exception:
        log.debug("progress not shared", exc_info=True)


def live_progress(job: IngestJob) -> tuple[int, int]:
    """(rows, bytes) of a job: for a running job the newer of the row's figures and the
    ones its worker shared through the queue's store."""
    rows, size = job.rows or 0, job.bytes or 0
    if job.status != "running":
        return rows, size
    try:
        shared = huey.get(_progress_key(job.id), peek=True)
    except Exception:
        shared = None
    if shared:
        rows, size = max(rows, int(shared[0])), max(size, int(shared[1]))
    return rows, size


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
            progress = _Progress(database, job_id)
            progress.rows, progress.bytes = job.rows, job.bytes
            _fail(session, job_actor(job), job, WorkerLost(job=job_id), progress)
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
