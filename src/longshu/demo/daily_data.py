"""The demo's daily feeds and yearly statistics: scenic-spot visitors (景区客流), weather
warnings (气象预警), road status (路况), hospital visits (诊疗人次), bus flows (公交客流) and
agricultural output (特色农产品产量), generated with numpy from one seed for a range of days."""

from __future__ import annotations

import datetime as dt
import re

import numpy as np
import pyarrow as pa

from longshu.demo.lake_data import SEED
from longshu.demo.synthetic import day_range, gansu_places, table_rng

# 景区: name, level, county code (real 行政区划代码), typical daily visitors
SCENIC_SPOTS = [
    ("莫高窟", "5A", "620982", 6000),
    ("鸣沙山月牙泉", "5A", "620982", 12000),
    ("雅丹国家地质公园", "4A", "620982", 3000),
    ("嘉峪关关城", "5A", "620200", 7000),
    ("麦积山石窟", "5A", "620503", 8000),
    ("伏羲庙", "4A", "620502", 4000),
    ("张掖七彩丹霞", "5A", "620723", 10000),
    ("炳灵寺石窟", "4A", "622923", 2500),
    ("拉卜楞寺", "4A", "623027", 3500),
    ("扎尕那", "4A", "623024", 2000),
    ("崆峒山", "5A", "620802", 5000),
    ("官鹅沟", "5A", "621223", 3000),
    ("黄河石林", "5A", "620423", 4000),
    ("兰州黄河风情线", "4A", "620102", 15000),
]
# 特色农产品: product, crop, county code, sown area (亩), yield (吨/亩), price (元/公斤)
PRODUCTS = [
    ("定西马铃薯", "马铃薯", "621102", 1_200_000, 1.9, 1.6),
    ("渭源马铃薯", "马铃薯", "621123", 600_000, 1.8, 1.5),
    ("天水花牛苹果", "苹果", "620503", 400_000, 2.2, 6.5),
    ("静宁苹果", "苹果", "620826", 1_000_000, 2.0, 6.0),
    ("陇南油橄榄", "油橄榄", "621202", 600_000, 0.13, 9.0),
    ("武都花椒", "花椒", "621202", 900_000, 0.05, 80.0),
    ("岷县当归", "当归", "621126", 300_000, 0.3, 30.0),
    ("渭源党参", "党参", "621123", 250_000, 0.25, 40.0),
    ("民勤蜜瓜", "蜜瓜", "620621", 150_000, 3.0, 4.0),
    ("瓜州蜜瓜", "蜜瓜", "620922", 180_000, 3.2, 4.2),
    ("兰州百合", "百合", "620103", 80_000, 0.8, 40.0),
    ("临泽小枣", "红枣", "620723", 100_000, 0.6, 12.0),
    ("庆阳黄花菜", "黄花菜", "621024", 120_000, 0.2, 25.0),
    ("甘南牦牛肉", "牦牛", "623025", 0, 0.0, 90.0),
]
HIGHWAYS = ["G30连霍高速", "G22青兰高速", "G75兰海高速", "G6京藏高速", "G70福银高速",
            "G312国道", "G213国道", "G215国道", "G227国道", "G109国道", "G316国道", "G310国道"]  # fmt: skip
WARNING_TYPES = [
    "暴雨",
    "大风",
    "沙尘暴",
    "寒潮",
    "暴雪",
    "霜冻",
    "道路结冰",
    "大雾",
    "冰雹",
    "雷电",
]
WARNING_LEVELS = ["蓝色", "黄色", "橙色", "红色"]
ROAD_CODE = re.compile(r"[A-Z]\d+")
ROAD_STATES = ["畅通", "缓行", "拥堵", "交通管制", "封闭"]


def _season(days: np.ndarray) -> np.ndarray:
    """Tourist season factor: high in September and the 国庆 week, low in late autumn."""
    doy = (days - days.astype("datetime64[Y]")).astype(np.int64)
    factor = 1.3 - (doy - 243) / 200.0
    holiday = (days >= np.datetime64("2026-10-01")) & (days <= np.datetime64("2026-10-08"))
    weekend = ((days.astype(np.int64) + 3) % 7) >= 5  # 1970-01-01 was a Thursday
    return np.clip(factor, 0.3, 1.5) * np.where(holiday, 2.6, 1.0) * np.where(weekend, 1.35, 1.0)


