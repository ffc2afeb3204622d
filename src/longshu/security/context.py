"""The request context every route receives: database session, actor, locale.

Routes declare their permission with ``Depends(requires("domain.action"))``; the app refuses
to start if a route declares none, and a test walks every route × role against a table.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from fastapi import Depends, Request
from sqlalchemy.orm import Session

from longshu.actor import Actor
from longshu.db import get_database
from longshu.security.access import PERMISSIONS, require


@dataclass
class Ctx:
    session: Session
    actor: Actor
    request: Request
    permission: str

    @property
    def locale(self) -> str:
        return getattr(self.request.state, "locale", "zh_CN")


def requires(permission_name: str) -> Any:
    """``ctx: Ctx = requires("domain.action")`` — resolves the actor, checks the permission and
    yields a ``Ctx`` whose session commits when the route returns, before the response is sent
    (and rolls back if it raises). CSRF is checked for cookie-authenticated unsafe requests."""
    if permission_name not in PERMISSIONS:
        raise ValueError(f"unknown permission {permission_name}")

    def dependency(request: Request) -> Iterator[Ctx]:
        from longshu.security.identity.service import resolve_actor

        database = get_database()
        with database.session() as session:
            actor = resolve_actor(session, request)
            require(actor, permission_name)
            yield Ctx(session=session, actor=actor, request=request, permission=permission_name)

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
