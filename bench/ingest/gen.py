"""A deterministic, realistic Gansu population CSV of N rows, generated vectorised (numpy and
Arrow compute, no Python loop per row) and written by Arrow's CSV writer.

Columns: id, id_number (18-character 身份证号 with a valid check digit, X included), name,
gender, birth_date, region_code, region_name, phone, income (2 decimals), registered_at,
address. Run alone: .venv/bin/python bench/ingest/gen.py ROWS PATH"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

COUNTIES = {
    "620102": "兰州市城关区",
    "620103": "兰州市七里河区",
    "620104": "兰州市西固区",
    "620105": "兰州市安宁区",
    "620111": "兰州市红古区",
    "620121": "永登县",
    "620201": "嘉峪关市",
    "620302": "金川区",
    "620402": "白银区",
    "620502": "秦州区",
    "620503": "麦积区",
    "620602": "凉州区",
    "620702": "甘州区",
    "620802": "崆峒区",
    "620902": "肃州区",
    "620982": "敦煌市",
    "621002": "西峰区",
    "621102": "安定区",
    "621202": "武都区",
    "622901": "临夏市",
    "623001": "合作市",
}
SURNAMES = list("王李张刘陈杨赵黄周吴徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董")
GIVEN = list("伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰萍红鹏飞建国")
STREETS = ["东岗西路", "庆阳路", "张掖路", "滨河路", "南昌路", "天水路", "西津路", "北滨河路"]
WEIGHTS = np.array([7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2])
CHECK = np.array(list("10X98765432"))
BATCH = 1_000_000


def _digits(values: np.ndarray, width: int) -> np.ndarray:
    """Each value's decimal digits, most significant first: shape (n, width)."""
    powers = 10 ** np.arange(width - 1, -1, -1, dtype=np.int64)
    return (values[:, None] // powers) % 10


def batch(start: int, n: int, rng: np.random.Generator) -> pa.Table:
    codes = np.array(list(COUNTIES))
    names = np.array(list(COUNTIES.values()))
    county = rng.integers(0, len(codes), n)
    days = rng.integers(-25567 + 365 * 40, -25567 + 365 * 125, n).astype("int32")  # 1940–2025
    birth = pa.array(days, pa.int32()).cast(pa.date32())
    ymd = np.array(pc.strftime(birth.cast(pa.timestamp("s")), format="%Y%m%d"), dtype=np.int64)
    seq = rng.integers(0, 1000, n)
    body = codes[county].astype(np.int64) * 10**11 + ymd * 1000 + seq
    check = CHECK[(_digits(body, 17) * WEIGHTS).sum(axis=1) % 11]
    id_number = pc.binary_join_element_wise(pa.array(body.astype(str)), pa.array(check), "")
    surname = np.array(SURNAMES)[rng.integers(0, len(SURNAMES), n)]
    given1 = np.array(GIVEN)[rng.integers(0, len(GIVEN), n)]
    given2 = np.where(rng.random(n) < 0.6, np.array(GIVEN)[rng.integers(0, len(GIVEN), n)], "")
    name = pc.binary_join_element_wise(surname, given1, given2, "")
    gender = np.where(seq % 2 == 1, "男", "女")
    phone = pa.array((13_000_000_000 + rng.integers(0, 6 * 10**9, n)).astype(str))
    income = pa.array(np.round(rng.gamma(2.0, 2500.0, n), 2)).cast(pa.decimal128(12, 2))
    seconds = rng.integers(1_577_836_800, 1_795_000_000, n)  # 2020 – 2026
    registered = pc.strftime(pa.array(seconds).cast(pa.timestamp("s")), format="%Y-%m-%d %H:%M:%S")
    street = np.array(STREETS)[rng.integers(0, len(STREETS), n)]
    number = pa.array(rng.integers(1, 999, n).astype(str))
    address = pc.binary_join_element_wise(names[county], street, number, "号", "")
    return pa.table(
        {
            "id": pa.array(np.arange(start + 1, start + n + 1)),
            "id_number": id_number,
            "姓名": name,
            "性别": gender,
            "birth_date": birth,
            "region_code": codes[county],
            "region_name": names[county],
            "phone": phone,
            "income": income,
            "registered_at": registered,
            "address": address,
        }
    )


def generate(rows: int, path: Path, seed: int = 20261129) -> int:
    """Write the CSV; returns its size in bytes."""
    rng = np.random.default_rng(seed)
    writer = None
    done = 0
    with path.open("wb") as sink:
        while done < rows:
            table = batch(done, min(BATCH, rows - done), rng)
            if writer is None:
                writer = pacsv.CSVWriter(sink, table.schema)
            writer.write_table(table)
            done += table.num_rows
        if writer is not None:
            writer.close()
    return path.stat().st_size


if __name__ == "__main__":
    print(generate(int(sys.argv[1]), Path(sys.argv[2])))