def scenic_visitors(first: dt.date, last: dt.date, seed: int = SEED) -> pa.Table:
    """景区客流 per spot and day (the 14 best-known Gansu spots, real county codes)."""
    rng = table_rng(seed, f"scenic_visitors{first}")
    days = day_range(first, last)
    spot = np.repeat(np.arange(len(SCENIC_SPOTS)), len(days))
    day = np.tile(days, len(SCENIC_SPOTS))
    base = np.asarray([s[3] for s in SCENIC_SPOTS], dtype=np.float64)[spot]
    visitors = np.maximum(0, rng.normal(base * _season(day), base * 0.08)).astype(np.int64)
    groups = (visitors * rng.uniform(0.1, 0.3, len(visitors))).astype(np.int64)
    price = np.asarray([238 if s[0] == "莫高窟" else 110 if s[1] == "5A" else 60
                        for s in SCENIC_SPOTS], dtype=np.int64)[spot]  # fmt: skip
    return pa.table(
        {
            "rq": pa.array(day, pa.date32()),
            "jqmc": pa.array([s[0] for s in SCENIC_SPOTS]).take(spot),
            "jqdj": pa.array([s[1] for s in SCENIC_SPOTS]).take(spot),
            "xzqhdm": pa.array([s[2] for s in SCENIC_SPOTS]).take(spot),
            "ykrs": visitors,
            "tdrs": groups,
            "mpsr": pa.array([f"{v:.2f}" for v in visitors * price * 0.7]).cast(
                pa.decimal128(14, 2)
            ),
        }
    )


def weather_warnings(first: dt.date, last: dt.date, seed: int = SEED) -> pa.Table:
    """气象灾害预警信号: about one county in twelve has a warning on a given day."""
    rng = table_rng(seed, f"weather_warnings{first}")
    places = gansu_places()
    days = day_range(first, last)
    place = np.repeat(np.arange(len(places)), len(days))
    day = np.tile(days, len(places))
    hit = rng.random(len(day)) < 0.08
    place, day = place[hit], day[hit]
    n = len(day)
    month = day.astype("datetime64[M]").astype(np.int64) % 12 + 1
    autumn = np.asarray([25, 25, 10, 5, 0, 5, 5, 15, 5, 5]) / 100
    winter = np.asarray([0, 20, 15, 25, 10, 10, 15, 5, 0, 0]) / 100
    kind = np.where(
        month >= 11,
        rng.choice(len(WARNING_TYPES), size=n, p=winter),
        rng.choice(len(WARNING_TYPES), size=n, p=autumn),
    )
    level = rng.choice(len(WARNING_LEVELS), size=n, p=[0.45, 0.35, 0.15, 0.05])
    issued = day.astype("datetime64[s]") + rng.integers(6 * 3600, 20 * 3600, n).astype(
        "timedelta64[s]"
    )
    return pa.table(
        {
            "yjbh": pa.array(
                [
                    f"YJ{str(d).replace('-', '')}{places[p].code}"
                    for d, p in zip(day, place, strict=True)
                ]
            ),
            "rq": pa.array(day, pa.date32()),
            "xzqhdm": pa.array([p.code for p in places]).take(place),
            "yjlx": pa.array(WARNING_TYPES).take(kind),
            "yjjb": pa.array(WARNING_LEVELS).take(level),
            "fbsj": pa.array(issued, pa.timestamp("s")),
            "fbdw": pa.array([p.name + "气象台" for p in places]).take(place),
        }
    )


def road_status(first: dt.date, last: dt.date, seed: int = SEED) -> pa.Table:
    """高速公路与国道路况: each county's one or two road sections, once a day."""
    rng = np.random.default_rng([seed, 7])  # sections are the same for every period
    places = gansu_places()
    per = rng.integers(1, 3, len(places))
    section_place = np.repeat(np.arange(len(places)), per)
    road = rng.integers(0, len(HIGHWAYS), len(section_place))
    rng = table_rng(seed, f"road_status{first}")
    days = day_range(first, last)
    section = np.repeat(np.arange(len(section_place)), len(days))
    day = np.tile(days, len(section_place))
    n = len(day)
    state = rng.choice(len(ROAD_STATES), size=n, p=[0.78, 0.12, 0.05, 0.04, 0.01])
    codes = [p.code for p in places]
    names = [
        f"{ROAD_CODE.match(HIGHWAYS[r]).group()}-{codes[p]}-{i:03d}"  # type: ignore[union-attr]
        for i, (p, r) in enumerate(zip(section_place, road, strict=True))
    ]
    return pa.table(
        {
            "ldbm": pa.array(names).take(section),
            "lx": pa.array(HIGHWAYS).take(road[section]),
            "rq": pa.array(day, pa.date32()),
            "xzqhdm": pa.array(codes).take(section_place[section]),
            "lk": pa.array(ROAD_STATES).take(state),
            "ydsc": np.where(state == 0, 0, rng.integers(10, 240, n)),  # 拥堵时长, minutes
        }
    )


