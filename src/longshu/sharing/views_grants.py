"""Console pages of share grants (``/console/sharing/grants``): the grants a department holds
and gives (the bureau also sees all), revocation, and each grant's API page with sample calls
and a server-side try-it console (no script: it fits the CSP).

Routes parse forms, call the services (``grants``, ``query``) and render."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form
from fastapi.responses import RedirectResponse, Response
from starlette.datastructures import FormData

from longshu.catalog.models import Resource
from longshu.config import get_settings
from longshu.errors import InvalidInput, LongshuError
from longshu.security import access
from longshu.security.context import Ctx, requires
from longshu.sharing import grants
from longshu.sharing.models import ShareGrant
from longshu.sharing.query import MAX_LIMIT, OPERATORS, Condition, QuerySpec, run_query, usage_of
from longshu.sharing.views import (
    REGION_SPLIT,
    ReasonMissing,
    form_data,
    is_bureau,
    org_names,
    resources_by_id,
)
from longshu.web import render

router = APIRouter(include_in_schema=False)

NUMERIC_TYPES = ("integer", "int", "bigint", "number", "decimal", "float", "double")
MAX_CONDITIONS = 3  # condition rows the try-it form offers


class LimitInvalid(InvalidInput):
    key = "sharing_console.limit_invalid"
    message = "Rows per page is a whole number from 1 to 1,000; the offset a whole number from 0."


class ConditionIncomplete(InvalidInput):
    key = "sharing_console.condition_incomplete"
    message = "Each condition needs a field, an operator and a value."


class ConditionNotNumber(InvalidInput):
    key = "sharing_console.condition_not_number"
    message = "The value for {field} must be a number."


@router.get("/console/sharing/grants")
def grant_list(ctx: Ctx = requires("sharing.read")) -> Response:
    """The department's grants as consumer and as provider; the bureau also sees all."""
    mine = grants.grants_of(ctx.session, ctx.actor)
    held = [g for g in mine if g.consumer_org_id == ctx.actor.org_id]
    given = [g for g in mine if g.provider_org_id == ctx.actor.org_id]
    every: list[ShareGrant] = []
    if is_bureau(ctx.actor):
        every = grants.grants_of(ctx.session, ctx.actor, every_department=True, limit=200)
    shown = held + given + every
    orgs = {g.consumer_org_id for g in shown} | {g.provider_org_id for g in shown}
    return render(
        ctx.request,
        "sharing/grants.html",
        {
            "held": held,
            "given": given,
            "every": every,
            "orgs": org_names(ctx.session, orgs),
            "resources": resources_by_id(ctx.session, {g.resource_id for g in shown}),
            "may_revoke": {
                g.id
                for g in shown
                if g.status == "active" and access.decide(ctx.actor, "sharing.revoke", g)
            },
        },
    )


@router.post("/console/sharing/grants/{grant_id}/revoke")
def revoke_from_form(
    grant_id: int,
    reason: Annotated[str, Form(max_length=2000)] = "",
    ctx: Ctx = requires("sharing.revoke"),
) -> Response:
    grant = grants.get_grant(ctx.session, ctx.actor, grant_id)
    try:
        if not 2 <= len(reason.strip()) <= 2000:
            raise ReasonMissing()
        grants.revoke(ctx.session, ctx.actor, grant.id, reason)
    except LongshuError as exc:
        ctx.session.rollback()
        return _grant_page(ctx, grant_id, error=exc, reason=reason)
    return RedirectResponse(f"/console/sharing/grants/{grant_id}", status_code=303)


def _sample_body(grant: ShareGrant) -> dict[str, Any]:
    body: dict[str, Any] = {"fields": list(grant.fields)[:4]}
    if grant.region_column and grant.regions:
        body["where"] = [{"field": grant.region_column, "op": "=", "value": grant.regions[0]}]
    body["limit"] = 10
    return body


def _samples(grant: ShareGrant) -> dict[str, str]:
    """curl and Python (httpx) calls of the query endpoint, filled with this grant."""
    base = get_settings().base_url.rstrip("/")
    url = f"{base}/api/v1/sharing/grants/{grant.id}/query"
    body = json.dumps(_sample_body(grant), ensure_ascii=False)
    curl = (
        f'curl -sS -X POST "{url}" \\\n'
        '  -H "Authorization: Bearer $LONGSHU_TOKEN" \\\n'
        '  -H "Content-Type: application/json" \\\n'
        f"  -d '{body}'"
    )
    python = (
        "import os\n\nimport httpx\n\n"
        f"body = {body}\n"
        "response = httpx.post(\n"
        f'    "{url}",\n'
        '    headers={"Authorization": f"Bearer {os.environ[\'LONGSHU_TOKEN\']}"},\n'
        "    json=body,\n"
        "    timeout=30,\n"
        ")\n"
        "response.raise_for_status()\n"
        "answer = response.json()\n"
        'print(answer["version"], answer["masked"], answer["rows_left_today"])\n'
        'for row in answer["rows"]:\n'
        "    print(row)\n"
    )
    verify = (
        f'curl -sS -X POST "{base}/api/v1/sharing/grants/{grant.id}/verify" \\\n'
        '  -H "Authorization: Bearer $LONGSHU_TOKEN" \\\n'
        '  -H "Content-Type: application/json" \\\n'
        """  -d '{"key": "<身份证号/统一社会信用代码/证照编号>", "name": "<姓名/企业名称/持证人>"}'"""
    )
    return {"curl": curl, "python": python, "verify": verify, "query_url": url, "base": base}


