"""Errors of the lake. Each message is an English template that the web layer translates
(the Chinese text is in ``web/i18n/zh_CN/LC_MESSAGES/lake.po``)."""

from __future__ import annotations

from longshu.errors import Conflict, Forbidden, InvalidInput, LongshuError, NotFound

# --- tables, versions, objects ------------------------------------------------------------


class InvalidTableName(InvalidInput):
    key = "lake.invalid_table_name"
    message = "Table name {name} is not valid: lower-case letters, digits and '_', starting with a letter, at most 63 characters."


class InvalidColumnName(InvalidInput):
    key = "lake.invalid_column_name"
    message = "Column name {name} is not valid: letters (any script), digits and '_', not starting with a digit, at most 63 characters."


class DuplicateTable(Conflict):
    key = "lake.duplicate_table"
    message = "A lake table named {name} already exists."


class TableNotFound(NotFound):
    key = "lake.table_not_found"
    message = "Lake table {table} does not exist."


class VersionNotFound(NotFound):
    key = "lake.version_not_found"
    message = "Table {table} has no version {version}."


class VersionPurged(Conflict):
    key = "lake.version_purged"
    status = 410
    message = "Version {version} of table {table} was removed by the retention rules."


class VersionBlocked(Conflict):
    key = "lake.version_blocked"
    message = "Version {version} of table {table} changed the schema in a breaking way and waits for a data manager to accept it."


class NoVersion(NotFound):
    key = "lake.no_version"
    message = "Table {table} has no version ready for use."


class InvalidLoad(InvalidInput):
    key = "lake.invalid_load"
    message = "The load cannot be written: {detail}"


class UpsertKeyMissing(InvalidInput):
    key = "lake.upsert_key_missing"
    message = "An upsert needs key columns present in the data; missing: {columns}."


class DuplicateKeys(InvalidInput):
    key = "lake.duplicate_keys"
    message = (
        "The load has {count} rows whose key ({columns}) repeats; an upsert needs one row per key."
    )


class ChecksumMismatch(LongshuError):
    key = "lake.checksum_mismatch"
    status = 500
    message = "Version {version} of table {table} does not match its SM3 checksum: {detail}"


class VersionHeld(Conflict):
    key = "lake.version_held"
    message = (
        "Version {version} of table {table} is still referenced ({holders}) and cannot be removed."
    )


class ObjectNotFound(NotFound):
    key = "lake.object_not_found"
    message = "No stored object has the SM3 digest {digest}."


class ObjectTooLarge(InvalidInput):
    key = "lake.object_too_large"
    status = 413
    message = "The object is larger than the limit of {limit} bytes."


# --- the one door -------------------------------------------------------------------------


class QueryRefused(Forbidden):
    """Base of every refusal of ``lake.access``; ``reason`` is a stable code for events."""

    key = "lake.query_refused"
    message = "The query was refused."
    reason = "refused"


class QueryInvalid(InvalidInput):
    key = "lake.query_invalid"
    message = "The query is not valid SQL: {detail}"
    reason = "syntax"


class NotASelect(QueryRefused):
    key = "lake.not_select"
    status = 422
    message = "Only one SELECT statement may be run; this is {kind}."
    reason = "not_select"


class TableNotGranted(QueryRefused):
    key = "lake.table_not_granted"
    message = "The grant does not cover table {table}."
    reason = "table"


class VersionNotGranted(QueryRefused):
    key = "lake.version_not_granted"
    message = "The grant does not cover version {version} of table {table}."
    reason = "version"


class ColumnNotGranted(QueryRefused):
    key = "lake.column_not_granted"
    message = "Column {column} is not among the columns the grant permits."
    reason = "column"


class FunctionNotAllowed(QueryRefused):
    key = "lake.function_not_allowed"
    message = "Function {name} may not be used in a query."
    reason = "function"


class ConstructNotAllowed(QueryRefused):
    key = "lake.construct_not_allowed"
    message = "{construct} may not be used in a query."
    reason = "construct"


class QueryTooLong(QueryRefused):
    key = "lake.query_too_long"
    status = 413
    message = "The query is longer than {limit} characters."
    reason = "too_long"


class RowLimitExceeded(QueryRefused):
    key = "lake.row_limit"
    status = 422
    message = (
        "The query returns more than the {limit} rows the grant allows; aggregate or filter it."
    )
    reason = "rows"


class QueryTimeout(QueryRefused):
    key = "lake.timeout"
    status = 408
    message = "The query took longer than the {seconds} seconds the grant allows."
    reason = "timeout"


class GrantNotValid(QueryRefused):
    key = "lake.grant_not_valid"
    message = "The grant is not valid now ({detail})."
    reason = "grant_time"


class GrantNotHeld(QueryRefused):
    key = "lake.grant_not_held"
    message = "The grant belongs to another organisation."
    reason = "grant_holder"


class InvalidGrant(InvalidInput):
    key = "lake.invalid_grant"
    message = "The grant is not valid: {detail}"


class QueryFailed(LongshuError):
    key = "lake.query_failed"
    status = 422
    message = "The query could not be run: {detail}"
    reason = "engine"


class EngineUnavailable(LongshuError):
    key = "lake.engine_unavailable"
    status = 503
    message = "The query engine {engine} is not available on this installation: {detail}"


# --- fusion -------------------------------------------------------------------------------


class NotDerived(Conflict):
    key = "lake.not_derived"
    message = "Lake table {table} is not a derived table: fusion writes only derived tables."


class FusionSourceUnknown(InvalidInput):
    key = "lake.fusion_source_unknown"
    message = "The fusion query reads {name}, which is not one of its sources ({sources})."


class FusionKeysRepeat(InvalidInput):
    key = "lake.fusion_keys_repeat"
    message = "The fused result has {count} keys ({columns}) that repeat; a derived table has one row per key."
