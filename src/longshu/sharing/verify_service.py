"""The verification service (核验): set up a resource's verification, build its index for a
table version (and again for every new version), and answer checks within a grant.

- **Setup** (``configure``): the providing department says which table of its resource is
  verified, as which kind (resident / enterprise / licence) and which columns are the key and
  the attribute; ``propose`` suggests them from the latest governance scan (``resident_id`` +
  ``person_name`` findings; a ``credit_code`` finding + a field named like 企业名称).
- **Build** (``build``): one ``VerifyIndexRecord`` per build, ``building`` → ``ready``; the
  resource's previous ready index is then ``retired`` and its file removed after the commit.
  ``version_loaded`` (subscriber of ``lake.version_loaded``) rebuilds every set-up resource of
  the loaded table: in the huey worker when events go through huey, after the load's commit
  otherwise — like governance's pipeline. Until the new index is built the old one serves.
- **Serving** (``verify``): the grant's holder, the ``verify`` mode, a valid grant, the rate
  limits and the enumeration guard (``ratelimit``); then the index, loaded once per process
  and kept (memory-mapped). Nothing is written to the database on this path: every call is
  counted in memory (``USAGE``) and flushed every ``LONGSHU_SHARING_USAGE_FLUSH_SECONDS`` (5)
  as one ``sharing.verify_usage`` event per grant and window plus the grant's ``GrantUsage``
  counters of the day."""

from __future__ import annotations

import atexit
import logging
import multiprocessing.util
import re
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import event as sa_event
from sqlalchemy import select
from sqlalchemy.orm import Session

from longshu import events
from longshu.actor import SYSTEM, Actor
from longshu.catalog.models import Resource
from longshu.db import get_database, utcnow
from longshu.errors import LongshuError
from longshu.events import Event
from longshu.governance import scans
from longshu.lake import tables
from longshu.security import access
from longshu.sharing import ratelimit
from longshu.sharing import requests as share_requests
from longshu.sharing.errors import GrantNotFound, ModeNotGranted
from longshu.sharing.grants import lake_grant
from longshu.sharing.models import ShareGrant
from longshu.sharing.query import add_usage
from longshu.sharing.verify_api_errors import (
    BatchTooLarge,
    NotGrantHolder,
    Throttled,
    VerifyColumnsNotGranted,
    VerifyNotReady,
    VerifyRegionScoped,
    VerifyResourceNotFound,
    VerifySetupInvalid,
    VerifySetupNotFound,
)
from longshu.sharing.verify_errors import IndexNotFound
from longshu.sharing.verify_index import VerifyIndex, build_index
from longshu.sharing.verify_keys import KINDS
from longshu.sharing.verify_models import VerifyIndexRecord, VerifySetup

log = logging.getLogger("longshu.sharing.verify")

MAX_BATCH = 1000
CURRENT_TTL_SECONDS = 2.0  # how long a process trusts its idea of a resource's ready index

SETUP = events.define("sharing.verify_setup", "核验已配置", "Verification set up")
BUILT = events.define("sharing.verify_index_built", "核验索引已构建", "Verification index built")
BUILD_FAILED = events.define(
    "sharing.verify_index_failed", "核验索引构建失败", "Verification index build failed"
)
RETIRED = events.define(
    "sharing.verify_index_retired", "核验索引已停用", "Verification index retired"
)
USED = events.define("sharing.verify_usage", "核验调用计量", "Verification use")

ENTERPRISE_NAME = re.compile(
    r"(企业|单位|机构|主体|公司).{0,4}名称|^(qymc|dwmc|jgmc|ztmc|company_?name|org_?name|enterprise_?name)$",
    re.I,
)


# --- setup -------------------------------------------------------------------------------------


def _resource_table(session: Session, resource_id: int) -> tuple[Resource, str]:
    resource = session.get(Resource, resource_id)
    found = tables.tables_for_resource(session, resource_id) if resource else []
    if resource is None or not found:
        raise VerifyResourceNotFound(resource=resource_id)
    return resource, found[0].name