@dataclass
class TryForm:
    """The try-it console's form, as the user left it."""

    fields: list[str] = field(default_factory=list)
    conditions: list[tuple[str, str, str]] = field(default_factory=list)
    order: str = ""
    descending: bool = False
    limit: str = "10"
    offset: str = "0"


def _grant_page(
    ctx: Ctx,
    grant_id: int,
    error: LongshuError | None = None,
    tried: TryForm | None = None,
    result: tuple[list[dict[str, Any]], dict[str, Any]] | None = None,
    **kept: str,
) -> Response:
    grant = grants.get_grant(ctx.session, ctx.actor, grant_id)
    resource = ctx.session.get(Resource, grant.resource_id)
    labels = {f.name: f.label for f in resource.fields} if resource else {}
    usage = usage_of(ctx.session, grant.id)
    may_try = (
        grant.status == "active"
        and "query" in grant.modes
        and ctx.actor.org_id == grant.consumer_org_id
        and bool(access.decide(ctx.actor, "sharing.use"))
    )
    form = tried or TryForm(fields=list(grant.fields))
    while len(form.conditions) < MAX_CONDITIONS:
        form.conditions.append(("", "=", ""))
    return render(
        ctx.request,
        "sharing/grant.html",
        {
            "grant": grant,
            "resource": resource,
            "labels": labels,
            "orgs": org_names(ctx.session, {grant.consumer_org_id, grant.provider_org_id}),
            "rows_today": usage.rows if usage else 0,
            "calls_today": usage.calls if usage else 0,
            "samples": _samples(grant),
            "may_try": may_try,
            "may_revoke": grant.status == "active"
            and bool(access.decide(ctx.actor, "sharing.revoke", grant)),
            "form": form,
            "operators": [*OPERATORS, "in", "prefix"],
            "max_limit": MAX_LIMIT,
            "result": result,
            "error": error,
            "error_in_try": error is not None and tried is not None and may_try,
            "kept": kept,
            "tokens_page": "/console/account",
        },
        status_code=error.status if error else 200,
    )


@router.get("/console/sharing/grants/{grant_id}")
def grant_page(grant_id: int, ctx: Ctx = requires("sharing.read")) -> Response:
    """The grant's scope, its API endpoints with sample calls, and the try-it console."""
    return _grant_page(ctx, grant_id)


def _read_try(data: FormData) -> TryForm:
    form = TryForm(
        fields=[str(f)[:64] for f in data.getlist("fields")][:200],
        order=str(data.get("order") or "")[:64],
        descending=data.get("descending") == "1",
        limit=str(data.get("limit") or "10")[:10],
        offset=str(data.get("offset") or "0")[:10],
    )
    names, ops, values = (data.getlist(k)[:MAX_CONDITIONS] for k in ("cf", "cop", "cv"))
    for i in range(min(len(names), len(ops), len(values))):
        form.conditions.append((str(names[i])[:64], str(ops[i])[:10], str(values[i])[:1000]))
    return form


def _value(raw: str, op: str, numeric: bool, name: str) -> Any:
    parts = [p for p in REGION_SPLIT.split(raw.strip()) if p] if op == "in" else [raw.strip()]
    if numeric and op != "prefix":
        try:
            parts = [int(p) if re.fullmatch(r"-?\d+", p) else float(p) for p in parts]  # type: ignore[misc]
        except ValueError as exc:
            raise ConditionNotNumber(field=name) from exc
    return parts if op == "in" else parts[0]


def _spec(form: TryForm, types: dict[str, str]) -> QuerySpec:
    """The structured query of the form (the service checks every name and value again)."""
    limit, offset = form.limit.strip(), form.offset.strip()
    if not (limit.isdigit() and 1 <= int(limit) <= MAX_LIMIT and offset.isdigit()):
        raise LimitInvalid()
    where = []
    for name, op, raw in form.conditions:
        if not name and not raw.strip():
            continue
        if not name or not raw.strip():
            raise ConditionIncomplete()
        numeric = types.get(name, "").lower() in NUMERIC_TYPES
        where.append(Condition(name, op, _value(raw, op, numeric, name)))
    return QuerySpec(
        fields=tuple(form.fields),
        where=tuple(where),
        order_by=((form.order, form.descending),) if form.order else (),
        limit=int(limit),
        offset=int(offset),
    )


@router.post("/console/sharing/grants/{grant_id}/try")
def try_query(
    grant_id: int,
    data: FormData = Depends(form_data),
    ctx: Ctx = requires("sharing.use"),
) -> Response:
    """Run the try-it form's query within the grant as the signed-in user (``run_query``,
    through ``lake.access``; it counts against the grant's quota like any call)."""
    grant = grants.get_grant(ctx.session, ctx.actor, grant_id)
    resource = ctx.session.get(Resource, grant.resource_id)
    types = {f.name: f.data_type for f in resource.fields} if resource else {}
    form = _read_try(data)
    try:
        result = run_query(ctx.session, ctx.actor, grant.id, _spec(form, types))
    except LongshuError as exc:
        ctx.session.rollback()
        return _grant_page(ctx, grant_id, error=exc, tried=form)
    ctx.session.flush()
    return _grant_page(ctx, grant_id, tried=form, result=result)
