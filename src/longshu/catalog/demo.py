"""The demo catalog: a little over 300 realistic entries across the demo departments and the
three levels (province departments, each city's statistics bureau, county departments), the
five base databases and the five theme databases, every 领域 of the policy, and every kind
(tables, document collections, images, audio, video, geospatial, APIs). Also a data element
registry with one open conflict, and duty lists with gaps for the completeness report.

Idempotent: entries are found by provider and name; nothing is created twice. Names are
realistic; the contents are not real statistics."""

from __future__ import annotations

import random
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from longshu.actor import Actor
from longshu.catalog import elements, levels, lifecycle, service
from longshu.catalog.models import DataElement, DutyItem, Resource
from longshu.catalog.rules import FieldData, ResourceData
from longshu.orgs import service as orgs_service
from longshu.orgs.models import Organization, Region

F = FieldData
ID_FIELDS = [F("xm", "姓名", "string", 50), F("gmsfhm", "公民身份号码", "string", 18)]
ORG_FIELDS = [F("dwmc", "单位名称", "string", 200), F("tyshxydm", "统一社会信用代码", "string", 18)]
PLACE_FIELDS = [F("xzqhdm", "行政区划代码", "string", 6), F("dz", "地址", "string", 200)]
GEO_FIELDS = [F("jd", "经度", "decimal", 12), F("wd", "纬度", "decimal", 12)]
TIME_FIELDS = [F("tjrq", "统计日期", "date"), F("gxsj", "更新时间", "datetime")]


@dataclass(frozen=True)
class Subject:
    """One kind of resource a department keeps."""

    name: str
    domain: str
    fields: tuple[FieldData, ...] = ()
    base: tuple[str, ...] = ()
    theme: tuple[str, ...] = ()
    kind: str = "table"
    cycle: str = "monthly"
    keywords: tuple[str, ...] = ()
    sensitive: bool = False  # personal data: shared on conditions, not open


def S(name, domain, fields=(), **kw):  # type: ignore[no-untyped-def]
    return Subject(name, domain, tuple(fields), **kw)


