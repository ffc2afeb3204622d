"""The demo set of organisations: provincial departments under their official names, a few city
and county departments, data users, two operators and an assessor.

The companies are synthetic (their names end in （演示）, "demo") and carry synthetic credit codes
that pass every check; real departments carry no credit code, since we do not invent numbers for
real bodies. Loading is idempotent: organisations are found by region and name."""

from __future__ import annotations

import random
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from longshu import ids
from longshu.actor import Actor
from longshu.orgs import service
from longshu.orgs.models import Organization
from longshu.orgs.regions import load_regions

PROVINCE = "620000"


@dataclass(frozen=True)
class DemoOrg:
    key: str
    name: str
    kind: str
    region_code: str = PROVINCE
    short_name: str | None = None
    synthetic: bool = False  # a made-up company: gets a synthetic credit code


DEMO_ORGS: tuple[DemoOrg, ...] = (
    DemoOrg("bureau", "甘肃省数据局", "data_authority", short_name="省数据局"),
    DemoOrg("gov_services", "甘肃省政务服务中心", "implementer", short_name="省政务服务中心"),
    DemoOrg("police", "甘肃省公安厅", "data_provider", short_name="省公安厅"),
    DemoOrg("health", "甘肃省卫生健康委员会", "data_provider", short_name="省卫生健康委"),
    DemoOrg("transport", "甘肃省交通运输厅", "data_provider", short_name="省交通运输厅"),
    DemoOrg("weather", "甘肃省气象局", "data_provider", short_name="省气象局"),
    DemoOrg("culture_tourism", "甘肃省文化和旅游厅", "data_provider", short_name="省文化和旅游厅"),
    DemoOrg("natural_resources", "甘肃省自然资源厅", "data_provider", short_name="省自然资源厅"),
    DemoOrg("agriculture", "甘肃省农业农村厅", "data_provider", short_name="省农业农村厅"),
    DemoOrg("market", "甘肃省市场监督管理局", "data_provider", short_name="省市场监管局"),
    DemoOrg("hr_social", "甘肃省人力资源和社会保障厅", "data_provider", short_name="省人社厅"),
    DemoOrg("civil_affairs", "甘肃省民政厅", "data_provider", short_name="省民政厅"),
    DemoOrg("ecology", "甘肃省生态环境厅", "data_provider", short_name="省生态环境厅"),
    DemoOrg("emergency", "甘肃省应急管理厅", "data_provider", short_name="省应急管理厅"),
    DemoOrg(
        "sasac", "甘肃省人民政府国有资产监督管理委员会", "data_provider", short_name="省国资委"
    ),
    DemoOrg("statistics", "甘肃省统计局", "data_provider", short_name="省统计局"),
    DemoOrg("medical_security", "甘肃省医疗保障局", "data_consumer", short_name="省医保局"),
    DemoOrg("lanzhou_bureau", "兰州市数据局", "data_authority", "620100"),
    DemoOrg("tianshui_health", "天水市卫生健康委员会", "data_provider", "620500", "天水市卫健委"),
    DemoOrg("jiuquan_culture_tourism", "酒泉市文化和旅游局", "data_provider", "620900"),
    DemoOrg("dunhuang_culture_tourism", "敦煌市文化和旅游局", "data_provider", "620982"),
    DemoOrg("dingxi_agriculture", "定西市农业农村局", "data_provider", "621100"),
    DemoOrg("chengguan_civil_affairs", "兰州市城关区民政局", "data_provider", "620102"),
    DemoOrg("lanzhou_new_area", "兰州新区管理委员会", "data_consumer", "620171", "兰州新区管委会"),
    DemoOrg("operator_a", "陇原数智运营有限公司（演示）", "operator", "620100", "陇原数智", True),
    DemoOrg("operator_b", "丝路数据服务有限公司（演示）", "operator", "620171", "丝路数据", True),
    DemoOrg("assessor", "河西数据评估咨询有限公司（演示）", "assessor", "620902", "河西评估", True),
    DemoOrg(
        "enterprise", "敦煌文旅科技有限公司（演示）", "enterprise", "620982", "敦煌文旅科技", True
    ),
)


def demo_credit_code(item: DemoOrg) -> str:
    """The synthetic code of a demo company: the same on every run (seeded by its key)."""
    return ids.random_credit_code(random.Random(f"longshu-demo-org-{item.key}"), item.region_code)


def load_demo_organisations(session: Session, actor: Actor) -> dict[str, Organization]:
    """Create the demo organisations that do not exist yet (regions are loaded first) and return
    all of them by stable key (``"bureau"``, ``"police"``, ``"operator_a"``, ``"assessor"`` …).
    Running it twice creates nothing new."""
    load_regions(session, actor)
    found: dict[str, Organization] = {}
    for item in DEMO_ORGS:
        existing = session.scalar(
            select(Organization).where(
                Organization.region_code == item.region_code, Organization.name == item.name
            )
        )
        found[item.key] = existing or service.create_organization(
            session,
            actor,
            name=item.name,
            kind=item.kind,
            region_code=item.region_code,
            short_name=item.short_name,
            credit_code=demo_credit_code(item) if item.synthetic else None,
        )
    return found
