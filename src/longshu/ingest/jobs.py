"""Load jobs (入湖任务): an uploaded file or one pull of a source, run by the huey worker.

    job = jobs.submit_upload(session, actor, "population", stream, "人口.csv")
    job = jobs.submit_pull(session, actor, source_id)
    jobs.cancel(session, actor, job.id)

Submitting records an ``IngestJob`` (``queued``) and, once the caller's transaction commits,
enqueues ``runner.run_job`` (``ingest/runner.py`` is the worker's side). The worker claims the job, runs the load through the connectors
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

import logging
import shutil
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path
from typing import IO, Any

from pydantic_settings import BaseSettings, SettingsConfigDict
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from longshu import events
from longshu.actor import Actor
from longshu.config import get_settings
from longshu.db import Database, utcnow
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

    # through the web an upload also passes the request body limit (LONGSHU_MAX_BODY_BYTES)
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


class NothingNew(LongshuError):
    key = "ingest.nothing_new"
    message = "The source has nothing new since its last pull."


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


def upload_limit() -> int:
    """The largest file an upload through the web may bring: the ingest limit, or the
    request body limit if smaller (the HTTP layer refuses larger bodies before we see them)."""
    return min(job_settings().max_upload_bytes, get_settings().max_body_bytes)


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


# what a submitter may tell the reader; the safety limits (max_bytes, max_field,
# max_unzipped_bytes, batch_rows) stay the platform's
READER_OPTIONS = frozenset(
    {"encoding", "delimiter", "header", "sheet", "header_row", "text_columns"}
)


def _check_load(mode: str, fmt: str, options: dict[str, Any] | None = None) -> None:
    refused = sorted(set(options or {}) - READER_OPTIONS)
    if refused:
        raise InvalidJob(detail=f"reader options not accepted: {', '.join(refused)[:200]}")
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
    _check_load(mode, format, options)
    load_id = uuid.uuid4().hex
    path, size = save_upload(stream, filename, load_id, job_settings().max_upload_bytes)
    session.info.setdefault(_UPLOADS, []).append(path.parent)
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
    events.emit(session, JOB_QUEUED, actor, subject=job, **job_facts(job, table))
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


def job_facts(job: IngestJob, table: LakeTable | None = None, **extra: Any) -> dict[str, Any]:
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
_UPLOADS = "longshu_ingest_uploads"


def enqueue_after_commit(session: Session, job_id: int, delay: float = 0) -> None:
    """Hand the job to the worker once the session's outermost transaction commits (a
    worker that started earlier would not see the row); a rollback forgets it."""
    pending = session.info.setdefault(_PENDING, [])
    pending.append((job_id, delay))


def _release(session: Session, transaction: Any) -> None:
    if transaction.parent is not None or transaction.nested:
        return
    session.info.pop(_UPLOADS, None)  # committed or already removed by the rollback
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
        for folder in session.info.pop(_UPLOADS, []):  # the job row is gone: so is its file
            shutil.rmtree(folder, ignore_errors=True)


from sqlalchemy import event as _sa_event  # noqa: E402 — listeners after their functions

_sa_event.listen(Session, "after_commit", _committed)
_sa_event.listen(Session, "after_transaction_end", _release)
_sa_event.listen(Session, "after_rollback", _rolled_back)


def enqueue(job_id: int, delay: float = 0) -> None:
    from longshu.ingest.runner import run_job  # the worker's side of the module pair

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
            events.emit(session, JOB_CANCELLED, actor, subject=job, **job_facts(job))
            remove_upload(job)
            return job
    session.execute(
        update(IngestJob)
        .where(IngestJob.id == job.id, IngestJob.status.not_in(FINISHED_STATUSES))
        .values(cancel_requested=True)
        .execution_options(synchronize_session=False)
    )
    session.refresh(job)
    events.emit(session, JOB_CANCEL_REQUESTED, actor, subject=job, **job_facts(job))
    return job


# --- progress and uploads ---------------------------------------------------------------------


def remove_upload(job: IngestJob) -> None:
    if job.kind == "upload" and job.file_path:
        folder = Path(job.file_path).parent
        if folder.parent == uploads_root() or folder.parent.resolve() == uploads_root().resolve():
            shutil.rmtree(folder, ignore_errors=True)


def progress_key(job_id: int) -> str:
    return f"ingest-progress:{job_id}"


def live_progress(job: IngestJob) -> tuple[int, int, int | None]:
    """(rows, bytes, percent) of a job: for a running job the newer of the row's figures
    and the ones its worker shared through the queue's store; the percentage of the file
    read (None when its size is unknown; 99 at most until the version is recorded)."""
    rows, size = job.rows or 0, job.bytes or 0
    if job.status != "running":
        return rows, size, job.percent
    try:
        shared = huey.get(progress_key(job.id), peek=True)
    except Exception:
        shared = None
    if shared:
        rows, size = max(rows, int(shared[0])), max(size, int(shared[1]))
    percent = min(99, int(size * 100 / job.total_bytes)) if job.total_bytes else None
    return rows, size, percent