# Province departments (demo org key → their resources).
PROVINCE: dict[str, list[Subject]] = {
    "police": [
        S(
            "常住人口基本信息",
            "public_security",
            ID_FIELDS + PLACE_FIELDS,
            base=("population",),
            sensitive=True,
            cycle="daily",
            keywords=("人口", "户籍"),
        ),
        S(
            "户籍迁移登记信息",
            "public_security",
            ID_FIELDS + TIME_FIELDS,
            base=("population",),
            sensitive=True,
            keywords=("户口迁移",),
        ),
        S(
            "居民身份证签发信息",
            "public_security",
            [*ID_FIELDS, F("qfjg", "签发机关", "string", 100)],
            base=("population", "e_license"),
            sensitive=True,
        ),
        S(
            "流动人口居住登记",
            "public_security",
            ID_FIELDS + PLACE_FIELDS,
            base=("population",),
            sensitive=True,
            keywords=("居住证",),
        ),
        S(
            "机动车驾驶人信息",
            "transport_logistics",
            [*ID_FIELDS, F("zjcx", "准驾车型", "string", 10)],
            sensitive=True,
        ),
        S(
            "全省人口数量统计（按区县）",
            "public_security",
            [*PLACE_FIELDS[:1], F("rks", "人口数", "integer")],
            base=("population",),
            cycle="quarterly",
            keywords=("人口统计",),
        ),
        S(
            "道路交通事故统计",
            "emergency",
            PLACE_FIELDS + TIME_FIELDS + [F("sgs", "事故数", "integer")],
            theme=("emergency",),
        ),
    ],
    "market": [
        S(
            "市场主体登记信息",
            "market_regulation",
            [*ORG_FIELDS, F("fddbr", "法定代表人", "string", 50), F("clrq", "成立日期", "date")],
            base=("legal_person",),
            cycle="daily",
            keywords=("企业登记", "营业执照"),
        ),
        S(
            "企业经营异常名录",
            "market_regulation",
            [*ORG_FIELDS, F("lryy", "列入原因", "text")],
            base=("credit",),
            keywords=("经营异常",),
        ),
        S(
            "严重违法失信企业名单",
            "market_regulation",
            [*ORG_FIELDS, F("lrrq", "列入日期", "date")],
            base=("credit",),
            keywords=("失信", "信用"),
        ),
        S(
            "行政处罚信息",
            "market_regulation",
            [*ORG_FIELDS, F("cfjg", "处罚机关", "string", 100), F("cfje", "罚款金额", "money")],
            base=("credit",),
        ),
        S(
            "食品经营许可证",
            "market_regulation",
            [*ORG_FIELDS, F("xkzh", "许可证号", "string", 30)],
            base=("e_license",),
            keywords=("食品安全",),
        ),
        S(
            "特种设备登记信息",
            "market_regulation",
            [*ORG_FIELDS, F("sblb", "设备类别", "string", 50)],
            theme=("emergency",),
        ),
        S(
            "个体工商户登记信息",
            "market_regulation",
            ORG_FIELDS + PLACE_FIELDS,
            base=("legal_person",),
            cycle="daily",
        ),
    ],
    "health": [
        S(
            "医疗机构执业登记信息",
            "health",
            ORG_FIELDS + PLACE_FIELDS + [F("jgdj", "机构等级", "string", 20)],
            base=("legal_person", "e_license"),
            theme=("health",),
            keywords=("医院", "医疗机构"),
        ),
        S(
            "执业医师注册信息",
            "health",
            [*ID_FIELDS, F("zyfw", "执业范围", "string", 100)],
            theme=("health",),
            sensitive=True,
        ),
        S(
            "全民健康信息平台诊疗人次统计",
            "health",
            PLACE_FIELDS[:1] + TIME_FIELDS[:1] + [F("zlrc", "诊疗人次", "integer")],
            theme=("health",),
            keywords=("诊疗",),
        ),
        S(
            "疫苗接种点名录",
            "health",
            PLACE_FIELDS + GEO_FIELDS + [F("jzdmc", "接种点名称", "string", 100)],
            theme=("health",),
            keywords=("疫苗",),
        ),
        S(
            "出生医学证明信息",
            "health",
            [*ID_FIELDS, F("csrq", "出生日期", "date")],
            base=("population", "e_license"),
            theme=("health",),
            sensitive=True,
        ),
        S(
            "传染病疫情周报",
            "health",
            [*TIME_FIELDS[:1], F("bz", "病种", "string", 50), F("fbs", "发病数", "integer")],
            theme=("health", "emergency"),
            kind="documents",
            cycle="weekly",
        ),
        S(
            "基层医疗卫生机构分布图",
            "health",
            [*GEO_FIELDS, F("jgmc", "机构名称", "string", 100)],
            theme=("health",),
            kind="geospatial",
            cycle="yearly",
        ),
    ],
    "transport": [
        S(
            "高速公路实时路况",
            "transport_logistics",
            [F("ldbm", "路段编码", "string", 20), F("lk", "路况", "string", 20), *TIME_FIELDS[1:]],
            kind="api",
            cycle="realtime",
            keywords=("路况", "交通", "高速"),
        ),
        S(
            "道路运输经营许可",
            "transport_logistics",
            [*ORG_FIELDS, F("xkzh", "许可证号", "string", 30)],
            base=("e_license",),
            keywords=("道路运输",),
        ),
        S(
            "公交线路与站点",
            "transport_logistics",
            [F("xlmc", "线路名称", "string", 50), *GEO_FIELDS],
            kind="geospatial",
            cycle="quarterly",
            keywords=("公交",),
        ),
        S(
            "物流园区名录",
            "transport_logistics",
            ORG_FIELDS + PLACE_FIELDS,
            keywords=("物流",),
            cycle="yearly",
        ),
        S(
            "公路桥梁隧道基础数据",
            "transport_logistics",
            [F("qlbm", "桥梁编码", "string", 20), *GEO_FIELDS],
            theme=("emergency",),
            cycle="yearly",
        ),
        S(
            "收费站车流量统计",
            "transport_logistics",
            [
                F("sfzmc", "收费站名称", "string", 50),
                F("cll", "车流量", "integer"),
                *TIME_FIELDS[:1],
            ],
            cycle="daily",
            keywords=("车流量",),
        ),
        S(
            "交通监控视频点位",
            "transport_logistics",
            [F("dwbm", "点位编码", "string", 20), *GEO_FIELDS],
            kind="video",
            cycle="realtime",
        ),
    ],
    "weather": [
        S(
            "国家级地面气象站逐小时观测",
            "meteorology",
            [
                F("zh", "站号", "string", 10),
                F("qw", "气温", "decimal"),
                F("jsl", "降水量", "decimal"),
                *TIME_FIELDS[1:],
            ],
            kind="api",
            cycle="realtime",
            keywords=("气象", "观测", "降水"),
        ),
        S(
            "气象灾害预警信号",
            "meteorology",
            [
                F("yjlx", "预警类型", "string", 20),
                F("yjjb", "预警级别", "string", 10),
                *TIME_FIELDS[1:],
            ],
            theme=("emergency",),
            kind="api",
            cycle="realtime",
            keywords=("预警",),
        ),
        S(
            "城镇天气预报",
            "meteorology",
            [F("csmc", "城镇名称", "string", 50), F("tq", "天气", "string", 20)],
            cycle="daily",
            keywords=("天气预报",),
        ),
        S("卫星云图", "meteorology", [], kind="image", cycle="realtime", keywords=("云图", "卫星")),
        S(
            "农业气象旬报",
            "agriculture",
            [],
            kind="documents",
            cycle="irregular",
            keywords=("农业气象",),
        ),
        S("气候年景评价报告", "meteorology", [], kind="documents", cycle="yearly"),
        S("气象科普音频节目", "meteorology", [], kind="audio", cycle="weekly"),
    ],
    "culture_tourism": [
        S(
            "A级旅游景区名录",
            "culture_tourism",
            [
                *PLACE_FIELDS,
                F("jqmc", "景区名称", "string", 100),
                F("jqdj", "景区等级", "string", 5),
            ],
            keywords=("景区", "旅游"),
            cycle="quarterly",
        ),
        S(
            "星级饭店名录",
            "culture_tourism",
            ORG_FIELDS + PLACE_FIELDS + [F("xj", "星级", "string", 5)],
            keywords=("饭店", "住宿"),
        ),
        S(
            "旅行社名录",
            "culture_tourism",
            [*ORG_FIELDS, F("xkzh", "许可证号", "string", 30)],
            base=("legal_person",),
        ),
        S(
            "景区实时客流",
            "culture_tourism",
            [
                F("jqmc", "景区名称", "string", 100),
                F("zjrs", "在园人数", "integer"),
                *TIME_FIELDS[1:],
            ],
            kind="api",
            cycle="realtime",
            keywords=("客流",),
        ),
        S(
            "文物保护单位名录",
            "culture_tourism",
            PLACE_FIELDS + GEO_FIELDS + [F("wbdw", "文保单位名称", "string", 100)],
            kind="geospatial",
            cycle="yearly",
            keywords=("文物",),
        ),
        S(
            "非物质文化遗产代表性项目",
            "culture_tourism",
            [F("xmmc", "项目名称", "string", 100), F("lb", "类别", "string", 20)],
            kind="documents",
            cycle="yearly",
            keywords=("非遗",),
        ),
        S(
            "敦煌壁画高清图像",
            "culture_tourism",
            [],
            kind="image",
            cycle="static",
            keywords=("敦煌", "壁画"),
        ),
        S("黄河文化宣传视频", "culture_tourism", [], kind="video", cycle="irregular"),
    ],
    "natural_resources": [
        S(
            "不动产登记信息",
            "natural_resources",
            ID_FIELDS + PLACE_FIELDS + [F("bdcdyh", "不动产单元号", "string", 28)],
            base=("geospatial", "e_license"),
            sensitive=True,
        ),
        S(
            "地质灾害隐患点",
            "natural_resources",
            PLACE_FIELDS + GEO_FIELDS + [F("zhlx", "灾害类型", "string", 20)],
            base=("geospatial",),
            theme=("emergency",),
            kind="geospatial",
            keywords=("地质灾害",),
        ),
        S(
            "国土空间规划图",
            "natural_resources",
            GEO_FIELDS,
            base=("geospatial",),
            kind="geospatial",
            cycle="static",
        ),
        S(
            "耕地保护红线",
            "natural_resources",
            [*GEO_FIELDS, F("mj", "面积", "decimal")],
            base=("geospatial",),
            kind="geospatial",
            cycle="yearly",
            keywords=("耕地",),
        ),
        S(
            "矿业权出让信息",
            "natural_resources",
            [*ORG_FIELDS, F("kzmc", "矿种", "string", 20)],
            keywords=("矿业权",),
        ),
        S(
            "基础测绘地形图（1:10000）",
            "natural_resources",
            [],
            base=("geospatial",),
            kind="geospatial",
            cycle="static",
        ),
        S(
            "遥感影像（2 米）",
            "natural_resources",
            [],
            base=("geospatial",),
            kind="image",
            cycle="yearly",
            keywords=("遥感",),
        ),
    ],
    "agriculture": [
        S(
            "农产品批发市场价格",
            "agriculture",
            [F("pz", "品种", "string", 50), F("jg", "价格", "money"), *TIME_FIELDS[:1]],
            cycle="daily",
            keywords=("农产品", "价格"),
        ),
        S(
            "家庭农场名录",
            "agriculture",
            ORG_FIELDS + PLACE_FIELDS,
            base=("legal_person",),
            keywords=("家庭农场",),
        ),
        S("农民专业合作社名录", "agriculture", ORG_FIELDS + PLACE_FIELDS, base=("legal_person",)),
        S(
            "高标准农田建设项目",
            "agriculture",
            [*PLACE_FIELDS, F("jsmj", "建设面积", "decimal")],
            cycle="yearly",
            kind="geospatial",
        ),
        S(
            "动物疫病监测数据",
            "agriculture",
            [*PLACE_FIELDS, F("yb", "疫病", "string", 50)],
            theme=("emergency",),
        ),
        S(
            "中药材种植面积",
            "biomedicine",
            [*PLACE_FIELDS[:1], F("pz", "品种", "string", 50), F("mj", "面积", "decimal")],
            cycle="yearly",
            keywords=("中药材", "当归", "党参"),
        ),
        S(
            "农机购置补贴信息",
            "agriculture",
            [*ID_FIELDS, F("bzje", "补贴金额", "money")],
            sensitive=True,
        ),
    ],
    "hr_social": [
        S(
            "社会保险参保信息",
            "social_security",
            [*ID_FIELDS, F("xz", "险种", "string", 20), F("cbzt", "参保状态", "string", 10)],
            base=("population",),
            theme=("social_security",),
            sensitive=True,
            keywords=("社保", "参保"),
        ),
        S(
            "养老保险待遇发放",
            "social_security",
            [*ID_FIELDS, F("ffje", "发放金额", "money")],
            theme=("social_security",),
            sensitive=True,
        ),
        S(
            "就业创业服务机构名录",
            "social_security",
            ORG_FIELDS + PLACE_FIELDS,
            theme=("social_security",),
            keywords=("就业",),
        ),
        S(
            "职业技能等级证书",
            "education",
            [*ID_FIELDS, F("zsbh", "证书编号", "string", 30)],
            base=("e_license",),
            sensitive=True,
        ),
        S(
            "人力资源市场供求信息",
            "social_security",
            [F("gw", "岗位", "string", 50), F("xqrs", "需求人数", "integer")],
            theme=("social_security",),
            cycle="quarterly",
            keywords=("岗位",),
        ),
        S(
            "社会保障卡发放信息",
            "social_security",
            [*ID_FIELDS, F("kh", "卡号", "string", 20)],
            base=("e_license",),
            theme=("social_security",),
            sensitive=True,
        ),
    ],
    "civil_affairs": [
        S(
            "婚姻登记信息",
            "civil_affairs",
            [*ID_FIELDS, F("djlx", "登记类型", "string", 10), F("djrq", "登记日期", "date")],
            base=("population", "e_license"),
            sensitive=True,
        ),
        S(
            "最低生活保障对象",
            "social_security",
            ID_FIELDS + PLACE_FIELDS,
            theme=("social_security",),
            sensitive=True,
            keywords=("低保", "救助"),
        ),
        S(
            "养老机构名录",
            "civil_affairs",
            ORG_FIELDS + PLACE_FIELDS + [F("cws", "床位数", "integer")],
            theme=("social_security",),
            keywords=("养老",),
        ),
        S(
            "社会组织登记信息",
            "civil_affairs",
            [*ORG_FIELDS, F("zzlx", "组织类型", "string", 20)],
            base=("legal_person",),
        ),
        S(
            "地名信息",
            "civil_affairs",
            PLACE_FIELDS + GEO_FIELDS + [F("dm", "地名", "string", 50)],
            base=("geospatial",),
            kind="geospatial",
            cycle="yearly",
        ),
        S("殡葬服务机构名录", "civil_affairs", ORG_FIELDS + PLACE_FIELDS, cycle="yearly"),
    ],
    "ecology": [
        S(
            "城市空气质量实时数据",
            "ecology",
            [
                F("zdmc", "站点名称", "string", 50),
                F("aqi", "空气质量指数", "integer"),
                *TIME_FIELDS[1:],
            ],
            theme=("ecology",),
            kind="api",
            cycle="realtime",
            keywords=("空气质量", "AQI"),
        ),
        S(
            "地表水水质监测",
            "ecology",
            [F("dmmc", "断面名称", "string", 50), F("szlb", "水质类别", "string", 5)],
            theme=("ecology",),
            cycle="monthly",
            keywords=("水质",),
        ),
        S(
            "排污许可证信息",
            "ecology",
            [*ORG_FIELDS, F("xkzh", "许可证号", "string", 30)],
            base=("e_license",),
            theme=("ecology",),
        ),
        S(
            "建设项目环境影响评价",
            "ecology",
            [*ORG_FIELDS, F("xmmc", "项目名称", "string", 100)],
            theme=("ecology",),
            kind="documents",
        ),
        S(
            "重点排污单位名录",
            "ecology",
            ORG_FIELDS + PLACE_FIELDS,
            theme=("ecology",),
            cycle="yearly",
        ),
        S(
            "祁连山生态监测影像",
            "ecology",
            [],
            theme=("ecology",),
            kind="image",
            cycle="quarterly",
            keywords=("祁连山",),
        ),
    ],
    "emergency": [
        S(
            "应急避难场所",
            "emergency",
            PLACE_FIELDS + GEO_FIELDS + [F("rnrs", "容纳人数", "integer")],
            theme=("emergency",),
            kind="geospatial",
            keywords=("避难场所",),
        ),
        S(
            "危险化学品企业名录",
            "energy_chemical",
            ORG_FIELDS + PLACE_FIELDS,
            theme=("emergency",),
            keywords=("危化品",),
        ),
        S(
            "应急物资储备库",
            "emergency",
            [*PLACE_FIELDS, F("wzlb", "物资类别", "string", 50), F("sl", "数量", "integer")],
            theme=("emergency",),
        ),
        S(
            "安全生产许可证",
            "emergency",
            [*ORG_FIELDS, F("xkzh", "许可证号", "string", 30)],
            base=("e_license",),
            theme=("emergency",),
        ),
        S(
            "自然灾害灾情统计",
            "emergency",
            PLACE_FIELDS[:1] + TIME_FIELDS[:1] + [F("szrk", "受灾人口", "integer")],
            theme=("emergency",),
            cycle="irregular",
        ),
        S(
            "森林草原火险等级",
            "emergency",
            [*PLACE_FIELDS[:1], F("hxdj", "火险等级", "string", 5)],
            theme=("emergency", "ecology"),
            cycle="daily",
        ),
    ],
    "sasac": [
        S(
            "省属国有企业名录",
            "state_assets",
            [*ORG_FIELDS, F("cgbl", "持股比例", "decimal")],
            base=("legal_person",),
            theme=("state_assets",),
        ),
        S(
            "国有资产统计月报",
            "state_assets",
            [*ORG_FIELDS, F("zcze", "资产总额", "money"), F("yysr", "营业收入", "money")],
            theme=("state_assets",),
        ),
        S(
            "国有产权登记信息",
            "state_assets",
            [*ORG_FIELDS, F("cqlx", "产权类型", "string", 20)],
            theme=("state_assets",),
            cycle="quarterly",
        ),
        S(
            "国有企业重大事项报告",
            "state_assets",
            [],
            theme=("state_assets",),
            kind="documents",
            cycle="irregular",
        ),
        S(
            "新能源国有企业装机容量",
            "energy_chemical",
            [*ORG_FIELDS, F("zjrl", "装机容量（万千瓦）", "decimal")],
            theme=("state_assets",),
            keywords=("风电", "光伏"),
        ),
    ],
    "statistics": [
        S(
            "全省国民经济主要指标",
            "economy",
            [F("zbmc", "指标名称", "string", 100), F("zbz", "指标值", "decimal"), *TIME_FIELDS[:1]],
            cycle="monthly",
            keywords=("GDP", "经济指标"),
        ),
        S("甘肃统计年鉴", "economy", [], kind="documents", cycle="yearly", keywords=("统计年鉴",)),
        S(
            "第七次人口普查主要数据",
            "economy",
            [*PLACE_FIELDS[:1], F("rks", "人口数", "integer")],
            base=("population",),
            cycle="static",
            keywords=("人口普查",),
        ),
        S(
            "规模以上工业企业名录",
            "economy",
            [*ORG_FIELDS, F("hy", "行业", "string", 50)],
            base=("legal_person",),
            cycle="yearly",
        ),
        S(
            "居民消费价格指数",
            "economy",
            [F("lb", "类别", "string", 50), F("zs", "指数", "decimal")],
            cycle="monthly",
            keywords=("CPI",),
        ),
        S(
            "能源消费统计",
            "energy_chemical",
            [F("nylb", "能源类别", "string", 20), F("xfl", "消费量", "decimal")],
            cycle="yearly",
        ),
    ],
    "gov_services": [
        S(
            "政务服务事项目录",
            "government",
            [F("sxbm", "事项编码", "string", 40), F("sxmc", "事项名称", "string", 200)],
            keywords=("政务服务", "办事指南"),
        ),
        S(
            "电子证照目录",
            "government",
            [F("zzlx", "证照类型", "string", 50), F("qfbm", "签发部门", "string", 100)],
            base=("e_license",),
            keywords=("电子证照",),
        ),
        S(
            "政务服务好差评",
            "government",
            [F("sxmc", "事项名称", "string", 200), F("pj", "评价", "string", 10)],
            cycle="daily",
        ),
        S(
            "12345热线工单统计",
            "government",
            [*PLACE_FIELDS[:1], F("gdl", "工单量", "integer")],
            cycle="monthly",
            keywords=("12345",),
        ),
    ],
}

