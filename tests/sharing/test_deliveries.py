"""Batch exchange deliveries (批量交换交付): a grant's holder asks for a package, the job builds
it through ``lake.access``, the holder downloads and decrypts it with its own SM2 key and signs
a receipt; when the grant ends the package falls due for destruction, a reminder goes out before
the deadline, the escalation once after it, and the signed confirmation removes the files. Every
refusal (wrong mode, wrong department, ended grant, forged or misdirected records, bad keys,
replays, oversized uploads) has its own error."""

from __future__ import annotations

import datetime as dt
import shutil

import pytest
from sqlalchemy import select
from tests.conftest import bearer_for, csrf_of, sign_in, staff

from longshu.actor import SYSTEM
from longshu.errors import Forbidden
from longshu.events import Event
from longshu.governance import pipeline
from longshu.lake import tables
from longshu.security.crypto import sm2
from longshu.security.crypto.signing import ED25519, SM2_SM3, SigningKey
from longshu.sharing import deliveries, destruction, grants, requests
from longshu.sharing.delivery_errors import (
    DeliveriesPending,
    DeliveryFilesGone,
    DeliveryNotFound,
    DeliveryNotReady,
    DeliveryStateConflict,
    NotDeliveryHolder,
    RecipientKeyInvalid,
    RecordForAnotherPackage,
)
from longshu.sharing.delivery_models import Delivery
from longshu.sharing.errors import GrantInactive, ModeNotGranted
from longshu.sharing.models import ShareGrant
from longshu.sharing.package_errors import (
    DestructionRecordForged,
    PackageFormatUnknown,
    ReceiptForged,
)
from longshu.sharing.package_receipts import record_message
from longshu.sharing.packages import MANIFEST, open_package
from longshu.web import i18n
from longshu.workflow import calendar


@pytest.fixture
def immediate():
    """Jobs run as soon as they are handed over (after the commit), in memory."""
    before = deliveries.huey.immediate
    deliveries.huey.immediate = True
    yield
    deliveries.huey.immediate = before


@pytest.fixture(autouse=True)
def handed_over(request, monkeypatch):
    """Without ``immediate`` no worker runs: builds handed over are only recorded (never put
    on a real queue), and tests run ``deliveries.build`` themselves."""
    if "immediate" in request.fixturenames:
        return []
    queued: list[int] = []
    monkeypatch.setattr(deliveries, "build_task", queued.append)
    return queued


@pytest.fixture
def people(orgs):
    return {
        "user": staff(orgs["transport"], "data_consumer", uid=301),
        "colleague": staff(orgs["transport"], "dept_data_admin", uid=305),
        "reviewer": staff(orgs["police"], "dept_reviewer", uid=302),
        "stranger": staff(orgs["weather"], "data_consumer", uid=303),
        "bureau": staff(orgs["bureau"], "bureau_reviewer", uid=304),
    }


@pytest.fixture
def registry(db, make_population, population_rows):
    """The police department's ``registry`` (无条件共享, granted at once), 150 residents."""
    resource_id, table, _ = make_population("registry", "unconditional")
    with db.session() as s:
        tables.write_version(s, SYSTEM, table, population_rows(150))
        pipeline.govern_version(s, SYSTEM, tables.get_table(s, table), 1)
    return resource_id


def grant_for(db, people, resource_id, modes=("query", "batch"), regions=()) -> int:
    with db.session() as s:
        request = requests.submit(
            s, people["user"], scenario="道路运输从业资格一件事", purpose="核对从业人员户籍",
            legal_basis="《道路运输条例》", days=30,
            items=[requests.ItemAsked(resource_id, ("sfzh", "xm", "xzqh", "csrq"),
                                      tuple(regions), tuple(modes))],
        )  # fmt: skip
        assert request.items[0].state == "granted"
        return s.scalar(select(ShareGrant.id).where(ShareGrant.item_id == request.items[0].id))


@pytest.fixture
def department():
    """The receiving department's SM2 key: decrypts packages and signs records."""
    return SigningKey(SM2_SM3, sm2.generate_private_key().to_bytes(32, "big"))


def ask(db, actor, grant_id, key, fmt="parquet", signer=None) -> int:
    with db.session() as s:
        delivery = deliveries.request_delivery(
            s, actor, grant_id, fmt=fmt, recipient_key=key.public.public_bytes.hex(),
            signer_key=signer,
        )  # fmt: skip
        return delivery.id


