"""Errors of return flows and duty lists. English templates; the Chinese text is in
``web/i18n/zh_CN/LC_MESSAGES/sharing_flows.po``."""

from __future__ import annotations

from longshu.errors import Conflict, InvalidInput, NotFound


class FlowInvalid(InvalidInput):
    key = "sharing.flow_invalid"
    message = "The return flow is not valid: {detail}"


class FlowResourceNotFound(NotFound):
    key = "sharing.flow_resource_not_found"
    message = "Resource {resource} does not exist."


class FlowNotProvincial(InvalidInput):
    key = "sharing.flow_not_provincial"
    message = "Resource {resource} is not a province-level resource; only those flow back."


class FlowNoRegionColumn(InvalidInput):
    key = "sharing.flow_no_region_column"
    message = "Resource {resource} has no region code column {column} to split its rows by."


class FlowUnknownReceiver(InvalidInput):
    key = "sharing.flow_unknown_receiver"
    message = (
        "Organisation {org} is not an active city or county department of a level the flow "
        "sends to."
    )


class FlowNotFound(NotFound):
    key = "sharing.flow_not_found"
    message = "Resource {resource} has no return flow."


class FlowDisabled(Conflict):
    key = "sharing.flow_disabled"
    message = "The return flow of resource {resource} is disabled."


class FlowBusy(Conflict):
    key = "sharing.flow_busy"
    message = "The return flow of resource {resource} is being changed by someone else; try again."


class DutyEditionNotFound(NotFound):
    key = "sharing.duty_edition_not_found"
    message = "Duty list edition {edition} does not exist."


class DutyEditionPublished(Conflict):
    key = "sharing.duty_edition_published"
    message = "Duty list edition {edition} is already published and cannot change."


class DutyPeriodInvalid(InvalidInput):
    key = "sharing.duty_period_invalid"
    message = "The period is not valid: {detail}"