def propose(session: Session, resource_id: int) -> dict[str, Any] | None:
    """The kind and columns the latest scan suggests, or None when it suggests nothing."""
    resource, table = _resource_table(session, resource_id)
    scan = scans.latest_scan(session, table)
    best: dict[str, tuple[float, str]] = {}
    for finding in scan.findings if scan else []:
        if finding.type in ("resident_id", "person_name", "credit_code"):
            held = best.get(finding.type)
            if held is None or finding.confidence > held[0]:
                best[finding.type] = (finding.confidence, finding.column)
    if "resident_id" in best and "person_name" in best:
        return {"table": table, "kind": "resident", "key_column": best["resident_id"][1],
                "attribute_column": best["person_name"][1], "source": "scan"}  # fmt: skip
    if "credit_code" in best:
        for item in resource.fields:
            if ENTERPRISE_NAME.search(item.label or "") or ENTERPRISE_NAME.search(item.name):
                return {"table": table, "kind": "enterprise",
                        "key_column": best["credit_code"][1], "attribute_column": item.name,
                        "source": "scan"}  # fmt: skip
    return None


def get_setup(session: Session, resource_id: int) -> VerifySetup | None:
    return session.scalar(select(VerifySetup).where(VerifySetup.resource_id == resource_id))


def setup_and_proposal(
    session: Session, actor: Actor, resource_id: int
) -> tuple[VerifySetup | None, dict[str, Any] | None]:
    """The resource's setup (None if not set up) and the scan's proposal, for its provider."""
    resource, _ = _resource_table(session, resource_id)
    access.require(actor, "sharing.review", resource)
    return get_setup(session, resource_id), propose(session, resource_id)


def configure(
    session: Session,
    actor: Actor,
    resource_id: int,
    *,
    kind: str | None = None,
    key_column: str | None = None,
    attribute_column: str | None = None,
    region_column: str | None = None,
) -> VerifySetup:
    """Set up (or change) a resource's verification; the providing department (or the
    bureau) only. Columns left out are taken from ``propose``; the region column (kept per
    record, so grants limited to regions can verify) from the resource's 行政区划 field.
    Builds nothing: ``build``."""
    resource, table = _resource_table(session, resource_id)
    access.require(actor, "sharing.review", resource)
    proposal = propose(session, resource_id) or {}
    kind = kind or proposal.get("kind")
    key_column = key_column or proposal.get("key_column")
    attribute_column = attribute_column or proposal.get("attribute_column")
    if kind not in KINDS:
        raise VerifySetupInvalid(detail=f"kind is one of {', '.join(KINDS)}")
    if not key_column or not attribute_column:
        raise VerifySetupInvalid(
            detail="name the key and attribute columns (no scan proposes them)"
        )
    names = {item.name for item in resource.fields}
    unknown = sorted({key_column, attribute_column} - names)
    if unknown or key_column == attribute_column:
        raise VerifySetupInvalid(
            detail="the key and attribute are two different fields of the resource"
        )
    region_column = region_column or share_requests.region_column(resource)
    if region_column is not None and (
        region_column not in names or region_column in (key_column, attribute_column)
    ):
        raise VerifySetupInvalid(detail="the region column is another field of the resource")
    setup = get_setup(session, resource_id)
    if setup is None:
        setup = VerifySetup(resource_id=resource_id, provider_org_id=resource.provider_org_id)
        session.add(setup)
    setup.table_name, setup.kind = table, kind
    setup.key_column, setup.attribute_column = key_column, attribute_column
    setup.region_column = region_column
    setup.configured_by, setup.updated_at = actor.id, utcnow()
    session.flush()
    events.emit(
        session, SETUP, actor, subject=setup, resource_id=resource_id, table=table, kind=kind,
        key_column=key_column, attribute_column=attribute_column, region_column=region_column,
    )  # fmt: skip
    return setup


# --- building ----------------------------------------------------------------------------------


def build(
    session: Session, actor: Actor, resource_id: int, version: int | None = None
) -> VerifyIndexRecord:
    """Build the index of the resource's table at ``version`` (None: the newest) now."""
    resource, _ = _resource_table(session, resource_id)
    access.require(actor, "sharing.review", resource)
    setup = get_setup(session, resource_id)
    if setup is None:
        raise VerifySetupNotFound(resource=resource_id)
    return build_for(session, actor, setup, version)


