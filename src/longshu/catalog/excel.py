"""Bulk import and export of catalog entries with the Excel template departments fill in: one
sheet for resources (资源), one for their fields (信息项), a third explaining the allowed values.

Import is all or nothing: every row is checked by the same rules as the forms, each problem is
reported with its sheet, row and column, and if there is any problem nothing is written. Files
that are not workbooks, too large, packed to expand enormously, or that carry merged cells or
formulas are refused with a reason before any row is read.
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from openpyxl import Workbook, load_workbook
from openpyxl.styles import Font, PatternFill
from openpyxl.worksheet.datavalidation import DataValidation
from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from longshu import events
from longshu.actor import Actor
from longshu.catalog import service
from longshu.catalog.errors import ImportRejected, InvalidWorkbook, WorkbookTooLarge
from longshu.catalog.models import DataElement, Resource
from longshu.catalog.rules import FieldData, ResourceData
from longshu.catalog.vocab import (
    BASE_DATABASES,
    DOMAINS,
    FIELD_TYPES,
    FORMATS,
    KINDS,
    OPEN_TYPES,
    SHARE_TYPES,
    THEME_DATABASES,
    UPDATE_CYCLES,
    Term,
    code_for_title,
)
from longshu.errors import LongshuError
from longshu.exports import xlsx_append
from longshu.security import access

MAX_BYTES = 5 * 1024 * 1024
MAX_UNPACKED = 60 * 1024 * 1024
MAX_ROWS = 5000
RESOURCES, FIELDS, HELP = "资源", "信息项", "填写说明"

IMPORTED = events.define("catalog.imported", "目录已批量导入", "Catalog entries imported")

# (header, attribute, vocabulary or None, multi-valued)
RESOURCE_COLUMNS: tuple[tuple[str, str, dict[str, Term] | None, bool], ...] = (
    ("资源代码", "code", None, False),
    ("资源名称", "name", None, False),
    ("资源摘要", "summary", None, False),
    ("领域", "domain", DOMAINS, False),
    ("基础库", "base_databases", BASE_DATABASES, True),
    ("主题库", "theme_databases", THEME_DATABASES, True),
    ("共享类型", "share_type", SHARE_TYPES, False),
    ("共享条件或不予共享依据", "share_conditions", None, False),
    ("开放类型", "open_type", OPEN_TYPES, False),
    ("开放条件", "open_conditions", None, False),
    ("更新周期", "update_cycle", UPDATE_CYCLES, False),
    ("资源格式", "formats", FORMATS, True),
    ("资源形态", "kind", KINDS, False),
    ("来源系统", "source_system", None, False),
    ("联系人", "contact_name", None, False),
    ("联系电话", "contact_phone", None, False),
    ("电子邮箱", "contact_email", None, False),
    ("关键词", "keywords", None, True),
    ("许可协议", "licence", None, False),
)
FIELD_COLUMNS: tuple[tuple[str, str, dict[str, Term] | None], ...] = (
    ("所属资源（代码或名称）", "resource", None),
    ("字段名", "name", None),
    ("中文名称", "label", None),
    ("数据类型", "data_type", FIELD_TYPES),
    ("长度", "length", None),
    ("单位", "unit", None),
    ("描述", "description", None),
    ("数据元代码", "element", None),
    ("示例", "example", None),
)
# Reasons a workbook or a cell is refused (translated in catalog.po).
EXCEL_MESSAGES = {
    "not_xlsx": "it is not an Excel .xlsx file.",
    "packed": "its contents would unpack to more than 60 MB.",
    "sheet": "the sheet {sheet} is missing (the template has 资源 and 信息项).",
    "headers": "the sheet {sheet} lacks the columns {columns}.",
    "rows": "the sheet {sheet} has more than {limit} rows.",
    "merged": "merged cells {cells} are not allowed; unmerge them.",
    "formula": "the cell holds a formula; enter the value itself.",
    "unknown_value": "{value} is not one of the allowed values.",
    "number": "{value} is not a whole number.",
    "required": "this column must be filled in.",
    "duplicate_name": "another row of the workbook has the same resource name.",
    "no_resource": "no resource of the workbook has this code or name.",
    "unknown_element": "no data element has the code {value}.",
}


@dataclass
class Problem:
    """One refused cell or row: where, and why (translated when shown)."""

    sheet: str
    row: int
    column: str
    template: str
    params: dict[str, object] = field(default_factory=dict)
    error: LongshuError | None = None

    def message(self, gettext: Any = None) -> str:
        if self.error is not None:
            return self.error.render(gettext)
        text = gettext(self.template) if gettext else self.template
        try:
            return text.format(**self.params)
        except (KeyError, IndexError):
            return text

    def as_dict(self, gettext: Any = None) -> dict[str, object]:
        return {
            "sheet": self.sheet,
            "row": self.row,
            "column": self.column,
            "message": self.message(gettext),
        }


@dataclass
class ImportSummary:
    created: list[str] = field(default_factory=list)  # codes
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)


@dataclass
class _Row:
    number: int
    code: str | None
    data: ResourceData
    fields: list[tuple[int, FieldData]] = field(default_factory=list)


# --- reading ----------------------------------------------------------------------------------


def open_workbook(content: bytes) -> Any:
    """The workbook, after the checks that need no row: size, packing, sheets."""
    if len(content) > MAX_BYTES:
        raise WorkbookTooLarge(limit=MAX_BYTES // (1024 * 1024))
    try:
        with zipfile.ZipFile(io.BytesIO(content)) as archive:
            names = archive.namelist()
            unpacked = sum(info.file_size for info in archive.infolist())
    except (zipfile.BadZipFile, ValueError):
        raise InvalidWorkbook(detail=EXCEL_MESSAGES["not_xlsx"]) from None
    if "[Content_Types].xml" not in names or not any(n.startswith("xl/") for n in names):
        raise InvalidWorkbook(detail=EXCEL_MESSAGES["not_xlsx"])
    if unpacked > MAX_UNPACKED:
        raise InvalidWorkbook(detail=EXCEL_MESSAGES["packed"])
    try:
        return load_workbook(io.BytesIO(content), data_only=False)
    except Exception:  # openpyxl raises many kinds for a damaged package
        raise InvalidWorkbook(detail=EXCEL_MESSAGES["not_xlsx"]) from None


def _problem(sheet: str, row: int, column: str, key: str, **params: object) -> Problem:
    return Problem(sheet, row, column, EXCEL_MESSAGES[key], params)


class _BadValue(ValueError):
    def __init__(self, key: str, **params: object) -> None:
        self.key, self.params = key, params
        super().__init__(key)


def _sheet(workbook: Any, name: str, headers: Iterable[str]) -> tuple[Any, dict[str, int]]:
    if name not in workbook.sheetnames:
        raise InvalidWorkbook(detail=EXCEL_MESSAGES["sheet"], sheet=name)
    sheet = workbook[name]
    if sheet.max_row > MAX_ROWS + 1:
        raise InvalidWorkbook(detail=EXCEL_MESSAGES["rows"], sheet=name, limit=MAX_ROWS)
    first = [str(c.value).strip() if c.value is not None else "" for c in sheet[1]]
    positions = {header: i for i, header in enumerate(first) if header}
    missing = [h for h in headers if h not in positions]
    if missing:
        raise InvalidWorkbook(
            detail=EXCEL_MESSAGES["headers"], sheet=name, columns="、".join(missing)
        )
    return sheet, positions


def _cell_problems(sheet: Any, name: str) -> list[Problem]:
    problems = [
        _problem(name, rng.min_row, rng.coord, "merged", cells=rng.coord)
        for rng in sheet.merged_cells.ranges
    ]
    for row in sheet.iter_rows(min_row=2):
        for cell in row:
            if cell.data_type == "f":
                problems.append(_problem(name, cell.row, cell.coordinate, "formula"))
    return problems


def _text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    text = str(value).strip()
    return text or None


def _vocab(value: str | None, vocabulary: dict[str, Term], multi: bool) -> Any:
    if value is None:
        return [] if multi else None
    parts = [p for p in _split(value)] if multi else [value]
    out = []
    for part in parts:
        code = code_for_title(vocabulary, part) or code_for_title(vocabulary, part.upper())
        if code is None:
            raise _BadValue("unknown_value", value=part[:40])
        out.append(code)
    return out if multi else out[0]


def _split(value: str) -> list[str]:
    import re

    return [p.strip() for p in re.split(r"[,，;；、\n]+", value) if p.strip()]


def parse(session: Session, workbook: Any) -> tuple[list[_Row], list[Problem]]:
    """Rows of the workbook as entries (with their fields), and every problem found."""
    resources, rpos = _sheet(workbook, RESOURCES, [c[0] for c in RESOURCE_COLUMNS])
    fields_sheet, fpos = _sheet(workbook, FIELDS, [c[0] for c in FIELD_COLUMNS])
    problems = _cell_problems(resources, RESOURCES) + _cell_problems(fields_sheet, FIELDS)
    rows: list[_Row] = []
    bad: set[int] = set()
    for cells in resources.iter_rows(min_row=2):
        values = [c.value for c in cells]
        if all(_text(v) is None for v in values):
            continue
        number = cells[0].row
        raw: dict[str, Any] = {}
        for header, attribute, vocabulary, multi in RESOURCE_COLUMNS:
            value = _text(values[rpos[header]]) if rpos[header] < len(values) else None
            try:
                if vocabulary is not None:
                    raw[attribute] = _vocab(value, vocabulary, multi)
                elif multi:
                    raw[attribute] = _split(value) if value else []
                else:
                    raw[attribute] = value
            except _BadValue as exc:
                problems.append(_problem(RESOURCES, number, header, exc.key, **exc.params))
                raw[attribute] = None
                bad.add(number)
        code = raw.pop("code")
        data = ResourceData(
            **{k: (v if v is not None else "") if k in _REQUIRED else v for k, v in raw.items()}
        )
        rows.append(_Row(number, code, data))
        for attribute in _REQUIRED:
            if not getattr(data, attribute) and number not in bad:
                header = next(h for h, a, _v, _m in RESOURCE_COLUMNS if a == attribute)
                problems.append(_problem(RESOURCES, number, header, "required"))
                bad.add(number)
    by_key: dict[str, _Row] = {}
    for row in rows:
        for key in (row.code, row.data.name):
            if not key:
                continue
            if key in by_key and by_key[key] is not row:
                problems.append(_problem(RESOURCES, row.number, "资源名称", "duplicate_name"))
                bad.add(row.number)
            by_key[key] = row
    elements = dict(session.execute(select(DataElement.code, DataElement.id)).all())
    for cells in fields_sheet.iter_rows(min_row=2):
        values = [c.value for c in cells]
        if all(_text(v) is None for v in values):
            continue
        number = cells[0].row
        raw = {
            attr: (_text(values[fpos[h]]) if fpos[h] < len(values) else None)
            for h, attr, _v in FIELD_COLUMNS
        }
        owner = by_key.get(raw["resource"] or "")
        if owner is None:
            problems.append(_problem(FIELDS, number, FIELD_COLUMNS[0][0], "no_resource"))
            continue
        try:
            data_type = _vocab(raw["data_type"], FIELD_TYPES, False) or "string"
        except _BadValue as exc:
            problems.append(_problem(FIELDS, number, "数据类型", exc.key, **exc.params))
            data_type = "string"
            bad.add(owner.number)
        length: Any = raw["length"]
        if length is not None:
            try:
                length = int(length)
            except ValueError:
                problems.append(_problem(FIELDS, number, "长度", "number", value=length[:20]))
                length = None
                bad.add(owner.number)
        element_id = None
        if raw["element"]:
            element_id = elements.get(raw["element"].upper())
            if element_id is None:
                problems.append(
                    _problem(
                        FIELDS, number, "数据元代码", "unknown_element", value=raw["element"][:20]
                    )
                )
                bad.add(owner.number)
        owner.fields.append(
            (
                number,
                FieldData(
                    name=raw["name"] or "",
                    label=raw["label"] or "",
                    data_type=data_type,
                    length=length,
                    unit=raw["unit"],
                    description=raw["description"],
                    element_id=element_id,
                    example=raw["example"],
                ),
            )
        )
    for row in rows:
        row.data.fields = [f for _n, f in row.fields]
    return [r for r in rows if r.number not in bad], problems


_REQUIRED = {"name", "summary", "domain", "share_type", "open_type", "update_cycle", "kind"}


# --- importing --------------------------------------------------------------------------------


def import_workbook(
    session: Session, actor: Actor, content: bytes, provider_org_id: int | None = None
) -> ImportSummary:
    """Create or update the workbook's entries for the provider (default: the actor's
    department), all or nothing. A row with the code of an existing entry updates it (a new
    revision); other rows create drafts (keeping a supplied code after checking it)."""
    access.require(actor, "catalog.edit")
    workbook = open_workbook(content)
    rows, problems = parse(session, workbook)
    summary = ImportSummary()
    provider = provider_org_id if provider_org_id is not None else actor.org_id
    transaction = session.begin_nested()
    try:
        for row in rows:
            try:
                with session.begin_nested():
                    _write(session, actor, row, provider, summary)
            except LongshuError as error:
                problems.append(Problem(RESOURCES, row.number, _column_of(error), "", error=error))
        if problems:
            raise ImportRejected(sorted(problems, key=_order))
    except BaseException:
        transaction.rollback()
        raise
    transaction.commit()
    events.emit(
        session, IMPORTED, actor, provider_org_id=provider, created=len(summary.created),
        updated=len(summary.updated), unchanged=len(summary.unchanged),
    )  # fmt: skip
    return summary


def _order(problem: Problem) -> tuple[int, int, str]:
    return (0 if problem.sheet == RESOURCES else 1, problem.row, problem.column)


def _column_of(error: LongshuError) -> str:
    attribute = str(getattr(error, "field", "") or "")
    if attribute.startswith("fields"):
        return "信息项"
    for header, name, _v, _m in RESOURCE_COLUMNS:
        if name == attribute:
            return header
    return "资源代码" if "code" in error.key else "-"


def _write(
    session: Session, actor: Actor, row: _Row, provider: int | None, summary: ImportSummary
) -> None:
    existing = None
    if row.code:
        existing = session.scalar(select(Resource).where(Resource.code == row.code.strip().upper()))
    if existing is not None and existing.provider_org_id == provider:
        before = existing.revision
        service.update_resource(session, actor, existing.id, row.data, note="Excel 导入")
        (summary.updated if existing.revision != before else summary.unchanged).append(
            existing.code
        )
        return
    created = service.create_resource(
        session, actor, row.data, provider_org_id=provider, code=row.code, note="Excel 导入"
    )
    summary.created.append(created.code)


# --- exporting --------------------------------------------------------------------------------

HEADER_FILL = PatternFill("solid", fgColor="DDEBF7")


def template() -> bytes:
    """The empty template, with the allowed values as drop-down lists and a help sheet."""
    return _workbook([])


def export(session: Session, actor: Actor, provider_org_id: int | None = None) -> bytes:
    """The working copies the actor may see (a department: its own), in the template's shape,
    so a department can edit them in Excel and import them back."""
    where = service.ResourceFilter(provider_org_id=provider_org_id)
    page, _total = service.list_resources(session, actor, where, limit=service.MAX_PAGE)
    ids = [r.id for r in page]
    resources = list(
        session.scalars(
            select(Resource)
            .where(Resource.id.in_(ids))
            .options(selectinload(Resource.fields))
            .order_by(Resource.code)
        )
    )
    return _workbook(
        resources, dict(session.execute(select(DataElement.id, DataElement.code)).all())
    )


def _title(vocabulary: dict[str, Term], code: str) -> str:
    return vocabulary[code].title_zh if code in vocabulary else code


def _workbook(resources: list[Resource], element_codes: dict[int, str] | None = None) -> bytes:
    book = Workbook()
    sheet = book.active
    sheet.title = RESOURCES
    sheet.append([h for h, _a, _v, _m in RESOURCE_COLUMNS])
    for resource in resources:
        row = []
        for _h, attribute, vocabulary, multi in RESOURCE_COLUMNS:
            value = getattr(resource, attribute)
            if vocabulary is not None:
                value = (
                    "、".join(_title(vocabulary, v) for v in value)
                    if multi
                    else _title(vocabulary, value)
                )
            elif multi:
                value = "、".join(value)
            row.append(value)
        xlsx_append(sheet, row)  # text typed as "=…" stays text (formula injection)
    fields = book.create_sheet(FIELDS)
    fields.append([h for h, _a, _v in FIELD_COLUMNS])
    for resource in resources:
        for item in resource.fields:
            xlsx_append(
                fields,
                [
                    resource.code, item.name, item.label, _title(FIELD_TYPES, item.data_type),
                    item.length, item.unit, item.description,
                    (element_codes or {}).get(item.element_id or 0), item.example,
                ]
            )  # fmt: skip
    for ws in (sheet, fields):
        for cell in ws[1]:
            cell.font = Font(bold=True)
            cell.fill = HEADER_FILL
        ws.freeze_panes = "A2"
        for column in ws.columns:
            ws.column_dimensions[column[0].column_letter].width = 18
    _help_sheet(book)
    _dropdowns(book, sheet, fields)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _help_sheet(book: Workbook) -> None:
    ws = book.create_sheet(HELP)
    ws.append(["栏目", "可填写的值（中文名称或代码均可；多个值用顿号、逗号分隔）"])
    for header, _a, vocabulary, _m in RESOURCE_COLUMNS:
        if vocabulary is not None:
            ws.append([header, "、".join(f"{t.title_zh}（{t.code}）" for t in vocabulary.values())])
    ws.append(["数据类型", "、".join(f"{t.title_zh}（{t.code}）" for t in FIELD_TYPES.values())])
    ws.append(["资源代码", "新资源留空，由平台按 分类码/区划-部门-顺序-校验 编码；已有代码照填"])
    ws.append(["注意", "不要合并单元格，不要使用公式；一次最多 5000 行，文件不超过 5 MB"])
    ws.column_dimensions["A"].width = 16
    ws.column_dimensions["B"].width = 120


def _dropdowns(book: Workbook, resources: Any, fields: Any) -> None:
    """Drop-down lists of Chinese titles for the single-valued vocabulary columns."""
    lists = book.create_sheet("_lists")
    lists.sheet_state = "hidden"
    column = 1
    targets = [
        (resources, i, v) for i, (_h, _a, v, m) in enumerate(RESOURCE_COLUMNS) if v and not m
    ]
    targets.append((fields, 3, FIELD_TYPES))
    for ws, index, vocabulary in targets:
        letter = lists.cell(row=1, column=column).column_letter
        for row, term in enumerate(vocabulary.values(), start=1):
            lists.cell(row=row, column=column, value=term.title_zh)
        rule = DataValidation(
            type="list",
            formula1=f"=_lists!${letter}$1:${letter}${len(vocabulary)}",
            allow_blank=True,
        )
        ws.add_data_validation(rule)
        target = ws.cell(row=2, column=index + 1).column_letter
        rule.add(f"{target}2:{target}{MAX_ROWS + 1}")
        column += 1
