"""The production shape of the event spine: the web/CLI process enqueues delivery on Redis and a
separate huey worker process delivers to the subscribers (here: the ledger)."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import uuid

import pytest
import redis
from sqlalchemy import select

from longshu.events import Event, EventDelivery

REDIS_URL = os.environ.get("LONGSHU_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


@pytest.fixture
def worker_env(db, var_dir):
    client = redis.Redis.from_url(REDIS_URL)
    client.ping()  # make test starts Redis; a missing server is a failure, not a skip
    name = f"longshu_test_{uuid.uuid4().hex[:10]}"
    env = {
        **os.environ,
        "LONGSHU_DATABASE_URL": db.url,
        "LONGSHU_VAR_DIR": str(var_dir),
        "LONGSHU_EVENTS_MODE": "huey",
        "LONGSHU_HUEY_BACKEND": "redis",
        "LONGSHU_HUEY_NAME": name,
        "LONGSHU_REDIS_URL": REDIS_URL,
        "LONGSHU_AUTO_MIGRATE": "false",
    }
    yield env
    for key in client.scan_iter(f"*{name}*"):
        client.delete(key)
    client.close()


def longshu(env, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "longshu.cli", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_a_worker_process_delivers_events_enqueued_by_another(worker_env, db):
    made = longshu(
        worker_env,
        "user",
        "create",
        "probe_user",
        "--name",
        "探针",
        "--role",
        "auditor",
        "--password",
        "Strong#Probe2026",
    )
    assert made.returncode == 0, made.stderr
    with db.session() as s:
        event = s.scalars(select(Event).where(Event.type == "identity.user_created")).one()
        assert (
            s.scalars(select(EventDelivery).where(EventDelivery.event_id == event.id)).all() == []
        )
    consumer = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "huey.bin.huey_consumer",
            "longshu.worker.huey",
            "-w",
            "1",
            "-k",
            "thread",
        ],
        env=worker_env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 30
        delivered: list[str] = []
        while time.monotonic() < deadline and "ledger" not in delivered:
            time.sleep(0.3)
            with db.session() as s:
                delivered = list(
                    s.scalars(
                        select(EventDelivery.subscriber).where(EventDelivery.event_id == event.id)
                    )
                )
        assert "ledger" in delivered, consumer.stderr.read() if consumer.poll() else "timeout"
    finally:
        consumer.terminate()
        consumer.wait(timeout=10)
