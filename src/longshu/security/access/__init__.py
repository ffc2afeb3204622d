"""Access decisions: one decision point, ``decide(actor, action, subject)``."""

from longshu.security.access.policy import (
    PERMISSIONS,
    Decision,
    Permission,
    decide,
    permission,
    require,
)
from longshu.security.access.roles import ROLES, STAFF_ROLES, Role

__all__ = [
    "PERMISSIONS",
    "ROLES",
    "STAFF_ROLES",
    "Decision",
    "Permission",
    "Role",
    "decide",
    "permission",
    "require",
]