# What a city's statistics bureau and a county department catalog (names get the place).
CITY_SUBJECTS = [
    S(
        "{place}常住人口统计",
        "economy",
        [*PLACE_FIELDS[:1], F("rks", "人口数", "integer")],
        base=("population",),
        cycle="yearly",
        keywords=("人口",),
    ),
    S(
        "{place}地区生产总值",
        "economy",
        [F("zbz", "指标值", "decimal"), *TIME_FIELDS[:1]],
        cycle="quarterly",
        keywords=("GDP",),
    ),
    S(
        "{place}城乡居民收入",
        "economy",
        [F("lb", "类别", "string", 20), F("sr", "收入", "money")],
        cycle="quarterly",
    ),
    S(
        "{place}公共交通客运量",
        "transport_logistics",
        [F("kyl", "客运量", "integer"), *TIME_FIELDS[:1]],
        cycle="monthly",
        keywords=("公交", "交通"),
    ),
    S(
        "{place}中小学校名录",
        "education",
        ORG_FIELDS + PLACE_FIELDS,
        base=("legal_person",),
        cycle="yearly",
        keywords=("学校",),
    ),
    S(
        "{place}供水供气企业名录",
        "energy_chemical",
        ORG_FIELDS + PLACE_FIELDS,
        cycle="yearly",
        keywords=("供水", "燃气"),
    ),
    S(
        "{place}旅游接待人次",
        "culture_tourism",
        [F("jdrc", "接待人次", "integer"), *TIME_FIELDS[:1]],
        cycle="monthly",
        keywords=("旅游",),
    ),
    S(
        "{place}城市管理案件",
        "urban_rural",
        [*PLACE_FIELDS, F("ajlx", "案件类型", "string", 20)],
        cycle="daily",
    ),
]
COUNTY_SUBJECTS = [
    S(
        "{place}农作物播种面积",
        "agriculture",
        [F("zw", "作物", "string", 20), F("mj", "面积", "decimal")],
        cycle="yearly",
        keywords=("种植",),
    ),
    S(
        "{place}乡村振兴帮扶项目",
        "agriculture",
        [F("xmmc", "项目名称", "string", 100), F("zj", "资金", "money")],
        cycle="yearly",
    ),
    S(
        "{place}特色农产品名录",
        "agriculture",
        [F("cpmc", "产品名称", "string", 50)],
        cycle="yearly",
        keywords=("农产品",),
    ),
    S(
        "{place}村级组织名录",
        "civil_affairs",
        [*PLACE_FIELDS, F("cmc", "村名称", "string", 50)],
        base=("geospatial",),
        cycle="yearly",
    ),
    S(
        "{place}畜禽存栏数量",
        "agriculture",
        [F("cz", "畜种", "string", 20), F("cls", "存栏数", "integer")],
        cycle="quarterly",
    ),
    S(
        "{place}农村饮水工程",
        "ecology",
        PLACE_FIELDS + GEO_FIELDS,
        kind="geospatial",
        cycle="yearly",
        keywords=("饮水",),
    ),
]
# The existing city and county demo departments and their own subjects.
LOCAL: dict[str, list[Subject]] = {
    "tianshui_health": [
        S("天水市医疗机构名录", "health", ORG_FIELDS + PLACE_FIELDS, theme=("health",)),
        S(
            "天水市家庭医生签约统计",
            "health",
            [*PLACE_FIELDS[:1], F("qyrs", "签约人数", "integer")],
            theme=("health",),
            cycle="monthly",
        ),
        S(
            "天水市中医医院名录",
            "biomedicine",
            ORG_FIELDS,
            theme=("health",),
            cycle="yearly",
            keywords=("中医",),
        ),
    ],
    "jiuquan_culture_tourism": [
        S(
            "酒泉市景区名录",
            "culture_tourism",
            [*PLACE_FIELDS, F("jqmc", "景区名称", "string", 100)],
            keywords=("景区",),
        ),
        S("酒泉市文化场馆名录", "culture_tourism", ORG_FIELDS + PLACE_FIELDS, cycle="yearly"),
    ],
    "dunhuang_culture_tourism": [
        S(
            "敦煌市莫高窟参观预约数据",
            "culture_tourism",
            [F("yyrq", "预约日期", "date"), F("yyrs", "预约人数", "integer")],
            cycle="daily",
            keywords=("莫高窟", "敦煌"),
        ),
        S(
            "敦煌市鸣沙山月牙泉客流",
            "culture_tourism",
            [F("rq", "日期", "date"), F("kl", "客流", "integer")],
            kind="api",
            cycle="realtime",
            keywords=("鸣沙山",),
        ),
        S("敦煌市民宿名录", "culture_tourism", ORG_FIELDS + PLACE_FIELDS, keywords=("民宿",)),
    ],
    "dingxi_agriculture": [
        S(
            "定西市马铃薯种植面积",
            "agriculture",
            [*PLACE_FIELDS[:1], F("mj", "面积", "decimal")],
            cycle="yearly",
            keywords=("马铃薯",),
        ),
        S(
            "定西市中药材交易价格",
            "biomedicine",
            [F("pz", "品种", "string", 20), F("jg", "价格", "money")],
            cycle="daily",
            keywords=("中药材",),
        ),
    ],
    "chengguan_civil_affairs": [
        S(
            "城关区社区养老服务站",
            "civil_affairs",
            ORG_FIELDS + PLACE_FIELDS,
            theme=("social_security",),
            keywords=("养老",),
        ),
        S(
            "城关区临时救助对象",
            "social_security",
            ID_FIELDS + PLACE_FIELDS,
            theme=("social_security",),
            sensitive=True,
        ),
    ],
}
ELEMENTS = [
    (
        "DE0001",
        "公民身份号码",
        "GB 11643 规定的18位公民身份号码。",
        "string",
        18,
        "GB 11643-1999",
        "police",
    ),
    (
        "DE0002",
        "统一社会信用代码",
        "GB 32100 规定的18位法人和其他组织统一社会信用代码。",
        "string",
        18,
        "GB 32100-2015",
        "market",
    ),
    (
        "DE0003",
        "行政区划代码",
        "GB/T 2260 规定的6位行政区划代码。",
        "string",
        6,
        "GB/T 2260",
        "civil_affairs",
    ),
    ("DE0004", "姓名", "自然人在户籍登记中的姓名。", "string", 50, None, "police"),
    (
        "DE0005",
        "不动产单元号",
        "不动产登记中的28位不动产单元号。",
        "string",
        28,
        "GB/T 37346",
        "natural_resources",
    ),
    (
        "DE0006",
        "经度",
        "WGS84 或 CGCS2000 坐标系下的经度（度）。",
        "decimal",
        12,
        None,
        "natural_resources",
    ),
    (
        "DE0007",
        "纬度",
        "WGS84 或 CGCS2000 坐标系下的纬度（度）。",
        "decimal",
        12,
        None,
        "natural_resources",
    ),
]
ELEMENT_BY_FIELD = {
    "gmsfhm": "DE0001",
    "tyshxydm": "DE0002",
    "xzqhdm": "DE0003",
    "xm": "DE0004",
    "bdcdyh": "DE0005",
    "jd": "DE0006",
    "wd": "DE0007",
}
COUNTY_DEPARTMENTS = [
    "620121", "620321", "620423", "620523", "620622", "620723", "620822", "620981",
    "621023", "621102", "621125", "621223", "621228", "622924", "623021", "623026",
]  # fmt: skip


