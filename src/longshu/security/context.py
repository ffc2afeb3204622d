"""The request context every route receives: database session, actor, locale.

Routes declare their permission by taking ``ctx: Ctx = requires("domain.action")``; the app
refuses to start if a route declares none, and a test walks every route × role against a table.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from fastapi import Depends, Request
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from longshu import events
from longshu.actor import ANONYMOUS, Actor
from longshu.db import get_database
from longshu.errors import LongshuError
from longshu.security.access import PERMISSIONS, require
from longshu.security.identity import csrf, signed
from longshu.security.identity.errors import CsrfFailed


@dataclass
class Ctx:
    session: Session
    actor: Actor
    request: Request
    permission: str

    @property
    def locale(self) -> str:
        return getattr(self.request.state, "locale", "zh_CN")


async def csrf_guard(request: Request) -> None:
    """Refuse a state-changing browser request without the CSRF token, leaving an event."""
    try:
        await csrf.check(request)
    except CsrfFailed:
        from longshu.security.identity.service import CSRF_REJECTED

        with get_database().session() as session:
            events.emit(
                session, CSRF_REJECTED, ANONYMOUS, method=request.method, path=request.url.path
            )
        raise


async def request_guard(request: Request) -> None:
    """Before the route's session opens: a signed request (``Authorization: LONGSHU-SM2``, or
    ``X-Longshu-Signature`` beside a bearer token) is verified here, because its body must be read and that needs ``await``; any other request
    gets the CSRF check. A signed request needs no CSRF token: a browser cannot send that
    header across sites, and no cookie is looked at for it."""
    signature = signed.signature_of(request.headers)
    if signature is None:
        await csrf_guard(request)
        return
    body = await request.body()
    request.state.signed_actor = await run_in_threadpool(
        _authenticate_signed, request, signature, body
    )


def _authenticate_signed(request: Request, signature: str, body: bytes) -> Actor:
    with get_database().sessionmaker() as session:
        path = request.scope["path"]  # percent-decoded; uvicorn puts --root-path in front
        query = request.scope.get("query_string", b"").decode("latin-1")
        return signed.authenticate(session, signature, request.method, path, query, body)


SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def requires(permission_name: str) -> Any:
    """``ctx: Ctx = requires("domain.action")`` — checks CSRF or the request's signature,
    resolves the actor, checks the permission and yields a ``Ctx`` whose session commits when the route returns, before the
    response is sent (and rolls back if the route raises)."""
    if permission_name not in PERMISSIONS:
        raise ValueError(f"unknown permission {permission_name}")

    def dependency(request: Request, _guard: None = Depends(request_guard)) -> Iterator[Ctx]:
        from longshu.security.identity.service import resolve_actor

        database = get_database()
        session = database.sessionmaker()
        if request.method not in SAFE_METHODS:
            # SQLite: a request that writes takes the write lock at BEGIN, so a read-then-write
            # never meets another process's commit (the embedded worker, the ledger) with
            # "database is locked"; it waits its turn instead. Reads never take it.
            session.connection(execution_options={"sqlite_immediate": True})
        try:
            try:
                actor = resolve_actor(session, request)
                request.state.actor = actor  # error pages show who is signed in
                require(actor, permission_name)
            except LongshuError:
                session.commit()  # keep the record of a refused token or sign-in
                raise
            yield Ctx(session=session, actor=actor, request=request, permission=permission_name)
            session.commit()
        except BaseException:
            session.rollback()
            raise
        finally:
            session.close()

    dependency.permission = permission_name  # type: ignore[attr-defined]
    dependency.__name__ = f"requires_{permission_name.replace('.', '_')}"
    return Depends(dependency, scope="function")


def route_permission(route: Any) -> str | None:
    """The permission a route declared, or None."""
    dependant = getattr(route, "dependant", None)
    stack = list(dependant.dependencies) if dependant else []
    while stack:
        dep = stack.pop()
        perm = getattr(dep.call, "permission", None)
        if perm:
            return str(perm)
        stack.extend(dep.dependencies)
    return None
