"""Sources (数据源): where a department's data is pulled from, into which lake table, how and
when. Creating, changing and removing a source needs ``lake.manage`` (a source makes the
server reach another system); running one needs ``lake.load`` on its table.

Secret options (passwords, tokens, keys, URLs that carry credentials) are sealed with SM4 under
the data key ``ingest.source``, bound to the source's id; the API shows them as ``"***"`` and
keeps the stored value when that marker comes back.

How each connector pulls is in ``ingest/pulls.py``; this module keeps the sources, their
sealed options and their schedules, and starts the pulls that are due."""

from __future__ import annotations

import base64
import datetime as dt
import json
import re
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from longshu import events
from longshu.actor import Actor
from longshu.db import SHANGHAI, Database, utcnow
from longshu.errors import Conflict, InvalidInput, NotFound
from longshu.ingest.models import CONNECTORS, SCHEDULE_KINDS, IngestJob, IngestSource
from longshu.lake import tables
from longshu.lake.models import LOAD_MODES
from longshu.security import access
from longshu.security.crypto import envelope

SEAL_KEY = "ingest.source"  # data key sealing secret options
REDACTED = "***"
SECRET_WORDS = ("password", "passwd", "secret", "token", "apikey", "api_key", "credential", "auth")
SECRET_NAMES = frozenset({"dsn", "access_key", "private_key", "headers", "cookie"})
CREDENTIAL_URL = re.compile(r"^[a-z][a-z0-9+.-]*://[^/@\s]*:[^/@\s]*@", re.I)
MIN_INTERVAL = 60
SCHEDULER = Actor(kind="system", name="ingest.schedule", roles=frozenset({"system"}))


class IngestSourceNotFound(NotFound):
    key = "ingest.source_missing"
    message = "Source {source} does not exist."


class DuplicateSource(Conflict):
    key = "ingest.duplicate_source"
    message = "This organisation already has a source named {name}."


class InvalidSource(InvalidInput):
    key = "ingest.invalid_source"
    message = "The source is not valid: {detail}"


SOURCE_CREATED = events.define("ingest.source_created", "数据源已创建", "Ingest source created")
SOURCE_UPDATED = events.define("ingest.source_updated", "数据源已修改", "Ingest source changed")
SOURCE_DELETED = events.define("ingest.source_deleted", "数据源已删除", "Ingest source deleted")

# --- options and their secrets ----------------------------------------------------------------


def is_secret(name: str, value: Any) -> bool:
    lowered = name.lower()
    if lowered in SECRET_NAMES or any(word in lowered for word in SECRET_WORDS):
        return True
    return isinstance(value, str) and bool(CREDENTIAL_URL.match(value))


def _seal(source: IngestSource, secrets: dict[str, Any]) -> None:
    if not secrets:
        source.sealed_options = None
        return
    plain = json.dumps(secrets, ensure_ascii=False, sort_keys=True).encode()
    sealed = envelope.encrypt_value(SEAL_KEY, plain, aad=str(source.id).encode())
    source.sealed_options = base64.b64encode(sealed).decode()


def _secrets(source: IngestSource) -> dict[str, Any]:
    if not source.sealed_options:
        return {}
    sealed = base64.b64decode(source.sealed_options)
    opened = envelope.decrypt_value(SEAL_KEY, sealed, aad=str(source.id).encode())
    return dict(json.loads(opened))


def source_options(source: IngestSource) -> dict[str, Any]:
    """Every option of the source, secrets opened (for the connector only)."""
    return {**source.options, **_secrets(source)}


def shown_options(source: IngestSource) -> dict[str, Any]:
    """The options as people see them: secrets replaced by ``"***"``."""
    hidden = dict.fromkeys(_secret_names(source), REDACTED)
    return {**source.options, **hidden}


def _secret_names(source: IngestSource) -> list[str]:
    return sorted(_secrets(source)) if source.sealed_options else []


def _set_options(source: IngestSource, options: dict[str, Any]) -> None:
    """Split ``options`` into plain and sealed halves; ``"***"`` keeps a stored secret."""
    if not isinstance(options, dict) or len(json.dumps(options, default=str)) > 20_000:
        raise InvalidSource(detail="options must be a JSON object under 20,000 characters")
    stored = _secrets(source)
    plain: dict[str, Any] = {}
    secret: dict[str, Any] = {}
    for name, value in options.items():
        name = str(name)[:100]
        if value == REDACTED:
            if name in stored:
                secret[name] = stored[name]
            continue
        (secret if is_secret(name, value) else plain)[name] = value
    source.options = plain
    _seal(source, secret)


