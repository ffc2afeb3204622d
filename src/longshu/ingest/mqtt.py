"""IoT streams over MQTT (物联网自动采集): sensor readings — weather stations, water meters —
landed in the lake in micro-batches, each batch an appended version of one table, loaded
through ``ingest.load_source`` (so each batch also has ``ingest.load_started`` / ``…_finished``).

    report = mqtt.collect(db.sessionmaker, SYSTEM, "weather_readings",
                          ["gansu/weather/+/reading"],
                          schema={"station": "string", "ts": "timestamp", "temp_c": "float?"},
                          key_columns=["station", "ts"], batch_size=500, max_seconds=5,
                          stop_after=60)

Delivery is at-least-once and landing is exactly-once by key:

- The collector subscribes with QoS 1 on a persistent session (MQTT 5, ``clean_start``
  false, a fixed client id, a session expiry), so readings published while it is down wait
  at the broker and arrive after it reconnects.
- A message is acknowledged (PUBACK) only after the lake version that holds it — or, for a
  bad message, the event that records its rejection — is committed. A collector that dies
  before that gets the message again.
- A message can therefore arrive twice. Each reading carries a key (``key_columns``: a
  message id, or device + time); within a run keys already landed are skipped, and a batch
  holding redelivered messages (the broker sets DUP) is written as an upsert by key, which
  cannot double a row that the previous run landed but did not acknowledge.

Bad messages (not JSON, not an object, a missing or mistyped field, a field the schema does
not declare, too large) are never silently dropped: each is counted, listed in the report's
dead letters with the reason and the payload, optionally appended to a dead-letter table, and
counted in the batch's event."""

from __future__ import annotations

import base64
import datetime as dt
import json
import math
import ssl
import time
import uuid
from collections import OrderedDict
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

import paho.mqtt.client as mqtt
import pyarrow as pa
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties
from paho.mqtt.subscribeoptions import SubscribeOptions
from sqlalchemy.orm import Session

from longshu import events
from longshu.actor import Actor
from longshu.errors import InvalidInput, LongshuError
from longshu.ingest import service
from longshu.ingest.source import Source
from longshu.lake import tables
from longshu.lake.models import LakeTable
from longshu.security import access

BATCH_LANDED = events.define("ingest.mqtt_batch", "物联网数据批次已入湖", "MQTT micro-batch landed")

BEIJING = ZoneInfo("Asia/Shanghai")  # readings without an offset are Beijing time
TYPES: dict[str, pa.DataType] = {
    "string": pa.string(),
    "int": pa.int64(),
    "float": pa.float64(),
    "bool": pa.bool_(),
    "timestamp": pa.timestamp("us", tz="UTC"),
    "date": pa.date32(),
}
TOPIC_COLUMN = "topic"
RECEIVED_COLUMN = "received_at"
MAX_PAYLOAD_BYTES = 64 * 1024
DEAD_LETTER_LIMIT = 1000  # listed in a report (all are counted)
EXCERPT = 500  # characters of a bad payload kept in the report
SEEN_LIMIT = 200_000  # keys remembered within one run

# Why a message became a dead letter (translated like error messages).
DEAD_LETTER_MESSAGES = {
    "too_large": "the payload is {size} bytes, over the limit of {limit}",
    "not_json": "the payload is not UTF-8 JSON: {detail}",
    "not_object": "the payload is not a JSON object",
    "missing": "field {field} is missing",
    "empty": "field {field} is empty",
    "wrong_type": "field {field} should be {type}, not {value}",
    "unknown_field": "field {field} is not in the declared schema",
}


# --- errors -------------------------------------------------------------------------------


class BrokerUnavailable(LongshuError):
    key = "ingest.mqtt.broker_unavailable"
    status = 503
    transient = True  # worth another attempt later
    message = "The MQTT broker at {host}:{port} cannot be reached: {detail}"


