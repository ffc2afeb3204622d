"""Verification (核验) over HTTP: the provider sets it up and builds the index, a grant's
holder checks single records and batches, new versions rebuild the index, every use is
counted, and every bad input or abuse is refused."""

from __future__ import annotations

import datetime as dt
import random
from pathlib import Path

import pyarrow as pa
import pytest
from sqlalchemy import select, update
from tests.conftest import bearer_for, csrf_of

from longshu import ids
from longshu.actor import SYSTEM
from longshu.events import Event
from longshu.governance import pipeline
from longshu.lake import tables
from longshu.sharing import ratelimit, verify_service
from longshu.sharing.models import GrantUsage, ShareGrant
from longshu.sharing.verify_models import VerifyIndexRecord, VerifySetup

API = "/api/v1/sharing"
REQUEST = {
    "scenario": "社保待遇资格认证一件事",
    "purpose": "核验申请人身份",
    "legal_basis": "《社会保险法》",
    "days": 30,
}


@pytest.fixture(autouse=True)
def _fresh_limits(monkeypatch):
    """Own counters, no background usage flush (tests flush when they want)."""
    monkeypatch.setenv("LONGSHU_SHARING_USAGE_FLUSH_SECONDS", "0")
    monkeypatch.setenv("LONGSHU_SHARING_LIMITS_BACKEND", "local")
    ratelimit.reset_limits()
    verify_service._CACHE.clear()
    verify_service.USAGE.flush = verify_service.USAGE.flush
    with verify_service.USAGE._lock:
        verify_service.USAGE._uses.clear()
    yield
    with verify_service.USAGE._lock:
        verify_service.USAGE._uses.clear()
    ratelimit.reset_limits()
    verify_service._CACHE.clear()


@pytest.fixture
def people(db, make_population, population_rows):
    """The police department's ``registry`` (无条件共享), 120 residents, scanned."""
    resource_id, table, police = make_population("registry", "unconditional")
    rows = population_rows(120)
    with db.session() as s:
        tables.write_version(s, SYSTEM, table, rows)
        pipeline.govern_version(s, SYSTEM, tables.get_table(s, table), 1)
    return {
        "resource": resource_id,
        "table": table,
        "police": police,
        "ids": rows.column("sfzh").to_pylist(),
        "names": rows.column("xm").to_pylist(),
        "regions": rows.column("xzqh").to_pylist(),
    }


@pytest.fixture
def parties(db, make_user, orgs, people):
    """Headers of the police reviewer (provider), a transport department user (holder) and
    a user of another department."""
    return {
        "provider": bearer_for(db, make_user("ga1", "dept_reviewer", org_id=people["police"])),
        "holder": bearer_for(db, make_user("jt1", "data_consumer", org_id=orgs["transport"])),
        "other": bearer_for(db, make_user("cz1", "data_consumer", org_id=orgs["health"])),
    }


def grant_for(client, headers, resource_id, modes=("verify",), fields=("sfzh", "xm")) -> int:
    """A granted item (无条件共享: granted at once) → the grant's id."""
    body = REQUEST | {
        "items": [{"resource_id": resource_id, "fields": list(fields), "modes": list(modes)}]
    }
    filed = client.post(f"{API}/requests", json=body, headers=headers)
    assert filed.status_code == 201, filed.text
    assert filed.json()[0]["state"] == "granted"
    grants = client.get(f"{API}/grants?status=active", headers=headers).json()
    return max(g["id"] for g in grants)


def set_up_and_build(client, provider, resource_id) -> dict:
    setup = client.put(f"{API}/verify/setups/{resource_id}", json={}, headers=provider)
    assert setup.status_code == 200, setup.text
    built = client.post(f"{API}/verify/setups/{resource_id}/build", json={}, headers=provider)
    assert built.status_code == 200, built.text
    return built.json()


def stranger_ids(n: int, seed: int = 3) -> list[str]:
    """Valid resident IDs from Beijing: never in the Gansu test register."""
    rng = random.Random(seed)
    return [ids.random_resident_id(rng, ("110105",)) for _ in range(n)]


