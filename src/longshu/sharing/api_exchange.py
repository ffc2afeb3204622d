"""Batch exchange (批量交换) over HTTP: packages, delivery receipts, destruction confirmations.
Routes only translate; the rules are in ``sharing.deliveries``."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query
from fastapi.responses import FileResponse
from pydantic import AwareDatetime, BaseModel, Field

from longshu.security.context import Ctx, requires
from longshu.sharing import deliveries, destruction
from longshu.sharing.delivery_models import DELIVERY_STATES, Delivery

router = APIRouter(prefix="/api/v1/sharing", tags=["sharing"])

Hex = Annotated[str, Field(max_length=260, pattern=r"^[0-9a-fA-F]*$")]


class SignerKeyIn(BaseModel):
    """A published verification key (``PublicKey.as_json``): SM2-SM3 or Ed25519."""

    algorithm: Literal["sm2-sm3", "ed25519"]
    public_key: Hex
    sm2_user_id: str | None = Field(default=None, max_length=64)
    key_id: str | None = Field(default=None, max_length=16)


class DeliveryIn(BaseModel):
    format: Literal["parquet", "csv"] = "parquet"
    recipient_public_key: Hex = Field(description="SM2 public key, 04 ‖ x ‖ y, 130 hex digits")
    signing_key: SignerKeyIn | None = Field(
        default=None,
        description="signs receipts and destruction records; default the recipient key",
    )


class RecordIn(BaseModel):
    """A signed record: the signature (hex) over ``record_message(manifest, kind, signed_at,
    statement)``; ``package_id``, when given, must be this delivery's package."""

    signed_at: AwareDatetime
    signature: Hex
    statement: str | None = Field(default=None, max_length=500)
    package_id: str | None = Field(default=None, max_length=100)


class DeliveryOut(BaseModel):
    id: int
    package_id: str
    grant_id: int
    consumer_org_id: int
    provider_org_id: int
    format: str
    state: str
    error: str | None
    rows: int | None
    files: list[dict[str, Any]]
    manifest_sm3: str | None
    recipient_key_id: str
    signer_key_id: str | None
    downloads: int
    receipt: dict[str, Any] | None
    destruction: dict[str, Any] | None
    created_at: dt.datetime
    built_at: dt.datetime | None
    downloaded_at: dt.datetime | None
    received_at: dt.datetime | None
    grant_ended_at: dt.datetime | None
    due_at: dt.datetime | None
    reminded_at: dt.datetime | None
    escalated_at: dt.datetime | None
    destroyed_at: dt.datetime | None
    files_removed_at: dt.datetime | None


def _out(d: Delivery) -> DeliveryOut:
    return DeliveryOut(
        id=d.id, package_id=d.package_id, grant_id=d.grant_id,
        consumer_org_id=d.consumer_org_id, provider_org_id=d.provider_org_id, format=d.format,
        state=d.state, error=d.error, rows=d.rows, files=list(d.files or []),
        manifest_sm3=d.manifest_sm3, recipient_key_id=d.recipient_key_id,
        signer_key_id=(d.signer_key or {}).get("key_id"), downloads=d.downloads,
        receipt=d.receipt, destruction=d.destruction, created_at=d.created_at,
        built_at=d.built_at, downloaded_at=d.downloaded_at, received_at=d.received_at,
        grant_ended_at=d.grant_ended_at, due_at=d.due_at, reminded_at=d.reminded_at,
        escalated_at=d.escalated_at, destroyed_at=d.destroyed_at,
        files_removed_at=d.files_removed_at,
    )  # fmt: skip


@router.post("/grants/{grant_id}/deliveries", response_model=DeliveryOut, status_code=202)
def request_delivery(
    grant_id: int, body: DeliveryIn, ctx: Ctx = requires("sharing.use")
) -> DeliveryOut:
    """Ask for a package of the grant's rows, encrypted to the department's SM2 key; it is
    built by a job (state ``building`` until then)."""
    delivery = deliveries.request_delivery(
        ctx.session, ctx.actor, grant_id, fmt=body.format,
        recipient_key=body.recipient_public_key,
        signer_key=body.signing_key.model_dump(exclude_none=True) if body.signing_key else None,
    )  # fmt: skip
    return _out(delivery)


@router.get("/deliveries", response_model=list[DeliveryOut])
def list_deliveries(
    side: Literal["consumer", "provider", "both", "all"] = "consumer",
    state: Literal[DELIVERY_STATES] | None = None,  # type: ignore[valid-type]
    limit: int = Query(default=200, ge=1, le=1000),
    ctx: Ctx = requires("sharing.read"),
) -> list[DeliveryOut]:
    """The department's deliveries as consumer or provider; ``side=all`` for the bureau."""
    found = deliveries.list_deliveries(ctx.session, ctx.actor, side=side, state=state, limit=limit)
    return [_out(d) for d in found]


@router.get("/deliveries/{delivery_id}", response_model=DeliveryOut)
def get_delivery(delivery_id: int, ctx: Ctx = requires("sharing.read")) -> DeliveryOut:
    return _out(deliveries.get_delivery(ctx.session, ctx.actor, delivery_id))


@router.get("/deliveries/{delivery_id}/manifest")
def get_manifest(delivery_id: int, ctx: Ctx = requires("sharing.use")) -> dict[str, Any]:
    """The platform-signed manifest (the receiving department only)."""
    return deliveries.manifest_of(ctx.session, ctx.actor, delivery_id)


@router.get("/deliveries/{delivery_id}/package")
def get_package(delivery_id: int, ctx: Ctx = requires("sharing.use")) -> FileResponse:
    """The SM4-encrypted data file (the receiving department only, while the grant is active)."""
    path = deliveries.download(ctx.session, ctx.actor, delivery_id)
    return FileResponse(path, media_type="application/octet-stream", filename=path.name)


@router.post("/deliveries/{delivery_id}/receipt", response_model=DeliveryOut)
def upload_receipt(
    delivery_id: int, body: RecordIn, ctx: Ctx = requires("sharing.use")
) -> DeliveryOut:
    """签收回执, signed by the receiving department."""
    delivery = destruction.accept_receipt(
        ctx.session, ctx.actor, delivery_id, signature=body.signature, signed_at=body.signed_at,
        statement=body.statement, package_id=body.package_id,
    )  # fmt: skip
    return _out(delivery)


@router.post("/deliveries/{delivery_id}/destruction", response_model=DeliveryOut)
def upload_destruction(
    delivery_id: int, body: RecordIn, ctx: Ctx = requires("sharing.use")
) -> DeliveryOut:
    """销毁确认, signed by the receiving department; the package's data file is then removed."""
    delivery = destruction.confirm_destruction(
        ctx.session, ctx.actor, delivery_id, signature=body.signature, signed_at=body.signed_at,
        statement=body.statement, package_id=body.package_id,
    )  # fmt: skip
    return _out(delivery)
