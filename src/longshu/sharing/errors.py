"""Errors of sharing's services. English templates; the Chinese text is in
``web/i18n/zh_CN/LC_MESSAGES/sharing.po``."""

from __future__ import annotations

from longshu.errors import Conflict, Forbidden, InvalidInput, LongshuError, NotFound


class RequestInvalid(InvalidInput):
    key = "sharing.request_invalid"
    message = "The share request is not valid: {detail}"


class ResourceNotShareable(InvalidInput):
    key = "sharing.not_shareable"
    message = "Resource {resource} is not shared (不予共享) or has no data loaded."


class FieldsNotInResource(InvalidInput):
    key = "sharing.fields_unknown"
    message = "Resource {resource} has no fields named {fields}."


class RegionFilterUnavailable(InvalidInput):
    key = "sharing.no_region_column"
    message = "Resource {resource} has no region code column to limit rows by region."


class ItemNotFound(NotFound):
    key = "sharing.item_not_found"
    message = "Share request item {item} does not exist."


class GrantNotFound(NotFound):
    key = "sharing.grant_not_found"
    message = "Share grant {grant} does not exist."


class NotRequester(Forbidden):
    key = "sharing.not_requester"
    message = "Only the requesting department may do this."


class GrantInactive(Conflict):
    key = "sharing.grant_inactive"
    status = 403
    message = "Share grant {grant} is {status}."


class ModeNotGranted(Forbidden):
    key = "sharing.mode_not_granted"
    message = "Share grant {grant} does not allow {mode}."


class QueryInvalid(InvalidInput):
    key = "sharing.query_invalid"
    message = "The query is not valid: {detail}"


class QuotaExceeded(LongshuError):
    key = "sharing.quota_exceeded"
    status = 429
    message = "Share grant {grant} has used its {quota} rows for today."
