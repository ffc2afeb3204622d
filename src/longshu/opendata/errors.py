"""CKAN's error objects. CKAN clients (ckanapi, harvesters) read ``error.__type`` and expect
English messages, so the messages stay English here, in one place (Chinese in opendata.po for
the catalogue check and for readers)."""

from __future__ import annotations

from typing import Any, ClassVar

# Every message the CKAN API answers with.
CKAN_MESSAGES = {
    "action": "Action name not known: {action}",
    "package": "Dataset not found",
    "resource": "Resource not found",
    "organization": "Organization not found",
    "group": "Group not found",
    "datastore_resource": 'Resource "{resource_id}" was not found in the datastore',
    "datastore_conditional": "This dataset is open on conditions: apply for it on the portal",
    "datastore_field": 'Field "{field}" is not in this resource',
    "datastore_sort": "Invalid sort: {sort}",
    "datastore_format": "records_format must be objects or lists",
    "datastore_json": "Invalid filters or q (a JSON object of field values is expected)",
    "datastore_rows": "The query returns more than {n} rows",
    "datastore_query": "Query refused: {detail}",
    "datastore_select": "Only one SELECT over open resources is allowed",
    "missing": "Missing value",
    "integer": "Invalid integer",
    "range": "Must be between {low} and {high}",
    "fq": "Unsupported fq term: {term} (supported: {allowed})",
    "fq_value": "Unknown value for {field}: {value}",
    "fq_repeat": "Only one value per field in fq: {field}",
    "facet": "Unsupported facet field: {field} (supported: {allowed})",
    "sort": "Unsupported sort: {sort} (supported: {allowed})",
    "json": "Request body is not a JSON object",
    "json_list": "Must be a list of strings",
    "boolean": "Invalid boolean",
    "forbidden": "Access denied: {detail}",
    "invalid": "Invalid input: {detail}",
    "not_found": "Not found: {detail}",
}


class CkanError(Exception):
    """An error answered in CKAN's envelope: ``__type``, HTTP status and a message."""

    type: ClassVar[str] = "Validation Error"
    status: ClassVar[int] = 409

    def __init__(self, key: str, fields: dict[str, list[str]] | None = None, **params: Any):
        self.key = key
        self.fields = fields or {}
        template = CKAN_MESSAGES[key]
        try:
            self.message = template.format(**params)
        except (KeyError, IndexError):
            self.message = template
        super().__init__(self.message)

    def error(self) -> dict[str, Any]:
        return {"__type": self.type, "message": self.message, **self.fields}


class CkanNotFound(CkanError):
    type = "Not Found Error"
    status = 404


class CkanValidation(CkanError):
    type = "Validation Error"
    status = 409


class CkanAuthorization(CkanError):
    type = "Authorization Error"
    status = 403
