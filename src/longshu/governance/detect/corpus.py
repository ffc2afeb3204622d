"""The accuracy corpus (识别准确率语料): labelled synthetic values for every detector — valid
positives, and hard negatives that share a shape with a kind but are not it (18-digit order
numbers, ID numbers with a wrong check character, an impossible birth date or an unknown
region, phone-like serials, Luhn-failing card numbers, credit codes with a wrong check
character, dates, amounts, a version column's 1.2.3.4 …).

:func:`generate` is deterministic: the same ``n_per_kind`` and ``seed`` give the same list.
Positives carry a realistic column name for half of the values and none for the other half,
except where a kind is only recognised under a name (8-digit 台胞证, numeric 经度/纬度).
Person names and addresses (lexicon kinds) are drawn from faker ``zh_CN`` and the Gansu
region list, the categorical kinds (民族, 宗教 …) from :mod:`.corpus_terms`; their negatives
are company and product names, common words and look-alikes."""

from __future__ import annotations

import datetime as dt
import random
import string
from collections.abc import Callable
from dataclasses import dataclass

from faker import Faker

from longshu import ids
from longshu.governance.detect.corpus_terms import TERMS, lookalike, term_value
from longshu.governance.detect.documents import PROVINCES
from longshu.orgs.regions import region_data


@dataclass(frozen=True)
class LabelledValue:
    """One corpus value: its true ``kind`` (None for a negative), the column name it would
    sit under (None: unnamed), and ``note``, the family it was drawn from."""

    value: str
    kind: str | None
    column_hint: str | None
    note: str = ""


_LETTERS = "ABCDEFGHJKLMNPQRSTUVWXYZ"  # no I or O
_BINS = ("622202", "622848", "621700", "622700", "436742", "524091", "356833", "601382", "955880")
_MOBILE_HEADS = [f"13{d}" for d in range(10)] + ["145", "147", "150", "151", "152", "155"]
_MOBILE_HEADS += ["157", "158", "159", "166", "173", "177", "180", "186", "188", "191", "199"]
_AREA_CODES = ("010", "021", "020", "0931", "0937", "0938", "0943", "0755", "0571")
_OTHER_REGIONS = ("110101", "310104", "440305", "510107", "650102")


class _Draw:
    """Seeded draws shared by the generators."""

    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)
        self.fake = Faker("zh_CN")
        self.fake.seed_instance(seed)
        regions = region_data()["regions"]
        self.counties = [r["code"] for r in regions if r["level"] == "county" and r["official"]]
        self.places = [
            (r["name"], {x["code"]: x["name"] for x in regions}[r["parent"]], r["code"])
            for r in regions
            if r["level"] == "county" and r["official"]
        ]

    def digits(self, n: int, first: str = "0123456789") -> str:
        return self.rng.choice(first) + "".join(self.rng.choices(string.digits, k=n - 1))

    def hint(self, *names: str) -> str | None:
        return self.rng.choice(names) if self.rng.random() < 0.5 else None

    def resident_id(self) -> str:
        regions = self.counties + list(_OTHER_REGIONS)
        return ids.random_resident_id(self.rng, regions, born_to=dt.date(2024, 12, 31))

    def card(self, length: int | None = None, valid: bool = True) -> str:
        bin_ = self.rng.choice(_BINS)
        length = length or self.rng.choice((16, 19, 19, 18, 17))
        body = bin_ + self.digits(length - len(bin_) - 1)
        check = luhn_check_digit(body)
        if not valid:
            check = self.rng.choice([d for d in string.digits if d != check])
        return body + check


def luhn_check_digit(body: str) -> str:
    """The digit that makes ``body`` + it pass Luhn."""
    total = 0
    for i, char in enumerate(reversed(body)):
        value = int(char) * (2 if i % 2 == 0 else 1)
        total += value - 9 if value > 9 else value
    return str((10 - total % 10) % 10)


def _with_check(body17: str) -> str:
    return body17 + ids.resident_id_check_char(body17)


# --- positives ------------------------------------------------------------------------------


# A third of the positives of resident_id, mobile, bank_card and plate come from faker's own
# zh_CN generators (ssn, phone_number, credit_card_number, license_plate): written by others,
# so the corpus does not only hold what these detectors' author thought of.
_INDEPENDENT = 1 / 3


def _resident_id(d: _Draw) -> LabelledValue:
    value = d.fake.ssn() if d.rng.random() < _INDEPENDENT else d.resident_id()
    if d.rng.random() < 0.05:  # 港澳台居民居住证 numbers follow GB 11643 under 830000
        value = _with_check("830000" + value[6:17])
    if value.endswith("X") and d.rng.random() < 0.3:
        value = value[:-1] + "x"
    return LabelledValue(value, "resident_id", d.hint("身份证号", "sfzhm", "证件号码"))