def load_demo_catalog(session: Session, actor: Actor, orgs: dict[str, Organization]) -> int:
    """Create what is missing of the demo catalog; returns the number of entries created."""
    rng = random.Random(20261129)
    registry = _elements(session, actor, orgs)
    created = 0
    plan: list[tuple[Organization, Subject, str]] = []
    for key, subjects in PROVINCE.items():
        plan.extend((orgs[key], s, s.name) for s in subjects)
    for key, subjects in LOCAL.items():
        plan.extend((orgs[key], s, s.name) for s in subjects)
    for city in session.scalars(
        select(Region).where(Region.level == "city").order_by(Region.position)
    ):
        bureau = _department(session, actor, city, f"{city.name}统计局", f"{city.short_name}统计局")
        plan.extend((bureau, s, s.name.format(place=city.name)) for s in CITY_SUBJECTS)
    for code in COUNTY_DEPARTMENTS:
        county = session.get(Region, code)
        if county is None:
            continue
        department = _department(session, actor, county, f"{county.name}农业农村局", None)
        plan.extend((department, s, s.name.format(place=county.name)) for s in COUNTY_SUBJECTS)
    existing = {
        (org_id, name)
        for org_id, name in session.execute(select(Resource.provider_org_id, Resource.name))
    }
    for index, (provider, subject, name) in enumerate(plan):
        if (provider.id, name) in existing:
            continue
        entry = service.create_resource(
            session,
            actor,
            _data(subject, name, provider, registry, rng),
            provider_org_id=provider.id,
        )
        created += 1
        # most are published; a few stay in each state for the console's work lists
        moves = {7: [], 15: ["submit"], 23: ["submit", "approve"]}.get(
            index % 31, ["submit", "approve", "publish"]
        )
        for move in moves:
            lifecycle.take(session, actor, entry.id, move)
    _duties(session, actor, orgs)
    return created


