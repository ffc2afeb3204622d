"""Retention never removes a version that something still cites; removal of files waits
for the purge to commit."""

from __future__ import annotations

import datetime as dt

import pytest
from tests.lake.conftest import people

from longshu import lake
from longshu.db import utcnow
from longshu.errors import Forbidden
from longshu.lake import retention, tables
from longshu.lake.errors import VersionPurged
from longshu.lake.policy import Grant, TableGrant
from longshu.lake.storage import storage


@pytest.fixture
def five(population, session, admin):
    """population with five snapshot versions, each with its own files."""
    for i in range(4):
        tables.write_version(session, admin, population, people(3, offset=10 * (i + 1)))
    session.commit()
    return population


def _files_exist(version) -> bool:
    store = storage()
    uri = store.table_uri("population")
    return all(store.exists(store.fs_path(f"{uri}/{e['path']}")) for e in version.manifest)


def test_without_a_rule_nothing_goes(five, session, admin):
    assert retention.apply_retention(session, admin, five).purged == []


def test_keep_newest_versions_but_never_held_ones(five, session, admin, consumer, emitted):
    retention.set_retention(session, admin, five, versions=2, days=None)
    retention.hold(session, consumer, five, 2, "grant", "sharing:12")
    report = retention.apply_retention(session, admin, five)
    assert report.purged == [1, 3] and report.held == [2]
    assert report.bytes_freed > 0 and report.files_to_delete
    v1 = tables.get_version(session, five, 1)
    assert _files_exist(v1)  # still there until the purge commits
    session.commit()
    assert not _files_exist(v1)
    assert _files_exist(tables.get_version(session, five, 2))
    assert [e.payload["version"] for e in emitted("lake.version_purged")] == [1, 3]
    with pytest.raises(VersionPurged):
        tables.readable_version(session, five, 1)
    grant = Grant(
        id="sharing:12", consumer="c", tables=(TableGrant(table="population", versions=(2,)),)
    )
    assert lake.access(
        session, consumer, grant, "SELECT count(*) AS n FROM population"
    ).to_pylist() == [{"n": 3}]


def test_a_rolled_back_purge_deletes_nothing(five, session, admin):
    retention.set_retention(session, admin, five, versions=1, days=None)
    session.commit()
    report = retention.apply_retention(session, admin, five)
    assert report.purged == [1, 2, 3, 4]
    session.rollback()
    session.commit()  # a later commit of the same session does not run the cancelled deletion
    assert all(_files_exist(v) for v in tables.list_versions(session, admin, five))


def test_released_holds_no_longer_keep(five, session, admin, consumer):
    retention.set_retention(session, admin, five, versions=1, days=None)
    retention.hold(session, consumer, five, 3, "certificate", 77)
    assert retention.hold(session, consumer, five, 3, "certificate", 77).id  # idempotent
    assert 3 in retention.apply_retention(session, admin, five).held
    assert retention.release(session, consumer, "certificate", 77) == 1
    assert 3 in retention.apply_retention(session, admin, five).purged


def test_age_rule_and_newest_ready_version(five, session, admin):
    retention.set_retention(session, admin, five, versions=None, days=30)
    assert retention.apply_retention(session, admin, five).purged == []
    later = utcnow() + dt.timedelta(days=31)
    assert retention.apply_retention(session, admin, five, now=later).purged == [1, 2, 3, 4]
    assert tables.readable_version(session, five).number == 5


def test_files_shared_with_kept_versions_stay(population, session, admin):
    for i in range(3):
        tables.write_version(
            session, admin, population, people(2, offset=20 + 2 * i), mode="append"
        )
    retention.set_retention(session, admin, population, versions=1, days=None)
    report = retention.apply_retention(session, admin, population)
    assert report.purged == [1, 2, 3] and report.files_to_delete == []  # version 4 uses them all
    session.commit()
    assert _files_exist(tables.readable_version(session, population))


def test_who_may(five, session, loader, consumer):
    with pytest.raises(Forbidden):
        retention.apply_retention(session, loader, five)
    with pytest.raises(retention.InvalidHolder):
        retention.hold(session, consumer, five, 1, "whim", 1)