def _credit_code(d: _Draw) -> LabelledValue:
    authority, category = d.rng.choice([("9", "1"), ("9", "2"), ("9", "3"), ("1", "2"), ("5", "1")])
    region = d.rng.choice(d.counties)
    value = ids.random_credit_code(d.rng, region, authority, category)
    return LabelledValue(value, "credit_code", d.hint("统一社会信用代码", "tyshxydm"))


def _bank_card(d: _Draw) -> LabelledValue:
    value = d.fake.credit_card_number() if d.rng.random() < _INDEPENDENT else d.card()
    if d.rng.random() < 0.2:
        value = " ".join(value[i : i + 4] for i in range(0, len(value), 4))
    return LabelledValue(value, "bank_card", d.hint("银行卡号", "收款账号", "yhkh"))


def _mobile(d: _Draw) -> LabelledValue:
    number = d.rng.choice(_MOBILE_HEADS) + d.digits(8)
    if d.rng.random() < _INDEPENDENT:
        number = d.fake.phone_number()
    style = d.rng.random()
    if style < 0.1:
        number = "+86" + number
    elif style < 0.2:
        number = f"{number[:3]}-{number[3:7]}-{number[7:]}"
    return LabelledValue(number, "mobile", d.hint("手机号", "联系电话", "sjhm"))


def _landline(d: _Draw) -> LabelledValue:
    area = d.rng.choice(_AREA_CODES)
    number = d.digits(8 if len(area) == 3 else d.rng.choice((7, 8)), "23456789")
    style = d.rng.random()
    value = (
        f"({area}){number}" if style < 0.2 else f"{area}-{number}" if style < 0.8 else area + number
    )
    if d.rng.random() < 0.1:
        value += "-" + d.digits(3)
    return LabelledValue(value, "landline", d.hint("办公电话", "固定电话", "lxdh"))


def _email(d: _Draw) -> LabelledValue:
    if d.rng.random() < 0.3:
        value = d.digits(9, "123456789") + "@qq.com"
    else:
        value = d.fake.user_name() + "@" + d.rng.choice(("163.com", "126.com", "gansu.gov.cn"))
    return LabelledValue(value, "email", d.hint("电子邮箱", "email"))


def _passport(d: _Draw) -> LabelledValue:
    value = (
        d.rng.choice("EG") + d.digits(8)
        if d.rng.random() < 0.5
        else "E" + d.rng.choice(_LETTERS) + d.digits(7)
    )
    return LabelledValue(value, "passport", d.hint("护照号码", "passport_no"))


def _hk_macao_permit(d: _Draw) -> LabelledValue:
    style = d.rng.random()
    if style < 0.4:
        value = d.rng.choice("HM") + d.digits(d.rng.choice((8, 10)))
    elif style < 0.7:
        value = "C" + d.digits(8)
    else:
        value = "C" + d.rng.choice(_LETTERS) + d.digits(7)
    return LabelledValue(value, "hk_macao_permit", d.hint("港澳通行证号", "回乡证号"))


def _taiwan_permit(d: _Draw) -> LabelledValue:
    if d.rng.random() < 0.5:
        return LabelledValue("L" + d.digits(8), "taiwan_permit", d.hint("往来台湾通行证号"))
    return LabelledValue(d.digits(8), "taiwan_permit", "台胞证号码")


def _plate(d: _Draw) -> LabelledValue:
    if d.rng.random() < _INDEPENDENT:
        plate = d.fake.license_plate()
        while plate[1] == "I":  # faker draws any letter; GA 36 issues no office letter I
            plate = d.fake.license_plate()
        return LabelledValue(plate, "plate", d.hint("车牌号", "hphm"))
    head = d.rng.choice(PROVINCES) + d.rng.choice(_LETTERS)
    style = d.rng.random()
    if style < 0.6:
        tail = "".join(d.rng.choice(_LETTERS) if i == 0 and d.rng.random() < 0.5 else
                       d.rng.choice(string.digits) for i in range(5))  # fmt: skip
    elif style < 0.8:
        tail = d.rng.choice("DF") + d.rng.choice(_LETTERS + string.digits) + d.digits(4)
    elif style < 0.9:
        tail = d.digits(5) + d.rng.choice("DF")
    else:
        tail = d.digits(4) + d.rng.choice("警学挂")
    return LabelledValue(head + tail, "plate", d.hint("车牌号", "号牌号码", "hphm"))