class BrokerRefused(LongshuError):
    key = "ingest.mqtt.broker_refused"
    status = 502
    message = "The MQTT broker at {host}:{port} refused the connection: {reason}"


class SubscriptionRefused(LongshuError):
    key = "ingest.mqtt.subscription_refused"
    status = 502
    message = "The MQTT broker refused the subscription to {topic}: {reason}"


class InvalidTopic(InvalidInput):
    key = "ingest.mqtt.invalid_topic"
    message = "{topic} is not a valid MQTT topic filter: {detail}"


class InvalidStreamSchema(InvalidInput):
    key = "ingest.mqtt.invalid_schema"
    message = "The stream's schema is not valid: {detail}"


class StreamKeyMissing(InvalidInput):
    key = "ingest.mqtt.key_missing"
    message = (
        "A stream needs key columns (a message id, or device and time) declared as required "
        "fields of its schema, so that a redelivered reading is not landed twice."
    )


# --- the declared schema ------------------------------------------------------------------


@dataclass(frozen=True)
class StreamField:
    name: str
    type: str
    required: bool = True


def parse_schema(declared: dict[str, str]) -> list[StreamField]:
    """``{"station": "string", "temp_c": "float?"}`` → fields; ``?`` marks an optional field.
    Types: string, int, float, bool, timestamp (ISO 8601 or epoch seconds; no offset means
    Beijing time), date."""
    if not isinstance(declared, dict) or not declared:
        raise InvalidStreamSchema(detail="declare at least one field: {name: type}")
    fields = []
    for name, spec in declared.items():
        if not isinstance(name, str) or not name or not isinstance(spec, str):
            raise InvalidStreamSchema(detail=f"field {name!r}: {spec!r}")
        kind = spec.rstrip("?")
        if kind not in TYPES:
            raise InvalidStreamSchema(
                detail=f"field {name}: type {spec!r} is not one of {', '.join(TYPES)}"
            )
        if name in (TOPIC_COLUMN, RECEIVED_COLUMN):
            raise InvalidStreamSchema(detail=f"field {name}: the collector adds this column")
        fields.append(StreamField(name, kind, required=not spec.endswith("?")))
    return fields


def arrow_schema(fields: list[StreamField]) -> pa.Schema:
    """The landed table's columns: the declared fields, the topic and the receiving time."""
    return pa.schema(
        [pa.field(f.name, TYPES[f.type], nullable=not f.required) for f in fields]
        + [pa.field(TOPIC_COLUMN, pa.string()), pa.field(RECEIVED_COLUMN, TYPES["timestamp"])]
    )


class _Rejected(Exception):
    def __init__(self, reason: str, **params: Any) -> None:
        self.reason = reason
        self.params = params
        super().__init__(DEAD_LETTER_MESSAGES[reason].format(**params))


