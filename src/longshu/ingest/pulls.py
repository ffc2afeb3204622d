"""Pulling a source (拉取): one version loaded from the system a source names, in the job's
transaction, through ``ingest.service`` (``load_file`` / ``load_source``).

Built in: ``file`` (a file in the source drop folder ``<var>/ingest/sources/``), ``sql``
(``ingest.sqlsource.read_sql``; with a ``watermark`` column only the rows after the last pull's
newest value) and ``http`` (``ingest.httpsource.read_http``). Other connectors register how
they pull: ``register_connector("mqtt", pull)``, where ``pull(session, actor, source, job,
options, on_progress)`` loads one version and returns the connector's result (``version``,
``status``, ``rows`` and, optionally, ``watermark`` or ``details["until"]``).

Streams are different: ``mqtt`` collects for a bounded run and lands each micro-batch as its
own version in its own transaction (committed before the broker is acknowledged), so the
worker runs it outside the job's transaction (``collect``); the job then records the last
version and the rows landed."""

from __future__ import annotations

import inspect
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from longshu.actor import Actor
from longshu.config import get_settings
from longshu.db import utcnow
from longshu.ingest.models import CONNECTORS, IngestJob, IngestSource
from longshu.ingest.sources import InvalidSource, source_options

Puller = Callable[..., Any]
PULLERS: dict[str, Puller] = {}


def register_connector(kind: str, pull: Puller) -> None:
    """Declare how sources of ``kind`` are pulled (each connector module calls this)."""
    if kind not in CONNECTORS:
        raise ValueError(f"unknown connector kind {kind}")
    PULLERS[kind] = pull


# --- pulling ----------------------------------------------------------------------------------


def drop_folder() -> Path:
    return get_settings().var_dir / "ingest" / "sources"


@dataclass
class StreamResult:
    """What a streaming pull did: its micro-batches are versions committed as they landed."""

    version: int | None
    status: str | None
    rows: int
    bytes: int = 0
    details: dict[str, Any] = field(default_factory=dict)


def streams(source: IngestSource) -> bool:
    """Does the source's connector commit its own versions (micro-batches of a stream)?"""
    return source.connector in STREAMING


def collect(
    database: Any,
    actor: Actor,
    source: IngestSource,
    job: IngestJob,
    on_progress: Callable[[int, int], None],
) -> StreamResult:
    """One bounded run of a stream: each micro-batch lands as its own version, committed in
    its own transaction before the broker is acknowledged (``ingest.mqtt``)."""
    return STREAMING[source.connector](
        database, actor, source, job, source_options(source), on_progress
    )


def _collect_mqtt(
    database: Any,
    actor: Actor,
    source: IngestSource,
    job: IngestJob,
    options: dict[str, Any],
    on_progress: Callable[[int, int], None],
) -> StreamResult:
    from longshu.ingest import mqtt

    report = mqtt.collect_with_options(
        database.sessionmaker,
        actor,
        source.table_id,
        options,
        on_progress=lambda r: on_progress(r.landed, r.received),
    )
    return StreamResult(
        version=report.versions[-1] if report.versions else None,
        status="ready" if report.versions else None,
        rows=report.landed,
        details={
            "received": report.received,
            "rejected": report.rejected,
            "batches": report.batches,
        },
    )


STREAMING: dict[str, Callable[..., StreamResult]] = {"mqtt": _collect_mqtt}


def pull(
    session: Session,
    actor: Actor,
    source: IngestSource,
    job: IngestJob,
    on_progress: Callable[[int, int], None],
) -> Any:
    """Load one version from the source (in the caller's transaction)."""
    options = source_options(source)
    puller = PULLERS.get(source.connector) or BUILT_IN.get(source.connector)
    if puller is None:
        from longshu.ingest.jobs import ConnectorUnavailable

        raise ConnectorUnavailable(connector=source.connector)
    return puller(session, actor, source, job, options, on_progress)


def _load(
    session: Session,
    actor: Actor,
    source: IngestSource,
    job: IngestJob,
    read: Callable[[], Any],
    on_progress: Callable[[int, int], None],
) -> Any:
    from longshu.ingest import service

    return service.load_source(
        session,
        actor,
        source.table_id,
        read,
        label=source.name,
        mode=job.mode,
        key_columns=job.key_columns or None,
        load_id=job.load_id,
        on_progress=on_progress,
    )


def _accepted(function: Callable[..., Any], options: dict[str, Any], *skip: str) -> None:
    known = set(inspect.signature(function).parameters) - set(skip)
    unknown = sorted(set(options) - known)
    if unknown:
        raise InvalidSource(detail=f"unknown options: {', '.join(unknown)}")


