"""What identity pages need to know about organisations, without importing them.

Organisations live in a higher layer; when ``orgs`` is imported it registers how to name
them here (``register_org_names``). Until then pages show bare ids."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy.orm import Session

OrgNames = Callable[[Session], dict[int, str]]
_org_names: list[OrgNames] = []


def register_org_names(lookup: OrgNames) -> None:
    _org_names[:] = [lookup]


def org_names(session: Session) -> dict[int, str]:
    """Active organisations' names by id (empty when no directory registered)."""
    return _org_names[0](session) if _org_names else {}