def hospital_visits(first: dt.date, last: dt.date, seed: int = SEED) -> pa.Table:
    """全民健康信息平台诊疗人次统计 per county and day."""
    rng = table_rng(seed, f"hospital_visits{first}")
    places = gansu_places()
    days = day_range(first, last)
    place = np.repeat(np.arange(len(places)), len(days))
    day = np.tile(days, len(places))
    size = rng.uniform(800, 9000, len(places))[place]
    weekend = ((day.astype(np.int64) + 3) % 7) >= 5
    outpatients = rng.poisson(size * np.where(weekend, 0.6, 1.0))
    return pa.table(
        {
            "tjrq": pa.array(day, pa.date32()),
            "xzqhdm": pa.array([p.code for p in places]).take(place),
            "zlrc": outpatients,
            "jzrc": rng.poisson(outpatients * 0.08),
            "zyrs": rng.poisson(outpatients * 0.05),
        }
    )


def agricultural_output(seed: int = SEED) -> pa.Table:
    """特色农产品产量 by year, 2016–2025 (甘南牦牛肉 counted in head, not area)."""
    rng = table_rng(seed, "agricultural_output")
    years = np.arange(2016, 2026)
    item = np.repeat(np.arange(len(PRODUCTS)), len(years))
    year = np.tile(years, len(PRODUCTS))
    growth = 1 + 0.03 * (year - 2016) + rng.normal(0, 0.04, len(year))
    area = np.asarray([p[3] for p in PRODUCTS], dtype=np.float64)[item] * growth
    tons = area * np.asarray([p[4] for p in PRODUCTS])[item] * rng.uniform(0.9, 1.1, len(year))
    tons = np.where(area == 0, rng.uniform(30_000, 40_000, len(year)) * growth, tons)
    price = np.asarray([p[5] for p in PRODUCTS])[item] * rng.uniform(0.85, 1.2, len(year))
    return pa.table(
        {
            "nf": year,
            "cpmc": pa.array([p[0] for p in PRODUCTS]).take(item),
            "zw": pa.array([p[1] for p in PRODUCTS]).take(item),
            "xzqhdm": pa.array([p[2] for p in PRODUCTS]).take(item),
            "bzmj": np.round(area).astype(np.int64),
            "cl": pa.array([f"{v:.1f}" for v in tons]).cast(pa.decimal128(14, 1)),
            "pjjg": pa.array([f"{v:.2f}" for v in price]).cast(pa.decimal128(10, 2)),
        }
    )


def transit_flows(first: dt.date, last: dt.date, seed: int = SEED) -> pa.Table:
    """城市公共交通客流 per bus line and day in the 14 cities (兰州 has more lines)."""
    rng = table_rng(seed, f"transit_flows{first}")
    cities = sorted({(p.city_code, p.city_name) for p in gansu_places()})
    lines = [(c, name, k) for c, name in cities for k in range(1, (41 if c == "620100" else 9))]
    days = day_range(first, last)
    line = np.repeat(np.arange(len(lines)), len(days))
    day = np.tile(days, len(lines))
    base = rng.uniform(2000, 20000, len(lines))[line]
    weekend = ((day.astype(np.int64) + 3) % 7) >= 5
    riders = rng.poisson(base * np.where(weekend, 0.8, 1.0))
    return pa.table(
        {
            "rq": pa.array(day, pa.date32()),
            "csmc": pa.array([x[1] for x in lines]).take(line),
            "xzqhdm": pa.array([x[0] for x in lines]).take(line),
            "xlmc": pa.array([f"{x[2]}路" for x in lines]).take(line),
            "klrc": riders,
            "bc": (riders / rng.uniform(60, 90, len(riders))).astype(np.int64) + 1,
        }
    )
