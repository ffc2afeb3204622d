"""Demo sharing: the transport department (jt_user) asks the police department for the
population table to check drivers' identities (高效办成一件事: 驾驶人身份核验), the police
reviewer approves, the bureau approves the second step, and the grant is there to query,
verify and receive in batch — so `make run` shows the whole path with nothing to set up."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from longshu.actor import Actor
from longshu.catalog.models import Resource
from longshu.orgs.models import Organization
from longshu.security.identity.models import User
from longshu.sharing import requests, returnflows
from longshu.sharing.flow_models import ReturnFlow
from longshu.sharing.models import ShareGrant, ShareRequest

SCENARIO = "驾驶人身份信息核验（高效办成一件事：驾驶证业务一次办）"
FIELDS = ("xm", "gmsfhm", "xzqhdm")


def _actor(session: Session, username: str) -> Actor:
    user = session.scalar(select(User).where(User.username == username))
    assert user is not None, f"demo login {username} is loaded first"
    return Actor(
        kind="user",
        id=user.id,
        name=user.username,
        org_id=user.org_id,
        roles=user.role_codes,
        mfa=True,
    )


def load_demo_sharing(session: Session, orgs: dict[str, Organization]) -> ShareGrant | None:
    """File, approve and grant the demo request once, and set up the demo return flow;
    returns the request's grant (None when the population resource is not in the catalog)."""
    _demo_return_flow(session, orgs)
    existing = session.scalar(select(ShareRequest).where(ShareRequest.scenario == SCENARIO))
    if existing is not None:
        return session.scalar(
            select(ShareGrant).where(ShareGrant.item_id.in_([i.id for i in existing.items]))
        )
    resource = session.scalar(
        select(Resource).where(
            Resource.name == "常住人口基本信息",
            Resource.provider_org_id == orgs["police"].id,
            Resource.status == "published",
        )
    )
    if resource is None:
        return None
    consumer = _actor(session, "jt_user")
    request = requests.submit(
        session,
        consumer,
        scenario=SCENARIO,
        purpose="办理驾驶证申领、换证时核验申请人身份，并按月批量比对驾驶人户籍变动",
        legal_basis="《中华人民共和国道路交通安全法》第十九条；《甘肃省公共数据管理办法》",
        items=[requests.ItemAsked(resource.id, FIELDS, (), ("query", "verify", "batch"))],
        days=365,
        expected_volume="每日约 2,000 次核验，每月一次批量比对",
    )
    item = request.items[0]
    if item.state == "pending_provider":
        requests.approve(session, _actor(session, "ga_reviewer"), item.id, "同意，限身份核验用途")
    if item.state == "pending_bureau":
        requests.approve(session, _actor(session, "reviewer"), item.id, "同意")
    return session.scalar(select(ShareGrant).where(ShareGrant.item_id == item.id))


def _demo_return_flow(session: Session, orgs: dict[str, Organization]) -> None:
    """数据回流: the province's daily hospital visits flow back to 天水市卫健委, its own
    city's rows only (a standing grant, applied by the bureau)."""
    resource = session.scalar(
        select(Resource).where(
            Resource.name == "全民健康信息平台诊疗人次统计",
            Resource.provider_org_id == orgs["health"].id,
            Resource.status == "published",
        )
    )
    if resource is None or resource.share_type == "none":
        return
    if session.scalar(select(ReturnFlow).where(ReturnFlow.resource_id == resource.id)):
        return
    bureau = _actor(session, "admin")
    returnflows.configure(
        session,
        bureau,
        resource.id,
        modes=("query",),
        levels=("city",),
        receivers="list",
        receiver_org_ids=[orgs["tianshui_health"].id],
        days=365,
    )
    returnflows.apply(session, bureau, resource.id)