def _pull_sql(
    session: Session,
    actor: Actor,
    source: IngestSource,
    job: IngestJob,
    options: dict[str, Any],
    on_progress: Callable[[int, int], None],
) -> Any:
    """A table or query of a department's database; with a ``watermark`` column only the
    rows after the last pull's newest value (kept on the source)."""
    from longshu.ingest.sqlsource import read_sql

    url = str(options.pop("url", ""))
    _accepted(read_sql, options, "url", "since")
    since = source.watermark if options.get("watermark") else None
    if since is None:
        return _load(
            session, actor, source, job, lambda: read_sql(url, since=None, **options), on_progress
        )
    # an incremental pull counts first: no new rows is no new version (not an empty one)
    newer = read_sql(url, since=since, **options)
    if newer.rows == 0:
        from longshu.ingest.jobs import NothingNew

        raise NothingNew()
    return _load(session, actor, source, job, lambda: newer, on_progress)


def _pull_http(
    session: Session,
    actor: Actor,
    source: IngestSource,
    job: IngestJob,
    options: dict[str, Any],
    on_progress: Callable[[int, int], None],
) -> Any:
    """A JSON API, page by page (``paging`` and ``auth`` as objects of their fields)."""
    from longshu.ingest.httpsource import Auth, Paging, read_http

    url = str(options.pop("url", ""))
    _accepted(read_http, options, "url")
    try:
        if isinstance(options.get("paging"), dict):
            options["paging"] = Paging(**options["paging"])
        if isinstance(options.get("auth"), dict):
            options["auth"] = Auth(**options["auth"])
    except TypeError as exc:
        raise InvalidSource(detail=str(exc)[:200]) from None
    return _load(session, actor, source, job, lambda: read_http(url, **options), on_progress)


def _pull_file(
    session: Session,
    actor: Actor,
    source: IngestSource,
    job: IngestJob,
    options: dict[str, Any],
    on_progress: Callable[[int, int], None],
) -> Any:
    path = _inside_drop_folder(str(options.pop("path", "")))
    fmt = str(options.pop("format", "auto"))
    from longshu.ingest import service

    return service.load_file(
        session,
        actor,
        source.table_id,
        path,
        format=fmt,
        mode=job.mode,
        key_columns=job.key_columns or None,
        options=options,
        load_id=job.load_id,
        on_progress=on_progress,
    )


def _pull_media(
    session: Session,
    actor: Actor,
    source: IngestSource,
    job: IngestJob,
    options: dict[str, Any],
    on_progress: Callable[[int, int], None],
) -> Any:
    """Documents, images, audio and video in a folder of the drop folder, into a collection
    table; by default only files changed since the last pull (their newest modification
    time is the watermark)."""
    import datetime as dt

    from longshu.ingest import media

    folder = _inside_drop_folder(str(options.pop("folder", "")))
    pattern = str(options.pop("pattern", "*"))
    new_only = bool(options.pop("new_only", True))
    _accepted(media.load_collection, options, "session", "actor", "table_ref", "files")
    since = dt.datetime.fromisoformat(source.watermark) if new_only and source.watermark else None
    found = []
    for path in sorted(folder.glob(pattern)):
        if path.is_file():
            changed = dt.datetime.fromtimestamp(path.stat().st_mtime, dt.UTC)
            if since is None or changed > since:
                found.append((path, changed))
    if not found:
        from longshu.ingest.jobs import NothingNew

        raise NothingNew()
    loaded = media.load_collection(
        session,
        actor,
        source.table_id,
        [path for path, _ in found],
        mode=job.mode,
        key_columns=job.key_columns or None,
        load_id=job.load_id,
        on_progress=on_progress,
        **options,
    )
    result = loaded.load
    result.details["watermark"] = max(changed for _, changed in found).isoformat()
    return result


def _inside_drop_folder(relative: str) -> Path:
    root = drop_folder().resolve()
    path = (root / relative).resolve()
    if root not in path.parents and path != root:
        raise InvalidSource(detail="the path must be inside the source drop folder")
    return path


BUILT_IN: dict[str, Puller] = {
    "file": _pull_file,
    "sql": _pull_sql,
    "http": _pull_http,
    "media": _pull_media,
}


def record_pull(session: Session, source_id: int, result: Any) -> None:
    """After a successful pull: when it ran, and how far it read."""
    source = session.get(IngestSource, source_id)
    if source is None:
        return
    source.last_run_at = utcnow()
    watermark = getattr(result, "watermark", None)
    if watermark is None:
        details = getattr(result, "details", None) or {}
        watermark = details.get("watermark", details.get("until"))
    if watermark is not None:
        source.watermark = str(watermark)[:400]
