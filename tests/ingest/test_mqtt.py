"""The MQTT connector against the real Mosquitto broker (127.0.0.1:1883; scripts/ensure_services.sh
starts one): readings land as appended versions, exactly once by key, bad payloads are
reported, and a collector killed between the lake commit and the acknowledgement loses
nothing and doubles nothing after it reconnects."""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
import textwrap
import threading
import time
import uuid

import paho.mqtt.client as paho
import pyarrow as pa
import pytest
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties
from sqlalchemy import select

from longshu import lake
from longshu.errors import LongshuError
from longshu.events import Event
from longshu.ingest import mqtt
from longshu.lake import tables
from longshu.lake.models import LakeVersion
from longshu.lake.policy import Grant, TableGrant

HOST, PORT = "127.0.0.1", 1883
SCHEMA = {"station": "string", "ts": "timestamp", "temp_c": "float", "humidity": "int?"}
KEYS = ["station", "ts"]


@pytest.fixture
def stream(lake_env, db, admin):
    """A table for weather readings, topics of its own and a broker session of its own."""
    run = uuid.uuid4().hex[:10]
    with db.session() as s:
        tables.create_table(s, admin, "weather_readings", key_columns=KEYS, owner_org_id=7)
    return {
        "prefix": f"t{run}/gansu/weather",
        "topics": [f"t{run}/gansu/weather/+/reading"],
        "broker": mqtt.Broker(client_id=f"longshu-test-{run}", session_expiry=120),
    }


def reading(i: int) -> dict:
    start = dt.datetime(2026, 11, 29, 8, 0, tzinfo=dt.UTC)
    return {
        "station": f"ws-6201{i % 4:02d}",
        "ts": (start + dt.timedelta(minutes=i)).isoformat(),
        "temp_c": round(-5 + i * 0.1, 2),
        "humidity": 30 + i % 50,
    }


def publish(prefix: str, payloads: list[bytes | dict]) -> None:
    client = paho.Client(CallbackAPIVersion.VERSION2, protocol=paho.MQTTv5)
    client.connect(HOST, PORT)
    client.loop_start()
    try:
        sent = []
        for i, payload in enumerate(payloads):
            body = json.dumps(payload).encode() if isinstance(payload, dict) else payload
            sent.append(client.publish(f"{prefix}/ws{i % 4}/reading", body, qos=1))
        for info in sent:
            info.wait_for_publish(10)
    finally:
        client.loop_stop()
        client.disconnect()


def collect(db, admin, stream, **kwargs):
    options = {"batch_size": 50, "max_seconds": 1.0, "stop_after": 30.0, "idle_seconds": 1.5}
    options.update(kwargs)
    return mqtt.collect(
        db.sessionmaker,
        admin,
        "weather_readings",
        stream["topics"],
        schema=SCHEMA,
        broker=stream["broker"],
        **options,
    )


def open_session(db, admin, stream) -> None:
    """Subscribe once, so the broker keeps what is published while the collector is away."""
    collect(db, admin, stream, stop_after=1.0, idle_seconds=0.5)


def lake_rows(session, admin, table="weather_readings") -> dict:
    grant = Grant(id="test", consumer="test", tables=(TableGrant(table=table),))
    sql = f"SELECT count(*) AS n, count(DISTINCT station || '@' || CAST(ts AS VARCHAR)) AS k FROM {table}"
    counted = lake.access(session, admin, grant, sql).to_pylist()[0]
    session.commit()  # the read's event; a later read must not hold an old snapshot
    return counted


def versions(session) -> list[LakeVersion]:
    table = tables.get_table(session, "weather_readings")
    return list(
        session.scalars(
            select(LakeVersion).where(LakeVersion.table_id == table.id).order_by(LakeVersion.number)
        )
    )


