"""Corpus values for the categorical sensitive kinds of GB/T 35273 (民族, 宗教信仰, 婚姻状况,
政治面貌, 健康, 违法犯罪记录, 性取向) and their look-alike negatives. The term lists are
written here from the national standards' value lists (GB/T 3304 民族, GB/T 2261.2 婚姻,
GB/T 4762 政治面貌) and common diagnoses and offences — independently of the lexicons the
detectors use, so the corpus does not grade the detectors by their own word lists."""

from __future__ import annotations

import random
from collections.abc import Callable

ETHNICITIES = (
    "汉族", "回族", "藏族", "东乡族", "保安族", "裕固族", "撒拉族", "土族", "蒙古族", "满族",
    "哈萨克族", "维吾尔族", "壮族", "苗族", "彝族", "布依族", "朝鲜族", "侗族", "瑶族", "白族",
    "土家族", "哈尼族", "傣族", "黎族", "傈僳族", "佤族", "畲族", "高山族", "拉祜族", "水族",
)  # fmt: skip
RELIGIONS = ("佛教", "道教", "伊斯兰教", "天主教", "基督教", "藏传佛教", "汉传佛教", "东正教")
MARITAL = ("未婚", "已婚", "初婚", "再婚", "复婚", "离婚", "丧偶")
POLITICAL = (
    "中共党员", "中共预备党员", "共青团员", "群众", "民革党员", "民盟盟员", "民建会员",
    "民进会员", "农工党党员", "致公党党员", "九三学社社员", "台盟盟员", "无党派人士",
)  # fmt: skip
DIAGNOSES = (
    "高血压", "2型糖尿病", "冠状动脉粥样硬化性心脏病", "慢性阻塞性肺疾病", "肺结核",
    "乙型病毒性肝炎", "脑梗死", "类风湿关节炎", "急性阑尾炎", "社区获得性肺炎", "支气管哮喘",
    "抑郁症", "精神分裂症", "胃恶性肿瘤", "肺恶性肿瘤", "慢性肾功能不全", "腰椎间盘突出症",
    "缺铁性贫血", "甲状腺功能亢进症", "帕金森病",
)  # fmt: skip
OFFENCES = (
    "盗窃罪", "诈骗罪", "故意伤害罪", "危险驾驶罪", "交通肇事罪", "抢劫罪", "贩卖毒品罪",
    "寻衅滋事罪", "因盗窃罪被判处有期徒刑一年", "因酒后驾驶被行政拘留十日", "开设赌场罪",
)  # fmt: skip
ORIENTATIONS = ("异性恋", "同性恋", "双性恋", "无性恋")

# Words that share characters or shapes with the terms above but are none of them.
LOOKALIKES = (
    "男", "女", "是", "否", "本科", "硕士研究生", "汉语", "藏语", "佛山市", "回民街",
    "基督山伯爵", "教师", "党政办公室", "团委", "婚纱摄影", "恋爱", "高血压计", "肿瘤医院",
    "血压计", "盗窃险", "诈骗防范宣传", "民族路", "宗教事务局", "婚姻登记处", "群众路线",
)  # fmt: skip

# kind → (terms, column names it is found under)
TERMS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "ethnicity": (ETHNICITIES, ("民族", "mz")),
    "religion": (RELIGIONS, ("宗教信仰", "zjxy")),
    "marital_status": (MARITAL, ("婚姻状况", "hyzk")),
    "political_status": (POLITICAL, ("政治面貌", "zzmm")),
    "health": (DIAGNOSES, ("诊断", "疾病名称")),
    "criminal_record": (OFFENCES, ("罪名", "违法犯罪记录")),
    "sexual_orientation": (ORIENTATIONS, ("性取向",)),
}


def term_value(kind: str) -> Callable[[random.Random], tuple[str, str | None]]:
    """A draw of (value, column name or None) for one categorical kind."""
    terms, names = TERMS[kind]

    def draw(rng: random.Random) -> tuple[str, str | None]:
        return rng.choice(terms), rng.choice(names) if rng.random() < 0.5 else None

    return draw


def lookalike(rng: random.Random) -> tuple[str, str | None]:
    """A look-alike negative, under a neutral column name or none."""
    return rng.choice(LOOKALIKES), rng.choice(("备注", "类别", "名称", None))
