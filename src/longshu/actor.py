"""Who is acting: a signed-in user, an application credential, the system, or the public."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Actor:
    kind: str  # "user" | "app" | "system" | "anonymous"
    id: int | None = None
    name: str = ""
    org_id: int | None = None
    roles: frozenset[str] = field(default_factory=frozenset)
    scopes: frozenset[str] | None = None  # None: not limited by a token's scopes
    mfa: bool = False  # second factor passed in this session

    @property
    def is_authenticated(self) -> bool:
        return self.kind in ("user", "app", "system")

    def has_role(self, *roles: str) -> bool:
        return bool(self.roles.intersection(roles))


ANONYMOUS = Actor(kind="anonymous", name="anonymous", roles=frozenset({"public"}))
SYSTEM = Actor(kind="system", name="system", roles=frozenset({"system"}))