def test_readings_land_once_across_appended_versions(db, admin, stream, session):
    open_session(db, admin, stream)
    publish(stream["prefix"], [reading(i) for i in range(120)])

    report = collect(db, admin, stream)

    assert (report.received, report.landed, report.rejected, report.duplicates) == (120, 120, 0, 0)
    assert report.batches >= 3 and len(report.versions) == report.batches
    assert lake_rows(session, admin) == {"n": 120, "k": 120}
    landed = versions(session)
    assert [v.mode for v in landed] == ["append"] * len(landed)
    assert landed[-1].rows == 120 and sum(v.rows_written for v in landed) == 120
    assert {c["name"] for c in landed[-1].schema} == {*SCHEMA, "topic", "received_at"}
    batches = session.scalars(select(Event).where(Event.type == "ingest.mqtt_batch")).all()
    assert sum(e.payload["rows"] for e in batches) == 120
    # everything was acknowledged: a second run receives nothing
    again = collect(db, admin, stream, stop_after=2.0, idle_seconds=1.0)
    assert again.received == 0 and again.versions == []


def test_bad_payloads_are_dead_letters_never_dropped(db, admin, stream, session):
    with db.session() as s:
        tables.create_table(s, admin, "weather_dead_letters", owner_org_id=7)
    open_session(db, admin, stream)
    bad = [
        b"not json {",
        b"[1, 2, 3]",
        json.dumps({"station": "ws-1", "temp_c": 1.0}).encode(),  # ts missing
        json.dumps({**reading(900), "temp_c": "cold"}).encode(),
        json.dumps({**reading(901), "wind": 3}).encode(),  # not declared
        json.dumps({**reading(902), "ts": "yesterday"}).encode(),
        b"\xff\xfe\x00binary",
        json.dumps({**reading(903), "station": None}).encode(),
        json.dumps({**reading(904), "station": "x" * 70_000}).encode(),
    ]
    good = [reading(i) for i in range(10)]
    publish(stream["prefix"], good + bad)

    report = collect(db, admin, stream, dead_letter_table="weather_dead_letters")

    assert (report.landed, report.rejected) == (10, len(bad))
    reasons = [d.reason for d in report.dead_letters]
    assert sorted(reasons) == sorted(
        [
            "not_json",
            "not_object",
            "missing",
            "wrong_type",
            "unknown_field",
            "wrong_type",
            "not_json",
            "empty",
            "too_large",
        ]
    )
    wrong = next(d for d in report.dead_letters if d.params.get("value") == "'cold'")
    assert wrong.message == "field temp_c should be float, not 'cold'"
    assert wrong.payload.startswith("{") and "cold" in wrong.payload
    assert next(d for d in report.dead_letters if d.payload.startswith("base64:"))
    assert lake_rows(session, admin) == {"n": 10, "k": 10}
    grant = Grant(id="t", consumer="t", tables=(TableGrant(table="weather_dead_letters"),))
    kept = lake.access(session, admin, grant, "SELECT reason FROM weather_dead_letters")
    assert sorted(r["reason"] for r in kept.to_pylist()) == sorted(reasons)
    events = session.scalars(select(Event).where(Event.type == "ingest.mqtt_batch")).all()
    assert sum(e.payload["rejected"] for e in events) == len(bad)
    assert sum(e.payload["rejected_reasons"].get("wrong_type", 0) for e in events) == 2
    # reported, then acknowledged: not delivered again
    assert collect(db, admin, stream, stop_after=2.0, idle_seconds=1.0).received == 0


CRASHING_COLLECTOR = textwrap.dedent(
    """
    import json, os, signal, sys
    from longshu.actor import Actor
    from longshu.db import get_database
    from longshu.ingest import mqtt

    def die(report):  # the batch is committed, its messages are not acknowledged yet
        os.kill(os.getpid(), signal.SIGKILL)

    admin = Actor(kind="user", id=1, name="admin", roles=frozenset({"platform_admin"}), mfa=True)
    mqtt.collect(get_database().sessionmaker, admin, "weather_readings", [sys.argv[1]],
                 schema=json.loads(sys.argv[3]), broker=mqtt.Broker(client_id=sys.argv[2], session_expiry=120),
                 batch_size=20, max_seconds=5, stop_after=30, on_progress=die)
    """
)


