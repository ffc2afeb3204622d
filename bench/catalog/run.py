"""Catalog search at 100,000 published resources: p50/p95/p99 per query of the bigram index
(with facets and the total, as the portal asks) beside a plain ``LIKE '%q%'`` scan of the same
documents, in the same run. Writes bench/results/catalog_search.json (or _pg).

Run: .venv/bin/python bench/catalog/run.py [resources] [rounds]
(SQLite file in a temporary folder; set LONGSHU_DATABASE_URL to a PostgreSQL database with
pg_trgm available to measure PostgreSQL — its tables are created and dropped.)
"""

from __future__ import annotations

import datetime as dt
import json
import os
import platform
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

from sqlalchemy import insert, select, text

from longshu.actor import SYSTEM, Actor
from longshu.catalog import search
from longshu.catalog.models import Resource
from longshu.catalog.search import SearchQuery
from longshu.catalog.vocab import DOMAINS, FORMATS, KINDS, OPEN_TYPES, SHARE_TYPES, UPDATE_CYCLES
from longshu.db import Database
from longshu.models import load_all
from longshu.orgs.models import Organization, Region
from longshu.orgs.regions import load_regions

SUBJECTS = [
    "常住人口",
    "户籍人口",
    "人口流动",
    "气象观测",
    "降水量",
    "高速公路路况",
    "公交线路",
    "交通违法",
    "企业登记",
    "个体工商户",
    "医疗机构",
    "执业医师",
    "疫苗接种",
    "A级旅游景区",
    "星级饭店",
    "农产品价格",
    "耕地保护",
    "空气质量",
    "地表水水质",
    "地质灾害隐患点",
    "森林火险",
    "社保参保",
    "养老保险",
    "低保对象",
    "学校名录",
    "招生计划",
    "不动产登记",
    "建设工程",
    "供水管网",
    "电力负荷",
    "燃气用户",
    "供热面积",
    "邮政网点",
    "通信基站",
    "国有企业资产",
    "安全生产",
    "应急物资",
    "文物保护单位",
    "非物质文化遗产",
    "中药材种植",
    "风电装机",
    "光伏发电",
    "水库水位",
    "草原生态",
    "市场主体信用",
]
SUFFIXES = [
    "统计数据",
    "信息",
    "名录",
    "台账",
    "监测数据",
    "年度报表",
    "明细",
    "汇总表",
    "基础信息",
    "专题数据",
]
PHRASES = [
    "按月汇总全省各市州数据",
    "包括名称、地址、联系方式",
    "数据来源于业务系统",
    "经质量核查后发布",
    "用于政务服务和社会治理",
    "覆盖省市县三级",
    "支持按行政区划统计",
    "含历史数据自2015年起",
    "字段包括统一社会信用代码",
    "实时接入物联网感知设备",
    "为公共服务提供基础支撑",
]
FIELD_LABELS = [
    "名称", "地址", "行政区划代码", "统一社会信用代码", "法定代表人", "联系电话", "登记日期", "经度", "纬度",
    "数量", "金额", "类别", "状态", "更新时间", "备注", "监测值", "单位", "负责人", "等级", "面积",
]  # fmt: skip
QUERIES = [
    ("人口", {}),
    ("气象", {}),
    ("交通", {}),
    ("医疗", {}),
    ("企业登记", {}),
    ("空气质量", {}),
    ("旅游", {}),
    ("地质灾害", {}),
    ("兰州", {}),
    ("农产品 价格", {}),
    ("社保", {"domain": "social_security"}),
    ("水", {}),
    ("信用代码", {"sort": "newest"}),
    ("", {}),
    ("", {"domain": "meteorology"}),
    ("数据", {"open_type": "unconditional", "format": "CSV"}),
]


def build(database: Database, n: int, seed: int = 20261129) -> float:
    """Load regions, synthetic providers and ``n`` published resources; returns seconds."""
    rng = random.Random(seed)
    t0 = time.perf_counter()
    with database.session() as s:
        load_regions(s, SYSTEM)
    with database.session() as s:
        regions = list(s.execute(select(Region.code, Region.name, Region.level)))
        depts = [
            "自然资源局",
            "卫生健康委员会",
            "交通运输局",
            "市场监督管理局",
            "气象局",
            "文化和旅游局",
        ]
        org_rows = [
            {"name": f"{name}{d}", "kind": "data_provider", "region_code": code, "level": level}
            for code, name, level in regions
            for d in depts
        ]
        s.execute(insert(Organization), org_rows)
    with database.session() as s:
        orgs = list(
            s.execute(select(Organization.id, Organization.region_code, Organization.level))
        )
        region_names = dict((c, n_) for c, n_, _ in regions)
    domains, cycles, kinds = list(DOMAINS), list(UPDATE_CYCLES), list(KINDS)
    formats = list(FORMATS)
    published = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    batch_size = 5000
    for start in range(0, n, batch_size):
        resources, docs = [], []
        for i in range(start, min(n, start + batch_size)):
            org_id, region_code, level = rng.choice(orgs)
            name = f"{region_names[region_code]}{rng.choice(SUBJECTS)}{rng.choice(SUFFIXES)}"
            summary = "，".join(rng.sample(PHRASES, 3)) + "。"
            keywords = rng.sample(SUBJECTS, 2)
            fields = rng.sample(FIELD_LABELS, rng.randint(4, 10))
            open_type = rng.choice(list(OPEN_TYPES))
            share_type = "unconditional" if open_type != "none" else rng.choice(list(SHARE_TYPES))
            fmt = rng.sample(formats, rng.randint(1, 3))
            code = f"3{i % 19 + 1:02d}001/{region_code}-{org_id % 1000:03d}-{i % 99999 + 1:05d}-{i}"
            when = published + dt.timedelta(minutes=i)
            row = {
                "id": i + 1, "code": code, "provider_org_id": org_id, "region_code": region_code,
                "level": level, "status": "published", "name": name, "summary": summary,
                "domain": rng.choice(domains), "share_type": share_type, "open_type": open_type,
                "update_cycle": rng.choice(cycles), "kind": rng.choice(kinds), "formats": fmt,
                "keywords": keywords, "published_revision": 1, "published_at": when,
            }  # fmt: skip
            resources.append(row)
            docs.append(
                {
                    "resource_id": i + 1,
                    "code": code,
                    "name": name,
                    "keywords": " ".join([*keywords, code]),
                    "summary": summary,
                    "fields_text": " ".join(fields),
                    "provider_org_id": org_id,
                    "region_code": region_code,
                    "level": level,
                    "domain": row["domain"],
                    "share_type": share_type,
                    "open_type": open_type,
                    "update_cycle": row["update_cycle"],
                    "kind": row["kind"],
                    "grade": None,
                    "formats": " " + " ".join(fmt) + " ",
                    "databases": " ",
                    "public": open_type != "none",
                    "published_at": when,
                }
            )
        with database.session() as s:
            s.execute(insert(Resource), resources)
            search.index_many(s, docs)
    with database.session() as s:
        if database.engine.dialect.name == "sqlite":
            s.execute(
                text("INSERT INTO catalog_search_fts(catalog_search_fts) VALUES ('optimize')")
            )
            s.execute(text("ANALYZE"))
        else:
            s.execute(text("ANALYZE catalog_search_doc"))
    return time.perf_counter() - t0


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    k = max(0, min(len(ordered) - 1, round(p / 100 * len(ordered) + 0.5) - 1))
    return round(ordered[k], 2)


