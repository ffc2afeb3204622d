"""The demo's synthetic Gansu tables, generated with numpy from one seed.

Each function returns Arrow data (population: record batches, so 25 million rows never sit in
memory at once). Dates are fixed, not relative to today: the same seed gives the same bytes.
Column names are the catalog's field codes (gmsfhm 公民身份号码, xzqhdm 行政区划代码, …)."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from longshu.demo.synthetic import Place, Pools, ResidentIds, credit_codes, gansu_places, pick

SEED = 20261129
FIRST_DAY = dt.date(2026, 9, 1)
LAST_DAY = dt.date(2026, 11, 28)  # the second version of the daily tables adds this day
BATCH_ROWS = 500_000
BORN_FROM, BORN_TO = dt.date(1940, 1, 1), dt.date(2025, 12, 31)

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


def _rng(seed: int, table: str) -> np.random.Generator:
    return np.random.default_rng([seed, sum(ord(c) * 31**i for i, c in enumerate(table)) % 2**32])


def _days(first: dt.date, last: dt.date) -> np.ndarray:
    return np.arange(np.datetime64(first, "D"), np.datetime64(last, "D") + 1)


def _prefixes(places: list[Place], index: np.ndarray) -> pa.Array:
    """甘肃省<city><county> per row (嘉峪关市 once)."""
    text = [
        "甘肃省" + (p.city_name if p.city_code == p.code else p.city_name + p.name) for p in places
    ]
    return pa.array(text).take(index)


# --- 人口 ---------------------------------------------------------------------------------


def population(
    rows: int, seed: int = SEED, batch_rows: int = BATCH_ROWS
) -> Iterator[pa.RecordBatch]:
    """常住人口基本信息: ``rows`` residents with unique valid 公民身份号码, in batches."""
    rng = _rng(seed, "population")
    places = gansu_places()
    register = ResidentIds([p.code for p in places], BORN_FROM, BORN_TO)
    pools = Pools(seed)
    # the capital and the big cities hold more people
    weight = np.asarray(
        [
            3.0 if p.city_code == "620100" else 1.5 if p.code.endswith(("02", "03")) else 1.0
            for p in places
        ]
    )
    weight /= weight.sum()
    codes = pa.array([p.code for p in places])
    done = 0
    while done < rows:
        n = min(batch_rows, rows - done)
        region = rng.choice(len(places), size=n, p=weight)
        birth_day = rng.integers(0, register.days, n)
        male = rng.integers(0, 2, n).astype(np.int64)
        numbers = register.draw(region, birth_day, male)
        births = (np.datetime64(BORN_FROM, "D") + birth_day.astype("timedelta64[D]")).astype(
            "datetime64[D]"
        )
        yield pa.record_batch(
            {
                "gmsfhm": numbers,
                "xm": pools.names(rng, n, male.astype(bool)),
                "xb": pa.array(["女", "男"]).take(male),
                "csrq": pa.array(births, pa.date32()),
                "mz": pick(
                    [
                        "汉族",
                        "回族",
                        "藏族",
                        "东乡族",
                        "土族",
                        "裕固族",
                        "保安族",
                        "撒拉族",
                        "蒙古族",
                        "满族",
                    ],
                    rng,
                    n,
                    [90.5, 4.8, 2.0, 1.5, 0.3, 0.1, 0.1, 0.1, 0.3, 0.3],
                ),
                "xzqhdm": codes.take(region),
                "dz": pools.addresses(rng, _prefixes(places, region)),
                "hjlx": pick(["城镇", "农村"], rng, n, [53, 47]),
            }
        )
        done += n


# --- 法人, 信用, 电子证照 ------------------------------------------------------------------------


def legal_persons(n: int, seed: int = SEED) -> pa.Table:
    """市场主体登记信息: ``n`` enterprises, co-operatives and sole traders with valid codes."""
    rng = _rng(seed, "legal_persons")
    places = gansu_places()
    pools = Pools(seed)
    region = rng.integers(0, len(places), n)
    kinds = ["有限责任公司", "股份有限公司", "个人独资企业", "合伙企业", "农民专业合作社"]
    kind = rng.choice(len(kinds), size=n, p=[0.62, 0.05, 0.13, 0.08, 0.12])
    category = np.where(kind == 4, "3", "1")
    codes = credit_codes(rng, np.asarray([int(places[i].code) for i in region]), "9", category)
    trades = [
        "农业",
        "商贸",
        "建筑",
        "文化旅游",
        "科技",
        "物流",
        "餐饮",
        "新能源",
        "中药材",
        "装备制造",
    ]
    trade = rng.integers(0, len(trades), n)
    place_names = pa.array([p.name.removesuffix("区").removesuffix("县") for p in places])
    suffix = pa.array(["有限公司", "股份有限公司", "商行", "企业（有限合伙）", "专业合作社"]).take(
        kind
    )
    name = pc.binary_join_element_wise(
        pa.array(["甘肃"] * n),
        place_names.take(region),
        pools.companies.take(rng.integers(0, len(pools.companies), n)),
        pa.array(trades).take(trade),
        suffix,
        "",
    )
    founded = np.datetime64("1995-01-01") + rng.integers(0, 11_200, n).astype("timedelta64[D]")
    capital = np.round(rng.lognormal(5.0, 1.3, n), 2)
    return pa.table(
        {
            "tyshxydm": codes,
            "dwmc": name,
            "fddbr": pools.names(rng, n),
            "clrq": pa.array(founded, pa.date32()),
            "xzqhdm": pa.array([p.code for p in places]).take(region),
            "qylx": pa.array(kinds).take(kind),
            "hy": pa.array(trades).take(trade),
            "zczb": pa.array([f"{c:.2f}" for c in capital]).cast(pa.decimal128(14, 2)),
            "djzt": pick(["存续", "在业", "迁出", "注销", "吊销"], rng, n, [70, 20, 2, 6, 2]),
        }
    )


def credit_records(firms: pa.Table, seed: int = SEED) -> pa.Table:
    """行政处罚信息: penalties against one firm in ten (some twice)."""
    rng = _rng(seed, "credit_records")
    n = max(1, firms.num_rows // 10)
    who = rng.integers(0, firms.num_rows, n)
    kinds = ["警告", "罚款", "没收违法所得", "责令停产停业", "暂扣许可证", "吊销许可证"]
    kind = rng.choice(len(kinds), size=n, p=[0.3, 0.5, 0.08, 0.05, 0.04, 0.03])
    fine = np.where(kind == 0, 0.0, np.round(rng.lognormal(8.5, 1.0, n), -2))
    when = np.datetime64("2021-01-01") + rng.integers(0, 2150, n).astype("timedelta64[D]")
    years = when.astype("datetime64[Y]").astype(np.int64) + 1970
    places = {p.code: p for p in gansu_places()}
    region = firms.column("xzqhdm").take(who).to_numpy(zero_copy_only=False)
    city = [places[c].city_name for c in region]
    # 处罚决定书文号: 〔year〕 and a serial unique in the table
    numbers = [
        f"甘{c[:2]}市监罚〔{y}〕{i + 1}号" for i, (c, y) in enumerate(zip(city, years, strict=True))
    ]
    return pa.table(
        {
            "cfjdsh": numbers,
            "tyshxydm": firms.column("tyshxydm").take(who),
            "dwmc": firms.column("dwmc").take(who),
            "cflx": pa.array(kinds).take(kind),
            "cfje": pa.array([f"{v:.2f}" for v in fine]).cast(pa.decimal128(14, 2)),
            "cfjg": pa.array([f"{c}市场监督管理局" for c in city]),
            "cfrq": pa.array(when, pa.date32()),
        }
    )


def e_licences(firms: pa.Table, seed: int = SEED) -> pa.Table:
    """电子证照目录: licences issued to half of the firms (营业执照 for each, some more)."""
    rng = _rng(seed, "e_licences")
    n = max(1, firms.num_rows // 2)
    who = rng.choice(firms.num_rows, size=n, replace=False)
    kinds = [
        "营业执照",
        "食品经营许可证",
        "道路运输经营许可证",
        "药品经营许可证",
        "旅行社业务经营许可证",
    ]
    prefix = ["YZ", "JY", "YS", "YP", "LX"]
    kind = rng.choice(len(kinds), size=n, p=[0.5, 0.3, 0.1, 0.06, 0.04])
    region = firms.column("xzqhdm").take(who).to_numpy(zero_copy_only=False)
    serial = rng.permutation(n) + 1
    issued = np.datetime64("2020-01-01") + rng.integers(0, 2500, n).astype("timedelta64[D]")
    until = issued + np.timedelta64(5 * 365, "D")
    numbers = [f"{prefix[k]}{r}{s:08d}" for k, r, s in zip(kind, region, serial, strict=True)]
    return pa.table(
        {
            "zzbh": numbers,
            "zzlx": pa.array(kinds).take(kind),
            "tyshxydm": firms.column("tyshxydm").take(who),
            "dwmc": firms.column("dwmc").take(who),
            "fzjg": pa.array(
                [
                    "甘肃省市场监督管理局",
                    "甘肃省交通运输厅",
                    "甘肃省药品监督管理局",
                    "甘肃省文化和旅游厅",
                ]
            ).take(np.clip(kind - 1, 0, 3)),
            "fzrq": pa.array(issued, pa.date32()),
            "yxqz": pa.array(until, pa.date32()),
            "zzzt": pa.array(np.where(until < np.datetime64(LAST_DAY), "过期", "有效")),
        }
    )


# --- daily tables: visitors, warnings, roads, hospitals, transit ----------------------------


def _season(days: np.ndarray) -> np.ndarray:
    """Tourist season factor: high in September and the 国庆 week, low in late autumn."""
    doy = (days - days.astype("datetime64[Y]")).astype(np.int64)
    factor = 1.3 - (doy - 243) / 200.0
    holiday = (days >= np.datetime64("2026-10-01")) & (days <= np.datetime64("2026-10-08"))
    weekend = ((days.astype(np.int64) + 3) % 7) >= 5  # 1970-01-01 was a Thursday
    return np.clip(factor, 0.3, 1.5) * np.where(holiday, 2.6, 1.0) * np.where(weekend, 1.35, 1.0)


def scenic_visitors(first: dt.date, last: dt.date, seed: int = SEED) -> pa.Table:
    """景区客流 per spot and day (the 14 best-known Gansu spots, real county codes)."""
    rng = _rng(seed, f"scenic_visitors{first}")
    days = _days(first, last)
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
    rng = _rng(seed, f"weather_warnings{first}")
    places = gansu_places()
    days = _days(first, last)
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
    rng = _rng(seed, f"road_status{first}")
    days = _days(first, last)
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
    rng = _rng(seed, f"hospital_visits{first}")
    places = gansu_places()
    days = _days(first, last)
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
    rng = _rng(seed, "agricultural_output")
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
    rng = _rng(seed, f"transit_flows{first}")
    cities = sorted({(p.city_code, p.city_name) for p in gansu_places()})
    lines = [(c, name, k) for c, name in cities for k in range(1, (41 if c == "620100" else 9))]
    days = _days(first, last)
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
