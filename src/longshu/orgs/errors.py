"""Errors of the organisations domain. Each message is an English template that the web layer
translates (the Chinese text is in the i18n catalogue)."""

from __future__ import annotations

from longshu.errors import Conflict, InvalidInput, NotFound
from longshu.ids import Check


class InvalidRegion(InvalidInput):
    """The region code is not a 6-digit administrative division code."""

    key = "orgs.invalid_region"
    status = 422
    message = "Region code {code} is not a 6-digit administrative division code."


class UnknownRegion(InvalidRegion):
    """Well formed, but not a region the platform knows (Gansu and its divisions)."""

    key = "orgs.unknown_region"
    message = "Region {code} is not a division of Gansu known to the platform."


class InvalidOrgKind(InvalidInput):
    key = "orgs.invalid_kind"
    status = 422
    message = "{kind} is not an organisation kind."


class InvalidLevel(InvalidInput):
    key = "orgs.invalid_level"
    status = 422
    message = "{level} is not a level of government (province, city or county)."


class InvalidOrgName(InvalidInput):
    key = "orgs.invalid_name"
    status = 422
    message = "An organisation name has 2 to 200 characters."


class InvalidCreditCode(InvalidInput):
    """Carries the validator's reason code; the message is the validator's sentence."""

    key = "orgs.invalid_credit_code"
    status = 422
    message = "The unified social credit code is not valid."

    def __init__(self, check: Check) -> None:
        self.reason = check.reason
        super().__init__(check.message or None)


class OrganizationNotFound(NotFound):
    key = "orgs.not_found"
    message = "Organisation {org_id} does not exist."


class DuplicateOrganization(Conflict):
    key = "orgs.duplicate_name"
    message = "An organisation named {name} already exists in region {region_code}."


class DuplicateCreditCode(Conflict):
    key = "orgs.duplicate_credit_code"
    message = "Another organisation already has unified social credit code {credit_code}."


class OrganizationInactive(Conflict):
    key = "orgs.inactive"
    message = "Organisation {org_id} is deactivated."


class ParentCycle(Conflict):
    key = "orgs.parent_cycle"
    message = "Organisation {parent_id} cannot be the parent of {org_id}: it is the organisation itself or one of its subordinates."


class HasActiveSubordinates(Conflict):
    key = "orgs.has_active_subordinates"
    message = "Organisation {org_id} still has {count} active subordinate organisations; deactivate them first."