# --- schedule ---------------------------------------------------------------------------------

DAILY = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)$")


def _check_schedule(kind: str, interval: int | None, daily_at: str | None) -> None:
    if kind not in SCHEDULE_KINDS:
        raise InvalidSource(detail=f"schedule {kind[:20]!r}")
    if kind == "interval" and (interval is None or interval < MIN_INTERVAL):
        raise InvalidSource(detail=f"an interval of at least {MIN_INTERVAL} seconds")
    if kind == "daily" and not (daily_at and DAILY.match(daily_at)):
        raise InvalidSource(detail="a daily time as HH:MM (Beijing time)")


def next_run(source: IngestSource, after: dt.datetime) -> dt.datetime | None:
    """When the schedule next fires after ``after`` (None: no schedule or disabled)."""
    if not source.enabled or source.schedule_kind == "none":
        return None
    if source.schedule_kind == "interval":
        return after + dt.timedelta(seconds=int(source.interval_seconds or MIN_INTERVAL))
    hour, minute = (int(p) for p in (source.daily_at or "00:00").split(":"))
    local = after.astimezone(SHANGHAI)
    at = local.replace(hour=hour, minute=minute, second=0, microsecond=0)
    if at <= local:
        at += dt.timedelta(days=1)
    return at.astimezone(dt.UTC)


# --- sources ----------------------------------------------------------------------------------


def get_source(session: Session, ref: IngestSource | int | None) -> IngestSource:
    if isinstance(ref, IngestSource):
        return ref
    source = session.get(IngestSource, ref) if ref is not None else None
    if source is None:
        raise IngestSourceNotFound(source=ref)
    return source


def visible_source(session: Session, actor: Actor, source_id: int) -> IngestSource:
    """A source the actor may see (their organisation's), else not found."""
    source = session.get(IngestSource, source_id)
    if source is None or not access.decide(actor, "lake.load", source):
        raise IngestSourceNotFound(source=source_id)
    return source


def list_sources(session: Session, actor: Actor) -> list[IngestSource]:
    access.require(actor, "lake.load")
    query = select(IngestSource).order_by(IngestSource.org_id, IngestSource.name)
    if not access.decide(actor, "lake.manage"):
        query = query.where(IngestSource.org_id == actor.org_id)
    return list(session.scalars(query))


def create_source(
    session: Session,
    actor: Actor,
    *,
    name: str,
    connector: str,
    table: int | str,
    options: dict[str, Any] | None = None,
    mode: str = "snapshot",
    key_columns: list[str] | None = None,
    schedule_kind: str = "none",
    interval_seconds: int | None = None,
    daily_at: str | None = None,
    enabled: bool = True,
    org_id: int | None = None,
) -> IngestSource:
    """Register a source of the table's organisation (or ``org_id``)."""
    access.require(actor, "lake.manage")
    target = tables.get_table(session, table)
    source = IngestSource(
        name=_name(name),
        org_id=org_id if org_id is not None else target.owner_org_id,
        connector=connector,
        options={},
        table_id=target.id,
        mode=mode,
        key_columns=list(key_columns or []),
        schedule_kind=schedule_kind,
        interval_seconds=interval_seconds,
        daily_at=daily_at,
        enabled=enabled,
        created_by=actor.id,
    )
    _check(source)
    _unique(session, source)
    session.add(source)
    session.flush()  # the sealed options are bound to the id
    _set_options(source, options or {})
    source.next_run_at = next_run(source, utcnow())
    events.emit(session, SOURCE_CREATED, actor, subject=source, **_facts(source, target.name))
    return source


EDITABLE = (
    "name",
    "options",
    "mode",
    "key_columns",
    "schedule_kind",
    "interval_seconds",
    "daily_at",
    "enabled",
)