def fetch(db, delivery_id) -> Delivery:
    with db.session() as s:
        return s.get(Delivery, delivery_id)


def types_of(db, prefix="sharing.") -> list[str]:
    with db.session() as s:
        return list(
            s.scalars(select(Event.type).where(Event.type.like(prefix + "%")).order_by(Event.id))
        )


def events_of(db, type_) -> list[Event]:
    with db.session() as s:
        return list(s.scalars(select(Event).where(Event.type == type_).order_by(Event.id)))


def sign(db, delivery_id, key, kind, *, at=None, statement=None):
    manifest = fetch(db, delivery_id).manifest
    moment = (at or dt.datetime.now(dt.UTC)).replace(microsecond=0)
    message = record_message(manifest, kind, moment, statement)
    return {"signature": key.sign(message).hex(), "signed_at": moment, "statement": statement}


def receipt(db, actor, delivery_id, record, **extra):
    with db.session() as s:
        return destruction.accept_receipt(s, actor, delivery_id, **record, **extra)


def destroy(db, actor, delivery_id, record, **extra):
    with db.session() as s:
        return destruction.confirm_destruction(s, actor, delivery_id, **record, **extra)


def sweep(db, now):
    with db.session() as s:
        return destruction.remind_due(s, now)


# --- the whole path -------------------------------------------------------------------------


def test_build_download_decrypt_receipt_and_destruction_after_revocation(
    db, registry, people, department, immediate, tmp_path, settings
):
    grant_id = grant_for(db, people, registry, regions=("620102",))
    delivery_id = ask(db, people["user"], grant_id, department)
    built = fetch(db, delivery_id)  # the job ran after the request committed
    assert built.state == "built" and built.error is None
    folder = settings.var_dir / "exchange" / built.package_id
    assert sorted(p.name for p in folder.iterdir()) == ["data.parquet.lse", MANIFEST]
    assert built.files[0]["name"] == "data.parquet.lse" and built.manifest["grant_id"] == (
        f"sharing:{grant_id}"
    )

    with db.session() as s:  # the receiving department downloads the file and the manifest
        path = deliveries.download(s, people["colleague"], delivery_id)
        manifest = deliveries.manifest_of(s, people["user"], delivery_id)
    mine = tmp_path / "received"
    mine.mkdir()
    shutil.copy(path, mine / path.name)
    (mine / MANIFEST).write_text((folder / MANIFEST).read_text(encoding="utf-8"), "utf-8")
    assert manifest == built.manifest
    table = open_package(mine, department.private_bytes())
    assert table.column_names == ["sfzh", "xm", "xzqh", "csrq"]
    assert table.num_rows == built.rows > 0
    assert set(table.column("xzqh").to_pylist()) == {"620102"}  # the grant's region rows only
    assert all("*" in v for v in table.column("sfzh").to_pylist())  # masked as graded
    assert fetch(db, delivery_id).state == "downloaded"

    received = receipt(
        db, people["user"], delivery_id, sign(db, delivery_id, department, "received")
    )
    assert received.state == "received" and received.receipt["kind"] == "received"
    assert received.receipt["manifest_sm3"] == built.manifest_sm3

    with db.session() as s:
        grants.revoke(s, people["reviewer"], grant_id, "场景已办结")
        revoked_at = s.get(ShareGrant, grant_id).revoked_at
    with db.session() as s, pytest.raises(DeliveryNotReady):
        deliveries.download(s, people["user"], delivery_id)  # no new copies once it ended

    due = fetch(db, delivery_id)  # at once: the revocation's event reached the deliveries
    deadline = calendar.add_working_days(revoked_at, 10)
    assert due.state == "destruction_due" and due.due_at == deadline
    assert due.grant_ended_at == revoked_at
    first = revoked_at + dt.timedelta(minutes=1)
    assert sweep(db, first) == {"due": 0, "reminded": 0, "escalated": 0}

    near = calendar.add_working_days(revoked_at, 8)  # two working days left
    assert sweep(db, near)["reminded"] == 1
    assert sweep(db, near + dt.timedelta(hours=1))["reminded"] == 0  # reminded once

    late = deadline + dt.timedelta(hours=1)
    assert sweep(db, late) == {"due": 0, "reminded": 0, "escalated": 1}
    assert sweep(db, late + dt.timedelta(days=3)) == {"due": 0, "reminded": 0, "escalated": 0}
    assert fetch(db, delivery_id).state == "overdue"
    [escalation] = events_of(db, "sharing.destruction_overdue")
    assert escalation.payload["provider_org_id"] == due.provider_org_id
    assert escalation.payload["consumer_org_id"] == due.consumer_org_id
    with db.session() as s:  # the bureau and the provider see it, the consumer too
        for who in ("bureau", "reviewer", "user"):
            side = "all" if who == "bureau" else "both"
            seen = deliveries.list_deliveries(s, people[who], side=side, state="overdue")
            assert [d.id for d in seen] == [delivery_id]
        assert deliveries.list_deliveries(s, people["stranger"], side="all", state="overdue") == []

    done = destroy(db, people["user"], delivery_id, sign(db, delivery_id, department, "destroyed"))
    assert done.state == "destroyed" and done.destruction["kind"] == "destroyed"
    assert done.files_removed_at is not None
    assert [p.name for p in folder.iterdir()] == [MANIFEST]  # the data file is gone
    [confirmed] = events_of(db, "sharing.destruction_confirmed")
    assert confirmed.payload["late"] is True
    assert confirmed.payload["removed_files"] == ["data.parquet.lse"]
    with db.session() as s:
        assert deliveries.manifest_of(s, people["user"], delivery_id) == manifest  # kept
        with pytest.raises(DeliveryFilesGone):
            deliveries.download(s, people["user"], delivery_id)

    flow = [t for t in types_of(db) if t.startswith("sharing.deliver") or "destruction" in t]
    assert flow == [
        "sharing.delivery_requested", "sharing.delivery_built", "sharing.delivery_downloaded",
        "sharing.delivery_received", "sharing.destruction_due", "sharing.destruction_reminder",
        "sharing.destruction_overdue", "sharing.destruction_confirmed",
    ]  # fmt: skip
    assert "sharing.package_built" in types_of(db) and types_of(db, "lake.accessed")
    for event in events_of(db, "sharing.delivery_built"):  # identifiers and figures only
        assert not any(v in str(event.payload) for v in table.column("xm").to_pylist())


