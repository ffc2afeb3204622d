"""Errors of the catalog. Each message is an English template the i18n catalogue translates
(catalog.po); parameters are filled in after translation."""

from __future__ import annotations

import contextlib

from longshu.errors import Conflict, Forbidden, InvalidInput, NotFound


class ResourceNotFound(NotFound):
    key = "catalog.not_found"
    message = "Catalog resource {resource} does not exist."


class _DetailError(InvalidInput):
    """An error whose ``detail`` is itself an English template (translated, then filled in
    with the other parameters)."""

    def render(self, gettext=None) -> str:  # type: ignore[no-untyped-def]
        params = dict(self.params)
        detail = str(params.get("detail", ""))
        detail = gettext(detail) if gettext else detail
        with contextlib.suppress(KeyError, IndexError):
            detail = detail.format(**params)
        params["detail"] = detail
        template = gettext(self.message) if gettext else self.message
        try:
            return template.format(**params)
        except (KeyError, IndexError):
            return template


# Why a resource code is refused (translated in catalog.po).
CODE_MESSAGES = {
    "format": "it must look like 101001/620000-013-00042-7.",
    "classification": "the classification (类, 项, 目) is not one the catalog knows.",
    "checksum": "the check character does not match; the code has a typing error.",
    "region": "its region is not the provider's region.",
    "department": "its department code belongs to another provider.",
}


class InvalidResourceCode(_DetailError):
    """``reason``: format, classification, checksum, region, department."""

    key = "catalog.invalid_code"
    status = 422
    message = "Resource code {code} is not valid: {detail}"

    def __init__(self, code: str, reason: str) -> None:
        self.reason = reason
        super().__init__(code=str(code)[:40], detail=CODE_MESSAGES.get(reason, reason))


class DuplicateResourceCode(Conflict):
    key = "catalog.duplicate_code"
    message = "Another resource already has code {code}."


class InvalidResource(InvalidInput):
    """A resource attribute is missing or not acceptable; ``field`` names it."""

    key = "catalog.invalid_resource"
    status = 422
    message = "{field}: {detail}"

    def __init__(self, field: str, detail: str, **params: object) -> None:
        self.field = field
        self.detail_template = detail
        super().__init__(field=field, detail=detail, **params)

    def render(self, gettext=None) -> str:  # type: ignore[no-untyped-def]
        params = {k: v for k, v in self.params.items() if k not in ("field", "detail")}
        detail = gettext(self.detail_template) if gettext else self.detail_template
        with contextlib.suppress(KeyError, IndexError):
            detail = detail.format(**params)
        template = gettext(self.message) if gettext else self.message
        return template.format(field=self.field, detail=detail)


class UnknownProvider(InvalidInput):
    key = "catalog.unknown_provider"
    status = 422
    message = "Organisation {org} is not an active department that can provide resources."


class OtherDepartment(Forbidden):
    key = "catalog.other_department"
    message = (
        "Resource {resource} belongs to another department; only its own people may change it."
    )


class DraftForOtherDepartment(Forbidden):
    key = "catalog.draft_for_other_department"
    message = "You may only draft catalog entries for your own department."


class ResourceChanged(Conflict):
    key = "catalog.resource_changed"
    message = "Resource {resource} was changed by someone else since you opened it (now revision {revision}). Reload it and make your change again."


class ResourceLocked(Conflict):
    key = "catalog.resource_locked"
    message = "Resource {resource} is {state} and cannot be edited now; the reviewer must return it first."


class ResourceRetired(Conflict):
    key = "catalog.resource_retired"
    message = "Resource {resource} is retired; reopen it before editing."


class NothingToSubmit(Conflict):
    key = "catalog.nothing_to_submit"
    message = "Resource {resource} is not a draft; only drafts are submitted for review."


class RevisionNotFound(NotFound):
    key = "catalog.revision_not_found"
    message = "Resource {resource} has no revision {number}."


class ElementNotFound(NotFound):
    key = "catalog.element_not_found"
    message = "Data element {element} does not exist."


class InvalidElement(_DetailError):
    key = "catalog.invalid_element"
    status = 422
    message = "Data element: {detail}"


class DuplicateElement(Conflict):
    key = "catalog.duplicate_element"
    message = "A data element with code or name {name} already exists."


class ClaimNotAllowed(Conflict):
    key = "catalog.claim_not_allowed"
    message = "Organisation {org} already claims data element {element}."


class DutyItemNotFound(NotFound):
    key = "catalog.duty_not_found"
    message = "Duty list item {item} does not exist."


class DuplicateDutyItem(Conflict):
    key = "catalog.duplicate_duty"
    message = "The duty list of organisation {org} already expects {name}."


class InvalidSearch(_DetailError):
    key = "catalog.invalid_search"
    status = 422
    message = "Search: {detail}"


class InvalidWorkbook(_DetailError):
    """The uploaded file is not a catalog workbook we can read at all."""

    key = "catalog.invalid_workbook"
    status = 422
    message = "The file is not a catalog workbook: {detail}"


class WorkbookTooLarge(InvalidInput):
    key = "catalog.workbook_too_large"
    status = 413
    message = "The workbook is larger than {limit} MB."


class ImportRejected(InvalidInput):
    """Rows failed their checks: nothing was imported; ``problems`` lists each one."""

    key = "catalog.import_rejected"
    status = 422
    message = "Nothing was imported: {count} problems were found in the workbook."

    def __init__(self, problems: list) -> None:  # type: ignore[type-arg]
        self.problems = problems  # excel.Problem: sheet, row, column, message(gettext)
        super().__init__(count=len(problems))