def build_for(
    session: Session, actor: Actor, setup: VerifySetup, version: int | None
) -> VerifyIndexRecord:
    """Build one index; on success it becomes the resource's ready index and the previous
    one is retired (file removed after commit). A failure is recorded, not raised."""
    table = tables.get_table(session, setup.table_name)
    number = tables.readable_version(session, table, version).number
    record = VerifyIndexRecord(
        setup_id=setup.id, resource_id=setup.resource_id, table_name=setup.table_name,
        version=number, kind=setup.kind, key_column=setup.key_column,
        attribute_column=setup.attribute_column, region_column=setup.region_column,
        status="building",
    )  # fmt: skip
    session.add(record)
    session.flush()
    savepoint = session.begin_nested()
    try:
        # the platform reads the two columns under its own build grant (lake.access);
        # who asked for the build is the actor of sharing.verify_index_built
        index = build_index(
            session, SYSTEM, setup.table_name, version=number, kind=setup.kind,
            key_column=setup.key_column, attribute_column=setup.attribute_column,
            region_column=setup.region_column,
        )  # fmt: skip
    except Exception as exc:  # odd data must not stall the event queue
        savepoint.rollback()
        record.status = "failed"
        record.error = exc.key if isinstance(exc, LongshuError) else "internal"
        if not isinstance(exc, LongshuError):
            log.exception("verification index build crashed", extra={"table": setup.table_name})
        events.emit(
            session, BUILD_FAILED, actor, subject=record, resource_id=setup.resource_id,
            table=setup.table_name, version=number, error=record.error,
        )  # fmt: skip
        return record
    savepoint.commit()
    facts = index.facts
    record.index_id, record.path = facts["index_id"], facts["path"]
    record.records, record.bytes = facts["records"], facts["bytes"]
    record.skipped_malformed = facts["skipped_malformed"]
    record.build_seconds = facts["build_seconds"]
    record.status, record.built_at = "ready", utcnow()
    _CACHE.keep(index)
    previous = session.scalars(
        select(VerifyIndexRecord).where(
            VerifyIndexRecord.resource_id == setup.resource_id,
            VerifyIndexRecord.status == "ready",
            VerifyIndexRecord.id != record.id,
        )
    ).all()
    for old in previous:
        old.status, old.retired_at = "retired", utcnow()
        if old.path and old.path != record.path:
            _remove_after_commit(session, old.path)
        events.emit(
            session, RETIRED, actor, subject=old, resource_id=old.resource_id,
            version=old.version, replaced_by=record.id,
        )  # fmt: skip
    events.emit(
        session, BUILT, actor, subject=record, resource_id=setup.resource_id,
        table=setup.table_name, version=number, kind=setup.kind, records=record.records,
        bytes=record.bytes, skipped_malformed=record.skipped_malformed,
        build_seconds=record.build_seconds,
    )  # fmt: skip
    return record


def _remove_after_commit(session: Session, path: str) -> None:
    """Remove a retired index file once the switch is committed (a process that still has it
    memory-mapped keeps reading it until it notices the switch)."""
    pending = session.info.setdefault("verify_retired_files", [])
    pending.append(path)
    if len(pending) == 1:

        def remove(committed: Session) -> None:
            for name in committed.info.pop("verify_retired_files", []):
                Path(name).unlink(missing_ok=True)
                _CACHE.forget(name)

        def forget(rolled_back: Session) -> None:
            rolled_back.info.pop("verify_retired_files", None)

        sa_event.listen(session, "after_commit", remove, once=True)
        sa_event.listen(session, "after_soft_rollback", lambda s, _t: forget(s), once=True)


def indexes(
    session: Session, actor: Actor, resource_id: int | None = None
) -> list[VerifyIndexRecord]:
    """Index records the actor's department provides (all of them for the bureau)."""
    query = select(VerifyIndexRecord).join(
        VerifySetup, VerifySetup.id == VerifyIndexRecord.setup_id
    )
    if resource_id is not None:
        query = query.where(VerifyIndexRecord.resource_id == resource_id)
    if not actor.has_role("platform_admin", "bureau_reviewer") and actor.kind != "system":
        query = query.where(VerifySetup.provider_org_id == actor.org_id)
    return list(session.scalars(query.order_by(VerifyIndexRecord.id.desc()).limit(500)))


