"""Loading the demo's Gansu tables: generate each source file, load it through the real
connectors (``ingest.load_file``) into a lake table linked to its catalog entry, and build
the fused 景区客流 × 气象预警 × 路况 table with its lineage.

Idempotent: a file is loaded only if no version of its table records it as its source
(``<format>:<file name>``), and a fusion only if no derived version records the same source
versions — loading twice adds nothing. Asking for another population size (``--rows``) loads
that population as a new snapshot version."""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

import pyarrow as pa
from sqlalchemy import select
from sqlalchemy.orm import Session

from longshu.actor import Actor
from longshu.catalog import lifecycle, service
from longshu.catalog.models import Resource
from longshu.catalog.rules import FieldData, ResourceData
from longshu.config import get_settings
from longshu.demo import daily_data as daily
from longshu.demo import lake_data as data
from longshu.demo.files import write_parquet, write_text_table
from longshu.ingest.service import load_file
from longshu.lake import fusion, tables
from longshu.lake.models import LakeTable, LakeVersion
from longshu.orgs.models import Organization

DEFAULT_ROWS = 100_000
BEFORE_LAST = data.LAST_DAY - dt.timedelta(days=1)
Build = Callable[["Plan"], "pa.Table | Iterator[pa.RecordBatch]"]


@dataclass(frozen=True)
class DemoFile:
    """One source file: the version it becomes and how it is written."""

    stem: str
    format: str  # csv | tsv | parquet
    encoding: str  # utf-8 | utf-8-sig | gbk (text formats)
    mode: str  # snapshot | append
    build: Build

    def name(self, plan: Plan) -> str:
        extension = {"csv": "csv", "tsv": "tsv", "parquet": "parquet"}[self.format]
        # the registers' files are named by their size: another --rows is another version
        size = {
            "population": f"_{plan.rows}",
            "legal_persons": f"_{plan.firms}",
            "credit_records": f"_{plan.firms}",
            "e_licences": f"_{plan.firms}",
        }.get(self.stem, "")
        return f"{self.stem}{size}_{plan.seed}.{extension}"


@dataclass(frozen=True)
class DemoTable:
    name: str
    title: str
    provider: str  # demo organisation key
    resource: str  # the catalog entry (by its provider and name)
    keys: tuple[str, ...]
    files: tuple[DemoFile, ...]