def test_a_package_past_a_querys_limit_goes_the_whole_way(
    db, make_population, population_rows, people, department, immediate, tmp_path, settings
):
    """150,000 rows — past the 100,000 a query may return — requested, built by the job
    through the streaming door, downloaded, opened row for row and signed for."""
    resource_id, table, _ = make_population("census", "unconditional")
    rows = population_rows(150_000)
    with db.session() as s:
        tables.write_version(s, SYSTEM, table, rows)
        pipeline.govern_version(s, SYSTEM, tables.get_table(s, table), 1)
    grant_id = grant_for(db, people, resource_id)
    delivery_id = ask(db, people["user"], grant_id, department)
    built = fetch(db, delivery_id)
    assert built.state == "built" and built.rows == 150_000
    with db.session() as s:
        path = deliveries.download(s, people["user"], delivery_id)
    mine = tmp_path / "received"
    mine.mkdir()
    shutil.copy(path, mine / path.name)
    folder = settings.var_dir / "exchange" / built.package_id
    (mine / MANIFEST).write_text((folder / MANIFEST).read_text(encoding="utf-8"), "utf-8")
    opened = open_package(mine, department.private_bytes())
    assert opened.num_rows == 150_000 and opened.column_names == ["sfzh", "xm", "xzqh", "csrq"]
    assert sorted(opened.column("xzqh").to_pylist()) == sorted(rows.column("xzqh").to_pylist())
    assert not set(opened.column("sfzh").to_pylist()) & set(rows.column("sfzh").to_pylist())
    received = receipt(
        db, people["user"], delivery_id, sign(db, delivery_id, department, "received")
    )
    assert received.state == "received"


def test_expiry_makes_packages_due_and_csv_builds_too(db, registry, people, department, immediate):
    grant_id = grant_for(db, people, registry, modes=("batch",))
    delivery_id = ask(db, people["user"], grant_id, department, fmt="csv")
    assert fetch(db, delivery_id).files[0]["name"] == "data.csv.lse"
    with db.session() as s:
        valid_until = s.get(ShareGrant, grant_id).valid_until
    assert sweep(db, valid_until - dt.timedelta(seconds=1))["due"] == 0
    assert sweep(db, valid_until + dt.timedelta(seconds=1))["due"] == 1
    due = fetch(db, delivery_id)
    assert due.grant_ended_at == valid_until
    assert due.due_at == calendar.add_working_days(valid_until, 10)
    [event] = events_of(db, "sharing.destruction_due")
    assert event.payload["grant_status"] == "expired" and event.payload["working_days"] == 10


