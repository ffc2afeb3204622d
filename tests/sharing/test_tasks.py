"""Sharing's periodic jobs, run as the worker runs them (same code, same database)."""

from __future__ import annotations

import datetime as dt
import importlib

from sqlalchemy import select

from longshu.db import utcnow
from longshu.events import Event
from longshu.sharing.flow_models import DutyEdition
from longshu.sharing.models import ShareGrant


def tasks():
    return importlib.import_module("longshu.sharing.tasks")


def test_the_worker_runs_sharings_periodic_jobs():
    worker = importlib.import_module("longshu.worker")
    names = {task.__name__ for task in worker.huey._registry._periodic_tasks}
    assert {"expire_grants", "compile_duty_list", "remind_destructions"} <= names


def test_grants_past_their_validity_are_expired_once(db, make_population, orgs):
    from longshu.actor import Actor
    from longshu.sharing import requests

    resource_id, _, _ = make_population("registry", "unconditional")
    user = Actor(kind="user", id=301, org_id=orgs["transport"], roles=frozenset({"data_consumer"}))
    with db.session() as s:
        request = requests.submit(
            s, user, scenario="出生一件事", purpose="户口登记联办", legal_basis="管理办法",
            items=[requests.ItemAsked(resource_id, ("xm",))], days=30,
        )  # fmt: skip
        grant = s.scalar(select(ShareGrant).where(ShareGrant.item_id == request.items[0].id))
        grant.valid_until = utcnow() - dt.timedelta(minutes=1)
        grant_id = grant.id
    assert tasks().expire_grants.call_local() == 1
    assert tasks().expire_grants.call_local() == 0
    with db.session() as s:
        assert s.get(ShareGrant, grant_id).status == "expired"
        expired = s.scalars(select(Event).where(Event.type == "sharing.grant_expired")).all()
        assert [e.subject_id for e in expired] == [str(grant_id)]


def test_last_months_duty_list_is_compiled_once(db, orgs):
    first = tasks().compile_duty_list.call_local()
    assert first is not None
    assert tasks().compile_duty_list.call_local() is None
    with db.session() as s:
        edition = s.get(DutyEdition, first)
        assert edition.status == "draft" and edition.published_at is None  # the bureau publishes
