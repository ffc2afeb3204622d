"""The lexicon detectors (姓名, 地址, 健康, 民族, 宗教, 婚姻, 违法犯罪, 性取向, 政治面貌): value
by value verdicts on positives and hard negatives, odd columns, and precision / recall of
names and addresses on a seeded corpus against the issue's targets (≥ 0.95 / ≥ 0.90)."""

from __future__ import annotations

import random
from pathlib import Path
from typing import get_args

import jieba
import numpy as np
import pyarrow as pa
import pytest
from faker import Faker

from longshu.governance.detect import lexicon_jieba
from longshu.governance.detect.lexical import LEXICAL_DETECTORS
from longshu.governance.detect.names import names_under_a_name_column
from longshu.governance.detect.registry import DETECTORS
from longshu.lake.policy import MaskKind
from longshu.orgs.regions import region_data

BY_CODE = {d.code: d for d in LEXICAL_DETECTORS}


def words(text: str) -> list[str]:
    """The space-separated words of ``text``."""
    return text.split()


def hits(code: str, values: list[str | None]) -> list[str | None]:
    """The values the detector ``code`` calls its kind."""
    found = BY_CODE[code].match(pa.array(values, pa.string()))
    assert found.dtype == bool and len(found) == len(values)
    return [v for v, hit in zip(values, found, strict=True) if hit]


# --- the seeded corpus ------------------------------------------------------------------------

UYGHUR_GIVEN = words(
    "阿依古丽 古丽娜尔 买买提 艾力 热依拉 阿不都 努尔 帕提古丽 "
    "吐尔逊 艾尔肯 克里木 热合曼 阿力木 玛依拉 巴哈尔古丽 沙吾提 "
    "依明 托合提 阿迪力 米娜 阿依努尔 迪力夏提 努尔艾力 麦麦提"
)
TIBETAN = words("才让卓玛 扎西 卓玛 拉毛草 多杰才让 索南加措 尕藏 桑吉卓玛 旦正 仁青措")
COMMON_WORDS = words(
    "王府 张开 高兴 陈列 李子 周末 黄金 马路 文化 江河 王国 张贴 "
    "陈旧 黄色 周期 马上 胡说 林业 高速 高级 罗盘 郑重 谢谢 许多 "
    "韩国 曾经 田地 董事 于是 叶子 程序 任务 范围 方面 方法 白天 "
    "白菜 江南 雷达 段落 龙头 陶瓷 毛巾 万一 钱包 严格 洪水 武器 "
    "文件 牛奶 安全 颜色 章程 申请 关系 包括 单位 成本 成功 车辆 "
    "项目 管理 阳光 时间 农业 司机 古代 简单 费用 卫生 全部 商品 "
    "沙发 明天 麻烦 南方 原因 劳动 海洋 花园 权利 国家 计划 宣传 "
    "相信 门口 容易 普通 母亲 宿舍 战争 银行 利用 居民 智慧 幸福 "
    "王府井 张家口 高新区 黄金周 陈列馆 马铃薯 文化宫 石家庄 "
    "高速公路 金银花 明信片 刘家峡 白云山 东方红"
)
ROADS_AND_NUMBERS = words(
    "地铁1号线 第3组 3号文件 甘政发〔2023〕15号 G30连霍高速 "
    "五一路 3栋 2号楼 高速公路3号出口 兰州至天水高速公路 "
    "S101省道 兰新铁路 公交2路 302国道 1单元"
)
PRODUCTS = words(
    "华为Mate60手机 联想笔记本电脑 小米电视 兰州牛肉面 静宁苹果 "
    "定西马铃薯 黄河啤酒 金徽酒 陇南花椒 岷县当归 苦水玫瑰 "
    "敦煌研究院文创"
)


def gansu_places() -> list[tuple[str, str]]:
    regions = region_data()["regions"]
    names = {r["code"]: r["name"] for r in regions}
    return [
        (names[r["parent"]], r["name"]) for r in regions if r["level"] == "county" and r["official"]
    ]