def test_expiry_by_the_periodic_job_makes_packages_due_at_once(
    db, registry, people, department, immediate
):
    grant_id = grant_for(db, people, registry)
    delivery_id = ask(db, people["user"], grant_id, department)
    with db.session() as s:
        grant = s.get(ShareGrant, grant_id)
        grant.valid_until = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=1)
        valid_until = grant.valid_until
    with pytest.raises(GrantInactive), db.session() as s:  # past its validity: no copies
        deliveries.download(s, people["user"], delivery_id)
    with db.session() as s:
        assert grants.expire_due(s, SYSTEM) == 1
    due = fetch(db, delivery_id)
    assert due.state == "destruction_due" and due.grant_ended_at == valid_until
    assert [e.payload["grant_status"] for e in events_of(db, "sharing.destruction_due")] == [
        "expired"
    ]


def test_destruction_deadline_is_configurable(
    db, registry, people, department, immediate, monkeypatch
):
    monkeypatch.setenv("LONGSHU_SHARING_EXCHANGE_DESTRUCTION_WORKING_DAYS", "3")
    grant_id = grant_for(db, people, registry)
    delivery_id = ask(db, people["user"], grant_id, department)
    with db.session() as s:
        grants.revoke(s, people["bureau"], grant_id, "风险处置")
        ended = s.get(ShareGrant, grant_id).revoked_at
    sweep(db, ended + dt.timedelta(seconds=5))
    assert fetch(db, delivery_id).due_at == calendar.add_working_days(ended, 3)


def test_a_refused_build_leaves_the_delivery_failed(db, registry, people, department, handed_over):
    grant_id = grant_for(db, people, registry)
    with db.session() as s:  # handed to the worker only once the request is committed
        pending = deliveries.request_delivery(
            s, people["user"], grant_id, fmt="parquet",
            recipient_key=department.public.public_bytes.hex(),
        )  # fmt: skip
        assert handed_over == []
    delivery_id = pending.id
    assert handed_over == [delivery_id]
    with db.session() as s:  # a request rolled back hands nothing over
        deliveries.request_delivery(
            s, people["user"], grant_id, fmt="parquet",
            recipient_key=department.public.public_bytes.hex(),
        )  # fmt: skip
        s.rollback()
    assert handed_over == [delivery_id]
    assert fetch(db, delivery_id).state == "building"
    with db.session() as s:
        grants.revoke(s, people["reviewer"], grant_id, "撤销")
    with db.session() as s:
        assert deliveries.build(s, delivery_id).state == "failed"
    failed = fetch(db, delivery_id)
    assert failed.error == "sharing.grant_inactive" and failed.manifest is None
    assert events_of(db, "sharing.delivery_failed")[0].payload["error"] == failed.error
    with db.session() as s:
        assert deliveries.build(s, delivery_id) is None  # built once, at most
        with pytest.raises(DeliveryNotReady):
            deliveries.download(s, people["user"], delivery_id)
        with pytest.raises(DeliveryNotReady):
            deliveries.manifest_of(s, people["user"], delivery_id)


def test_more_rows_than_a_package_may_hold_fails_the_build(
    db, registry, people, department, monkeypatch
):
    grant_id = grant_for(db, people, registry)
    monkeypatch.setattr(grants, "PACKAGE_MAX_ROWS", 10)  # a package's row cap (150 rows here)
    delivery_id = ask(db, people["user"], grant_id, department)
    with db.session() as s:
        deliveries.build(s, delivery_id)
    failed = fetch(db, delivery_id)
    assert failed.state == "failed" and failed.error == "lake.row_limit"
    assert not (deliveries.exchange_dir() / failed.package_id).exists()  # nothing half-made
    assert types_of(db, "lake.access_refused")