@events.subscribe("lake.version_loaded", name="sharing.verify_indexes")
def version_loaded(session: Session, event: Event) -> None:
    """A new version of a set-up table: build its index (the old one serves meanwhile)."""
    table, number = event.payload.get("table"), event.payload.get("version")
    if not isinstance(table, str) or not isinstance(number, int):
        return
    if event.payload.get("status") not in (None, "ready"):
        return
    for setup in session.scalars(select(VerifySetup).where(VerifySetup.table_name == table)):
        if _ready_for(session, setup, number):
            continue  # built already (by hand, before this event was delivered): not twice
        build_for(session, SYSTEM, setup, number)


def _ready_for(session: Session, setup: VerifySetup, version: int) -> bool:
    """Whether the setup has a ready index of ``version`` over its current columns."""
    found = session.scalar(
        select(VerifyIndexRecord.id)
        .where(
            VerifyIndexRecord.setup_id == setup.id,
            VerifyIndexRecord.version == version,
            VerifyIndexRecord.status == "ready",
            VerifyIndexRecord.kind == setup.kind,
            VerifyIndexRecord.key_column == setup.key_column,
            VerifyIndexRecord.attribute_column == setup.attribute_column,
            VerifyIndexRecord.region_column.is_not_distinct_from(setup.region_column),
        )
        .limit(1)
    )
    return found is not None


# --- serving -----------------------------------------------------------------------------------


@dataclass
class _Current:
    expires: float
    record_id: int
    path: str
    key_column: str
    attribute_column: str


class IndexCache:
    """Loaded indexes by file (memory-mapped, loaded once per process) and, per resource,
    which record is ready (re-read from the database every ``CURRENT_TTL_SECONDS``)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._loaded: dict[str, VerifyIndex] = {}
        self._current: dict[int, _Current] = {}

    def keep(self, index: VerifyIndex) -> None:
        with self._lock:
            self._loaded[str(index.path)] = index

    def forget(self, path: str) -> None:
        with self._lock:
            self._loaded.pop(path, None)
            self._current = {k: v for k, v in self._current.items() if v.path != path}

    def clear(self) -> None:
        with self._lock:
            self._loaded.clear()
            self._current.clear()

    def current(self, session: Session, resource_id: int, *, fresh: bool = False) -> _Current:
        now = time.monotonic()
        found = self._current.get(resource_id)
        if found is None or fresh or found.expires <= now:
            record = session.scalars(
                select(VerifyIndexRecord)
                .where(
                    VerifyIndexRecord.resource_id == resource_id,
                    VerifyIndexRecord.status == "ready",
                )
                .order_by(VerifyIndexRecord.id.desc())
                .limit(1)
            ).first()
            if record is None or not record.path:
                self._current.pop(resource_id, None)
                raise VerifyNotReady(resource=resource_id)
            found = _Current(
                now + CURRENT_TTL_SECONDS, record.id, record.path, record.key_column,
                record.attribute_column,
            )  # fmt: skip
            self._current[resource_id] = found
        return found

    def ready(self, resource_id: int) -> tuple[VerifyIndex, _Current] | None:
        """The resource's ready index if this process knows it (not expired) and has it
        loaded; None otherwise. Reads no database (``verify_fast``)."""
        found = self._current.get(resource_id)
        if found is None or found.expires <= time.monotonic():
            return None
        index = self._loaded.get(found.path)
        return None if index is None else (index, found)

    def index(self, path: str) -> VerifyIndex:
        found = self._loaded.get(path)
        if found is None:
            with self._lock:
                found = self._loaded.get(path)
                if found is None:
                    found = VerifyIndex.load(path)
                    # a file replaced in place (the same version rebuilt) is loaded anew
                    self._loaded = {p: i for p, i in self._loaded.items() if Path(p).exists()}
                    self._loaded[path] = found
        return found


_CACHE = IndexCache()


def serving_index(session: Session, resource_id: int) -> tuple[VerifyIndex, _Current]:
    """The resource's ready index; reloads once if a rebuild removed the file it knew."""
    current = _CACHE.current(session, resource_id)
    try:
        return _CACHE.index(current.path), current
    except IndexNotFound:
        _CACHE.forget(current.path)
        current = _CACHE.current(session, resource_id, fresh=True)
        return _CACHE.index(current.path), current