def update_source(session: Session, actor: Actor, source_id: int, **changes: Any) -> IngestSource:
    access.require(actor, "lake.manage")
    source = get_source(session, source_id)
    unknown = set(changes) - set(EDITABLE)
    if unknown:
        raise InvalidSource(detail=f"not editable: {', '.join(sorted(unknown))}")
    for name, value in changes.items():
        if name == "options":
            _set_options(source, value or {})
        elif name == "name":
            source.name = _name(value)
        elif name == "key_columns":
            source.key_columns = list(value or [])
        else:
            setattr(source, name, value)
    _check(source)
    if "name" in changes:
        _unique(session, source)
    if {"schedule_kind", "interval_seconds", "daily_at", "enabled"} & set(changes):
        source.next_run_at = next_run(source, utcnow())
    table = tables.get_table(session, source.table_id)
    events.emit(
        session,
        SOURCE_UPDATED,
        actor,
        subject=source,
        changed=sorted(changes),
        **_facts(source, table.name),
    )
    return source


def delete_source(session: Session, actor: Actor, source_id: int) -> None:
    """Remove a source; its past jobs stay (without the link)."""
    access.require(actor, "lake.manage")
    source = get_source(session, source_id)
    busy = session.scalar(
        select(IngestJob.id).where(
            IngestJob.source_id == source.id, IngestJob.status.in_(("queued", "running"))
        )
    )
    if busy is not None:
        raise Conflict(detail=f"job {busy} of this source has not finished")
    facts = _facts(source, None)
    session.execute(
        update(IngestJob)
        .where(IngestJob.source_id == source.id)
        .values(source_id=None)
        .execution_options(synchronize_session=False)
    )
    events.emit(session, SOURCE_DELETED, actor, subject=source, **facts)
    session.delete(source)


def _name(value: str) -> str:
    name = " ".join(str(value or "").split())
    if not name or len(name) > 100:
        raise InvalidSource(detail="a name of 1 to 100 characters")
    return name


def _check(source: IngestSource) -> None:
    if source.connector not in CONNECTORS:
        raise InvalidSource(detail=f"connector {str(source.connector)[:20]!r}")
    if source.mode not in LOAD_MODES:
        raise InvalidSource(detail=f"load mode {str(source.mode)[:20]!r}")
    if source.mode == "upsert" and not source.key_columns:
        source.key_columns = []  # the table's key columns are used
    _check_schedule(source.schedule_kind, source.interval_seconds, source.daily_at)


def _unique(session: Session, source: IngestSource) -> None:
    clash = session.scalar(
        select(IngestSource.id).where(
            IngestSource.org_id == source.org_id,
            IngestSource.name == source.name,
            IngestSource.id != (source.id or 0),
        )
    )
    if clash is not None:
        raise DuplicateSource(name=source.name)


def _facts(source: IngestSource, table: str | None) -> dict[str, Any]:
    return {
        "source": source.id,
        "name": source.name,
        "connector": source.connector,
        "table_id": source.table_id,
        "table": table,
        "org_id": source.org_id,
        "mode": source.mode,
        "schedule": source.schedule_kind,
        "enabled": source.enabled,
        "option_names": sorted(source.options) + _secret_names(source),
    }


def enqueue_due(database: Database, now: dt.datetime | None = None) -> list[int]:
    """Start a pull of every enabled source whose next run has come, unless one of its
    jobs is still queued or running; move its next run on. Returns the new job ids."""
    from longshu.ingest import jobs

    now = now or utcnow()
    with database.session() as session:
        due = list(
            session.scalars(
                select(IngestSource.id).where(
                    IngestSource.enabled.is_(True),
                    IngestSource.next_run_at.is_not(None),
                    IngestSource.next_run_at <= now,
                )
            )
        )
    started = []
    for source_id in due:
        with jobs.writing(database) as session:
            source = session.get(IngestSource, source_id)
            if source is None or source.next_run_at is None or source.next_run_at > now:
                continue
            moved = session.execute(
                update(IngestSource)
                .where(IngestSource.id == source.id, IngestSource.next_run_at == source.next_run_at)
                .values(next_run_at=next_run(source, now))
                .execution_options(synchronize_session=False)
            )
            if moved.rowcount != 1:
                continue  # another worker took this run
            busy = session.scalar(
                select(IngestJob.id).where(
                    IngestJob.source_id == source.id,
                    IngestJob.status.in_(("queued", "running")),
                )
            )
            if busy is None:
                job = jobs.submit_pull(session, SCHEDULER, source, scheduled=True)
                started.append(job.id)
    return started
