"""Errors of the verification service (核验 over HTTP), its setup and the rate limits.
English templates; the Chinese text is in
``web/i18n/zh_CN/LC_MESSAGES/sharing_verify_api.po``."""

from __future__ import annotations

from typing import Any

from longshu.errors import Conflict, Forbidden, InvalidInput, LongshuError, NotFound


class VerifyResourceNotFound(NotFound):
    key = "sharing.verify.resource_not_found"
    message = "Resource {resource} does not exist or has no lake table."


class VerifySetupInvalid(InvalidInput):
    key = "sharing.verify.setup_invalid"
    message = "The verification setup is not valid: {detail}"


class VerifySetupNotFound(NotFound):
    key = "sharing.verify.setup_not_found"
    message = "Resource {resource} has no verification set up."


class VerifyNotReady(Conflict):
    key = "sharing.verify.not_ready"
    message = "Resource {resource} has no verification index ready yet."


class BatchTooLarge(InvalidInput):
    key = "sharing.verify.batch_too_large"
    message = "A verification batch holds at most {limit} items; this one has {count}."


class NotGrantHolder(Forbidden):
    key = "sharing.verify.not_holder"
    message = "Only the department holding share grant {grant} may use it."


class VerifyColumnsNotGranted(Forbidden):
    key = "sharing.verify.columns_not_granted"
    message = "Share grant {grant} does not cover the columns verification compares."


class VerifyRegionScoped(Forbidden):
    """A grant limited to some regions asked an index that keeps no region codes of the
    grant's column: answering from it would tell about rows outside the grant."""

    key = "sharing.verify.region_scoped"
    status = 409
    message = (
        "Share grant {grant} is limited to some regions, and the verification index keeps no"
        " region codes of its column: the providing department rebuilds it with that column."
    )


class Throttled(LongshuError):
    """A refusal that tells the caller when to come back (``Retry-After``). ``recorded``: the
    limiter emits one event per window itself, not one per refused call."""

    status = 429
    recorded = True

    def __init__(self, retry_after: int, **params: Any) -> None:
        self.retry_after = max(1, int(retry_after))
        # (type, actor, subject, facts) of the event to record with the refusal, if any
        self.event: tuple[str, Any, Any, dict[str, Any]] | None = None
        super().__init__(retry_after=self.retry_after, **params)

    @property
    def headers(self) -> dict[str, str]:
        return {"Retry-After": str(self.retry_after)}


class RateLimited(Throttled):
    """The grant's calls a minute (all its callers together) are used up."""

    key = "sharing.rate_limited"
    message = (
        "Too many calls on share grant {grant}: at most {limit} a minute; retry in {retry_after} s."
    )


class CredentialRateLimited(RateLimited):
    """The calling credential's calls a minute (across all its grants) are used up."""

    key = "sharing.credential_rate_limited"
    message = (
        "Too many calls from your credential: at most {limit} a minute across its grants; "
        "retry in {retry_after} s."
    )


class VerifyCoolingDown(Throttled):
    key = "sharing.verify.cooling_down"
    message = (
        "Verification on share grant {grant} is paused for {retry_after} s: too many checks "
        "found no match."
    )