def _ip(d: _Draw) -> LabelledValue:
    value = d.fake.ipv4() if d.rng.random() < 0.8 else d.fake.ipv6()
    return LabelledValue(value, "ip", d.hint("IP地址", "client_ip"))


def _coordinate(d: _Draw) -> LabelledValue:
    lng, lat = d.rng.uniform(92.3, 108.7), d.rng.uniform(32.6, 42.8)  # Gansu's box
    places = d.rng.randint(4, 6)
    style = d.rng.random()
    if style < 0.2:
        return LabelledValue(f"{lng:.{places}f}", "coordinate", "经度")
    if style < 0.3:
        return LabelledValue(f"{lat:.{places}f}", "coordinate", "纬度")
    return LabelledValue(f"{lng:.{places}f},{lat:.{places}f}", "coordinate", d.hint("坐标", "位置"))


def _person_name(d: _Draw) -> LabelledValue:
    return LabelledValue(d.fake.name(), "person_name", d.hint("姓名", "联系人", "xm"))


def _address(d: _Draw) -> LabelledValue:
    county, city, _ = d.rng.choice(d.places)
    street = d.fake.street_name() + d.fake.building_number()
    value = f"甘肃省{city}{county}{street}{d.rng.randint(1, 300)}号"
    if d.rng.random() < 0.3:
        value = f"{city}{county}{d.fake.street_name()}{d.rng.randint(1, 99)}号院"
    return LabelledValue(value, "address", d.hint("住址", "联系地址", "jtzz"))


POSITIVES: dict[str, Callable[[_Draw], LabelledValue]] = {
    "resident_id": _resident_id,
    "credit_code": _credit_code,
    "bank_card": _bank_card,
    "mobile": _mobile,
    "landline": _landline,
    "email": _email,
    "passport": _passport,
    "hk_macao_permit": _hk_macao_permit,
    "taiwan_permit": _taiwan_permit,
    "plate": _plate,
    "ip": _ip,
    "coordinate": _coordinate,
    "person_name": _person_name,
    "address": _address,
}


def _categorical(kind: str) -> Callable[[_Draw], LabelledValue]:
    draw = term_value(kind)

    def make(d: _Draw) -> LabelledValue:
        value, hint = draw(d.rng)
        return LabelledValue(value, kind, hint)

    return make


POSITIVES.update({kind: _categorical(kind) for kind in TERMS})


# --- hard negatives -------------------------------------------------------------------------


def _order_number(d: _Draw) -> LabelledValue:
    day = dt.date(2020, 1, 1) + dt.timedelta(days=d.rng.randrange(2500))
    return LabelledValue(
        f"{day:%Y%m%d}{d.digits(10)}", None, d.hint("订单号", "ddbh"), "order_number"
    )


def _id_wrong_check(d: _Draw) -> LabelledValue:
    value = d.resident_id()
    wrong = d.rng.choice([c for c in ids.ID_CHECK_CHARS if c != value[-1]])
    return LabelledValue(value[:-1] + wrong, None, d.hint("身份证号"), "id_wrong_check")


def _id_bad_date(d: _Draw) -> LabelledValue:
    value = d.resident_id()
    bad = d.rng.choice(
        ["1990" + "1315", "1987" + "0230", "2001" + "0431", "2039" + "0101", "1993" + "0229"]
    )
    return LabelledValue(_with_check(value[:6] + bad + value[14:17]), None, None, "id_bad_date")


def _id_bad_region(d: _Draw) -> LabelledValue:
    value = d.resident_id()
    region = d.rng.choice(["990101", "000000", "629901", "620001", "380101", "960102"])
    return LabelledValue(_with_check(region + value[6:17]), None, None, "id_bad_region")


def _phone_like_serial(d: _Draw) -> LabelledValue:
    head = d.rng.choice(["10", "12", "11", "154", "160", "179"])
    return LabelledValue(
        head + d.digits(11 - len(head)), None, d.hint("流水号", "序列号"), "phone_serial"
    )


def _card_luhn_fail(d: _Draw) -> LabelledValue:
    return LabelledValue(d.card(valid=False), None, None, "card_luhn_fail")


def _credit_wrong_check(d: _Draw) -> LabelledValue:
    value = ids.random_credit_code(d.rng, d.rng.choice(d.counties))
    wrong = d.rng.choice([c for c in ids.CREDIT_CHARSET if c != value[-1]])
    return LabelledValue(value[:-1] + wrong, None, d.hint("信用代码"), "credit_wrong_check")