@dataclass
class Plan:
    """What to generate: the seed and the population size; the rest follows from them."""

    seed: int = data.SEED
    rows: int = DEFAULT_ROWS

    @property
    def firms(self) -> int:
        return max(2_000, min(self.rows // 10, 200_000))

    @cached_property
    def legal_persons(self) -> pa.Table:
        return data.legal_persons(self.firms, self.seed)


def _daily(fn: Callable[..., pa.Table], first: dt.date, last: dt.date) -> Build:
    return lambda plan: fn(first, last, plan.seed)


def _two_versions(stem: str, fmt: str, encoding: str, fn: Callable[..., pa.Table]) -> tuple:
    """The history up to the day before, then the last day appended (a daily feed)."""
    return (
        DemoFile(stem, fmt, encoding, "snapshot", _daily(fn, data.FIRST_DAY, BEFORE_LAST)),
        DemoFile(f"{stem}_{data.LAST_DAY:%Y%m%d}", fmt, encoding, "append",
                 _daily(fn, data.LAST_DAY, data.LAST_DAY)),
    )  # fmt: skip


TABLES = (
    DemoTable("population", "常住人口基本信息", "police", "常住人口基本信息", ("gmsfhm",), (
        DemoFile("population", "parquet", "", "snapshot",
                 lambda plan: data.population(plan.rows, plan.seed)),
    )),
    DemoTable("legal_persons", "市场主体登记信息", "market", "市场主体登记信息", ("tyshxydm",), (
        DemoFile("legal_persons", "csv", "utf-8-sig", "snapshot", lambda plan: plan.legal_persons),
    )),
    DemoTable("credit_records", "行政处罚信息", "market", "行政处罚信息", ("cfjdsh",), (
        DemoFile("credit_records", "csv", "gbk", "snapshot",
                 lambda plan: data.credit_records(plan.legal_persons, plan.seed)),
    )),
    DemoTable("e_licences", "电子证照目录", "gov_services", "电子证照目录", ("zzbh",), (
        DemoFile("e_licences", "csv", "utf-8", "snapshot",
                 lambda plan: data.e_licences(plan.legal_persons, plan.seed)),
    )),
    DemoTable("scenic_visitors", "景区每日客流", "culture_tourism", "景区实时客流",
              ("rq", "jqmc"), _two_versions("scenic_visitors", "csv", "gbk", daily.scenic_visitors)),
    DemoTable("weather_warnings", "气象灾害预警信号", "weather", "气象灾害预警信号", ("yjbh",),
              _two_versions("weather_warnings", "csv", "utf-8", daily.weather_warnings)),
    DemoTable("road_status", "高速公路与国道每日路况", "transport", "高速公路实时路况",
              ("ldbm", "rq"), _two_versions("road_status", "tsv", "utf-8", daily.road_status)),
    DemoTable("hospital_visits", "诊疗人次统计", "health", "全民健康信息平台诊疗人次统计",
              ("tjrq", "xzqhdm"), (
        DemoFile("hospital_visits", "csv", "gbk", "snapshot",
                 _daily(daily.hospital_visits, data.FIRST_DAY, data.LAST_DAY)),
    )),
    DemoTable("agricultural_output", "特色农产品产量", "agriculture", "农产品批发市场价格",
              ("nf", "cpmc"), (
        DemoFile("agricultural_output", "csv", "gbk", "snapshot",
                 lambda plan: daily.agricultural_output(plan.seed)),
    )),
    DemoTable("transit_flows", "城市公交线路客流", "transport", "公交线路与站点",
              ("rq", "xzqhdm", "xlmc"), (
        DemoFile("transit_flows", "parquet", "", "snapshot",
                 _daily(daily.transit_flows, data.FIRST_DAY, data.LAST_DAY)),
    )),
)  # fmt: skip

FUSED = "scenic_conditions"
FUSED_TITLE = "景区客流与气象路况融合数据"
# per scenic spot and day: visitors, the county's warnings that day, its roads' worst state
FUSION_SQL = """
SELECT v.rq, v.jqmc, CAST(v.xzqhdm AS VARCHAR) AS xzqhdm, v.ykrs, v.tdrs,
       coalesce(w.yjs, 0) AS yjs, w.yjlx, w.zgyjjb,
       coalesce(r.ldsl, 0) AS ldsl, r.zclk, coalesce(r.ydsc, 0) AS ydsc
FROM v
LEFT JOIN (
    SELECT rq, xzqhdm, count(*) AS yjs, string_agg(DISTINCT yjlx, '、' ORDER BY yjlx) AS yjlx,
           CASE max(CASE yjjb WHEN '红色' THEN 4 WHEN '橙色' THEN 3 WHEN '黄色' THEN 2 ELSE 1 END)
               WHEN 4 THEN '红色' WHEN 3 THEN '橙色' WHEN 2 THEN '黄色' ELSE '蓝色' END AS zgyjjb
    FROM w GROUP BY rq, xzqhdm
) AS w ON w.rq = v.rq AND w.xzqhdm = v.xzqhdm
LEFT JOIN (
    SELECT rq, xzqhdm, count(*) AS ldsl, sum(ydsc) AS ydsc,
           CASE max(CASE lk WHEN '封闭' THEN 5 WHEN '交通管制' THEN 4 WHEN '拥堵' THEN 3
                            WHEN '缓行' THEN 2 ELSE 1 END)
               WHEN 5 THEN '封闭' WHEN 4 THEN '交通管制' WHEN 3 THEN '拥堵' WHEN 2 THEN '缓行'
               ELSE '畅通' END AS zclk
    FROM r GROUP BY rq, xzqhdm
) AS r ON r.rq = v.rq AND r.xzqhdm = v.xzqhdm
"""
FUSION_SOURCES = {"v": "scenic_visitors", "w": "weather_warnings", "r": "road_status"}
FUSED_FIELDS = [
    FieldData("rq", "日期", "date"),
    FieldData("jqmc", "景区名称", "string", 100),
    FieldData("xzqhdm", "行政区划代码", "string", 6),
    FieldData("ykrs", "游客人数", "integer"),
    FieldData("yjs", "当日预警数", "integer"),
    FieldData("zgyjjb", "最高预警级别", "string", 10),
    FieldData("zclk", "最差路况", "string", 10),
]


@dataclass
class Report:
    """What a demo load did, for the command's output."""

    loaded: list[tuple[str, int, int, float]] = field(
        default_factory=list
    )  # table, version, rows, s
    generated: dict[str, float] = field(default_factory=dict)  # file → seconds to generate
    fused: list[int] = field(default_factory=list)


def load_demo_lake(
    session: Session,
    actor: Actor,
    orgs: dict[str, Organization],
    *,
    rows: int = DEFAULT_ROWS,
    seed: int = data.SEED,
    folder: Path | None = None,
    on_step: Callable[[str], None] | None = None,
) -> Report:
    """Create what is missing of the demo lake (see the module's docstring)."""
    plan = Plan(seed=seed, rows=rows)
    folder = folder or get_settings().var_dir / "demo" / "sources"
    folder.mkdir(parents=True, exist_ok=True)
    report = Report()
    resources = _resources(session, orgs)
    for round_ in (0, 1):  # the first versions, then the daily appends
        for spec in TABLES:
            if round_ < len(spec.files):
                _load(session, actor, orgs, resources, spec, spec.files[round_], plan, folder,
                      report, on_step)  # fmt: skip
        _fuse(session, actor, orgs, round_ + 1, report)
    return report


def _resources(session: Session, orgs: dict[str, Organization]) -> dict[tuple[int, str], Resource]:
    return {(r.provider_org_id, r.name): r for r in session.scalars(select(Resource))}


def _table(
    session: Session,
    actor: Actor,
    orgs: dict[str, Organization],
    resources: dict[tuple[int, str], Resource],
    spec: DemoTable,
) -> LakeTable:
    found = session.scalar(select(LakeTable).where(LakeTable.name == spec.name))
    if found is not None:
        return found
    owner = orgs[spec.provider]
    resource = resources.get((owner.id, spec.resource))
    return tables.create_table(
        session,
        actor,
        spec.name,
        title=spec.title,
        resource_id=resource.id if resource else None,
        resource_code=resource.code if resource else None,
        owner_org_id=owner.id,
        key_columns=list(spec.keys),
    )


def _sources(session: Session, table: LakeTable) -> set[str]:
    return set(session.scalars(select(LakeVersion.source).where(LakeVersion.table_id == table.id)))


def _load(
    session: Session,
    actor: Actor,
    orgs: dict[str, Organization],
    resources: dict[tuple[int, str], Resource],
    spec: DemoTable,
    file: DemoFile,
    plan: Plan,
    folder: Path,
    report: Report,
    on_step: Callable[[str], None] | None,
) -> None:
    table = _table(session, actor, orgs, resources, spec)
    name = file.name(plan)
    if any(s.endswith(f":{name}") for s in _sources(session, table)):
        return
    path = folder / name
    if on_step:
        on_step(f"{spec.title} ← {name}")
    started = time.perf_counter()
    if not path.exists():
        write_file(file, plan, path)
        report.generated[name] = time.perf_counter() - started
    result = load_file(session, actor, table, path, mode=file.mode, key_columns=list(spec.keys))
    report.loaded.append((spec.name, result.version, result.rows, time.perf_counter() - started))
    session.commit()


def write_file(file: DemoFile, plan: Plan, path: Path) -> None:
    """Generate one source file (written beside, then renamed: never half a file)."""
    partial = path.with_name(path.name + ".partial")
    built = file.build(plan)
    if file.format == "parquet":
        write_parquet(built.to_batches() if isinstance(built, pa.Table) else built, partial)
    else:
        table = built if isinstance(built, pa.Table) else pa.Table.from_batches(list(built))
        write_text_table(table, partial, encoding=file.encoding, tab=file.format == "tsv")
    partial.replace(path)


def _fuse(
    session: Session, actor: Actor, orgs: dict[str, Organization], number: int, report: Report
) -> None:
    """The fused table from version ``number`` of each source (skipped if built already)."""
    pinned = {alias: (name, number) for alias, name in FUSION_SOURCES.items()}
    source = "fusion:" + ", ".join(f"{a}={n}@{number}" for a, n in FUSION_SOURCES.items())
    derived = session.scalar(select(LakeTable).where(LakeTable.name == FUSED))
    if derived is not None and source in _sources(session, derived):
        return
    for name in FUSION_SOURCES.values():
        table = session.scalar(select(LakeTable).where(LakeTable.name == name))
        if table is None or tables.version_count(session, table) < number:
            return
    resource = _fused_resource(session, actor, orgs["culture_tourism"])
    version = fusion.fuse(
        session,
        actor,
        FUSED,
        pinned,
        FUSION_SQL,
        ["rq", "jqmc"],
        title=FUSED_TITLE,
        resource_id=resource.id,
        resource_code=resource.code,
        owner_org_id=resource.provider_org_id,
    )
    report.fused.append(version.number)
    session.commit()


def _fused_resource(session: Session, actor: Actor, provider: Organization) -> Resource:
    """The catalog entry of the fused table (created and published once)."""
    found = session.scalar(
        select(Resource).where(
            Resource.provider_org_id == provider.id, Resource.name == FUSED_TITLE
        )
    )
    if found is not None:
        return found
    entry = service.create_resource(
        session,
        actor,
        ResourceData(
            name=FUSED_TITLE,
            summary=(
                "由景区每日客流、气象灾害预警信号和高速公路路况按日期和区县融合而成的派生数据，"
                "用于旅游安全预警、客流疏导和应急调度。每个版本记录其来源数据的版本（血缘）。"
            ),
            domain="culture_tourism",
            share_type="unconditional",
            open_type="unconditional",
            update_cycle="daily",
            kind="table",
            formats=["CSV", "JSON"],
            theme_databases=["emergency"],
            source_system="陇数数据融合",
            contact_name="数据管理科",
            contact_phone="0931-8123456",
            keywords=["融合", "客流", "预警", "路况"],
            licence="CC BY 4.0",
            fields=FUSED_FIELDS,
        ),
        provider_org_id=provider.id,
    )
    for move in ("submit", "approve", "publish"):
        lifecycle.take(session, actor, entry.id, move)
    return entry
