"""Errors of application credentials (``credentials.py``). English templates; the Chinese text
is in ``web/i18n/zh_CN/LC_MESSAGES/sharing_credentials.po``."""

from __future__ import annotations

from longshu.errors import Conflict, InvalidInput, NotFound


class CredentialNotFound(NotFound):
    key = "sharing.credential_not_found"
    message = "Application credential {app} does not exist."


class CredentialOrgMissing(InvalidInput):
    key = "sharing.credential_org_missing"
    message = "An application credential belongs to a department: name an existing one."


class CredentialRoleNotAllowed(InvalidInput):
    key = "sharing.credential_role_not_allowed"
    message = "An application credential may hold only these roles: {allowed}."


class CredentialNameInvalid(InvalidInput):
    key = "sharing.credential_name_invalid"
    message = "A credential name has 1 to 100 characters."


class CredentialOverlapInvalid(InvalidInput):
    key = "sharing.credential_overlap_invalid"
    message = "The old key may keep signing for 0 to {limit} hours after a rotation."


class CredentialKeyInvalid(InvalidInput):
    key = "sharing.credential_key_invalid"
    message = (
        "The public key is not a valid SM2 key: give the 65-byte uncompressed point"
        " 04 ‖ x ‖ y as 130 hex digits, on the SM2 curve."
    )


class CredentialDisabled(Conflict):
    key = "sharing.credential_disabled"
    message = "Application credential {app} is disabled."