def _department(
    session: Session, actor: Actor, region: Region, name: str, short: str | None
) -> Organization:
    found = session.scalar(
        select(Organization).where(
            Organization.region_code == region.code, Organization.name == name
        )
    )
    return found or orgs_service.create_organization(
        session, actor, name=name, kind="data_provider", region_code=region.code, short_name=short
    )


def _data(
    subject: Subject,
    name: str,
    provider: Organization,
    registry: dict[str, int],
    rng: random.Random,
) -> ResourceData:
    fields = [
        FieldData(**{**vars(f), "element_id": registry.get(ELEMENT_BY_FIELD.get(f.name, ""))})
        for f in subject.fields
    ]
    if subject.sensitive:
        share, share_conditions, open_type = (
            "conditional",
            "仅用于依法履职，须经提供部门审核同意",
            "none",
        )
    else:
        share, share_conditions = "unconditional", None
        open_type = rng.choice(["unconditional", "unconditional", "conditional", "none"])
    formats = {
        "table": rng.choice([["CSV", "XLSX"], ["CSV"], ["DB", "JSON"], ["XLSX"]]),
        "api": ["API", "JSON"],
        "documents": ["PDF", "OFD"],
        "image": ["TIFF", "JPEG"],
        "audio": ["MP3"],
        "video": ["MP4"],
        "geospatial": ["SHP", "GEOJSON"],
    }[subject.kind]
    summary = (
        f"{provider.name}归集的{name}，"
        f"{'包括' + '、'.join(f.label for f in subject.fields[:4]) + '等信息项，' if subject.fields else ''}"
        f"按{_cycle_zh(subject.cycle)}更新，用于政务服务、社会治理和公共数据开发利用。"
    )
    return ResourceData(
        name=name,
        summary=summary,
        domain=subject.domain,
        base_databases=list(subject.base),
        theme_databases=list(subject.theme),
        share_type=share,
        share_conditions=share_conditions,
        open_type=open_type,
        open_conditions="实名注册并签署公共数据开放利用协议"
        if open_type == "conditional"
        else None,
        update_cycle=subject.cycle,
        formats=formats,
        kind=subject.kind,
        source_system=f"{provider.short_name or provider.name}业务系统",
        contact_name="数据管理科",
        contact_phone="0931-8" + f"{rng.randrange(10**6):06d}",
        contact_email=None,
        keywords=list(subject.keywords),
        licence="CC BY 4.0" if open_type == "unconditional" else None,
        fields=fields,
    )


