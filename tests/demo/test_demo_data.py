"""The demo lake: deterministic synthetic Gansu tables, valid identifiers, loaded through the
connectors into catalog-linked lake tables, a fused table with lineage, idempotent."""

from __future__ import annotations

import pyarrow as pa
import pyarrow.compute as pc
import pytest
from sqlalchemy import func, select

from longshu import ids
from longshu.actor import SYSTEM
from longshu.catalog import subscriber  # noqa: F401 — registers the catalog's handlers
from longshu.catalog.models import Resource
from longshu.demo import daily_data, lake_data
from longshu.demo.files import file_sm3
from longshu.demo.lake_load import FUSED, TABLES, Plan, load_demo_lake, write_file
from longshu.demo.synthetic import ResidentIds, credit_codes, gansu_places
from longshu.events import Event
from longshu.lake import fusion, tables
from longshu.lake.config import reset_lake_settings
from longshu.lake.models import LakeTable, LakeVersion
from longshu.orgs.demo import load_demo_organisations

ROWS = 3_000


def _write_all(folder, seed: int) -> dict[str, str]:
    plan = Plan(seed=seed, rows=ROWS)
    digests = {}
    for spec in TABLES:
        for file in spec.files:
            path = folder / file.name(plan)
            write_file(file, plan, path)
            digests[f"{spec.name}:{file.stem}"] = file_sm3(path)
    return digests


def test_the_same_seed_gives_the_same_files(tmp_path):
    (tmp_path / "a").mkdir(), (tmp_path / "b").mkdir(), (tmp_path / "c").mkdir()
    first = _write_all(tmp_path / "a", seed=7)
    assert _write_all(tmp_path / "b", seed=7) == first  # SM3 of every file, byte for byte
    other = _write_all(tmp_path / "c", seed=8)
    assert all(other[name] != digest for name, digest in first.items())


def test_every_resident_id_is_valid_and_unique():
    people = pa.Table.from_batches(list(lake_data.population(20_000, seed=3, batch_rows=6_000)))
    assert people.num_rows == 20_000
    numbers = people.column("gmsfhm").to_pylist()
    assert len(set(numbers)) == len(numbers)
    assert all(ids.check_resident_id(n) for n in numbers)
    sample = people.slice(0, 500).to_pylist()
    for person in sample:  # the number agrees with the person's other columns
        assert person["gmsfhm"][:6] == person["xzqhdm"]
        assert ids.resident_id_birth_date(person["gmsfhm"]) == person["csrq"]
        assert ids.resident_id_sex(person["gmsfhm"]) == {"男": "M", "女": "F"}[person["xb"]]
    known = {p.code for p in gansu_places()}
    assert set(people.column("xzqhdm").to_pylist()) <= known


def test_numbers_stay_unique_across_batches_in_a_crowded_day():
    import numpy as np

    register = ResidentIds(["620102"], lake_data.BORN_FROM, lake_data.BORN_FROM)
    batches = [
        register.draw(np.zeros(250, np.int64), np.zeros(250, np.int64), np.ones(250, np.int64))
        for _ in range(2)
    ]
    numbers = [n for b in batches for n in b.to_pylist()]
    assert len(set(numbers)) == 500 and all(ids.check_resident_id(n) for n in numbers)
    with pytest.raises(ValueError):
        register.draw(np.zeros(1, np.int64), np.zeros(1, np.int64), np.ones(1, np.int64))


def test_every_credit_code_is_valid_and_unique():
    import numpy as np

    rng = np.random.default_rng(5)
    codes = credit_codes(rng, np.full(5_000, 620102), "9", np.full(5_000, "3")).to_pylist()
    assert len(set(codes)) == 5_000
    assert all(ids.check_credit_code(c, strict=True) for c in codes)
    firms = lake_data.legal_persons(4_000, seed=2)
    assert all(ids.check_credit_code(c, strict=True) for c in firms.column("tyshxydm").to_pylist())
    licences = lake_data.e_licences(firms, seed=2)
    penalties = lake_data.credit_records(firms, seed=2)
    registered = set(firms.column("tyshxydm").to_pylist())
    assert set(licences.column("tyshxydm").to_pylist()) <= registered
    assert set(penalties.column("tyshxydm").to_pylist()) <= registered
    assert pc.count_distinct(licences.column("zzbh")).as_py() == licences.num_rows
    assert pc.count_distinct(penalties.column("cfjdsh")).as_py() == penalties.num_rows


# --- loading ------------------------------------------------------------------------------


