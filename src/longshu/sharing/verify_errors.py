"""Errors of verification (核验) and its index. English templates; the Chinese text is in
``web/i18n/zh_CN/LC_MESSAGES/sharing_verify.po``."""

from __future__ import annotations

from typing import Any

from longshu.errors import InvalidInput, LongshuError, NotFound


class MalformedKey(InvalidInput):
    """The key to verify (身份证号, 统一社会信用代码, 证照编号) is not well formed. A client error,
    not ``not_found``: answering "not found" to a mistyped ID would hide the typo."""

    key = "sharing.verify.malformed_key"
    status = 422
    message = "The key to verify is not valid."

    def __init__(self, reason: str, sentence: str | None = None, **params: Any) -> None:
        # ``sentence`` is one of the ``*_MESSAGES`` reasons (translated like a template)
        self.reason = reason
        super().__init__(sentence, **params)


class MalformedAttribute(InvalidInput):
    key = "sharing.verify.malformed_attribute"
    status = 422
    message = "The name to verify is empty or longer than {limit} characters."


class MalformedBatch(InvalidInput):
    """Some items of a batch are malformed; nothing in the batch was checked. ``problems``
    lists (position, reason) for each, never the values (they are personal data)."""

    key = "sharing.verify.malformed_batch"
    status = 422
    message = (
        "{count} items of the batch are malformed (the first at position {position}: "
        "{reason}); nothing was checked."
    )

    def __init__(self, problems: list[tuple[int, str]]) -> None:
        self.problems = problems
        position, reason = problems[0]
        super().__init__(count=len(problems), position=position, reason=reason)


class BatchMismatch(InvalidInput):
    key = "sharing.verify.batch_mismatch"
    status = 422
    message = "The batch has {keys} keys but {attributes} names."


class UnknownCheckKind(InvalidInput):
    key = "sharing.verify.unknown_kind"
    status = 422
    message = "There is no verification kind {kind}; use one of: {kinds}."


class IndexNotFound(NotFound):
    key = "sharing.verify.index_not_found"
    message = "The verification index {name} does not exist."


class IndexWithoutRegions(LongshuError):
    """A region-limited grant asked an index built without its table's region column."""

    key = "sharing.verify.index_without_regions"
    status = 409
    message = (
        "The verification index {name} keeps no region codes, so a grant limited to regions"
        " cannot be checked against it: the provider sets the region column and rebuilds it."
    )


class IndexTampered(LongshuError):
    """The index file fails its SM3 digest or its HMAC-SM3 tag: it was changed or damaged
    after it was built. It is refused; rebuild it from its table version."""

    key = "sharing.verify.index_tampered"
    status = 500
    message = "The verification index {name} fails its integrity check ({detail}); rebuild it."


class IndexBuildFailed(LongshuError):
    key = "sharing.verify.build_failed"
    status = 500
    message = "The verification index of {table} could not be built: {detail}"