def decode(payload: bytes, fields: list[StreamField], max_bytes: int) -> dict[str, Any]:
    """One payload → a row of Python values, or ``_Rejected`` with the reason."""
    if len(payload) > max_bytes:
        raise _Rejected("too_large", size=len(payload), limit=max_bytes)
    try:
        record = json.loads(payload.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise _Rejected("not_json", detail=str(exc)[:200]) from None
    if not isinstance(record, dict):
        raise _Rejected("not_object")
    known = {f.name for f in fields}
    for name in record:
        if name not in known:
            raise _Rejected("unknown_field", field=str(name)[:100])
    row = {}
    for f in fields:
        if f.name not in record:
            if f.required:
                raise _Rejected("missing", field=f.name)
            row[f.name] = None
            continue
        value = record[f.name]
        if value is None:
            if f.required:
                raise _Rejected("empty", field=f.name)
            row[f.name] = None
            continue
        row[f.name] = _convert(f, value)
    return row


def _convert(f: StreamField, value: Any) -> Any:
    def wrong() -> _Rejected:
        return _Rejected("wrong_type", field=f.name, type=f.type, value=repr(value)[:60])

    if f.type == "string":
        if isinstance(value, str):
            return value
    elif f.type == "int":
        if isinstance(value, int) and not isinstance(value, bool) and -(2**63) <= value < 2**63:
            return value
    elif f.type == "float":
        if isinstance(value, int | float) and not isinstance(value, bool):
            number = float(value) if abs(value) < 1e300 else math.inf
            if math.isfinite(number):
                return number
    elif f.type == "bool":
        if isinstance(value, bool):
            return value
    elif f.type == "timestamp":
        stamp = _timestamp(value)
        if stamp is not None:
            return stamp
    elif f.type == "date" and isinstance(value, str):
        try:
            return dt.date.fromisoformat(value)
        except ValueError:
            pass
    raise wrong()


def _timestamp(value: Any) -> dt.datetime | None:
    if isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value):
        seconds = value / 1000 if abs(value) >= 1e11 else value  # epoch milliseconds
        try:
            return dt.datetime.fromtimestamp(seconds, dt.UTC)
        except (OverflowError, OSError, ValueError):
            return None
    if isinstance(value, str) and len(value) <= 40:
        try:
            stamp = dt.datetime.fromisoformat(value)
        except ValueError:
            return None
        if stamp.tzinfo is None:
            stamp = stamp.replace(tzinfo=BEIJING)
        return stamp.astimezone(dt.UTC)
    return None


# --- the broker ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Broker:
    """Where to collect from. ``client_id`` names the persistent session: keep it stable
    (the default is derived from the table), or readings queued for it are not delivered."""

    host: str = "127.0.0.1"
    port: int = 1883
    client_id: str | None = None
    username: str | None = None
    password: str | None = None
    tls: bool = False
    keepalive: int = 30
    session_expiry: int = 7 * 24 * 3600  # seconds the broker keeps the session while we are away


def check_topic(topic: str) -> str:
    """A subscription filter: levels split by ``/``, ``+`` a whole level, ``#`` last."""
    if not isinstance(topic, str) or not topic or len(topic.encode()) > 65535 or "\x00" in topic:
        raise InvalidTopic(topic=str(topic)[:200], detail="empty, too long or holds NUL")
    levels = topic.split("/")
    for i, level in enumerate(levels):
        if "#" in level and (level != "#" or i != len(levels) - 1):
            raise InvalidTopic(topic=topic, detail="# must be a whole level and the last one")
        if "+" in level and level != "+":
            raise InvalidTopic(topic=topic, detail="+ must be a whole level")
    return topic


# --- the report ---------------------------------------------------------------------------


@dataclass
class DeadLetter:
    topic: str
    reason: str  # a key of DEAD_LETTER_MESSAGES
    message: str  # English; the key and params translate it
    params: dict[str, Any]
    payload: str  # the start of the payload: text, or base64 when not UTF-8
    payload_bytes: int
    received_at: dt.datetime


@dataclass
class CollectReport:
    table: str
    client_id: str
    received: int = 0  # messages delivered by the broker (redeliveries included)
    landed: int = 0  # rows written to the lake
    rejected: int = 0  # dead letters
    duplicates: int = 0  # messages whose key was already landed (acknowledged, not written)
    redelivered: int = 0  # messages the broker marked DUP
    batches: int = 0
    versions: list[int] = field(default_factory=list)
    dead_letters: list[DeadLetter] = field(default_factory=list)
    reconnects: int = 0
    elapsed_seconds: float = 0.0

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


# --- collecting ---------------------------------------------------------------------------


@dataclass
class _Message:
    mid: int
    qos: int
    topic: str
    payload: bytes
    dup: bool
    received_at: dt.datetime


