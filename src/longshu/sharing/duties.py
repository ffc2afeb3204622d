"""Duty lists (共享责任清单): per department, what it must share against what it shares.

Must share: its published catalog resources shared without conditions (无条件共享) or with
conditions (有条件共享), and the catalog's duty items (应编尽编) it is expected to catalog.
Shares: grants it has given that are active at the end of the period; the share request items
filed with it in the period — received, granted by the platform at once (无条件共享), approved
or refused by it, still pending, withdrawn, overdue — how fast it answered (median and p90 in
working days from filing to its decision), the share of answers within the deadline, and its
shareable resources nobody has ever asked for. Requests made by return flows are not requests
and are left out of the request figures (their grants count as grants).

``compile_edition`` takes the figures into a dated edition (a snapshot); the bureau
``publish``es it (``sharing.duty_list_published``); published editions are public and
exported as CSV or Excel. ``compile_monthly`` is the periodic job (the previous month)."""

from __future__ import annotations

import csv
import datetime as dt
import io
import math
import statistics
from dataclasses import dataclass, field
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from longshu import events, exports
from longshu.actor import SYSTEM, Actor
from longshu.catalog import levels
from longshu.catalog.models import Resource
from longshu.db import SHANGHAI, utcnow
from longshu.orgs.models import Organization
from longshu.security import access
from longshu.sharing.flow_errors import (
    DutyEditionNotFound,
    DutyEditionPublished,
    DutyPeriodInvalid,
)
from longshu.sharing.flow_models import DutyEdition, DutyEntry
from longshu.sharing.models import ShareGrant, ShareRequest, ShareRequestItem
from longshu.sharing.returnflows import flow_request_ids
from longshu.workflow import WorkflowInstance, WorkflowStep, calendar

# Anyone, signed in or not, reads published editions (the policy asks for them to be public).
access.permission(
    "sharing.duties_public",
    {"platform_admin", "bureau_reviewer", "chief_data_officer", "dept_data_admin",
     "dept_reviewer", "data_consumer", "operator", "assessor", "auditor", "public", "system"},
    "查看共享责任清单", "Read published sharing duty lists", signed_in=False,
)  # fmt: skip

COMPILED = events.define(
    "sharing.duty_list_compiled", "共享责任清单已编制", "Sharing duty list compiled"
)
PUBLISHED = events.define(
    "sharing.duty_list_published", "共享责任清单已发布", "Sharing duty list published"
)

SHAREABLE = ("unconditional", "conditional")
ANSWERS = {"approve": "approved", "forward": "approved", "refuse": "refused"}
MAX_NAMES = 50
COLUMNS = (
    ("org_name", "部门", "Department"), ("region_code", "行政区划", "Region code"),
    ("level", "层级", "Level"),
    ("resources_unconditional", "无条件共享资源", "Unconditional resources"),
    ("resources_conditional", "有条件共享资源", "Conditional resources"),
    ("duty_items", "目录责任事项", "Catalog duty items"),
    ("duty_items_fulfilled", "已编目事项", "Duty items catalogued"),
    ("grants_active", "有效共享授权", "Active grants"),
    ("requests_received", "收到申请", "Requests received"),
    ("auto_granted", "自动授权", "Granted at once"), ("approved", "同意", "Approved"),
    ("refused", "拒绝", "Refused"), ("pending", "待处理", "Pending"),
    ("withdrawn", "已撤回", "Withdrawn"), ("overdue", "超期", "Overdue"),
    ("median_days", "响应中位数（工作日）", "Median answer (working days)"),
    ("p90_days", "响应P90（工作日）", "P90 answer (working days)"),
    ("on_time_ratio", "按期答复率", "Answered on time"),
    ("never_requested", "从未被申请的资源", "Resources never requested"),
)  # fmt: skip


def columns(locale: str = "zh_CN") -> list[tuple[str, str]]:
    """(field, title) of the list's columns, titled in ``locale`` (Chinese unless English)."""
    english = locale.lower().startswith("en")
    return [(name, en if english else zh) for name, zh, en in COLUMNS]