def check(client, headers, grant_id, key, name):
    return client.post(f"{API}/grants/{grant_id}/verify", json={"key": key, "name": name},
                       headers=headers)  # fmt: skip


def batch(client, headers, grant_id, keys, names):
    items = [{"key": k, "name": n} for k, n in zip(keys, names, strict=True)]
    return client.post(f"{API}/grants/{grant_id}/verify/batch", json={"items": items},
                       headers=headers)  # fmt: skip


# --- the happy path ---------------------------------------------------------------------------


def test_setup_is_proposed_from_the_scan_built_and_served(client, db, people, parties, emitted):
    provider, holder = parties["provider"], parties["holder"]
    shown = client.get(f"{API}/verify/setups/{people['resource']}", headers=provider).json()
    assert shown["setup"] is None
    assert shown["proposal"] | {} == {
        "table": "registry", "kind": "resident", "key_column": "sfzh",
        "attribute_column": "xm", "source": "scan",
    }  # fmt: skip
    built = set_up_and_build(client, provider, people["resource"])
    assert built["status"] == "ready" and built["version"] == 1 and built["records"] == 120
    grant_id = grant_for(client, holder, people["resource"])
    numbers, names = people["ids"], people["names"]
    other_name = next(n for n in names if n != names[5])
    assert check(client, holder, grant_id, numbers[5], names[5]).json()["result"] == "match"
    assert check(client, holder, grant_id, numbers[5], other_name).json()["result"] == "no_match"
    unknown = stranger_ids(1)[0]
    answer = check(client, holder, grant_id, unknown, names[5])
    assert answer.status_code == 200 and answer.json() == {"grant": grant_id, "result": "not_found"}
    many = batch(client, holder, grant_id, [numbers[0], numbers[1], unknown],
                 [names[0], other_name if names[1] != other_name else names[5], "张三"])  # fmt: skip
    assert many.status_code == 200, many.text
    assert many.json()["results"] == ["match", "no_match", "not_found"]
    assert many.json()["counts"] == {"match": 1, "no_match": 1, "not_found": 1}
    listed = client.get(f"{API}/verify/indexes?resource_id={people['resource']}", headers=provider)
    assert [i["status"] for i in listed.json()] == ["ready"]
    # nothing written per call: the meter holds the counts until it flushes
    with db.session() as s:
        assert s.scalars(select(GrantUsage).where(GrantUsage.grant_id == grant_id)).all() == []
    assert verify_service.USAGE.flush() == 1
    with db.session() as s:
        usage = s.scalar(select(GrantUsage).where(GrantUsage.grant_id == grant_id))
        assert (usage.calls, usage.checks, usage.rows) == (4, 6, 0)
    used = emitted("sharing.verify_usage")
    assert len(used) == 1 and used[0].subject_id == str(grant_id)
    assert used[0].payload["answers"] == {"match": 2, "no_match": 2, "not_found": 2}
    assert list(used[0].payload["credentials"].values()) == [4]
    assert len(emitted("sharing.verify_index_built")) == 1
    text = str([e.payload for e in used + emitted("sharing.verify_index_built")])
    assert numbers[5] not in text and names[5] not in text  # no personal data in events


def test_a_new_version_rebuilds_and_switches_the_index(client, db, people, parties):
    provider, holder = parties["provider"], parties["holder"]
    first = set_up_and_build(client, provider, people["resource"])
    grant_id = grant_for(client, holder, people["resource"])
    newcomer = stranger_ids(1, seed=9)[0]
    assert check(client, holder, grant_id, newcomer, "新来者").json()["result"] == "not_found"
    v2 = pa.table({"id": [999], "sfzh": [newcomer], "xm": ["新来者"], "csrq": [dt.date(1990, 1, 1)],
                   "xzqh": ["110105"], "sjhm": ["13800000000"]})  # fmt: skip
    with db.session() as s:
        table = tables.get_table(s, people["table"])
        schema = tables.arrow_schema(tables.open_delta(table))
        tables.write_version(s, SYSTEM, table, v2.cast(schema), mode="append")
    # the subscriber of lake.version_loaded built version 2 after the load's commit
    with db.session() as s:
        records = s.scalars(select(VerifyIndexRecord).order_by(VerifyIndexRecord.id)).all()
        assert [(r.version, r.status) for r in records] == [(1, "retired"), (2, "ready")]
        assert records[1].records == 121
    assert not Path(first["id"] and records[0].path).exists()  # the old file is removed
    verify_service._CACHE.clear()  # another process: loads the new file
    assert check(client, holder, grant_id, newcomer, "新来者").json()["result"] == "match"


