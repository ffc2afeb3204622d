"""Domain errors. One class per condition; each carries a stable key, an HTTP status and an
English message template that the i18n catalogue translates (Chinese first)."""

from __future__ import annotations

from typing import Any, ClassVar


class LongshuError(Exception):
    """Base of every domain error. Subclasses set ``key``, ``status`` and ``message``."""

    key: ClassVar[str] = "error"
    status: ClassVar[int] = 400
    message: ClassVar[str] = "The request could not be completed."
    # True where the code raising it already emitted its own event (sign-in failures, refused
    # tokens): the HTTP boundary then does not record a second ``http.request_refused``.
    recorded: ClassVar[bool] = False

    def __init__(self, message: str | None = None, **params: Any) -> None:
        self.params = params
        if message is not None:
            self.message = message  # type: ignore[misc]
        super().__init__(self.render())

    def render(self, gettext: Any = None) -> str:
        template = gettext(self.message) if gettext else self.message
        try:
            return template.format(**self.params)
        except (KeyError, IndexError):
            return template


class NotFound(LongshuError):
    key = "not_found"
    status = 404
    message = "Not found."


class InvalidInput(LongshuError):
    key = "invalid_input"
    status = 422
    message = "The input is not valid: {detail}"


class Conflict(LongshuError):
    key = "conflict"
    status = 409
    message = "The change conflicts with the current state: {detail}"


class NotSignedIn(LongshuError):
    key = "not_signed_in"
    status = 401
    message = "Please sign in."


class Forbidden(LongshuError):
    key = "forbidden"
    status = 403
    message = "You do not have permission to do this."


class PayloadTooLarge(LongshuError):
    key = "payload_too_large"
    status = 413
    recorded = True
    message = "The request body is larger than {limit} bytes."