class _Connection:
    """A paho client on a persistent MQTT 5 session, run in the caller's thread
    (``client.loop``) so that acknowledging happens exactly when the caller decides."""

    def __init__(self, broker: Broker, client_id: str, topics: list[str], window: int) -> None:
        self.broker = broker
        self.topics = topics
        self.inbox: list[_Message] = []
        self.connected = False
        self.failure: LongshuError | None = None
        self.client = mqtt.Client(
            CallbackAPIVersion.VERSION2,
            client_id=client_id,
            protocol=mqtt.MQTTv5,
            manual_ack=True,  # PUBACK only after the lake commit
            reconnect_on_failure=False,  # reconnect is ours, between batches
        )
        if broker.username:
            self.client.username_pw_set(broker.username, broker.password)
        if broker.tls:
            self.client.tls_set_context(ssl.create_default_context())
        self.client.on_connect = self._on_connect
        self.client.on_subscribe = self._on_subscribe
        self.client.on_message = self._on_message
        self.client.on_disconnect = self._on_disconnect
        self.properties = Properties(PacketTypes.CONNECT)
        self.properties.SessionExpiryInterval = broker.session_expiry
        # the broker may have this many unacknowledged messages with us: a whole batch
        self.properties.ReceiveMaximum = max(20, min(65535, window))

    def open(self, timeout: float = 10.0) -> None:
        self.connected = False
        self.failure = None
        try:
            self.client.connect(
                self.broker.host,
                self.broker.port,
                keepalive=self.broker.keepalive,
                clean_start=False,
                properties=self.properties,
            )
        except (OSError, ValueError) as exc:
            raise BrokerUnavailable(
                host=self.broker.host, port=self.broker.port, detail=str(exc)[:200]
            ) from None
        deadline = time.monotonic() + timeout
        while not self.connected:
            self.pump(0.1)
            if self.failure is not None:
                raise self.failure
            if time.monotonic() > deadline:
                self.client.disconnect()
                raise BrokerUnavailable(
                    host=self.broker.host, port=self.broker.port, detail="no answer"
                )

    def pump(self, timeout: float) -> bool:
        """Run the network for up to ``timeout`` seconds; False if the connection is lost."""
        code = self.client.loop(timeout=timeout)
        return code == mqtt.MQTT_ERR_SUCCESS and self.connected

    def ack(self, messages: Iterable[_Message]) -> None:
        for message in messages:
            if message.qos > 0:
                self.client.ack(message.mid, message.qos)
        self.client.loop_write()

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop(timeout=0.1)

    def _on_connect(self, client, userdata, flags, reason, properties):  # type: ignore[no-untyped-def]
        if reason.is_failure:
            self.failure = BrokerRefused(
                host=self.broker.host, port=self.broker.port, reason=str(reason)
            )
            return
        # retained readings only on a new subscription, not each time we reconnect
        options = SubscribeOptions(qos=1, retainHandling=SubscribeOptions.RETAIN_SEND_IF_NEW_SUB)
        client.subscribe([(t, options) for t in self.topics])

    def _on_subscribe(self, client, userdata, mid, reason_codes, properties):  # type: ignore[no-untyped-def]
        for topic, code in zip(self.topics, reason_codes, strict=False):
            if code.is_failure:
                self.failure = SubscriptionRefused(topic=topic, reason=str(code))
                return
        self.connected = True

    def _on_message(self, client, userdata, message):  # type: ignore[no-untyped-def]
        self.inbox.append(
            _Message(
                mid=message.mid,
                qos=message.qos,
                topic=message.topic,
                payload=bytes(message.payload),
                dup=bool(message.dup),
                received_at=dt.datetime.now(dt.UTC),
            )
        )

    def _on_disconnect(self, client, userdata, flags, reason, properties):  # type: ignore[no-untyped-def]
        self.connected = False