def test_a_version_indexed_already_is_not_built_again_when_its_event_arrives(
    db, people, parties, client
):
    """The index of version 1 was built by hand before ``lake.version_loaded`` of version 1
    reached the subscriber (a worker delivering it later): no second build of 5M rows on a
    serving process."""
    set_up_and_build(client, parties["provider"], people["resource"])
    with db.session() as s:
        loaded = s.scalars(
            select(Event).where(Event.type == "lake.version_loaded").order_by(Event.id)
        ).all()
        assert [e.payload["version"] for e in loaded] == [1]
        verify_service.version_loaded(s, loaded[0])
        s.commit()
        records = s.scalars(select(VerifyIndexRecord)).all()
        assert [(r.version, r.status) for r in records] == [(1, "ready")]


def test_a_starting_process_preloads_the_ready_indexes(db, people, parties, client, monkeypatch):
    set_up_and_build(client, parties["provider"], people["resource"])
    verify_service._CACHE.clear()  # a process that never served a check
    assert verify_service._CACHE.ready(people["resource"]) is None
    assert verify_service.preload_in_background() is None  # off in tests (conftest)
    monkeypatch.setenv("LONGSHU_SHARING_PRELOAD_INDEXES", "1")
    thread = verify_service.preload_in_background()
    assert thread is not None
    thread.join(timeout=60)
    index, current = verify_service._CACHE.ready(people["resource"])
    assert current.key_column == "sfzh" and index.check(people["ids"][3], people["names"][3]) == (
        "match"
    )


def test_a_process_that_knew_the_old_index_switches_after_a_rebuild(client, db, people, parties):
    provider, holder = parties["provider"], parties["holder"]
    set_up_and_build(client, provider, people["resource"])
    grant_id = grant_for(client, holder, people["resource"])
    numbers, names = people["ids"], people["names"]
    assert check(client, holder, grant_id, numbers[1], names[1]).json()["result"] == "match"
    # the same version rebuilt: the file is replaced in place under a new key
    again = client.post(f"{API}/verify/setups/{people['resource']}/build", json={},
                        headers=provider)  # fmt: skip
    assert again.json()["status"] == "ready"
    verify_service._CACHE._current.clear()  # its idea of the ready index expires
    assert check(client, holder, grant_id, numbers[1], names[1]).json()["result"] == "match"


# --- refusals ---------------------------------------------------------------------------------


def test_malformed_keys_name_positions_never_values(client, people, parties):
    provider, holder = parties["provider"], parties["holder"]
    set_up_and_build(client, provider, people["resource"])
    grant_id = grant_for(client, holder, people["resource"])
    numbers, names = people["ids"], people["names"]
    typo = numbers[3][:17] + ("0" if numbers[3][17] != "0" else "1")
    single = check(client, holder, grant_id, typo, names[3])
    assert single.status_code == 422
    assert single.json()["error"]["key"] == "sharing.verify.malformed_key"
    assert typo not in single.text and names[3] not in single.text
    keys = [numbers[0], typo, numbers[2], "62010219900101", numbers[4]]
    many = batch(client, holder, grant_id, keys, [names[0], names[1], "", names[3], names[4]])
    assert many.status_code == 422
    problems = many.json()["error"]["problems"]
    assert problems == [
        {"position": 1, "reason": "checksum"},
        {"position": 2, "reason": "name"},
        {"position": 3, "reason": "length"},
    ]
    assert typo not in many.text and "62010219900101" not in many.text
    assert "第 1 位" in many.json()["error"]["message"]  # the first position, translated
    empty_name = check(client, holder, grant_id, numbers[0], "   ")
    assert empty_name.status_code == 422
    not_text = client.post(f"{API}/grants/{grant_id}/verify", json={"key": 12, "name": "x"},
                           headers=holder)  # fmt: skip
    assert not_text.status_code == 422
    too_long = check(client, holder, grant_id, "6" * 101, names[0])
    assert too_long.status_code == 422 and "6" * 101 not in too_long.text
    none = client.post(f"{API}/grants/{grant_id}/verify/batch", json={"items": []}, headers=holder)
    assert none.status_code == 422


