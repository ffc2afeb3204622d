"""The CKAN-compatible Action API: ``/api/3/action/<action>`` (and ``/api/action/<action>``,
the path the ``ckanapi`` client calls), GET with query parameters or POST with a JSON body.

Every answer is CKAN's envelope — ``{"help", "success": true, "result"}`` or
``{"help", "success": false, "error": {"__type", "message", ...}}`` with CKAN's statuses (404
Not Found, 409 Validation, 403 Authorization) — including refusals raised before the action
runs (a bad token, a malformed body): the route class below catches them, so the platform's own
JSON error shape never appears under these paths."""

from __future__ import annotations

import json
from collections.abc import Callable, Coroutine
from typing import Any

from fastapi import APIRouter, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from fastapi.routing import APIRoute
from starlette.concurrency import run_in_threadpool

from longshu.errors import LongshuError, NotFound
from longshu.opendata import actions
from longshu.opendata.errors import CkanAuthorization, CkanError, CkanNotFound, CkanValidation
from longshu.security.context import Ctx, requires

MAX_BODY_BYTES = 64 * 1024


def help_url(request: Request, action: str) -> str:
    base = str(request.base_url).rstrip("/")
    return f"{base}/api/3/action/help_show?name={action}"


def envelope(request: Request, action: str, error: CkanError) -> JSONResponse:
    body = {"help": help_url(request, action), "success": False, "error": error.error()}
    return JSONResponse(body, status_code=error.status)


def as_ckan(exc: Exception) -> CkanError:
    """A platform error in CKAN's terms."""
    if isinstance(exc, CkanError):
        return exc
    if isinstance(exc, LongshuError):
        message = exc.render()
        if isinstance(exc, NotFound) or exc.status == 404:
            error: CkanError = CkanNotFound("not_found", detail=message)
        elif exc.status in (401, 403):
            error = CkanAuthorization("forbidden", detail=message)
        else:
            error = CkanValidation("invalid", detail=message)
        return error
    if isinstance(exc, RequestValidationError):
        return CkanValidation("json")
    raise exc


class CkanRoute(APIRoute):
    """Answers errors raised anywhere in the route — dependencies included — in CKAN's
    envelope."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def ckan_handler(request: Request) -> Response:
            try:
                return await handler(request)
            except (LongshuError, RequestValidationError) as exc:
                action = request.path_params.get("action", "")
                return envelope(request, str(action)[:60], as_ckan(exc))

        return ckan_handler


router = APIRouter(tags=["opendata (CKAN)"], route_class=CkanRoute)


async def _params(request: Request) -> dict[str, Any]:
    """Query parameters (a repeated one becomes a list), then the JSON body's members."""
    params: dict[str, Any] = {}
    for key, value in request.query_params.multi_items():
        if key in params:
            existing = params[key]
            params[key] = [*existing, value] if isinstance(existing, list) else [existing, value]
        else:
            params[key] = value
    if request.method == "POST":
        raw = await request.body()
        if len(raw) > MAX_BODY_BYTES:
            raise CkanValidation("json")
        if raw.strip():
            try:
                body = json.loads(raw)
            except ValueError as exc:
                raise CkanValidation("json") from exc
            if not isinstance(body, dict):
                raise CkanValidation("json")
            params.update(body)
    return params


@router.get("/api/3/action/{action}", operation_id="ckan_action_get")
@router.post("/api/3/action/{action}", operation_id="ckan_action_post")
@router.api_route("/api/action/{action}", methods=["GET", "POST"], include_in_schema=False)
async def action(action: str, request: Request, ctx: Ctx = requires("public.read")) -> Response:
    """CKAN Action API over the open catalog (published entries open to the public)."""
    name = action[:60]
    try:
        params = await _params(request)
        function = actions.ACTIONS.get(name)
        if function is None:
            raise CkanNotFound("action", action=name)
        base = str(request.base_url).rstrip("/")
        result = await run_in_threadpool(function, actions.Call(ctx.session, params, base))
    except (CkanError, LongshuError) as exc:
        return envelope(request, name, as_ckan(exc))
    return JSONResponse({"help": help_url(request, name), "success": True, "result": result})