@dataclass
class _Use:
    calls: int = 0
    checks: int = 0
    answers: dict[str, int] = field(default_factory=lambda: dict.fromkeys(ANSWERS, 0))
    credentials: dict[str, int] = field(default_factory=dict)
    first: float = 0.0
    last: float = 0.0


ANSWERS = ("match", "no_match", "not_found")


class UsageMeter:
    """Every verification call counted in memory; ``flush`` writes them (see module doc)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._flush_lock = threading.Lock()
        self._uses: dict[int, _Use] = {}
        self._thread: threading.Thread | None = None

    def record(self, grant_id: int, actor: Actor, answers: Sequence[str]) -> None:
        now = time.time()
        with self._lock:
            use = self._uses.get(grant_id)
            if use is None:
                use = self._uses[grant_id] = _Use(first=now)
            use.calls += 1
            use.checks += len(answers)
            use.last = now
            for answer in answers:
                use.answers[answer] += 1
            credential = ratelimit.credential_of(actor)
            use.credentials[credential] = use.credentials.get(credential, 0) + 1
        self._ensure_thread()

    def pending(self) -> dict[int, _Use]:
        with self._lock:
            return dict(self._uses)

    def flush(self) -> int:
        """Write what was counted: per grant one ``sharing.verify_usage`` event and the day's
        ``GrantUsage`` (calls, checks), in one transaction. Returns grants written. On
        failure the counts are kept for the next flush."""
        with self._flush_lock:
            with self._lock:
                taken, self._uses = self._uses, {}
            if not taken:
                return 0
            try:
                with get_database().session() as session:
                    for grant_id, use in sorted(taken.items()):
                        add_usage(session, grant_id, calls=use.calls, checks=use.checks)
                        events.emit(
                            session, USED, SYSTEM, subject=("sharing_grant", grant_id),
                            calls=use.calls, checks=use.checks, answers=use.answers,
                            credentials=use.credentials,
                            window_start=_iso(use.first), window_end=_iso(use.last),
                        )  # fmt: skip
            except Exception:
                log.exception("verification usage could not be written; kept for the next flush")
                with self._lock:
                    for grant_id, use in taken.items():
                        self._merge(grant_id, use)
                return 0
            return len(taken)

    def _merge(self, grant_id: int, use: _Use) -> None:
        held = self._uses.get(grant_id)
        if held is None:
            self._uses[grant_id] = use
            return
        held.calls += use.calls
        held.checks += use.checks
        held.first = min(held.first, use.first)
        held.last = max(held.last, use.last)
        for k, v in use.answers.items():
            held.answers[k] += v
        for k, v in use.credentials.items():
            held.credentials[k] = held.credentials.get(k, 0) + v

    def _ensure_thread(self) -> None:
        seconds = usage_flush_seconds()
        if seconds <= 0 or (self._thread is not None and self._thread.is_alive()):
            return
        with self._lock:
            if self._thread is not None and self._thread.is_alive():
                return
            self._thread = threading.Thread(
                target=self._loop, args=(seconds,), name="verify-usage", daemon=True
            )
            self._thread.start()

    def _loop(self, seconds: float) -> None:
        while True:
            time.sleep(seconds)
            self.flush()


def preload(session: Session) -> int:
    """Load every ready index into this process, so that no caller's check waits for a
    load (a 25M-record index takes seconds: its SM3 is checked first). Returns how many."""
    loaded = 0
    for record in session.scalars(
        select(VerifyIndexRecord).where(VerifyIndexRecord.status == "ready")
    ):
        try:
            _CACHE.current(session, record.resource_id)
            if record.path:
                _CACHE.index(record.path)
                loaded += 1
        except LongshuError as exc:  # a missing or tampered file: the normal path tells
            log.warning("verification index not preloaded", extra={"error": exc.key})
    return loaded


def preload_in_background() -> threading.Thread | None:
    """``preload`` in a thread of its own, started as an API process starts
    (``LONGSHU_SHARING_PRELOAD_INDEXES=0`` turns it off)."""
    import os

    if os.environ.get("LONGSHU_SHARING_PRELOAD_INDEXES", "1") in ("0", "false"):
        return None

    def run() -> None:
        try:
            with get_database().session() as session:
                count = preload(session)
            log.info("verification indexes preloaded", extra={"indexes": count})
        except Exception:  # the process serves anyway; the first check loads what it needs
            log.exception("verification index preload failed")

    thread = threading.Thread(target=run, name="verify-preload", daemon=True)
    thread.start()
    return thread


def _iso(seconds: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(seconds))


def usage_flush_seconds() -> float:
    import os

    return float(os.environ.get("LONGSHU_SHARING_USAGE_FLUSH_SECONDS", "5"))


USAGE = UsageMeter()
GUARD_MISSES = ("no_match", "not_found")


@atexit.register
def _flush_at_exit() -> None:
    try:
        USAGE.flush()
    except Exception:  # the database may be gone at interpreter exit
        log.exception("verification usage lost at exit")


# uvicorn's worker processes end through multiprocessing, which skips atexit handlers but
# runs its own finalizers: flush there too (a second flush finds nothing to write)
multiprocessing.util.Finalize(None, _flush_at_exit, exitpriority=10)


def _grant_for_use(session: Session, actor: Actor, grant_id: int) -> ShareGrant:
    grant = session.get(ShareGrant, grant_id)
    if grant is None:
        raise GrantNotFound(grant=grant_id)
    if actor.kind != "system" and actor.org_id != grant.consumer_org_id:
        raise NotGrantHolder(grant=grant_id)
    if "verify" not in grant.modes:
        raise ModeNotGranted(grant=grant.id, mode="verify")
    lake_grant(grant)  # revoked or past its validity: GrantInactive (marks an expired one)
    return grant


def verify(
    session: Session,
    actor: Actor,
    grant_id: int,
    keys: Sequence[str],
    names: Sequence[str],
    *,
    single: bool = False,
    refused: Throttled | None = None,
) -> list[str]:
    """核验 within grant ``grant_id``: ``match`` / ``no_match`` / ``not_found`` per item.
    Refuses another department, a grant without ``verify``, a revoked or expired grant, more
    than ``MAX_BATCH`` items, calls over the grant's rate and a pair cooling down after an
    enumeration alarm; malformed items: ``MalformedKey`` / ``MalformedBatch`` (positions and
    reasons, never values). ``refused``: the refusal ``verify_fast`` met after it counted
    this call (its event is recorded here, and the grant's own refusals still come first)."""
    if refused is not None:
        ratelimit.record_refusal(session, refused)
    grant = _grant_for_use(session, actor, grant_id)
    if refused is not None:
        raise refused
    if len(keys) > MAX_BATCH:
        raise BatchTooLarge(limit=MAX_BATCH, count=len(keys))
    guard = ratelimit.EnumerationGuard()
    try:
        ratelimit.admit(actor, grant.id, grant.rate_per_minute, mode="verify", guarded=True)
    except Throttled as error:
        ratelimit.record_refusal(session, error)
        raise
    index, current = serving_index(session, grant.resource_id)
    if not {current.key_column, current.attribute_column} <= set(grant.fields):
        raise VerifyColumnsNotGranted(grant=grant.id)
    # a grant limited to regions sees the records of its codes only, as its queries do
    regions = list(grant.regions) if grant.region_column and grant.regions else None
    if regions is not None and index.region_column != grant.region_column:
        raise VerifyRegionScoped(grant=grant.id)
    answers = (
        [index.check(keys[0], names[0], regions)]
        if single
        else index.check_many(keys, names, regions)
    )
    USAGE.record(grant.id, actor, answers)
    misses = sum(1 for a in answers if a in GUARD_MISSES)
    try:
        guard.after(actor, grant.id, len(answers), misses)
    except Throttled as error:
        ratelimit.record_refusal(session, error)
        raise
    return answers