def test_collector_killed_before_acknowledging_loses_and_doubles_nothing(
    db, admin, stream, session
):
    open_session(db, admin, stream)
    publish(stream["prefix"], [reading(i) for i in range(60)])
    crashed = subprocess.run(
        [
            sys.executable,
            "-c",
            CRASHING_COLLECTOR,
            stream["topics"][0],
            stream["broker"].client_id,
            json.dumps(SCHEMA),
        ],
        env=os.environ.copy(),
        capture_output=True,
        timeout=60,
    )
    assert crashed.returncode == -9, crashed.stderr.decode()[-2000:]
    assert lake_rows(session, admin) == {"n": 20, "k": 20}  # one batch committed, none acked

    publish(stream["prefix"], [reading(i) for i in range(60, 75)])  # while it is down
    report = collect(db, admin, stream, batch_size=40)

    # the 20 it landed were in flight (ReceiveMaximum = batch size): the broker marks them DUP
    assert report.received == 75 and report.redelivered >= 20
    assert report.landed + report.duplicates == 75
    assert lake_rows(session, admin) == {"n": 75, "k": 75}
    modes = [v.mode for v in versions(session)]
    assert modes[0] == "append" and "upsert" in modes[1:]
    assert collect(db, admin, stream, stop_after=2.0, idle_seconds=1.0).received == 0


def take_session_over(client_id: str) -> None:
    """Connect with the collector's client id: the broker drops the collector (session
    takeover). Nothing is acknowledged here, so what reaches this client goes back."""
    intruder = paho.Client(
        CallbackAPIVersion.VERSION2, client_id=client_id, protocol=paho.MQTTv5, manual_ack=True
    )
    properties = Properties(PacketTypes.CONNECT)
    properties.SessionExpiryInterval = 120
    intruder.connect(HOST, PORT, clean_start=False, properties=properties)
    deadline = time.monotonic() + 5
    while not intruder.is_connected() and time.monotonic() < deadline:
        intruder.loop(0.05)
    intruder.disconnect()
    intruder.loop(0.05)


def test_a_connection_lost_mid_run_is_reestablished(db, admin, stream, session):
    open_session(db, admin, stream)
    publish(stream["prefix"], [reading(i) for i in range(30)])
    outcome = {}

    def run() -> None:
        outcome["report"] = collect(
            db, admin, stream, batch_size=10, max_seconds=0.5, stop_after=20, idle_seconds=4
        )

    collector = threading.Thread(target=run)
    collector.start()
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        with db.session() as s:
            if versions(s):
                break
        time.sleep(0.1)
    take_session_over(stream["broker"].client_id)
    publish(stream["prefix"], [reading(i) for i in range(30, 60)])
    collector.join(40)

    report = outcome["report"]
    assert report.reconnects >= 1
    assert lake_rows(session, admin) == {"n": 60, "k": 60}
    assert collect(db, admin, stream, stop_after=2.0, idle_seconds=1.0).received == 0


def test_a_failed_lake_write_leaves_the_batch_for_the_next_run(db, admin, stream, session):
    at = dt.datetime(2026, 11, 1, tzinfo=dt.UTC)
    texts = pa.table(
        {"station": ["ws-0"], "ts": pa.array([at], pa.timestamp("us", tz="UTC")), "temp_c": ["冷"]}
    )
    with db.session() as s:  # the table holds temp_c as text: float readings cannot append
        tables.write_version(s, admin, "weather_readings", texts)
    open_session(db, admin, stream)
    publish(stream["prefix"], [reading(i) for i in range(5)])

    with pytest.raises(LongshuError) as failed:
        collect(db, admin, stream)
    assert failed.value.key == "lake.invalid_load"
    with db.session() as s:
        event = s.scalars(select(Event).where(Event.type == "ingest.load_failed")).one()
        assert event.payload["error"] == "lake.invalid_load"
        # a data manager retypes the column (a snapshot) and accepts the change
        numbers = texts.set_column(2, "temp_c", pa.array([-3.5]))
        blocked = tables.write_version(s, admin, "weather_readings", numbers)
        tables.accept_version(s, admin, "weather_readings", blocked.number)

    report = collect(db, admin, stream)  # the same five readings, delivered again
    assert report.received == 5 and report.redelivered == 5 and report.landed == 5
    assert lake_rows(session, admin) == {"n": 6, "k": 6}