@dataclass
class Figures:
    """One department's figures (the fields of a ``DutyEntry``)."""

    org_id: int
    resources_unconditional: int = 0
    resources_conditional: int = 0
    duty_items: int = 0
    duty_items_fulfilled: int = 0
    grants_active: int = 0
    requests_received: int = 0
    auto_granted: int = 0
    approved: int = 0
    refused: int = 0
    pending: int = 0
    withdrawn: int = 0
    overdue: int = 0
    days: list[int] = field(default_factory=list)  # working days to each answer
    on_time: int = 0
    late_open: int = 0  # still unanswered past the deadline
    never_requested_names: list[str] = field(default_factory=list)
    missing_duties: list[str] = field(default_factory=list)

    @property
    def median_days(self) -> Decimal | None:
        return _one_place(statistics.median(self.days)) if self.days else None

    @property
    def p90_days(self) -> Decimal | None:
        """Nearest rank: the smallest value at or above 90% of the answers."""
        if not self.days:
            return None
        ordered = sorted(self.days)
        return _one_place(ordered[math.ceil(0.9 * len(ordered)) - 1])

    @property
    def on_time_ratio(self) -> Decimal | None:
        """Answers within the deadline over answers plus requests left unanswered past it."""
        due = len(self.days) + self.late_open
        return (Decimal(self.on_time) / Decimal(due)).quantize(Decimal("0.0001")) if due else None


def _one_place(value: float | int) -> Decimal:
    return Decimal(str(value)).quantize(Decimal("0.1"))


def _instant(day: dt.date) -> dt.datetime:
    """The start of a China date, in UTC."""
    return dt.datetime.combine(day, dt.time(), tzinfo=SHANGHAI).astimezone(dt.UTC)


def _aware(value: dt.datetime) -> dt.datetime:
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)  # SQLite drops the zone


def previous_month(today: dt.date | None = None) -> tuple[dt.date, dt.date]:
    """[first day of last month, first day of this month) in China dates."""
    today = today or utcnow().astimezone(SHANGHAI).date()
    end = today.replace(day=1)
    return (end - dt.timedelta(days=1)).replace(day=1), end


def figures(session: Session, start: dt.date, end: dt.date) -> dict[int, Figures]:
    """Every department with something to share or with requests filed with it, by id."""
    begin, until = _instant(start), _instant(end)
    out: dict[int, Figures] = {}

    def of(org_id: int) -> Figures:
        return out.setdefault(org_id, Figures(org_id))

    shareable = list(
        session.scalars(
            select(Resource).where(
                Resource.published_revision.is_not(None),
                Resource.retired_at.is_(None),
                Resource.share_type.in_(SHAREABLE),
            )
        )
    )
    flows = flow_request_ids(session)
    asked: set[int] = set()
    for item in session.scalars(
        select(ShareRequestItem.resource_id)
        .join(ShareRequest)
        .where(ShareRequest.created_at < until, ShareRequest.id.not_in(sorted(flows) or [0]))
    ):
        asked.add(item)
    for resource in shareable:
        fig = of(resource.provider_org_id)
        if resource.share_type == "unconditional":
            fig.resources_unconditional += 1
        else:
            fig.resources_conditional += 1
        if resource.id not in asked:
            fig.never_requested_names.append(resource.name)
    for duty in levels.completeness(session, SYSTEM):
        fig = of(duty.org_id)
        fig.duty_items, fig.duty_items_fulfilled = duty.expected, duty.fulfilled
        fig.missing_duties = list(duty.missing)
    for grant in session.scalars(
        select(ShareGrant).where(ShareGrant.created_at < until, ShareGrant.valid_until > until)
    ):
        if grant.revoked_at is None or _aware(grant.revoked_at) >= until:
            of(grant.provider_org_id).grants_active += 1
    _count_requests(session, begin, until, flows, of)
    return out


