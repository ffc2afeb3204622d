"""Permissions and the one decision point.

A permission names an action (``"orgs.manage"``) and the roles that hold it. Every route
declares the permission it needs; services ask ``decide``/``require`` with the subject so that
organisation scope (a department manages its own resources) is checked in one place.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from longshu.actor import Actor
from longshu.errors import Forbidden, NotSignedIn
from longshu.security.access.roles import ROLES, STAFF_ROLES

EVERYONE = frozenset(ROLES) | {"system"}


@dataclass(frozen=True)
class Permission:
    """``roles`` may take the action. ``own_org`` limits it to subjects of the actor's
    organisation, unless the actor holds one of ``any_org_roles``."""

    name: str
    roles: frozenset[str]
    title_zh: str
    title_en: str
    own_org: bool = False
    any_org_roles: frozenset[str] = field(default_factory=frozenset)
    signed_in: bool = True  # False: anonymous visitors are let through too


PERMISSIONS: dict[str, Permission] = {}


def permission(
    name: str,
    roles: set[str] | frozenset[str],
    title_zh: str,
    title_en: str,
    *,
    own_org: bool = False,
    any_org_roles: set[str] | frozenset[str] = frozenset(),
    signed_in: bool = True,
) -> Permission:
    """Declare a permission (domains declare theirs at import time)."""
    unknown = set(roles) - EVERYONE
    if unknown:
        raise ValueError(f"permission {name} names unknown roles {sorted(unknown)}")
    perm = Permission(
        name, frozenset(roles), title_zh, title_en, own_org, frozenset(any_org_roles), signed_in
    )
    PERMISSIONS[name] = perm
    return perm


@dataclass(frozen=True)
class Decision:
    allowed: bool
    reason: str  # a stable code: "role", "no_role", "not_signed_in", "other_org", "scope", ...

    def __bool__(self) -> bool:
        return self.allowed


def _subject_org(subject: Any) -> int | None:
    if subject is None:
        return None
    for attr in ("owner_org_id", "org_id", "provider_org_id"):
        value = getattr(subject, attr, None)
        if value is not None:
            return int(value)
    return None


# Extra rules by permission name, for conditions beyond roles and organisation (a resource's
# grade, a grant's purpose, time): later domains register them here instead of branching in routes.
CONDITIONS: dict[str, list[Callable[[Actor, Any], Decision | None]]] = {}


def decide(actor: Actor, action: str, subject: Any = None) -> Decision:
    """May ``actor`` take ``action`` (a permission name) on ``subject``?"""
    perm = PERMISSIONS.get(action)
    if perm is None:
        return Decision(False, "unknown_action")
    if actor.kind == "system":
        return Decision(True, "system")
    if not perm.signed_in:  # open to everyone, whatever their roles or token scopes
        return Decision(True, "public")
    if not actor.is_authenticated:
        return Decision(False, "not_signed_in")
    if actor.scopes is not None and not _scope_allows(actor.scopes, action):
        return Decision(False, "scope")
    if not actor.roles.intersection(perm.roles):
        return Decision(False, "no_role")
    if perm.own_org and not actor.roles.intersection(perm.any_org_roles):
        subject_org = _subject_org(subject)
        if subject_org is not None and subject_org != actor.org_id:
            return Decision(False, "other_org")
    for condition in CONDITIONS.get(action, ()):
        verdict = condition(actor, subject)
        if verdict is not None and not verdict.allowed:
            return verdict
    return Decision(True, "role")


def _scope_allows(scopes: frozenset[str], action: str) -> bool:
    domain = action.split(".", 1)[0]
    return action in scopes or f"{domain}.*" in scopes or "*" in scopes


def require(actor: Actor, action: str, subject: Any = None) -> None:
    """Raise ``NotSignedIn`` or ``Forbidden`` unless ``decide`` allows."""
    verdict = decide(actor, action, subject)
    if verdict.allowed:
        return
    if verdict.reason == "not_signed_in":
        raise NotSignedIn()
    raise Forbidden()


# Permissions of the foundation itself.
permission("public.read", EVERYONE, "公开访问", "Public access", signed_in=False)
permission("console.use", STAFF_ROLES, "进入工作台", "Use the console")
permission("account.self", frozenset(ROLES), "管理本人账户", "Manage own account")
permission("users.manage", {"platform_admin"}, "管理用户", "Manage users")
permission("events.read", {"platform_admin", "auditor"}, "查看事件", "Read events")
permission("system.monitor", {"platform_admin", "auditor"}, "系统监控", "System metrics")