def measure(database: Database, rounds: int, cached: bool = False) -> dict[str, object]:
    """Each query ``rounds`` times; ``cached``: broad matches kept between calls (the
    process's match cache, warmed once), else every call asks the full-text index."""
    public = Actor(kind="anonymous", roles=frozenset({"public"}))
    search.forget_matches()
    search.MATCH_CACHE_BYTES = 48 * 1024 * 1024 if cached else 0
    indexed: list[float] = []
    baseline: list[float] = []
    per_query: dict[str, dict[str, object]] = {}
    with database.session() as s:
        for q, options in QUERIES:  # warm the caches once
            search.search(s, public, SearchQuery(q=q or None, **options))
        for q, options in QUERIES:
            mine, theirs = [], []
            total = like_total = 0
            for _ in range(rounds):
                t0 = time.perf_counter()
                result = search.search(s, public, SearchQuery(q=q or None, **options))
                mine.append((time.perf_counter() - t0) * 1000)
                total = result.total
                if q and not options:
                    t0 = time.perf_counter()
                    _ids, like_total = search.like_search(s, q.split()[0])
                    theirs.append((time.perf_counter() - t0) * 1000)
            indexed += mine
            baseline += theirs
            label = f"{q or '(browse)'} {json.dumps(options, ensure_ascii=False) if options else ''}".strip()
            per_query[label] = {
                "matches": total,
                "p50_ms": percentile(mine, 50),
                "p95_ms": percentile(mine, 95),
                **(
                    {"like_matches": like_total, "like_p95_ms": percentile(theirs, 95)}
                    if theirs
                    else {}
                ),
            }
    return {
        "search_with_facets": {
            "queries": len(indexed),
            "p50_ms": percentile(indexed, 50),
            "p95_ms": percentile(indexed, 95),
            "p99_ms": percentile(indexed, 99),
            "mean_ms": round(statistics.fmean(indexed), 2),
        },
        "like_scan_baseline": {
            "queries": len(baseline),
            "p50_ms": percentile(baseline, 50),
            "p95_ms": percentile(baseline, 95),
            "p99_ms": percentile(baseline, 99),
            "note": "first word only, total + first page, no facets",
        },
        "per_query": per_query,
    }


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 100_000
    rounds = int(sys.argv[2]) if len(sys.argv) > 2 else 20
    url = os.environ.get("LONGSHU_DATABASE_URL", "")
    with tempfile.TemporaryDirectory() as tmp:
        database = Database(url or f"sqlite:///{Path(tmp) / 'bench.db'}")
        metadata = load_all().metadata
        if url:
            with database.engine.begin() as conn:
                conn.execute(text("CREATE EXTENSION IF NOT EXISTS pg_trgm"))
            metadata.drop_all(database.engine)
        metadata.create_all(database.engine)
        try:
            load_s = build(database, n)
            figures = measure(database, rounds)
            warm = measure(database, rounds, cached=True)
            figures["search_with_facets_match_cache"] = {
                **warm["search_with_facets"],
                "note": "broad matches (≥ 2000 ids) kept per index generation, warmed once",
                "per_query_p95_ms": {k: v["p95_ms"] for k, v in warm["per_query"].items()},
            }
        finally:
            if url:
                metadata.drop_all(database.engine)
            database.dispose()
    dialect = "postgresql" if url else "sqlite"
    result = {
        "when": dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat(),
        "machine": f"{platform.machine()} {os.cpu_count()} cores, Python {platform.python_version()}",
        "database": dialect,
        "resources": n,
        "rounds": rounds,
        "load_average_at_end": [round(x, 2) for x in os.getloadavg()],
        "load_seconds": round(load_s, 1),
        **figures,
    }
    name = "catalog_search.json" if dialect == "sqlite" else "catalog_search_pg.json"
    out = Path(__file__).resolve().parents[1] / "results" / name
    out.write_text(json.dumps(result, ensure_ascii=False, indent=2) + "\n")
    print(json.dumps(result, ensure_ascii=False, indent=2))


if __name__ == "__main__":
    main()