def collect(
    session_factory: Callable[[], Session],
    actor: Actor,
    table: LakeTable | int | str,
    topics: list[str],
    *,
    schema: dict[str, str],
    key_columns: list[str] | None = None,
    batch_size: int = 500,
    max_seconds: float = 5.0,
    stop_after: float = 60.0,
    max_messages: int | None = None,
    idle_seconds: float | None = None,
    broker: Broker | None = None,
    dedupe: str = "redelivered",
    dead_letter_table: LakeTable | int | str | None = None,
    max_payload_bytes: int = MAX_PAYLOAD_BYTES,
    on_progress: Callable[[CollectReport], None] | None = None,
) -> CollectReport:
    """Collect readings from ``topics`` into ``table`` for a bounded run, then return what
    happened. Needs ``lake.load`` on the table.

    A batch is landed when it holds ``batch_size`` messages or its first message is
    ``max_seconds`` old; each batch is one appended version (an upsert by key when it holds
    redelivered messages, or always with ``dedupe="always"``) and one ``ingest.mqtt_batch``
    event, committed before its messages are acknowledged. The run ends after
    ``stop_after`` seconds, after ``max_messages`` messages, or after ``idle_seconds``
    without one — whichever comes first — and lands what it holds before it returns. A
    lost connection is re-established until ``stop_after`` (then ``BrokerUnavailable``);
    messages not yet landed are redelivered by the broker. A failing lake write raises, leaving its messages
    unacknowledged for the next run. ``on_progress(report)`` is called after each batch is
    committed and before its messages are acknowledged.

    Each batch commits in its own session from ``session_factory`` (it must, to acknowledge
    only what is committed), so call it outside any open write transaction — on SQLite a
    caller holding the write lock would make every batch wait for it."""
    fields = parse_schema(schema)
    topics = [check_topic(t) for t in topics]
    if not topics:
        raise InvalidTopic(topic="", detail="no topic to subscribe to")
    if batch_size < 1 or max_seconds <= 0 or stop_after <= 0:
        raise InvalidInput(detail="batch_size, max_seconds and stop_after must be positive")
    if dedupe not in ("redelivered", "always"):
        raise InvalidInput(detail=f"dedupe {dedupe!r}: use 'redelivered' or 'always'")
    with session_factory() as session:
        lake_table = tables.get_table(session, table)
        access.require(actor, "lake.load", lake_table)
        keys = list(key_columns or lake_table.key_columns or [])
        table_id, table_name = lake_table.id, lake_table.name
        dead_id = tables.get_table(session, dead_letter_table).id if dead_letter_table else None
    required = {f.name for f in fields if f.required}
    if not keys or any(k not in required for k in keys):
        raise StreamKeyMissing()
    broker = broker or Broker()
    client_id = broker.client_id or f"longshu-{table_name}"
    report = CollectReport(table=table_name, client_id=client_id)
    collector = _Collector(
        session_factory, actor, table_id, dead_id, fields, keys, dedupe, max_payload_bytes, report
    )
    connection = _Connection(broker, client_id, topics, window=batch_size)
    started = time.monotonic()
    deadline = started + stop_after
    connection.open(timeout=min(10.0, stop_after))
    last_message = time.monotonic()
    batch: list[_Message] = []
    batch_since = 0.0
    try:
        while True:
            alive = connection.pump(0.05)
            now = time.monotonic()
            if connection.inbox:
                if not batch:
                    batch_since = now
                batch += connection.inbox
                report.received += len(connection.inbox)
                connection.inbox.clear()
                last_message = now
            if batch and (len(batch) >= batch_size or now - batch_since >= max_seconds):
                landed = batch[:batch_size]
                collector.land(landed)
                if on_progress:
                    on_progress(report)
                connection.ack(landed)
                batch = batch[batch_size:]
                batch_since = now
            done = (
                now >= deadline
                or (max_messages is not None and report.received >= max_messages)
                or (idle_seconds is not None and now - last_message >= idle_seconds)
            )
            if not alive and not done:
                # messages not landed are unacknowledged: the broker sends them again
                batch = []
                _reconnect(connection, deadline, report)
                continue
            if done:
                break
        while batch and connection.connected:
            landed = batch[:batch_size]
            collector.land(landed)
            if on_progress:
                on_progress(report)
            connection.ack(landed)
            batch = batch[batch_size:]
    finally:
        connection.close()
        report.elapsed_seconds = round(time.monotonic() - started, 3)
    return report