def test_an_oversized_batch_is_refused_saying_the_limit(client, people, parties):
    provider, holder = parties["provider"], parties["holder"]
    set_up_and_build(client, provider, people["resource"])
    grant_id = grant_for(client, holder, people["resource"])
    keys = (people["ids"] * 9)[:1001]
    answer = batch(client, holder, grant_id, keys, ["王伟"] * 1001)
    assert answer.status_code == 422
    assert answer.json()["error"]["key"] == "sharing.verify.batch_too_large"
    assert "1000" in answer.json()["error"]["message"]
    names = (people["names"] * 9)[:1000]  # real pairs: a flood of misses would trip the guard
    exact = batch(client, holder, grant_id, keys[:1000], names)
    assert exact.status_code == 200 and exact.json()["count"] == 1000


def test_wrong_mode_other_department_and_inactive_grants_are_refused(client, db, people, parties):
    provider, holder, other = parties["provider"], parties["holder"], parties["other"]
    set_up_and_build(client, provider, people["resource"])
    numbers, names = people["ids"], people["names"]
    query_only = grant_for(client, holder, people["resource"], modes=("query",))
    wrong_mode = check(client, holder, query_only, numbers[0], names[0])
    assert wrong_mode.status_code == 403
    assert wrong_mode.json()["error"]["key"] == "sharing.mode_not_granted"
    grant_id = grant_for(client, holder, people["resource"])
    for stranger in (other, provider):  # another department; the provider is no holder
        refused = check(client, stranger, grant_id, numbers[0], names[0])
        assert refused.status_code == 403
        assert refused.json()["error"]["key"] == "sharing.verify.not_holder"
    assert check(client, holder, 999999, numbers[0], names[0]).status_code == 404
    no_token = client.post(f"{API}/grants/{grant_id}/verify", json={"key": "1", "name": "x"})
    assert no_token.status_code == 401
    narrow = grant_for(client, holder, people["resource"], fields=("sfzh", "csrq"))
    refused = check(client, holder, narrow, numbers[0], names[0])
    assert refused.status_code == 403
    assert refused.json()["error"]["key"] == "sharing.verify.columns_not_granted"
    with db.session() as s:
        s.execute(update(ShareGrant).where(ShareGrant.id == grant_id)
                  .values(valid_until=dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1)))  # fmt: skip
    expired = check(client, holder, grant_id, numbers[0], names[0])
    assert expired.status_code == 403 and expired.json()["error"]["key"] == "sharing.grant_inactive"
    revocable = grant_for(client, holder, people["resource"])
    assert check(client, holder, revocable, numbers[0], names[0]).status_code == 200
    bureau = bearer_for(db, _bureau(db))
    revoked = client.post(f"{API}/grants/{revocable}/revoke", json={"reason": "场景结束"},
                          headers=bureau)  # fmt: skip
    assert revoked.status_code == 200
    after = check(client, holder, revocable, numbers[0], names[0])
    assert after.status_code == 403 and after.json()["error"]["key"] == "sharing.grant_inactive"


def _bureau(db):
    from longshu.actor import SYSTEM as system
    from longshu.security.identity import service

    with db.session() as s:
        return service.create_user(s, system, "sjj1", "Lanzhou#River2026", "sjj1", None,
                                   ("bureau_reviewer",))  # fmt: skip