def test_a_flood_of_requests_is_held_back(db, registry, people, department):
    grant_id = grant_for(db, people, registry)
    for _ in range(3):  # no worker runs: they stay building
        ask(db, people["user"], grant_id, department)
    with pytest.raises(DeliveriesPending):
        ask(db, people["user"], grant_id, department)
    with db.session() as s:
        first = s.scalars(select(Delivery.id).order_by(Delivery.id)).first()
        deliveries.build(s, first)
    assert fetch(db, ask(db, people["user"], grant_id, department)).state == "building"
    later = dt.datetime.now(dt.UTC) + dt.timedelta(minutes=61)  # their worker died
    assert sweep(db, later)["stalled"] == 3
    with db.session() as s:
        states = s.scalars(select(Delivery.state).order_by(Delivery.id)).all()
    assert states == ["built", "failed", "failed", "failed"]
    assert sweep(db, later) == {"due": 0, "reminded": 0, "escalated": 0}
    assert [e.payload["error"] for e in events_of(db, "sharing.delivery_failed")] == [
        "sharing.delivery_stalled"
    ] * 3


# --- refusals ---------------------------------------------------------------------------------


def test_grant_without_batch_mode_is_refused(db, registry, people, department):
    grant_id = grant_for(db, people, registry, modes=("query",))
    with pytest.raises(ModeNotGranted):
        ask(db, people["user"], grant_id, department)


def test_only_the_holding_department_asks_downloads_and_signs(
    db, registry, people, department, immediate
):
    grant_id = grant_for(db, people, registry)
    for who in ("reviewer", "bureau"):  # they may see the grant, not take its rows
        with pytest.raises(NotDeliveryHolder):
            ask(db, people[who], grant_id, department)
    with pytest.raises(Forbidden):  # a third department does not even see the grant
        ask(db, people["stranger"], grant_id, department)
    delivery_id = ask(db, people["user"], grant_id, department)
    with db.session() as s:
        for who in ("reviewer", "bureau"):
            assert deliveries.get_delivery(s, people[who], delivery_id).id == delivery_id
            with pytest.raises(NotDeliveryHolder):
                deliveries.download(s, people[who], delivery_id)
            with pytest.raises(NotDeliveryHolder):
                deliveries.manifest_of(s, people[who], delivery_id)
        with pytest.raises(DeliveryNotFound):  # a third department does not learn it exists
            deliveries.get_delivery(s, people["stranger"], delivery_id)
    with pytest.raises(NotDeliveryHolder):
        receipt(db, people["reviewer"], delivery_id, sign(db, delivery_id, department, "received"))


@pytest.mark.parametrize("end", ["revoked", "expired"])
def test_an_ended_grant_is_refused(db, registry, people, department, end):
    grant_id = grant_for(db, people, registry)
    with db.session() as s:
        grant = s.get(ShareGrant, grant_id)
        if end == "revoked":
            grants.revoke(s, people["reviewer"], grant_id, "撤销")
        else:
            grant.valid_until = dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1)
    with pytest.raises(GrantInactive):
        ask(db, people["user"], grant_id, department)
    with db.session() as s:
        assert s.scalars(select(Delivery)).all() == []


@pytest.mark.parametrize(
    "key",
    [
        "04" + "00" * 64,  # not on the curve
        "04" + "ab" * 40,  # too short
        "zz" * 65,  # not hex
        "",
        "02" + "11" * 32,  # compressed points are not taken
    ],
)
def test_malformed_recipient_key_is_refused(db, registry, people, key):
    grant_id = grant_for(db, people, registry)
    with db.session() as s, pytest.raises(RecipientKeyInvalid):
        deliveries.request_delivery(s, people["user"], grant_id, fmt="parquet", recipient_key=key)


def test_malformed_signer_key_and_format_are_refused(db, registry, people, department):
    grant_id = grant_for(db, people, registry)
    good = department.public.public_bytes.hex()
    for signer in (
        {"algorithm": "rsa", "public_key": "00"},
        {"algorithm": ED25519, "public_key": "00" * 31},
        {"algorithm": SM2_SM3, "public_key": good, "key_id": "0000000000000000"},
        {"public_key": good},
    ):
        with db.session() as s, pytest.raises(RecipientKeyInvalid):
            deliveries.request_delivery(
                s, people["user"], grant_id, fmt="parquet", recipient_key=good, signer_key=signer
            )
    with db.session() as s, pytest.raises(PackageFormatUnknown):
        deliveries.request_delivery(s, people["user"], grant_id, fmt="xlsx", recipient_key=good)