def _reconnect(connection: _Connection, deadline: float, report: CollectReport) -> None:
    """Connect again, with backoff, until the run's deadline; then give up with the last
    error (the jobs worker retries a ``BrokerUnavailable`` later)."""
    pause = 0.5
    failure: LongshuError = BrokerUnavailable(
        host=connection.broker.host, port=connection.broker.port, detail="connection lost"
    )
    while time.monotonic() < deadline:
        try:
            connection.open(timeout=max(0.5, min(5.0, deadline - time.monotonic())))
            report.reconnects += 1
            return
        except (BrokerUnavailable, BrokerRefused) as error:
            failure = error
            time.sleep(min(pause, max(0.0, deadline - time.monotonic())))
            pause = min(pause * 2, 10.0)
    raise failure


class _Collector:
    """Turns a batch of messages into one committed lake version and event."""

    def __init__(
        self,
        session_factory: Callable[[], Session],
        actor: Actor,
        table_id: int,
        dead_id: int | None,
        fields: list[StreamField],
        keys: list[str],
        dedupe: str,
        max_payload_bytes: int,
        report: CollectReport,
    ) -> None:
        self.session_factory = session_factory
        self.actor = actor
        self.table_id = table_id
        self.dead_id = dead_id
        self.fields = fields
        self.keys = keys
        self.dedupe = dedupe
        self.max_payload_bytes = max_payload_bytes
        self.report = report
        self.schema = arrow_schema(fields)
        self.seen: OrderedDict[tuple[Any, ...], None] = OrderedDict()

    def land(self, batch: list[_Message]) -> None:
        rows: list[dict[str, Any]] = []
        dead: list[DeadLetter] = []
        batch_keys: set[tuple[Any, ...]] = set()
        duplicates = 0
        for message in batch:
            try:
                row = decode(message.payload, self.fields, self.max_payload_bytes)
            except _Rejected as rejected:
                dead.append(_dead_letter(message, rejected))
                continue
            key = tuple(row[k] for k in self.keys)
            if key in batch_keys or key in self.seen:
                duplicates += 1
                continue
            batch_keys.add(key)
            row[TOPIC_COLUMN] = message.topic
            row[RECEIVED_COLUMN] = message.received_at
            rows.append(row)
        redelivered = sum(1 for m in batch if m.dup)
        mode = "upsert" if rows and (redelivered or self.dedupe == "always") else "append"
        load_id = uuid.uuid4().hex
        with self.session_factory() as session:
            version = None
            table = tables.get_table(session, self.table_id)
            try:
                if rows:
                    data = pa.Table.from_pylist(rows, schema=self.schema)
                    version = service.load_source(
                        session,
                        self.actor,
                        table,
                        lambda: Source(data=data, rows=len(rows), format="mqtt"),
                        label=self.report.client_id,
                        mode=mode,
                        key_columns=self.keys,
                        load_id=load_id,
                    ).version
                if dead and self.dead_id is not None:
                    letters = _dead_letter_rows(dead)
                    service.load_source(
                        session,
                        self.actor,
                        self.dead_id,
                        lambda: Source(data=letters, rows=len(dead), format="mqtt-dead-letters"),
                        label=self.report.client_id,
                        mode="append",
                        load_id=load_id,
                    )
            except LongshuError:
                session.commit()  # the recorded failure; the batch stays unacknowledged
                raise
            reasons: dict[str, int] = {}
            for letter in dead:
                reasons[letter.reason] = reasons.get(letter.reason, 0) + 1
            events.emit(
                session,
                BATCH_LANDED,
                self.actor,
                subject=table,
                table=table.name,
                table_id=table.id,
                client_id=self.report.client_id,
                load_id=load_id,
                version=version,
                mode=mode if version else None,
                received=len(batch),
                rows=len(rows),
                rejected=len(dead),
                rejected_reasons=reasons,
                duplicates=duplicates,
                redelivered=redelivered,
                topics=sorted({m.topic for m in batch})[:20],
            )
            session.commit()
        # committed: now the keys count as landed and the messages may be acknowledged
        for row in rows:
            self.seen[tuple(row[k] for k in self.keys)] = None
        while len(self.seen) > SEEN_LIMIT:
            self.seen.popitem(last=False)
        report = self.report
        report.batches += 1
        report.landed += len(rows)
        report.rejected += len(dead)
        report.duplicates += duplicates
        report.redelivered += redelivered
        if version is not None:
            report.versions.append(version)
        room = DEAD_LETTER_LIMIT - len(report.dead_letters)
        report.dead_letters += dead[: max(0, room)]