def _count_requests(session, begin, until, flows, of) -> None:  # type: ignore[no-untyped-def]
    items = list(
        session.scalars(
            select(ShareRequestItem)
            .join(ShareRequest)
            .where(
                ShareRequest.created_at >= begin,
                ShareRequest.created_at < until,
                ShareRequest.id.not_in(sorted(flows) or [0]),
            )
        )
    )
    instance_ids = [i.workflow_instance_id for i in items if i.workflow_instance_id]
    instances = {
        i.id: i
        for i in session.scalars(
            select(WorkflowInstance).where(WorkflowInstance.id.in_(instance_ids or [0]))
        )
    }
    steps: dict[int, list[WorkflowStep]] = {}
    for step in session.scalars(
        select(WorkflowStep)
        .where(WorkflowStep.instance_id.in_(instance_ids or [0]))
        .order_by(WorkflowStep.id)
    ):
        steps.setdefault(step.instance_id, []).append(step)
    for item in items:
        fig = of(item.provider_org_id)
        fig.requests_received += 1
        instance = instances.get(item.workflow_instance_id or 0)
        if instance is None:
            continue
        made = [s for s in steps.get(instance.id, []) if _aware(s.at) < until]
        start = next((s for s in made if s.transition is None), None)
        answer = next((s for s in made if s.from_state == "pending_provider"), None)
        if answer is not None and answer.actor_kind == "system" and answer.transition == "approve":
            fig.auto_granted += 1  # 无条件共享: the platform granted it at once
            continue
        if answer is None:
            fig.pending += 1
            due = start.due_at if start else None
            if due is not None and _aware(due) < until:
                fig.overdue += 1
                fig.late_open += 1
            continue
        outcome = ANSWERS.get(answer.transition or "")
        if outcome is None:  # withdrawn before the department answered
            fig.withdrawn += 1
            continue
        setattr(fig, outcome, getattr(fig, outcome) + 1)
        fig.days.append(
            calendar.working_days_between(_aware(instance.started_at), _aware(answer.at))
        )
        if answer.late:
            fig.overdue += 1
        else:
            fig.on_time += 1


# --- editions -------------------------------------------------------------------------------------


def compile_edition(
    session: Session,
    actor: Actor,
    start: dt.date | None = None,
    end: dt.date | None = None,
) -> DutyEdition:
    """Compile the figures of [start, end) (China dates; default the previous month) into a
    new draft edition. Emits ``sharing.duty_list_compiled``."""
    access.require(actor, "sharing.duties")
    if start is None and end is None:
        start, end = previous_month()
    if start is None or end is None:
        raise DutyPeriodInvalid(detail="give both the start and the end, or neither")
    today = utcnow().astimezone(SHANGHAI).date()
    if not start < end:
        raise DutyPeriodInvalid(detail="the period must end after it starts")
    if (end - start).days > 366:
        raise DutyPeriodInvalid(detail="a period is at most 366 days")
    if end > today + dt.timedelta(days=1):
        raise DutyPeriodInvalid(detail="a period cannot end in the future")
    found = figures(session, start, end)
    orgs = {
        o.id: o
        for o in session.scalars(
            select(Organization).where(Organization.id.in_(list(found) or [0]))
        )
    }
    number = 1 + len(
        session.scalars(
            select(DutyEdition.id).where(
                DutyEdition.period_start == start, DutyEdition.period_end == end
            )
        ).all()
    )
    edition = DutyEdition(
        title=f"政务数据共享责任清单（{start.isoformat()} 至 {(end - dt.timedelta(days=1)).isoformat()}）",
        period_start=start, period_end=end, number=number, status="draft",
        compiled_at=utcnow(), compiled_by=actor.id,
    )  # fmt: skip
    ordered = sorted(
        (f for f in found.values() if f.org_id in orgs),
        key=lambda f: (("province", "city", "county").index(orgs[f.org_id].level)
                       if orgs[f.org_id].level in ("province", "city", "county") else 3,
                       orgs[f.org_id].region_code, orgs[f.org_id].name),
    )  # fmt: skip
    for position, fig in enumerate(ordered):
        org = orgs[fig.org_id]
        edition.entries.append(
            DutyEntry(
                position=position,
                org_id=org.id,
                org_name=org.name,
                region_code=org.region_code,
                level=org.level,
                resources_unconditional=fig.resources_unconditional,
                resources_conditional=fig.resources_conditional,
                duty_items=fig.duty_items,
                duty_items_fulfilled=fig.duty_items_fulfilled,
                grants_active=fig.grants_active,
                requests_received=fig.requests_received,
                auto_granted=fig.auto_granted,
                approved=fig.approved,
                refused=fig.refused,
                pending=fig.pending,
                withdrawn=fig.withdrawn,
                overdue=fig.overdue,
                median_days=fig.median_days,
                p90_days=fig.p90_days,
                on_time_ratio=fig.on_time_ratio,
                never_requested=len(fig.never_requested_names),
                details={
                    "never_requested": sorted(fig.never_requested_names)[:MAX_NAMES],
                    "missing_duties": sorted(fig.missing_duties)[:MAX_NAMES],
                },
            )
        )
    session.add(edition)
    session.flush()
    events.emit(
        session, COMPILED, actor, subject=edition, period_start=start, period_end=end,
        number=number, departments=len(edition.entries),
    )  # fmt: skip
    return edition


