"""Ingest's control-plane tables: the sources a department pulls from on a schedule, and the
load jobs (an uploaded file or one pull of a source) that the worker runs into the lake.

A source's options are stored in two halves: plain options as JSON, and the secret ones
(passwords, tokens, URLs with credentials) sealed with SM4 under the data key
``ingest.source`` and bound to the source's id (``jobs.source_options`` opens them)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, BigInteger, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from longshu.db import Base, utcnow

# what a source reads from
CONNECTORS = ("file", "sql", "http", "mqtt", "media")
# none: run by hand; interval: every interval_seconds; daily: every day at daily_at (Beijing)
SCHEDULE_KINDS = ("none", "interval", "daily")
# queued → running → succeeded | failed | cancelled; a transient failure goes back to queued
JOB_STATUSES = ("queued", "running", "succeeded", "failed", "cancelled")
FINISHED_STATUSES = ("succeeded", "failed", "cancelled")
JOB_KINDS = ("upload", "pull")


class IngestSource(Base):
    """A named source of one department: where to read (connector and options), which lake
    table it loads, how (mode, key columns) and when (schedule)."""

    __tablename__ = "ingest_source"
    __table_args__ = (
        UniqueConstraint("org_id", "name", name="uq_ingest_source_org_name"),
        Index("ix_ingest_source_due", "enabled", "next_run_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    org_id: Mapped[int | None] = mapped_column(BigInteger, index=True)
    connector: Mapped[str] = mapped_column(String(10))
    options: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)  # the plain ones
    sealed_options: Mapped[str | None] = mapped_column(Text)  # SM4-sealed JSON, base64
    table_id: Mapped[int] = mapped_column(ForeignKey("lake_table.id"), index=True)
    mode: Mapped[str] = mapped_column(String(10), default="snapshot")
    key_columns: Mapped[list[Any]] = mapped_column(JSON, default=list)
    schedule_kind: Mapped[str] = mapped_column(String(10), default="none")
    interval_seconds: Mapped[int | None]
    daily_at: Mapped[str | None] = mapped_column(String(5))  # "HH:MM", Beijing time
    enabled: Mapped[bool] = mapped_column(default=True)
    # how far the last successful pull read (a timestamp, an id, a page cursor …)
    watermark: Mapped[str | None] = mapped_column(String(400))
    last_run_at: Mapped[dt.datetime | None]
    next_run_at: Mapped[dt.datetime | None]
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    created_by: Mapped[int | None] = mapped_column(BigInteger)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    jobs: Mapped[list[IngestJob]] = relationship(back_populates="source")

    def __repr__(self) -> str:
        return f"<IngestSource {self.name} {self.connector}>"


class IngestJob(Base):
    """One load run by the worker: an uploaded file or one pull of a source.

    ``rows``/``bytes`` grow while it runs (written at most every half second);
    ``total_bytes`` is the file's size when known, for a progress bar. A transient failure
    goes back to ``queued`` with ``next_attempt_at`` (exponential backoff) until
    ``max_attempts``; a malformed file fails at once. ``version`` is the lake version the
    load produced."""

    __tablename__ = "ingest_job"
    __table_args__ = (Index("ix_ingest_job_status_next", "status", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(10))
    source_id: Mapped[int | None] = mapped_column(ForeignKey("ingest_source.id"), index=True)
    table_id: Mapped[int] = mapped_column(ForeignKey("lake_table.id"), index=True)
    org_id: Mapped[int | None] = mapped_column(BigInteger, index=True)
    filename: Mapped[str | None] = mapped_column(String(200))  # as uploaded, sanitised
    file_path: Mapped[str | None] = mapped_column(Text)  # under the var folder
    format: Mapped[str] = mapped_column(String(10), default="auto")
    mode: Mapped[str] = mapped_column(String(10), default="snapshot")
    key_columns: Mapped[list[Any]] = mapped_column(JSON, default=list)
    options: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    status: Mapped[str] = mapped_column(String(10), default="queued", index=True)
    rows: Mapped[int] = mapped_column(BigInteger, default=0)
    bytes: Mapped[int] = mapped_column(BigInteger, default=0)
    total_bytes: Mapped[int | None] = mapped_column(BigInteger)
    attempts: Mapped[int] = mapped_column(default=0)
    max_attempts: Mapped[int] = mapped_column(default=4)
    next_attempt_at: Mapped[dt.datetime | None]
    cancel_requested: Mapped[bool] = mapped_column(default=False)
    error_key: Mapped[str | None] = mapped_column(String(100))
    error_params: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    version: Mapped[int | None]  # the lake version number produced
    version_status: Mapped[str | None] = mapped_column(String(10))  # ready | blocked
    load_id: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    created_by: Mapped[int | None] = mapped_column(BigInteger)
    started_at: Mapped[dt.datetime | None]
    heartbeat_at: Mapped[dt.datetime | None]  # last progress written by the running worker
    finished_at: Mapped[dt.datetime | None]

    source: Mapped[IngestSource | None] = relationship(back_populates="jobs")

    @property
    def finished(self) -> bool:
        return self.status in FINISHED_STATUSES

    @property
    def percent(self) -> int | None:
        """Bytes read as a share of the file's size (None when the size is unknown)."""
        if self.status == "succeeded":
            return 100
        if not self.total_bytes:
            return None
        return min(100, int(self.bytes * 100 / self.total_bytes))

    def __repr__(self) -> str:
        return f"<IngestJob {self.id} {self.status}>"