@pytest.fixture
def lake(settings, monkeypatch):
    for name in ("URI", "ENGINE", "STORAGE_OPTIONS"):
        monkeypatch.delenv(f"LONGSHU_LAKE_{name}", raising=False)
    reset_lake_settings()
    yield settings
    reset_lake_settings()


@pytest.fixture
def orgs(db, lake):
    with db.session() as s:
        found = load_demo_organisations(s, SYSTEM)
        return {key: org for key, org in found.items()}


def _versions(s) -> dict[str, list[tuple[int, int]]]:
    rows = s.execute(
        select(LakeTable.name, LakeVersion.number, LakeVersion.rows)
        .join(LakeVersion, LakeVersion.table_id == LakeTable.id)
        .order_by(LakeTable.name, LakeVersion.number)
    ).all()
    found: dict[str, list[tuple[int, int]]] = {}
    for name, number, count in rows:
        found.setdefault(name, []).append((number, count))
    return found


def test_demo_lake_loads_through_the_connectors_once(db, orgs, tmp_path):
    with db.session() as s:
        report = load_demo_lake(s, SYSTEM, orgs, rows=ROWS, folder=tmp_path)
    assert report.fused == [1, 2]
    with db.session() as s:
        versions = _versions(s)
        days = (lake_data.LAST_DAY - lake_data.FIRST_DAY).days + 1
        spots = len(daily_data.SCENIC_SPOTS)
        assert versions["population"] == [(1, ROWS)]
        assert versions["legal_persons"] == [(1, 2_000)]
        assert versions["credit_records"] == [(1, 200)]
        assert versions["e_licences"] == [(1, 1_000)]
        assert versions["scenic_visitors"] == [(1, spots * (days - 1)), (2, spots * days)]
        assert versions["scenic_conditions"] == [(1, spots * (days - 1)), (2, spots * days)]
        assert versions["hospital_visits"] == [(1, len(gansu_places()) * days)]
        assert len(versions["weather_warnings"]) == len(versions["road_status"]) == 2
        assert len(versions) == len(TABLES) + 1
        loads = s.scalar(
            select(func.count()).select_from(Event).where(Event.type == "ingest.load_finished")
        )
        assert loads == sum(len(t.files) for t in TABLES)  # every file came through ingest
        assert [(x["table"], x["version"]) for x in fusion.lineage(s, SYSTEM, FUSED, 2)] == [
            ("road_status", 2),
            ("scenic_visitors", 2),
            ("weather_warnings", 2),
        ]
        population = tables.get_table(s, "population")
        assert population.owner_org_id == orgs["police"].id
        event_count = s.scalar(select(func.count()).select_from(Event))
    with db.session() as s:
        again = load_demo_lake(s, SYSTEM, orgs, rows=ROWS, folder=tmp_path)
    assert again.loaded == [] and again.fused == []
    with db.session() as s:
        assert _versions(s) == versions
        assert s.scalar(select(func.count()).select_from(Event)) == event_count


def test_another_population_size_is_a_new_version(db, orgs, tmp_path):
    with db.session() as s:
        load_demo_lake(s, SYSTEM, orgs, rows=ROWS, folder=tmp_path)
    with db.session() as s:
        report = load_demo_lake(s, SYSTEM, orgs, rows=ROWS + 500, folder=tmp_path)
    assert [(t, v, n) for t, v, n, _ in report.loaded] == [("population", 2, ROWS + 500)]
    with db.session() as s:
        report = load_demo_lake(s, SYSTEM, orgs, rows=30_000, folder=tmp_path)
    assert [(t, v, n) for t, v, n, _ in report.loaded] == [
        ("population", 3, 30_000),
        ("legal_persons", 2, 3_000),
        ("credit_records", 2, 300),
        ("e_licences", 2, 1_500),
    ]


def test_the_fused_resource_page_shows_its_lineage(db, orgs, tmp_path, client):
    with db.session() as s:
        load_demo_lake(s, SYSTEM, orgs, rows=ROWS, folder=tmp_path)
    with db.session() as s:
        derived = tables.get_table(s, FUSED)
        resource = s.get(Resource, derived.resource_id)
        assert resource.lake_lineage["version"] == 2
        assert {x["table"] for x in resource.lake_lineage["sources"]} == {
            "scenic_visitors",
            "weather_warnings",
            "road_status",
        }
        resource_id = resource.id
    page = client.get(f"/catalog/resources/{resource_id}")
    assert page.status_code == 200
    assert 'data-testid="lineage"' in page.text
    assert "scenic_visitors" in page.text and "weather_warnings" in page.text