def test_forged_receipt_is_refused_and_recorded(db, registry, people, department, immediate):
    grant_id = grant_for(db, people, registry)
    delivery_id = ask(db, people["user"], grant_id, department)
    impostor = SigningKey.generate()
    with pytest.raises(ReceiptForged):
        receipt(db, people["user"], delivery_id, sign(db, delivery_id, impostor, "received"))
    wrong_kind = sign(db, delivery_id, department, "destroyed")
    with pytest.raises(ReceiptForged):  # a destruction record is not a receipt
        receipt(db, people["user"], delivery_id, wrong_kind)
    altered = sign(db, delivery_id, department, "received") | {"statement": "未收到"}
    with pytest.raises(ReceiptForged):
        receipt(db, people["user"], delivery_id, altered)
    with pytest.raises(ReceiptForged):  # not hex: no signature at all
        receipt(db, people["user"], delivery_id, altered | {"signature": "xyz"})
    refused = events_of(db, "sharing.delivery_record_refused")  # committed despite the refusal
    assert [e.payload["error"] for e in refused] == ["sharing.package_receipt_forged"] * 4
    assert fetch(db, delivery_id).state == "built" and fetch(db, delivery_id).receipt is None


def test_a_separate_signing_key_signs_the_records(db, registry, people, department, immediate):
    signer = SigningKey.generate(ED25519)
    grant_id = grant_for(db, people, registry)
    delivery_id = ask(db, people["user"], grant_id, department, signer=signer.public.as_json())
    with pytest.raises(ReceiptForged):  # the encryption key no longer signs for it
        receipt(db, people["user"], delivery_id, sign(db, delivery_id, department, "received"))
    done = receipt(db, people["user"], delivery_id, sign(db, delivery_id, signer, "received"))
    assert done.receipt["algorithm"] == ED25519 and done.receipt["key_id"] == signer.key_id


def test_receipt_for_another_package_is_refused(db, registry, people, department, immediate):
    grant_id = grant_for(db, people, registry)
    first = ask(db, people["user"], grant_id, department)
    second = ask(db, people["user"], grant_id, department)
    other = sign(db, second, department, "received")
    with pytest.raises(ReceiptForged):  # signed over the other manifest
        receipt(db, people["user"], first, other)
    with pytest.raises(RecordForAnotherPackage):
        receipt(db, people["user"], first, sign(db, first, department, "received"),
                package_id=fetch(db, second).package_id)  # fmt: skip
    assert receipt(db, people["user"], second, other).state == "received"
    assert fetch(db, first).state == "built"


def test_duplicate_and_replayed_records_are_refused(db, registry, people, department, immediate):
    grant_id = grant_for(db, people, registry)
    delivery_id = ask(db, people["user"], grant_id, department)
    record = sign(db, delivery_id, department, "received")
    receipt(db, people["user"], delivery_id, record)
    with pytest.raises(DeliveryStateConflict):
        receipt(db, people["user"], delivery_id, record)  # the same receipt again
    confirmation = sign(db, delivery_id, department, "destroyed")
    destroy(db, people["user"], delivery_id, confirmation)  # before the grant ends: allowed
    with pytest.raises(DeliveryStateConflict):
        destroy(db, people["user"], delivery_id, confirmation)  # replayed
    with pytest.raises(DeliveryStateConflict):
        destroy(db, people["user"], delivery_id, sign(db, delivery_id, department, "destroyed"))
    assert len(events_of(db, "sharing.destruction_confirmed")) == 1
    assert sweep(db, dt.datetime.now(dt.UTC) + dt.timedelta(days=400))["due"] == 0


def test_two_confirmations_at_once_find_one_winner(db, registry, people, department, immediate):
    grant_id = grant_for(db, people, registry)
    delivery_id = ask(db, people["user"], grant_id, department)
    record = sign(db, delivery_id, department, "destroyed")
    with db.sessionmaker() as slow:
        assert slow.get(Delivery, delivery_id).state == "built"  # read before the other
        slow.commit()  # (the loaded row stays in its identity map, as in a race)
        destroy(db, people["user"], delivery_id, record)
        with pytest.raises(DeliveryStateConflict):
            destruction.confirm_destruction(slow, people["user"], delivery_id, **record)
        slow.rollback()
    assert len(events_of(db, "sharing.destruction_confirmed")) == 1