def _cycle_zh(cycle: str) -> str:
    from longshu.catalog.vocab import UPDATE_CYCLES

    return UPDATE_CYCLES[cycle].title_zh


def _elements(session: Session, actor: Actor, orgs: dict[str, Organization]) -> dict[str, int]:
    found = {
        code: ident for code, ident in session.execute(select(DataElement.code, DataElement.id))
    }
    for code, name, definition, data_type, length, standard, authority in ELEMENTS:
        if code not in found:
            element = elements.create_element(
                session, actor, code=code, name=name, definition=definition, data_type=data_type,
                length=length, standard=standard, authority_org_id=orgs[authority].id,
            )  # fmt: skip
            found[code] = element.id
            if code == "DE0001":  # one open conflict for the bureau to resolve
                health = orgs["health"]
                elements.claim(
                    session, Actor(kind="user", id=None, org_id=health.id, roles=frozenset({"dept_data_admin"})),
                    element.id, "出生医学证明登记时采集",
                )  # fmt: skip
    return found


def _duties(session: Session, actor: Actor, orgs: dict[str, Organization]) -> None:
    if session.scalar(select(DutyItem.id).limit(1)) is not None:
        return
    expected = {
        "culture_tourism": [
            "A级旅游景区名录",
            "星级饭店名录",
            "旅行社名录",
            "导游人员信息",
            "演出场所名录",
        ],
        "weather": [
            "国家级地面气象站逐小时观测",
            "气象灾害预警信号",
            "城镇天气预报",
            "雷电监测数据",
        ],
        "police": ["常住人口基本信息", "户籍迁移登记信息", "居民身份证签发信息", "出入境证件信息"],
        "dunhuang_culture_tourism": [
            "敦煌市莫高窟参观预约数据",
            "敦煌市民宿名录",
            "敦煌市旅游投诉处理",
        ],
    }
    for key, names in expected.items():
        for name in names:
            levels.add_duty(session, actor, orgs[key].id, name)
