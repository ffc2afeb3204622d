"""Identity's error conditions, each with its own key and status."""

from __future__ import annotations

from longshu.errors import Conflict, Forbidden, InvalidInput, LongshuError, NotFound, NotSignedIn


class UsernameTaken(Conflict):
    key = "identity.username_taken"
    message = "The username {username} is already taken."


class InvalidUsername(InvalidInput):
    key = "identity.invalid_username"
    message = "A username is 3 to 64 letters, digits, dots, dashes or underscores."


class WeakPassword(InvalidInput):
    key = "identity.weak_password"
    message = "The password is too weak."


class PasswordsDiffer(InvalidInput):
    key = "identity.passwords_differ"
    message = "The new password and its confirmation differ."


class InvalidCredentials(NotSignedIn):
    key = "identity.invalid_credentials"
    recorded = True  # the service emitted its own event
    message = "Wrong username or password."


class AccountLocked(LongshuError):
    key = "identity.account_locked"
    recorded = True  # the service emitted its own event
    status = 423
    message = "Too many failed sign-ins. The account is locked until {until}."


class AccountDisabled(Forbidden):
    key = "identity.account_disabled"
    status = 401
    message = "This account is disabled."


class TokenInvalid(NotSignedIn):
    key = "identity.token_invalid"
    recorded = True  # the service emitted its own event
    message = "The access token is not valid."


class TokenExpired(NotSignedIn):
    key = "identity.token_expired"
    recorded = True  # the service emitted its own event
    message = "The access token has expired."


class TokenRevoked(NotSignedIn):
    key = "identity.token_revoked"
    recorded = True  # the service emitted its own event
    message = "The access token has been revoked."


class ScopeNotAllowed(InvalidInput):
    key = "identity.scope_not_allowed"
    message = "Unknown or not permitted scope: {scope}"


class SecondFactorRequired(Forbidden):
    key = "identity.mfa_required"
    message = "This action needs the second sign-in factor (TOTP)."


class SecondFactorInvalid(InvalidInput):
    key = "identity.mfa_invalid"
    recorded = True  # the service emitted its own event
    message = "The verification code is wrong or was already used."


class CsrfFailed(Forbidden):
    key = "identity.csrf_failed"
    recorded = True  # the service emitted its own event
    message = (
        "The form has expired or did not come from this site. Please reload the page and try again."
    )


class UnknownRole(InvalidInput):
    key = "identity.unknown_role"
    message = "Unknown role: {role}"


class UserNotFound(NotFound):
    key = "identity.user_not_found"
    message = "No such user."


class TokenNotFound(NotFound):
    key = "identity.token_not_found"
    message = "No such token."


class SingleSignOnUnavailable(LongshuError):
    key = "identity.sso_unavailable"
    status = 404
    message = "Single sign-on is not configured."


class SingleSignOnFailed(NotSignedIn):
    key = "identity.sso_failed"
    message = "Single sign-on failed: {reason}"


# --- signed requests (signed.py): each refusal is 401 and leaves its own event --------------


class SignatureMalformed(NotSignedIn):
    key = "identity.signature_malformed"
    recorded = True
    message = (
        "The LONGSHU-SM2 authorization header is malformed: it needs app, ts, nonce (32 hex"
        " digits) and sig (base64 of r ‖ s)."
    )


class SignatureUnknownApp(NotSignedIn):
    key = "identity.signature_unknown_app"
    recorded = True
    message = "The application of this signed request is not known."


class SignatureAppDisabled(NotSignedIn):
    key = "identity.signature_app_disabled"
    recorded = True
    message = "The application of this signed request is disabled."


class SignatureNoKey(NotSignedIn):
    key = "identity.signature_no_key"
    recorded = True
    message = "The application has no signing key registered."


class SignatureInvalid(NotSignedIn):
    key = "identity.signature_invalid"
    recorded = True
    message = "The request signature does not match the request."


class SignatureStale(NotSignedIn):
    key = "identity.signature_stale"
    recorded = True
    message = "The request timestamp is more than {window} seconds from the server's clock."


class SignatureReplayed(NotSignedIn):
    key = "identity.signature_replayed"
    recorded = True
    message = "This signed request was already received (its nonce was used)."


class SignatureTokenMismatch(NotSignedIn):
    key = "identity.signature_token_mismatch"
    recorded = True
    message = "The bearer token and the request signature belong to different applications."