def name_corpus(n: int, seed: int) -> tuple[list[str], list[str]]:
    """(names, not names): faker names, compound surnames, dotted Uyghur names and Tibetan
    names; common words that start with a surname, companies, places, products, dates."""
    fake, rng = Faker("zh_CN"), random.Random(seed)
    fake.seed_instance(seed)
    compound = ["欧阳", "司马", "上官", "诸葛", "东方", "皇甫", "慕容", "令狐", "司徒", "尉迟"]
    names = [fake.name() for _ in range(n)]
    names += [rng.choice(compound) + fake.first_name() for _ in range(n // 10)]
    names += [f"{rng.choice(UYGHUR_GIVEN)}·{rng.choice(UYGHUR_GIVEN)}" for _ in range(n // 10)]
    names += [rng.choice(TIBETAN) for _ in range(n // 20)]
    places = [p for pair in gansu_places() for p in pair]
    others = COMMON_WORDS * 4 + PRODUCTS * 4
    others += [fake.company() for _ in range(n // 4)]
    others += [
        f"甘肃{fake.company_prefix()}{rng.choice(['有限公司', '集团'])}" for _ in range(n // 8)
    ]
    others += [rng.choice(places) for _ in range(n // 8)]
    others += [fake.date(pattern="%Y年%m月%d日") for _ in range(n // 10)]
    others += [str(rng.randint(0, 10**8)) for _ in range(n // 10)]
    return names, others


def address_corpus(n: int, seed: int) -> tuple[list[str], list[str]]:
    """(addresses, not addresses): with and without province, streets with numbers, villages
    with groups, estates with units, faker addresses; regions alone, companies, bodies."""
    fake, rng = Faker("zh_CN"), random.Random(seed)
    fake.seed_instance(seed)
    places = gansu_places()
    groups = ["一", "二", "三", "四", "五", "六", "1", "2", "3", "7"]
    addresses = []
    for _ in range(n):
        city, county = rng.choice(places)
        style = rng.random()
        if style < 0.25:
            value = f"甘肃省{city}{county}{fake.street_name()}{rng.randint(1, 300)}号"
        elif style < 0.45:
            value = f"{county}{fake.street_name()}{rng.randint(1, 99)}号院{rng.randint(1, 9)}号楼"
        elif style < 0.6:
            value = f"{county}{fake.last_name()}家{rng.choice('庄湾沟坪')}村{rng.choice(groups)}组"
        elif style < 0.75:
            village = f"{fake.last_name()}{rng.choice(['家营', '家川', '堡子'])}村"
            value = f"{city}{county}{fake.first_name()}镇{village}{rng.choice(groups)}社"
        elif style < 0.85:
            block = f"{rng.randint(1, 30)}栋{rng.randint(1, 6)}单元{rng.randint(101, 2802)}室"
            value = f"{rng.choice(['阳光', '金色', '滨河', '锦绣'])}小区{block}"
        else:
            value = fake.address()
        addresses.append(value)
    regions = [c for pair in places for c in pair]
    others = [rng.choice(regions) for _ in range(n // 4)]
    others += [f"甘肃省{c}{x}" for c, x in rng.sample(places, 40)]
    others += [f"{x}{fake.first_name()}镇" for _, x in rng.sample(places, 40)]
    others += [f"{x}东岗街道" for _, x in rng.sample(places, 20)]
    others += [fake.company() for _ in range(n // 4)]
    bodies = ["人民医院", "第一中学", "人民政府", "公安局", "市场监督管理局", "农村信用合作社"]
    others += [f"{c}{rng.choice(bodies)}" for c, _ in rng.sample(places, 40)]
    others += [f"{x}{fake.street_name()}支行" for _, x in rng.sample(places, 20)]
    others += COMMON_WORDS + PRODUCTS + ROADS_AND_NUMBERS
    others += [fake.date(pattern="%Y年%m月%d日") for _ in range(n // 10)]
    return addresses, others


def precision_recall(code: str, positives: list[str], negatives: list[str]) -> tuple[float, float]:
    found = BY_CODE[code].match(pa.array(positives + negatives))
    tp = int(found[: len(positives)].sum())
    fp = int(found[len(positives) :].sum())
    return tp / max(tp + fp, 1), tp / len(positives)


@pytest.mark.parametrize("seed", [2024, 7])
def test_names_meet_the_precision_and_recall_targets(seed):
    names, others = name_corpus(3000, seed)
    precision, recall = precision_recall("person_name", names, others)
    assert precision >= 0.95, precision
    assert recall >= 0.90, recall


@pytest.mark.parametrize("seed", [2024, 7])
def test_addresses_meet_the_precision_and_recall_targets(seed):
    addresses, others = address_corpus(3000, seed)
    precision, recall = precision_recall("address", addresses, others)
    assert precision >= 0.95, precision
    assert recall >= 0.90, recall


# --- 姓名 ------------------------------------------------------------------------------------


def test_han_names_of_two_to_four_characters_are_names():
    values = ["张伟", "王秀英", "李建国", "刘洋", "陈静", "马丽华", "李娜", "王 伟", " 赵敏 "]
    assert hits("person_name", values) == values


def test_compound_surnames_are_names():
    values = ["欧阳娜娜", "司马光", "诸葛亮", "上官婉儿", "慕容雪", "爱新觉罗玉兰", "钮祜禄桂英"]
    assert hits("person_name", values) == values


def test_dotted_minority_and_foreign_names_are_names():
    values = ["阿依古丽·买买提", "买买提·艾力", "热依拉•阿不都", "约翰·史密斯", "努尔艾力．吐尔逊"]
    assert hits("person_name", values) == values


def test_a_list_of_names_in_one_cell_is_names_when_every_part_is():
    values = words("张伟、李娜 张伟，李娜，王秀英 张伟/李娜 张伟,高兴 兰州、天水 张伟、")
    assert hits("person_name", values) == ["张伟、李娜", "张伟，李娜，王秀英", "张伟/李娜"]


def test_tibetan_names_without_a_surname_are_names():
    assert hits("person_name", ["才让卓玛", "扎西", "拉毛草", "索南加措"]) == words(
        "才让卓玛 扎西 拉毛草 索南加措"
    )


def test_words_that_start_with_a_surname_are_not_names():
    common = words(
        "王府 张开 高兴 陈列 李子 周末 黄金 马路 文化 江河 王府井 "
        "黄金周 石家庄 白云山 平西王 东方红 陆军 智慧 王先生 李老师"
    )
    assert hits("person_name", common) == []


def test_a_column_named_for_people_adds_names_that_are_also_words():
    values = words("高兴 高峰 王府 李娜 张伟 兰州市 2023年")
    assert names_under_a_name_column(pa.array(values), "姓名").tolist() == [
        True,  # 高兴: a word, but in a 姓名 column someone's name
        True,
        False,  # 王府: 府 is no given-name character
        False,  # already a name without the column's help
        False,
        False,
        False,
    ]
    assert not names_under_a_name_column(pa.array(values), "产品名称").any()


def test_companies_places_products_dates_and_numbers_are_not_names():
    values = [
        "甘肃金川集团有限公司",
        "兰州市",
        "城关区",
        "和政",
        "白银",
        "黄河啤酒",
        "华为Mate60手机",
        "2023年5月3日",
        "13893100000",
        "中国·兰州",
        "春夏·秋冬",
        "Zhang Wei",
        "张伟伟伟伟伟伟",
    ]
    assert hits("person_name", values) == []


# --- 地址 ------------------------------------------------------------------------------------


def test_addresses_with_and_without_province_are_addresses():
    values = words(
        "甘肃省兰州市城关区庆阳路88号 兰州市城关区庆阳路88号 城关区庆阳路 "
        "庆阳路88号 榆中县和平镇袁家营村 袁家营村3组 "
        "临夏回族自治州东乡族自治县锁南镇红柳村二社 阳光小区3栋2单元501室 "
        "北京市朝阳区建国路A座 甘肃省临夏州临夏市红园路 定西市安定区中华路街道永定路社区 "
        "兰州市七里河区西津西路16号兰州市政府家属院3号楼2单元402室"
    )
    assert hits("address", values) == values


def test_a_body_at_its_house_number_is_an_address():
    assert hits("address", ["金昌市金川区新华东路68号金川集团公司", "庆阳路88号兰州大学"]) == [
        "金昌市金川区新华东路68号金川集团公司",
        "庆阳路88号兰州大学",
    ]


def test_a_region_alone_is_not_an_address():
    values = words(
        "兰州市 甘肃省 甘肃省兰州市城关区 和平镇 城关区东岗街道 西津西路街道 临夏州 兰州新区中川镇"
    )
    assert hits("address", values) == []


def test_roads_lines_and_document_numbers_are_not_addresses():
    assert hits("address", ROADS_AND_NUMBERS) == []


def test_organisations_are_not_addresses_even_with_a_street():
    values = words("兰州市城关区庆阳路支行 兰州市第一人民医院 兰州路小学 甘肃路桥建设集团有限公司")
    assert hits("address", values) == []


# --- categorical and term kinds ---------------------------------------------------------------


def test_ethnic_groups_with_and_without_zu():
    assert hits(
        "ethnicity", ["汉族", "汉", "回族", "回", "东乡族", "裕固族", "维吾尔", "撒拉"]
    ) == words("汉族 汉 回族 回 东乡族 裕固族 维吾尔 撒拉")


def test_short_forms_that_are_words_or_places_are_not_ethnic_groups():
    assert hits("ethnicity", ["白", "水", "东乡", "蒙古", "保安", "高山", "汉族人民", "民族"]) == []


def test_religions_and_their_schools():
    values = ["伊斯兰教", "藏传佛教", "格鲁派", "哲赫忍耶", "基督教", "无宗教信仰", "穆斯林"]
    assert hits("religion", values) == values
    assert hits("religion", ["佛", "教育", "宗教局", "道路"]) == []


def test_health_terms_diseases_drugs_and_records():
    values = words(
        "高血压 2型糖尿病 肺癌晚期 阿莫西林胶囊 既往史：无 阳性 肢体残疾二级 "
        "慢性肾功能不全 腰椎间盘突出症 帕金森病 脂肪瘤 妊娠32周"
    )
    assert hits("health", values) == values


def test_health_hard_negatives():
    values = words(
        "小麦条锈病 发热量5000大卡 中风险地区 兰州市传染病医院 故障诊断 正常 "
        "猪瘟 禽流感疫苗 电子血压计 艾滋病防治宣传 语病 对症 病 肿瘤医院"
    )
    assert hits("health", values) == []


def test_crime_names_and_sentences_are_criminal_records():
    values = ["故意伤害罪", "危险驾驶罪", "判处有期徒刑三年", "取保候审", "有前科", "强制隔离戒毒"]
    assert hits("criminal_record", values) == values
    assert hits("criminal_record", ["得罪", "预防犯罪", "认罪", "交通管制", "犯罪预防宣传"]) == []


def test_marital_political_and_orientation_values():
    assert hits("marital_status", ["已婚", "离异", "丧偶", "婚礼", "结婚证"]) == words(
        "已婚 离异 丧偶"
    )
    assert hits("political_status", ["中共党员", "群众", "共青团员", "党委"]) == words(
        "中共党员 群众 共青团员"
    )
    assert hits("sexual_orientation", ["同性恋", "异性恋", "恋爱"]) == ["同性恋", "异性恋"]


# --- odd columns ------------------------------------------------------------------------------


@pytest.mark.parametrize("detector", LEXICAL_DETECTORS, ids=lambda d: d.code)
def test_odd_columns_give_one_false_per_value(detector):
    huge = "张伟住在兰州市城关区庆阳路88号，患高血压，汉族。" * 40_000  # ~1 MB
    for values in (
        pa.array([], pa.string()),
        pa.array([None, None, None], pa.string()),
        pa.array(["", "   ", None, "abc", "12345", "😀"]),
        pa.array([huge, None]),
        pa.array([1, 2, None]),
        pa.array(["hello", "world"], pa.large_string()),
    ):
        found = detector.match(values)
        assert isinstance(found, np.ndarray) and found.dtype == bool
        assert len(found) == len(values)
        assert not found[np.asarray(values.is_null())].any()
    assert not detector.match(pa.array([huge])).any() or detector.code == "health"


def test_dictionary_encoded_columns_give_the_same_verdicts():
    values = pa.array(["张伟", "兰州市", "张伟", None, "阿依古丽·买买提"])
    for detector in LEXICAL_DETECTORS:
        plain = detector.match(values)
        encoded = detector.match(values.dictionary_encode())
        assert plain.tolist() == encoded.tolist()


def test_chunked_columns_give_the_same_verdicts():
    values = ["张伟", "甘肃省兰州市城关区庆阳路88号", None, "汉族", "高血压", "故意伤害罪"]
    chunked = pa.chunked_array([values[:3], values[3:]], pa.string())
    for detector in LEXICAL_DETECTORS:
        assert detector.match(chunked).tolist() == detector.match(pa.array(values)).tolist()


def test_repeated_values_get_the_verdict_of_their_first_occurrence():
    values = pa.array(["李娜", "高兴"] * 5000 + [None])
    found = BY_CODE["person_name"].match(values)
    assert found[:-1].tolist() == [True, False] * 5000 and not found[-1]


# --- the catalogue of detectors ---------------------------------------------------------------


def test_each_kind_has_its_category_mask_and_registry_entry():
    expected = {
        "person_name": ("personal", "pseudonym"),
        "address": ("personal", "null"),
        "health": ("sensitive_personal", "null"),
        "ethnicity": ("sensitive_personal", "null"),
        "religion": ("sensitive_personal", "null"),
        "marital_status": ("sensitive_personal", "null"),
        "criminal_record": ("sensitive_personal", "null"),
        "sexual_orientation": ("sensitive_personal", "null"),
        "political_status": ("personal", "null"),
    }
    assert {d.code: (d.category, d.default_mask) for d in LEXICAL_DETECTORS} == expected
    for detector in LEXICAL_DETECTORS:
        assert detector.default_mask in get_args(MaskKind)
        assert not detector.checksum_backed
        assert DETECTORS[detector.code] is detector


@pytest.mark.parametrize(
    ("code", "column"),
    [
        ("person_name", "姓名"),
        ("person_name", "xm"),
        ("person_name", "contact_name"),
        ("address", "家庭住址"),
        ("address", "jzdz"),
        ("health", "诊断名称"),
        ("ethnicity", "民族"),
        ("religion", "宗教信仰"),
        ("marital_status", "hyzk"),
        ("criminal_record", "罪名"),
        ("political_status", "zzmm"),
    ],
)
def test_column_names_cue_their_kind(code, column):
    from longshu.governance.detect.profiles import name_cued

    assert name_cued(BY_CODE[code], column)


def test_jieba_cache_lives_under_the_var_dir_not_the_package(var_dir):
    cache = lexicon_jieba._cache_file()
    assert cache.is_relative_to(var_dir.resolve())
    assert not cache.is_relative_to(Path(jieba.__file__).parent)