def compile_monthly(session: Session, today: dt.date | None = None) -> DutyEdition | None:
    """The periodic job: compile the previous month's draft unless one exists already."""
    start, end = previous_month(today)
    exists = session.scalar(
        select(DutyEdition.id).where(
            DutyEdition.period_start == start, DutyEdition.period_end == end
        )
    )
    return None if exists else compile_edition(session, SYSTEM, start, end)


def get_edition(session: Session, actor: Actor, edition_id: int) -> DutyEdition:
    """A published edition for anyone; a draft for the bureau only."""
    edition = session.get(DutyEdition, edition_id)
    if edition is None or (
        edition.status != "published" and not access.decide(actor, "sharing.duties")
    ):
        raise DutyEditionNotFound(edition=edition_id)
    return edition


def list_editions(session: Session, actor: Actor) -> list[DutyEdition]:
    """Published editions, newest first; drafts too for the bureau."""
    query = select(DutyEdition).order_by(DutyEdition.period_end.desc(), DutyEdition.id.desc())
    if not access.decide(actor, "sharing.duties"):
        query = query.where(DutyEdition.status == "published")
    return list(session.scalars(query.limit(200)))


def publish(session: Session, actor: Actor, edition_id: int) -> DutyEdition:
    """The bureau publishes a draft; it never changes afterwards.
    Emits ``sharing.duty_list_published``."""
    access.require(actor, "sharing.duties")
    edition = session.get(DutyEdition, edition_id)
    if edition is None:
        raise DutyEditionNotFound(edition=edition_id)
    if edition.status == "published":
        raise DutyEditionPublished(edition=edition_id)
    edition.status, edition.published_at, edition.published_by = "published", utcnow(), actor.id
    session.flush()
    events.emit(
        session, PUBLISHED, actor, subject=edition, period_start=edition.period_start,
        period_end=edition.period_end, number=edition.number, departments=len(edition.entries),
    )  # fmt: skip
    return edition


# --- exports ----------------------------------------------------------------------------------------


def _row(entry: DutyEntry) -> list[object]:
    values = []
    for name, _zh, _en in COLUMNS:
        value = getattr(entry, name)
        values.append(str(value) if isinstance(value, Decimal) else value)
    return values


def export_csv(edition: DutyEdition, locale: str = "zh_CN") -> bytes:
    """The edition as CSV (UTF-8 with BOM, so spreadsheet programs read the Chinese), its
    column titles in ``locale``."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow([title for _name, title in columns(locale)])
    for entry in edition.entries:
        writer.writerow(exports.csv_row(_row(entry)))
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


def export_xlsx(edition: DutyEdition, locale: str = "zh_CN") -> bytes:
    """The edition as an Excel workbook, one sheet, its column titles in ``locale``."""
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    sheet.title = "Duty list" if locale.lower().startswith("en") else "共享责任清单"
    exports.xlsx_append(sheet, [edition.title])
    exports.xlsx_append(sheet, [title for _name, title in columns(locale)])
    for entry in edition.entries:
        exports.xlsx_append(sheet, _row(entry))
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