def _dead_letter(message: _Message, rejected: _Rejected) -> DeadLetter:
    head = message.payload[: EXCERPT * 4]
    try:
        text = head.decode("utf-8")[:EXCERPT]
    except UnicodeDecodeError:
        text = "base64:" + base64.b64encode(message.payload[:EXCERPT]).decode()
    return DeadLetter(
        topic=message.topic,
        reason=rejected.reason,
        message=str(rejected),
        params=rejected.params,
        payload=text,
        payload_bytes=len(message.payload),
        received_at=message.received_at,
    )


def _dead_letter_rows(dead: list[DeadLetter]) -> pa.Table:
    return pa.table(
        {
            "topic": pa.array([d.topic for d in dead], pa.string()),
            "reason": pa.array([d.reason for d in dead], pa.string()),
            "message": pa.array([d.message for d in dead], pa.string()),
            "payload": pa.array([d.payload for d in dead], pa.string()),
            "payload_bytes": pa.array([d.payload_bytes for d in dead], pa.int64()),
            RECEIVED_COLUMN: pa.array([d.received_at for d in dead], TYPES["timestamp"]),
        }
    )


def collect_with_options(
    session_factory: Callable[[], Session],
    actor: Actor,
    table: LakeTable | int | str,
    options: dict[str, Any],
    on_progress: Callable[[CollectReport], None] | None = None,
) -> CollectReport:
    """``collect`` configured by a source's options (what an ``IngestSource`` of connector
    ``mqtt`` stores; ``password`` belongs in its sealed half): host, port, client_id,
    username, password, tls, topics, schema, key_columns, batch_size, max_seconds,
    stop_after, max_messages, idle_seconds, dedupe, dead_letter_table."""
    known = {
        "host", "port", "client_id", "username", "password", "tls", "keepalive",
        "session_expiry", "topics", "schema",
        "key_columns", "batch_size", "max_seconds", "stop_after", "max_messages",
        "idle_seconds", "dedupe", "dead_letter_table", "max_payload_bytes",
    }  # fmt: skip
    unknown = sorted(set(options) - known)
    if unknown:
        raise InvalidInput(detail=f"unknown MQTT options: {', '.join(unknown)}")
    broker = Broker(
        **{k: options[k] for k in ("host", "port", "client_id", "username", "password", "tls", "keepalive", "session_expiry")
           if k in options}
    )  # fmt: skip
    passed = {
        k: options[k]
        for k in (
            "key_columns", "batch_size", "max_seconds", "stop_after", "max_messages",
            "idle_seconds", "dedupe", "dead_letter_table", "max_payload_bytes",
        )
        if k in options
    }  # fmt: skip
    return collect(
        session_factory,
        actor,
        table,
        list(options.get("topics") or []),
        schema=options.get("schema") or {},
        broker=broker,
        on_progress=on_progress,
        **passed,
    )