def test_forged_destruction_record_is_refused(db, registry, people, department, immediate):
    grant_id = grant_for(db, people, registry)
    delivery_id = ask(db, people["user"], grant_id, department)
    future = dt.datetime.now(dt.UTC) + dt.timedelta(days=1)
    with pytest.raises(DestructionRecordForged):  # dated ahead: could pre-date the act
        destroy(db, people["user"], delivery_id, sign(db, delivery_id, department, "destroyed",
                                                      at=future))  # fmt: skip
    with pytest.raises(DestructionRecordForged):
        destroy(db, people["user"], delivery_id,
                sign(db, delivery_id, SigningKey.generate(), "destroyed"))  # fmt: skip
    assert fetch(db, delivery_id).state == "built"
    assert (
        deliveries.exchange_dir() / fetch(db, delivery_id).package_id / "data.parquet.lse"
    ).exists()


def test_errors_are_translated():
    for error in (
        DeliveryNotFound(delivery=5),
        NotDeliveryHolder(delivery=5),
        RecipientKeyInvalid(),
        DeliveryNotReady(delivery=5, state="building"),
        DeliveryStateConflict(delivery=5, state="destroyed", record="receipt"),
        RecordForAnotherPackage(named="pkg-x", delivery=5),
        DeliveryFilesGone(delivery=5),
        DeliveriesPending(grant=5, count=3),
    ):
        chinese = i18n.translate(error.message, "zh_CN", **error.params)
        assert chinese != error.render()


# --- over HTTP --------------------------------------------------------------------------------


def test_delivery_routes_and_pages_over_http(
    client, make_user, db, orgs, registry, people, department, immediate, tmp_path
):
    grant_id = grant_for(db, people, registry)
    user = bearer_for(db, make_user("jt7", "data_consumer", org_id=orgs["transport"]))
    reviewer = bearer_for(db, make_user("ga7", "dept_reviewer", org_id=orgs["police"]))
    bureau = bearer_for(db, make_user("sjj7", "bureau_reviewer", org_id=orgs["bureau"]))
    key = department.public.public_bytes.hex()
    base = "/api/v1/sharing"

    asked = client.post(f"{base}/grants/{grant_id}/deliveries",
                        json={"format": "parquet", "recipient_public_key": key}, headers=user)  # fmt: skip
    assert asked.status_code == 202, asked.text
    assert asked.json()["state"] == "building"
    delivery_id = asked.json()["id"]
    shown = client.get(f"{base}/deliveries/{delivery_id}", headers=user).json()
    assert shown["state"] == "built" and shown["signer_key_id"] == department.key_id
    assert client.get(f"{base}/deliveries?side=provider", headers=reviewer).json()[0]["id"] == (
        delivery_id
    )
    manifest = client.get(f"{base}/deliveries/{delivery_id}/manifest", headers=user)
    package = client.get(f"{base}/deliveries/{delivery_id}/package", headers=user)
    assert package.status_code == 200 and package.content[:4] == b"LSE1"
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "data.parquet.lse").write_bytes(package.content)
    (mine / MANIFEST).write_bytes(manifest.content)
    assert open_package(mine, department.private_bytes()).num_rows == shown["rows"]
    assert (
        client.get(f"{base}/deliveries/{delivery_id}/package", headers=reviewer).status_code == 403
    )

    record = sign(db, delivery_id, department, "received")
    body = {"signature": record["signature"], "signed_at": record["signed_at"].isoformat()}
    too_long = client.post(f"{base}/deliveries/{delivery_id}/receipt",
                           json=body | {"statement": "已" * 501}, headers=user)  # fmt: skip
    assert too_long.status_code == 422
    naive = client.post(f"{base}/deliveries/{delivery_id}/receipt",
                        json=body | {"signed_at": "2026-11-29T10:00:00"}, headers=user)  # fmt: skip
    assert naive.status_code == 422
    huge = client.post(f"{base}/deliveries/{delivery_id}/receipt", headers=user,
                       content=b'{"signature": "' + b"a" * (11 * 1024 * 1024) + b'"}',
                       )  # fmt: skip
    assert huge.status_code == 413
    forged = client.post(f"{base}/deliveries/{delivery_id}/receipt",
                         json=body | {"statement": "伪造"}, headers=user)  # fmt: skip
    assert forged.status_code == 422 and forged.json()["error"]["key"] == (
        "sharing.package_receipt_forged"
    )
    ok = client.post(f"{base}/deliveries/{delivery_id}/receipt", json=body, headers=user)
    assert ok.status_code == 200 and ok.json()["state"] == "received"
    again = client.post(f"{base}/deliveries/{delivery_id}/receipt", json=body, headers=user)
    assert again.status_code == 409

    revoked = client.post(
        f"{base}/grants/{grant_id}/revoke", json={"reason": "办结"}, headers=reviewer
    )
    assert revoked.status_code == 200
    ended = fetch(db, delivery_id)
    with db.session() as s:
        ended_at = s.get(ShareGrant, grant_id).revoked_at
    sweep(db, calendar.add_working_days(ended_at, 11))
    assert fetch(db, delivery_id).state == "overdue" and ended.state == "destruction_due"
    page = client.get("/console/sharing/deliveries/overdue", headers=bureau)
    assert page.status_code == 200 and f'data-testid="overdue-{delivery_id}"' in page.text
    mine_page = client.get("/console/sharing/deliveries", headers=user)
    assert mine_page.status_code == 200 and 'data-state="overdue"' in mine_page.text
    assert "销毁" in mine_page.text and "省交通运输厅" in mine_page.text

    confirmation = sign(db, delivery_id, department, "destroyed")
    done = client.post(f"{base}/deliveries/{delivery_id}/destruction",
                       json={"signature": confirmation["signature"],
                             "signed_at": confirmation["signed_at"].isoformat()},
                       headers=user)  # fmt: skip
    assert done.status_code == 200 and done.json()["state"] == "destroyed"
    assert client.get(f"{base}/deliveries/{delivery_id}/package", headers=user).status_code == 410
    assert client.get(f"{base}/deliveries/999999", headers=user).status_code == 404
    stranger = bearer_for(db, make_user("qx7", "data_consumer", org_id=orgs["weather"]))
    assert client.get(f"{base}/deliveries/{delivery_id}", headers=stranger).status_code == 404
    bad_key = client.post(f"{base}/grants/{grant_id}/deliveries",
                          json={"recipient_public_key": "04" + "00" * 64}, headers=user)  # fmt: skip
    assert bad_key.status_code in (403, 422)


