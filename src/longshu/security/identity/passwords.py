"""Password policy and hashing (argon2id)."""

from __future__ import annotations

import re

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from longshu.security.identity.errors import WeakPassword
from longshu.web.i18n import N_

_hasher = PasswordHasher()  # argon2id, library defaults (RFC 9106 low-memory profile)

# A few of the passwords every attacker tries first, in the forms people choose here.
COMMON = {
    "password",
    "password1",
    "password123",
    "passw0rd",
    "12345678",
    "123456789",
    "1234567890",
    "qwerty123",
    "abc123456",
    "admin123",
    "admin@123",
    "admin12345",
    "root123456",
    "a123456789",
    "woaini1314",
    "1qaz2wsx",
    "1qaz@wsx",
    "qwertyuiop",
    "iloveyou1",
    "p@ssw0rd",
    "p@ssword1",
    "gansu123",
    "longshu123",
    "welcome123",
    "changeme1",
}


# Each reason is its own message so that the catalogue translates it whole.
TOO_SHORT = N_("The password is too weak: use at least {min} characters.")
TOO_LONG = N_("The password is too long: use at most 256 characters.")
TOO_SIMPLE = N_(
    "The password is too weak: use at least three of lower case, upper case, digits and symbols."
)
HAS_USERNAME = N_("The password is too weak: it must not contain the username.")
TOO_COMMON = N_("The password is too weak: it is a commonly used password.")


def check_policy(password: str, username: str, min_length: int) -> None:
    """Raise ``WeakPassword`` with the first reason the password fails the policy."""
    if len(password) < min_length:
        raise WeakPassword(TOO_SHORT, min=min_length)
    if len(password) > 256:
        raise WeakPassword(TOO_LONG)
    classes = sum(
        bool(re.search(p, password)) for p in (r"[a-z]", r"[A-Z]", r"\d", r"[^A-Za-z0-9]")
    )
    if classes < 3:
        raise WeakPassword(TOO_SIMPLE)
    lowered = password.lower()
    if username and len(username) >= 3 and username.lower() in lowered:
        raise WeakPassword(HAS_USERNAME)
    if lowered in COMMON or re.fullmatch(r"(.)\1+", password):
        raise WeakPassword(TOO_COMMON)


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(stored_hash: str | None, password: str) -> bool:
    if not stored_hash:
        _hasher.hash(password)  # spend the same time whether or not the user exists
        return False
    try:
        return _hasher.verify(stored_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(stored_hash: str) -> bool:
    return _hasher.check_needs_rehash(stored_hash)
