"""Running a planned query on Apache Spark (PySpark), for data that outgrows one machine.

The same checked and rewritten plan as DuckDB runs, transpiled to Spark SQL by sqlglot.
Each granted version is registered from the Parquet files its Delta snapshot lists
(reading the table folder would ignore the Delta log and see every version's files at once).
Every query runs in its own Spark session (shared context, private temporary views and
functions), in a job group that a timer cancels when the grant's time is up. The
``spark`` extra installs PySpark; Java 17 must be on PATH. ``LONGSHU_LAKE_SPARK_MASTER``
names the cluster (``local[2]`` by default)."""

from __future__ import annotations

import logging
import os
import sys
import threading
import uuid
from typing import Any

import pyarrow as pa

from longshu.lake.config import lake_settings
from longshu.lake.engine import Limits, Masker, Watchdog, public_detail
from longshu.lake.errors import EngineUnavailable, QueryFailed, QueryTimeout, RowLimitExceeded
from longshu.lake.rewrite import Plan

_session: Any = None
_lock = threading.Lock()


def spark_session() -> Any:
    """The process's Spark session, started on first use (about 4 s in local mode)."""
    global _session
    with _lock:
        if _session is None:
            try:
                from pyspark.sql import SparkSession
            except ImportError as exc:
                raise EngineUnavailable(
                    engine="spark", detail="install the 'spark' extra (pyspark)"
                ) from exc
            os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
            # workers run this interpreter, so the masking functions find longshu
            os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
            _session = (
                SparkSession.builder.master(lake_settings().spark_master)
                .appName("longshu-lake")
                .config("spark.ui.enabled", "false")
                .config("spark.sql.session.timeZone", "UTC")
                .config("spark.sql.shuffle.partitions", "4")
                .config("spark.sql.execution.arrow.pyspark.enabled", "true")
                .getOrCreate()
            )
            _session.sparkContext.setLogLevel("ERROR")
            # py4j logs from __del__ at interpreter exit, after log streams are closed
            logging.getLogger("py4j").setLevel(logging.WARNING)
        return _session


def stop_spark() -> None:
    global _session
    with _lock:
        if _session is not None:
            _session.stop()
            _session = None


def run_spark(
    plan: Plan,
    sources: dict[str, tuple[list[str], pa.Schema]],
    maskers: dict[str, Masker],
    limits: Limits,
) -> pa.Table:
    """Run ``plan`` over ``sources`` (internal name → (Parquet file URIs, Arrow schema))."""
    from pyspark.sql.types import StringType

    spark = spark_session().newSession()
    context = spark.sparkContext
    group = f"longshu-{uuid.uuid4().hex}"
    watchdog = Watchdog(limits.timeout_seconds, lambda: context.cancelJobGroup(group))
    try:
        for name, (uris, schema) in sources.items():
            frame = (
                spark.read.parquet(*uris) if uris else spark.createDataFrame(schema.empty_table())
            )
            frame.createOrReplaceTempView(name)
        for name, masker in maskers.items():
            spark.udf.register(name, _nullsafe(masker), StringType())
        context.setJobGroup(group, "lake.access", interruptOnCancel=True)
        watchdog.start()
        frame = spark.sql(plan.sql("spark")).limit(limits.max_rows + 1)
        table = frame.toArrow()
    except Exception as exc:  # PySpark and py4j errors carry the JVM's message
        if watchdog.fired.is_set():
            raise QueryTimeout(seconds=f"{limits.timeout_seconds:g}") from exc
        raise QueryFailed(detail=public_detail(str(exc), plan)) from exc
    finally:
        watchdog.finish()
        context.setLocalProperty("spark.jobGroup.id", None)
        for name in sources:
            spark.catalog.dropTempView(name)
    if table.num_rows > limits.max_rows:
        raise RowLimitExceeded(limit=limits.max_rows)
    return table


def _nullsafe(masker: Masker) -> Any:
    def apply(value: str | None) -> str | None:
        return None if value is None else masker(value)

    return apply