def test_a_region_limited_grant_verifies_only_its_regions_rows(client, db, people, parties):
    """A city department's grant limited to 620102 sees that district's residents and no
    one else's — as its queries do: elsewhere the answer is not_found, even with the right
    name (the index keeps each record's region code: 24 bytes a record)."""
    provider, holder = parties["provider"], parties["holder"]
    built = set_up_and_build(client, provider, people["resource"])
    assert built["region_column"] == "xzqh" and built["bytes"] >= 24 * built["records"]
    body = REQUEST | {"items": [{"resource_id": people["resource"], "fields": ["sfzh", "xm"],
                                 "regions": ["620102"], "modes": ["verify"]}]}  # fmt: skip
    assert client.post(f"{API}/requests", json=body, headers=holder).status_code == 201
    grant_id = max(g["id"] for g in client.get(f"{API}/grants", headers=holder).json())
    regions, ids_, names = people["regions"], people["ids"], people["names"]
    inside = next(i for i, r in enumerate(regions) if r == "620102")
    outside = next(i for i, r in enumerate(regions) if r != "620102")
    assert check(client, holder, grant_id, ids_[inside], names[inside]).json()["result"] == "match"
    seen = check(client, holder, grant_id, ids_[outside], names[outside])
    assert seen.status_code == 200 and seen.json()["result"] == "not_found"
    many = batch(client, holder, grant_id, [ids_[inside], ids_[outside], ids_[inside]],
                 [names[inside], names[outside], "张三丰"])  # fmt: skip
    assert many.json()["results"] == ["match", "not_found", "no_match"]
    # an index that keeps no region codes cannot answer such a grant: rebuilt without them
    with db.session() as s:
        s.execute(update(VerifySetup).values(region_column=None))
    rebuilt = client.post(f"{API}/verify/setups/{people['resource']}/build", json={},
                          headers=provider)  # fmt: skip
    assert rebuilt.json()["region_column"] is None
    verify_service._CACHE._current.clear()
    refused = check(client, holder, grant_id, ids_[inside], names[inside])
    assert refused.status_code == 409
    assert refused.json()["error"]["key"] == "sharing.verify.region_scoped"
    assert "重新构建" in refused.json()["error"]["message"]
    whole = grant_for(client, holder, people["resource"])  # a grant of every row still works
    assert check(client, holder, whole, ids_[outside], names[outside]).json()["result"] == "match"


def test_no_index_yet_is_a_conflict_and_setup_is_the_providers(client, people, parties):
    provider, holder, other = parties["provider"], parties["holder"], parties["other"]
    grant_id = grant_for(client, holder, people["resource"])
    early = check(client, holder, grant_id, people["ids"][0], people["names"][0])
    assert early.status_code == 409 and early.json()["error"]["key"] == "sharing.verify.not_ready"
    resource = people["resource"]
    assert client.post(f"{API}/verify/setups/{resource}/build", json={},
                       headers=provider).status_code == 404  # fmt: skip
    bad = client.put(f"{API}/verify/setups/{resource}",
                     json={"key_column": "sfzh", "attribute_column": "nope"}, headers=provider)  # fmt: skip
    assert bad.status_code == 422
    same = client.put(f"{API}/verify/setups/{resource}",
                      json={"key_column": "xm", "attribute_column": "xm"}, headers=provider)  # fmt: skip
    assert same.status_code == 422
    kind = client.put(f"{API}/verify/setups/{resource}", json={"kind": "passport"},
                      headers=provider)  # fmt: skip
    assert kind.status_code == 422
    assert client.get(f"{API}/verify/setups/999999", headers=provider).status_code == 404
    # a consumer is no reviewer; another department's reviewer is not the provider
    assert client.put(f"{API}/verify/setups/{resource}", json={}, headers=other).status_code == 403


def test_another_departments_reviewer_cannot_set_up(client, db, make_user, orgs, people):
    reviewer = bearer_for(db, make_user("jt7", "dept_reviewer", org_id=orgs["transport"]))
    resource = people["resource"]
    assert (
        client.put(f"{API}/verify/setups/{resource}", json={}, headers=reviewer).status_code == 403
    )
    assert client.get(f"{API}/verify/setups/{resource}", headers=reviewer).status_code == 403
    listed = client.get(f"{API}/verify/indexes", headers=reviewer)
    assert listed.status_code == 200 and listed.json() == []


