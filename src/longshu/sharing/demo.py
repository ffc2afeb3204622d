"""Demo sharing: the transport department (jt_user) asks the police department for the
population table to check drivers' identities (高效办成一件事: 驾驶人身份核验), the police
reviewer approves, the bureau approves the second step, and the grant is there to query,
verify and receive in batch — so `make run` shows the whole path with nothing to set up."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from longshu.actor import Actor
from longshu.catalog.models import Resource
from longshu.config import get_settings
from longshu.orgs.models import Organization
from longshu.security.crypto.signing import SM2_SM3, SigningKey
from longshu.security.identity.models import User
from longshu.sharing import deliveries, requests, returnflows, verify_service
from longshu.sharing.flow_models import ReturnFlow
from longshu.sharing.keyfile import read_key, write_key
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
    provider = _actor(session, "ga_reviewer")
    if item.state == "pending_provider":
        requests.approve(session, provider, item.id, "同意，限身份核验用途")
    if item.state == "pending_bureau":
        requests.approve(session, _actor(session, "reviewer"), item.id, "同意")
    grant = session.scalar(select(ShareGrant).where(ShareGrant.item_id == item.id))
    if grant is None:
        return None
    # 核验: the police department sets up its verification index (身份证号 + 姓名)
    verify_service.configure(session, provider, resource.id)
    verify_service.build(session, provider, resource.id)
    # 批量: one package delivered to the transport department's demo key
    key = demo_key()
    delivery = deliveries.request_delivery(
        session, consumer, grant.id, fmt="parquet", recipient_key=key.public.public_bytes.hex()
    )
    deliveries.build(session, delivery.id)
    return grant


def demo_key_path() -> Path:
    """The transport department's demo SM2 key (the consumer's own key in real life)."""
    return get_settings().var_dir / "demo" / "transport-sm2.key"


def demo_key() -> SigningKey:
    path = demo_key_path()
    if not path.exists():
        write_key(path, SigningKey.generate(SM2_SM3))
    return read_key(path)


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