def test_the_same_reading_published_twice_in_a_run_lands_once(db, admin, stream, session):
    open_session(db, admin, stream)
    publish(stream["prefix"], [reading(i) for i in range(5)] + [reading(2), reading(4)])
    report = collect(db, admin, stream, batch_size=3)
    assert (report.landed, report.duplicates) == (5, 2)
    assert lake_rows(session, admin) == {"n": 5, "k": 5}


def test_dedupe_always_catches_a_publisher_sending_again_in_a_later_run(db, admin, stream, session):
    open_session(db, admin, stream)
    publish(stream["prefix"], [reading(i) for i in range(5)])
    collect(db, admin, stream)
    publish(stream["prefix"], [reading(i) for i in range(3, 8)])  # 3 and 4 again, not DUP
    report = collect(db, admin, stream, dedupe="always")
    assert report.redelivered == 0 and [v.mode for v in versions(session)] == ["append", "upsert"]
    assert lake_rows(session, admin) == {"n": 8, "k": 8}


def test_decoding_times_and_types():
    fields = mqtt.parse_schema({"id": "string", "at": "timestamp", "on": "date", "ok": "bool?"})
    row = mqtt.decode(
        json.dumps({"id": "m1", "at": "2026-11-29 08:00:00", "on": "2026-11-29"}).encode(),
        fields,
        1000,
    )
    assert row["at"] == dt.datetime(2026, 11, 29, 0, 0, tzinfo=dt.UTC)  # Beijing time
    assert row["on"] == dt.date(2026, 11, 29) and row["ok"] is None
    epoch_ms = mqtt.decode(b'{"id": "m2", "at": 1796000000000, "on": "2026-11-29"}', fields, 1000)
    assert epoch_ms["at"] == dt.datetime.fromtimestamp(1796000000, dt.UTC)
    with pytest.raises(Exception, match="field ok should be bool"):
        mqtt.decode(b'{"id": "m3", "at": 0, "on": "2026-11-29", "ok": 1}', fields, 1000)


def test_configuration_errors_are_refused(db, admin, stream):
    with pytest.raises(mqtt.StreamKeyMissing):
        collect(db, admin, stream, key_columns=["humidity"])  # optional field: not a key
    with pytest.raises(mqtt.InvalidTopic):
        mqtt.collect(db.sessionmaker, admin, "weather_readings", ["gansu/#/reading"], schema=SCHEMA)
    with pytest.raises(mqtt.InvalidStreamSchema):
        mqtt.collect(
            db.sessionmaker, admin, "weather_readings", stream["topics"], schema={"a": "decimal"}
        )
    with pytest.raises(mqtt.BrokerUnavailable) as refused:
        collect(db, admin, {**stream, "broker": mqtt.Broker(port=1, client_id="x")})
    assert refused.value.key == "ingest.mqtt.broker_unavailable"


def test_options_of_a_source(db, admin, stream, session):
    open_session(db, admin, stream)
    publish(stream["prefix"], [reading(i) for i in range(7)])
    report = mqtt.collect_with_options(
        db.sessionmaker,
        admin,
        "weather_readings",
        {
            "host": HOST,
            "port": PORT,
            "client_id": stream["broker"].client_id,
            "topics": stream["topics"],
            "schema": SCHEMA,
            "batch_size": 100,
            "max_seconds": 0.5,
            "stop_after": 20,
            "max_messages": 7,
            "session_expiry": 60,
        },
    )
    assert report.landed == 7 and lake_rows(session, admin)["n"] == 7
    with pytest.raises(Exception, match="unknown MQTT options: colour"):
        mqtt.collect_with_options(db.sessionmaker, admin, "weather_readings", {"colour": 1})