def test_console_forms_ask_for_a_package_and_take_signed_records(
    client, make_user, db, orgs, registry, people, department, immediate
):
    grant_id = grant_for(db, people, registry)
    make_user("jt6", "data_consumer", org_id=orgs["transport"])
    assert sign_in(client, "jt6").status_code in (302, 303)
    page = client.get("/console/sharing/deliveries")
    assert page.status_code == 200 and 'data-testid="delivery-form"' in page.text
    token = csrf_of(client)
    form = {"csrf_token": token, "grant_id": str(grant_id), "format": "csv"}
    bad = client.post("/console/sharing/deliveries", data=form | {"recipient_public_key": "04ab"})
    assert bad.status_code == 422 and 'data-testid="deliveries-error"' in bad.text
    assert "公钥无效" in bad.text
    no_csrf = client.post(
        "/console/sharing/deliveries",
        data={
            "grant_id": str(grant_id),
            "recipient_public_key": department.public.public_bytes.hex(),
        },
    )
    assert no_csrf.status_code == 403
    asked = client.post(
        "/console/sharing/deliveries",
        data=form | {"recipient_public_key": department.public.public_bytes.hex()},
    )
    assert asked.status_code == 303
    with db.session() as s:
        delivery_id = s.scalar(select(Delivery.id))
    assert fetch(db, delivery_id).state == "built" and fetch(db, delivery_id).format == "csv"
    page = client.get("/console/sharing/deliveries")
    assert f'data-testid="download-{delivery_id}"' in page.text
    download = client.get(f"/api/v1/sharing/deliveries/{delivery_id}/package")  # the session
    assert download.status_code == 200 and download.content[:4] == b"LSE1"

    record = sign(db, delivery_id, department, "received")
    url = f"/console/sharing/deliveries/{delivery_id}/records"
    fields = {"csrf_token": token, "kind": "received", "signature": record["signature"]}
    naive = client.post(url, data=fields | {"signed_at": "2026-11-29T10:00:00"})
    assert naive.status_code == 422 and "签名时间须为" in naive.text  # shown in Chinese
    forged = client.post(url, data=fields | {"signed_at": record["signed_at"].isoformat(),
                                             "statement": "伪造"})  # fmt: skip
    assert forged.status_code == 422 and "签收回执" in forged.text
    ok = client.post(url, data=fields | {"signed_at": record["signed_at"].isoformat()})
    assert ok.status_code == 303 and fetch(db, delivery_id).state == "received"
    assert len(events_of(db, "sharing.delivery_record_refused")) == 1