def test_a_failed_build_is_recorded_and_the_old_index_keeps_serving(
    client, db, people, parties, monkeypatch, emitted
):
    provider, holder = parties["provider"], parties["holder"]
    set_up_and_build(client, provider, people["resource"])
    grant_id = grant_for(client, holder, people["resource"])

    def broken(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(verify_service, "build_index", broken)
    failed = client.post(f"{API}/verify/setups/{people['resource']}/build", json={},
                         headers=provider)  # fmt: skip
    assert failed.status_code == 200 and failed.json()["status"] == "failed"
    assert failed.json()["error"] == "internal"
    ok = check(client, holder, grant_id, people["ids"][2], people["names"][2])
    assert ok.json()["result"] == "match"


# --- rate limits and the enumeration guard over HTTP -------------------------------------------


def test_over_the_rate_429_with_retry_after_and_one_event(
    client, db, people, parties, monkeypatch, emitted
):
    provider, holder = parties["provider"], parties["holder"]
    set_up_and_build(client, provider, people["resource"])
    grant_id = grant_for(client, holder, people["resource"])
    with db.session() as s:
        s.execute(update(ShareGrant).where(ShareGrant.id == grant_id).values(rate_per_minute=3))
    monkeypatch.setattr(ratelimit, "current_window", lambda now=None: ratelimit.Window(7, 17))
    numbers, names = people["ids"], people["names"]
    answers = [check(client, holder, grant_id, numbers[0], names[0]) for _ in range(6)]
    assert [a.status_code for a in answers] == [200, 200, 200, 429, 429, 429]
    assert answers[3].headers["Retry-After"] == "17"
    assert answers[3].json()["error"]["key"] == "sharing.rate_limited"
    assert answers[3].json()["error"]["message"] == (
        f"共享授权 {grant_id} 调用过于频繁：每分钟最多 3 次，请在 17 秒后重试。"
    )
    limited = emitted("sharing.rate_limited")
    assert len(limited) == 1  # once per window, not per refused call
    assert limited[0].payload["scope"] == "grant" and limited[0].payload["limit"] == 3
    assert emitted("http.request_refused") == []
    monkeypatch.setattr(ratelimit, "current_window", lambda now=None: ratelimit.Window(8, 60))
    assert check(client, holder, grant_id, numbers[0], names[0]).status_code == 200


def test_a_flood_of_random_ids_trips_the_alarm_and_cools_down(client, people, parties, emitted):
    provider, holder = parties["provider"], parties["holder"]
    set_up_and_build(client, provider, people["resource"])
    grant_id = grant_for(client, holder, people["resource"])
    flood = stranger_ids(400, seed=21)
    first = batch(client, holder, grant_id, flood[:150], ["王伟"] * 150)
    assert first.status_code == 200  # 150 checks: below the 200 the ratio needs
    second = batch(client, holder, grant_id, flood[150:300], ["王伟"] * 150)
    assert second.status_code == 429
    assert second.json()["error"]["key"] == "sharing.verify.cooling_down"
    assert 800 < int(second.headers["Retry-After"]) <= 900
    third = check(client, holder, grant_id, people["ids"][0], people["names"][0])
    assert third.status_code == 429  # even a good check waits for the cool-down
    alarms = emitted("sharing.verify_alarm")
    assert len(alarms) == 1
    assert alarms[0].payload["checks"] == 300 and alarms[0].payload["misses"] == 300
    assert flood[0] not in str(alarms[0].payload)


def test_a_normal_mix_does_not_trip_the_alarm(client, people, parties, emitted):
    provider, holder = parties["provider"], parties["holder"]
    set_up_and_build(client, provider, people["resource"])
    grant_id = grant_for(client, holder, people["resource"])
    numbers, names = people["ids"], people["names"]
    strangers = stranger_ids(60, seed=4)
    for round_ in range(5):  # 500 checks, 30% unmatched (typical of real lookups)
        keys = numbers[:70] + strangers[:30]
        attrs = names[:70] + ["王伟"] * 30
        answer = batch(client, holder, grant_id, keys, attrs)
        assert answer.status_code == 200, (round_, answer.text)
    assert emitted("sharing.verify_alarm") == []


def test_a_failed_usage_flush_keeps_every_count(client, db, people, parties, monkeypatch):
    provider, holder = parties["provider"], parties["holder"]
    set_up_and_build(client, provider, people["resource"])
    grant_id = grant_for(client, holder, people["resource"])
    for i in range(3):
        check(client, holder, grant_id, people["ids"][i], people["names"][i])
    real = verify_service.add_usage

    def down(*args, **kwargs):
        raise OSError("database unreachable")

    monkeypatch.setattr(verify_service, "add_usage", down)
    assert verify_service.USAGE.flush() == 0
    check(client, holder, grant_id, people["ids"][3], people["names"][3])
    monkeypatch.setattr(verify_service, "add_usage", real)
    assert verify_service.USAGE.flush() == 1
    with db.session() as s:
        usage = s.scalar(select(GrantUsage).where(GrantUsage.grant_id == grant_id))
        assert (usage.calls, usage.checks) == (4, 4)


def test_usage_still_in_memory_is_written_when_the_server_stops(app, db, people, make_user, orgs):
    from fastapi.testclient import TestClient

    with TestClient(app) as client:
        provider = bearer_for(db, make_user("ga5", "dept_reviewer", org_id=people["police"]))
        holder = bearer_for(db, make_user("jt5", "data_consumer", org_id=orgs["transport"]))
        set_up_and_build(client, provider, people["resource"])
        grant_id = grant_for(client, holder, people["resource"])
        for i in range(2):
            check(client, holder, grant_id, people["ids"][i], people["names"][i])
    # the app's lifespan ended (the server stopped): its meter was flushed
    with db.session() as s:
        usage = s.scalar(select(GrantUsage).where(GrantUsage.grant_id == grant_id))
        assert (usage.calls, usage.checks) == (2, 2)


# --- the provider's console page -----------------------------------------------------------------


def test_the_providers_console_page_sets_up_builds_and_shows_the_index(client, people, parties):
    provider, rid = parties["provider"], people["resource"]
    page = client.get("/console/sharing/verify", headers=provider)
    assert page.status_code == 200 and f'data-testid="verify-{rid}"' in page.text
    assert "尚无可用的核验索引" in page.text  # Chinese first
    csrf = csrf_of(client)
    blank = {"csrf_token": csrf, "kind": "", "key_column": "", "attribute_column": "",
             "region_column": ""}  # fmt: skip
    same = blank | {"key_column": "xm", "attribute_column": "xm"}
    refused = client.post(f"/console/sharing/verify/{rid}/setup", data=same, headers=provider)
    assert refused.status_code == 422 and 'data-testid="verify-error"' in refused.text
    assert client.get(f"{API}/verify/setups/{rid}", headers=provider).json()["setup"] is None
    saved = client.post(f"/console/sharing/verify/{rid}/setup", data=blank, headers=provider)
    assert saved.status_code == 303  # blank fields: the scan's proposal
    setup = client.get(f"{API}/verify/setups/{rid}", headers=provider).json()["setup"]
    assert (setup["key_column"], setup["attribute_column"], setup["region_column"]) == (
        "sfzh", "xm", "xzqh",
    )  # fmt: skip
    built = client.post(f"/console/sharing/verify/{rid}/build", data={"csrf_token": csrf},
                        headers=provider)  # fmt: skip
    assert built.status_code == 303
    shown = client.get("/console/sharing/verify", headers=provider).text
    assert f'data-testid="verify-ready-{rid}"' in shown and "区划代码取自 xzqh" in shown
    english = client.get("/console/sharing/verify?lang=en", headers=provider).text
    assert "Build the index now" in english
    assert client.get("/console/sharing/verify", headers=parties["holder"]).status_code == 403
