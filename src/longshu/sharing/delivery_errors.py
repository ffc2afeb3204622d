"""Errors of batch exchange deliveries (批量交换交付). English templates; the Chinese text is in
``web/i18n/zh_CN/LC_MESSAGES/sharing_exchange.po``."""

from __future__ import annotations

from longshu.errors import Conflict, Forbidden, InvalidInput, LongshuError, NotFound


class DeliveryNotFound(NotFound):
    key = "sharing.delivery_not_found"
    message = "Batch delivery {delivery} does not exist."


class NotDeliveryHolder(Forbidden):
    key = "sharing.delivery_not_holder"
    message = "Only the department that holds the grant may do this with batch delivery {delivery}."


class RecipientKeyInvalid(InvalidInput):
    key = "sharing.delivery_key_invalid"
    message = (
        "The receiving department's public key is not valid: an SM2 public key is 65 bytes "
        "(04 ‖ x ‖ y, 130 hex digits) on the SM2 curve; a signing key may also be Ed25519."
    )


class DeliveryNotReady(Conflict):
    key = "sharing.delivery_not_ready"
    message = "Batch delivery {delivery} is {state}; its package cannot be downloaded."


class DeliveryStateConflict(Conflict):
    key = "sharing.delivery_state"
    message = "Batch delivery {delivery} is {state}; a {record} cannot be accepted now."


class RecordForAnotherPackage(InvalidInput):
    key = "sharing.delivery_record_other_package"
    message = (
        "The signed record names package {named}, not the package of batch delivery {delivery}."
    )


class DeliveryFilesGone(Conflict):
    key = "sharing.delivery_files_gone"
    status = 410
    message = "The package files of batch delivery {delivery} were removed after destruction."


class DeliveriesPending(LongshuError):
    key = "sharing.deliveries_pending"
    status = 429
    message = (
        "Share grant {grant} already has {count} batch packages being built; ask again when "
        "they are ready."
    )


class SigningTimeInvalid(InvalidInput):
    key = "sharing.delivery_signed_at_invalid"
    message = (
        "The signing time must be an ISO 8601 time with its UTC offset, "
        "e.g. 2026-11-29T10:00:00+08:00."
    )
