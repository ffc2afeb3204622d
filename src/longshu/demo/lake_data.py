"""The demo's registers: residents (人口), market entities (法人), their penalties (信用) and
licences (电子证照), generated with numpy from one seed; the daily feeds are in ``daily_data``.

Each function returns Arrow data (population: record batches, so 25 million rows never sit in
memory at once). Dates are fixed, not relative to today: the same seed gives the same bytes.
Column names are the catalog's field codes (gmsfhm 公民身份号码, xzqhdm 行政区划代码, …)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from longshu.demo.synthetic import (
    Place,
    Pools,
    ResidentIds,
    credit_codes,
    gansu_places,
    pick,
    table_rng,
)

SEED = 20261129
FIRST_DAY = dt.date(2026, 9, 1)
LAST_DAY = dt.date(2026, 11, 28)  # the second version of the daily tables adds this day
BATCH_ROWS = 500_000
BORN_FROM, BORN_TO = dt.date(1940, 1, 1), dt.date(2025, 12, 31)


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
    rng = table_rng(seed, "population")
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
    rng = table_rng(seed, "legal_persons")
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
    rng = table_rng(seed, "credit_records")
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
    rng = table_rng(seed, "e_licences")
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