def _date(d: _Draw) -> LabelledValue:
    day = dt.date(1950, 1, 1) + dt.timedelta(days=d.rng.randrange(28_000))
    text = d.rng.choice(
        [f"{day:%Y-%m-%d}", f"{day:%Y%m%d}", f"{day:%Y年%m月%d日}", f"{day:%Y/%m/%d}"]
    )
    return LabelledValue(text, None, d.hint("日期", "出生日期"), "date")


def _amount(d: _Draw) -> LabelledValue:
    value = d.rng.uniform(0, 10_000_000)
    text = d.rng.choice([f"{value:.2f}", f"{value:,.2f}", f"¥{value:,.0f}", f"{int(value)}"])
    return LabelledValue(text, None, d.hint("金额", "je"), "amount")


def _version(d: _Draw) -> LabelledValue:
    parts = [str(d.rng.randint(0, 20)) for _ in range(4)]
    return LabelledValue(".".join(parts), None, d.rng.choice(["版本号", "version"]), "version")


def _short_numbers(d: _Draw) -> LabelledValue:
    """8-digit serials, zip codes and counts without a 台胞证 column name."""
    value = d.rng.choice(
        [d.digits(8, "123456789"), "7" + d.digits(5), d.digits(d.rng.randint(1, 6))]
    )
    return LabelledValue(value, None, d.hint("序号", "邮编", "数量"), "short_number")


def _near_misses(d: _Draw) -> LabelledValue:
    """Shapes one character off a kind: a 4-character plate, an I in a plate, a 7-digit
    passport, an octet over 255, an unbounded e-mail, a pair outside China."""
    choices = [
        d.rng.choice(PROVINCES) + d.rng.choice(_LETTERS) + d.digits(4),
        d.rng.choice(PROVINCES) + "I" + d.digits(5),
        d.rng.choice("EG") + d.digits(7),
        "A" + d.digits(8),
        f"{d.rng.randint(256, 999)}.{d.rng.randint(0, 255)}.{d.rng.randint(0, 255)}.1",
        f"{d.rng.randint(1, 255)}.{d.rng.randint(0, 255)}.{d.rng.randint(0, 255)}",
        d.fake.user_name() + "@",
        d.fake.user_name() + "@localhost",
        f"{d.rng.uniform(140, 180):.4f},{d.rng.uniform(-40, 0):.4f}",
        f"{d.rng.uniform(1, 50):.2f},{d.rng.uniform(1, 50):.2f}",
        "0" + d.digits(4, "123456789"),
        d.digits(9, "123456789") + d.digits(8),
    ]
    return LabelledValue(d.rng.choice(choices), None, None, "near_miss")


def _words(d: _Draw) -> LabelledValue:
    """Company names, product names and common words: negatives for names and addresses."""
    products = [
        "华为Mate60手机",
        "联想笔记本电脑",
        "小米电视",
        "兰州牛肉面",
        "静宁苹果",
        "定西马铃薯",
    ]
    value = d.rng.choice([d.fake.company(), d.rng.choice(products), d.fake.word(), d.fake.job(),
                          d.rng.choice(["合格", "已完成", "正常", "待审核", "是", "否"])])  # fmt: skip
    return LabelledValue(value, None, d.hint("单位名称", "产品", "备注", "状态"), "words")


def _lookalike(d: _Draw) -> LabelledValue:
    value, hint = lookalike(d.rng)
    return LabelledValue(value, None, hint, "lookalike")


NEGATIVES: dict[str, Callable[[_Draw], LabelledValue]] = {
    "order_number": _order_number,
    "id_wrong_check": _id_wrong_check,
    "id_bad_date": _id_bad_date,
    "id_bad_region": _id_bad_region,
    "phone_serial": _phone_like_serial,
    "card_luhn_fail": _card_luhn_fail,
    "credit_wrong_check": _credit_wrong_check,
    "date": _date,
    "amount": _amount,
    "version": _version,
    "short_number": _short_numbers,
    "near_miss": _near_misses,
    "words": _words,
    "lookalike": _lookalike,
}


def generate(n_per_kind: int, seed: int) -> list[LabelledValue]:
    """``n_per_kind`` positives of every kind in :data:`POSITIVES` and as many hard negatives
    of every family in :data:`NEGATIVES`, in a fixed order; the same arguments give the same
    list."""
    draw = _Draw(seed)
    values = [make(draw) for make in POSITIVES.values() for _ in range(n_per_kind)]
    values += [make(draw) for make in NEGATIVES.values() for _ in range(n_per_kind)]
    return values
