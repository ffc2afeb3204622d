"""Errors of the cryptography module (one class per condition)."""

from __future__ import annotations

from longshu.errors import LongshuError


class UnknownAlgorithm(LongshuError):
    key = "crypto.unknown_algorithm"
    status = 422
    message = "Algorithm {algorithm} is not supported."


class InvalidKey(LongshuError):
    key = "crypto.invalid_key"
    status = 422
    message = "The key is not valid: {detail}"


class KeyNotFound(LongshuError):
    key = "crypto.key_not_found"
    status = 404
    message = "No key {key_id} in the key store."


class DecryptionFailed(LongshuError):
    key = "crypto.decryption_failed"
    status = 422
    message = "The data could not be decrypted: {detail}"


class InvalidDatasetName(LongshuError):
    key = "crypto.invalid_dataset_name"
    status = 422
    message = "Dataset key name {name} is not valid (letters, digits, '.', '_', '-'; 1 to 100)."
