"""Errors of batch exchange packages (批量交换数据包). English templates; the Chinese text is in
``web/i18n/zh_CN/LC_MESSAGES/sharing_batch.po``."""

from __future__ import annotations

from longshu.errors import Conflict, InvalidInput


class PackageError(InvalidInput):
    key = "sharing.package_invalid"
    message = "The exchange package cannot be used: {detail}"


class PackageIdInvalid(PackageError):
    key = "sharing.package_id_invalid"
    message = (
        "Package id {package_id} is not valid: use letters, digits, '.', '_' or '-' "
        "(1 to 100, not starting with '.')."
    )


class PackageFormatUnknown(PackageError):
    key = "sharing.package_format_unknown"
    message = "Package format {format} is not supported; use parquet or csv."


class ColumnNotCsv(PackageError):
    key = "sharing.package_column_not_csv"
    message = (
        "Column {column} holds {type} values, which a CSV file cannot carry; "
        "choose the Parquet format or leave the column out."
    )


class PackageExists(Conflict):
    key = "sharing.package_exists"
    message = "An exchange package named {package_id} already exists in this folder."


class PackageIncomplete(PackageError):
    key = "sharing.package_incomplete"
    message = "The exchange package is incomplete or unreadable: {detail}"


class ManifestTampered(PackageError):
    key = "sharing.package_manifest_tampered"
    message = (
        "The manifest of exchange package {package_id} does not carry a valid platform "
        "signature; it may have been altered."
    )


class PackageDataTampered(PackageError):
    key = "sharing.package_data_tampered"
    message = (
        "The data file of exchange package {package_id} does not match its signed manifest; "
        "it may have been altered."
    )


class PackageWrongKey(PackageError):
    key = "sharing.package_wrong_key"
    message = (
        "Exchange package {package_id} was not encrypted for this key; use the private key "
        "of the receiving department."
    )


class ReceiptForged(PackageError):
    key = "sharing.package_receipt_forged"
    message = (
        "The delivery receipt for exchange package {package_id} does not carry a valid "
        "signature of the receiving department over this package."
    )


class DestructionRecordForged(PackageError):
    key = "sharing.package_destruction_forged"
    message = (
        "The destruction confirmation for exchange package {package_id} does not carry a valid "
        "signature of the receiving department over this package."
    )
