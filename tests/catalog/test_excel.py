"""Bulk import and export with the Excel template: round trips, row-by-row reports, all or
nothing, and the malformed files departments send."""

from __future__ import annotations

import io
import zipfile

import pytest
from openpyxl import load_workbook
from sqlalchemy import func, select
from tests.catalog.conftest import sample

from longshu.catalog import elements, excel, service
from longshu.catalog.errors import ImportRejected, InvalidWorkbook, WorkbookTooLarge
from longshu.catalog.models import Resource

RESOURCE_ROW = {
    "资源名称": "全省星级饭店名录",
    "资源摘要": "全省星级饭店的名称、星级、地址。",
    "领域": "文化旅游",
    "基础库": "",
    "主题库": "",
    "共享类型": "无条件共享",
    "开放类型": "无条件开放",
    "更新周期": "每季度",
    "资源格式": "CSV、xlsx",
    "资源形态": "数据表",
    "关键词": "饭店，住宿",
    "联系电话": 93112345678,
}


def workbook(resources: list[dict], fields: list[list], mutate=None) -> bytes:
    book = load_workbook(io.BytesIO(excel.template()))
    sheet = book[excel.RESOURCES]
    headers = [c.value for c in sheet[1]]
    for row in resources:
        sheet.append([row.get(h) for h in headers])
    for row in fields:
        book[excel.FIELDS].append(row)
    if mutate:
        mutate(book)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def count(session) -> int:
    return session.scalar(select(func.count()).select_from(Resource))


def test_a_department_imports_entries_with_fields(session, people, orgs):
    element = elements.create_element(
        session, people["bureau"], code="DE0100", name="统一社会信用代码", definition="GB 32100。",
        length=18,
    )  # fmt: skip
    content = workbook(
        [RESOURCE_ROW, {**RESOURCE_ROW, "资源名称": "乡村旅游重点村", "资源形态": "documents"}],
        [
            ["全省星级饭店名录", "fdmc", "饭店名称", "字符型", 100],
            [
                "全省星级饭店名录",
                "tyshxydm",
                "统一社会信用代码",
                "string",
                18,
                None,
                None,
                "de0100",
            ],
        ],
    )
    try:
        summary = excel.import_workbook(session, people["editor"], content)
    except ImportRejected as refused:
        pytest.fail(str([p.as_dict() for p in refused.problems]))
    assert len(summary.created) == 2
    hotel = session.scalar(select(Resource).where(Resource.name == "全省星级饭店名录"))
    assert hotel.formats == ["CSV", "XLSX"] and hotel.keywords == ["饭店", "住宿"]
    assert [f.name for f in hotel.fields] == ["fdmc", "tyshxydm"]
    assert hotel.fields[1].element_id == element.id and hotel.contact_phone == "93112345678"


def test_export_then_import_is_a_round_trip(session, people):
    service.create_resource(session, people["editor"], sample())
    content = excel.export(session, people["editor"])
    summary = excel.import_workbook(session, people["editor"], content)
    assert summary.created == [] and summary.updated == [] and len(summary.unchanged) == 1
    book = load_workbook(io.BytesIO(content))
    book[excel.RESOURCES]["B2"] = "全省A级旅游景区名录（修订）"
    out = io.BytesIO()
    book.save(out)
    again = excel.import_workbook(session, people["editor"], out.getvalue())
    assert len(again.updated) == 1
    entry = session.scalar(select(Resource))
    assert entry.revision == 2 and entry.name.endswith("（修订）")


def test_bad_rows_are_reported_and_nothing_is_imported(session, people):
    content = workbook(
        [
            RESOURCE_ROW,
            {**RESOURCE_ROW, "资源名称": "第二个", "领域": "占星"},
            {**RESOURCE_ROW, "资源名称": "第三个", "共享类型": "有条件共享"},
            {**RESOURCE_ROW, "资源名称": "第四个", "资源代码": "101001/620000-001-00001-0"},
        ],
        [["不存在的资源", "x", "甲"], ["全省星级饭店名录", "abc", "乙", "字符型", "很长"]],
    )
    with pytest.raises(ImportRejected) as refused:
        excel.import_workbook(session, people["editor"], content)
    found = [(p.sheet, p.row, p.column) for p in refused.value.problems]
    assert ("资源", 3, "领域") in found
    assert ("资源", 4, "共享条件或不予共享依据") in found
    assert ("资源", 5, "资源代码") in found
    assert ("信息项", 2, "所属资源（代码或名称）") in found and ("信息项", 3, "长度") in found
    assert count(session) == 0
    messages = [p.message() for p in refused.value.problems]
    assert any("check character" in m for m in messages)


def test_another_departments_code_cannot_be_imported(session, people):
    theirs = service.create_resource(session, people["other"], sample(domain="meteorology"))
    content = workbook([{**RESOURCE_ROW, "资源代码": theirs.code}], [])
    with pytest.raises(ImportRejected) as refused:
        excel.import_workbook(session, people["editor"], content)
    assert refused.value.problems[0].column == "资源代码"
    assert count(session) == 1


def _without(sheet_name):
    def mutate(book):
        del book[sheet_name]

    return mutate


@pytest.mark.parametrize(
    ("content", "error"),
    [
        (b"PK\x03\x04 definitely not a zip", InvalidWorkbook),
        ("名称,摘要\n甲,乙\n".encode(), InvalidWorkbook),
        (b"\x00" * (10 * 1024 * 1024), WorkbookTooLarge),
    ],
)
def test_files_that_are_not_workbooks_are_refused(session, people, content, error):
    with pytest.raises(error):
        excel.import_workbook(session, people["editor"], content)


def test_wrong_sheets_and_columns_are_refused(session, people):
    with pytest.raises(InvalidWorkbook) as no_sheet:
        excel.import_workbook(session, people["editor"], workbook([], [], _without(excel.FIELDS)))
    assert "信息项" in str(no_sheet.value)

    def rename_column(book):
        book[excel.RESOURCES]["B1"] = "名称"

    with pytest.raises(InvalidWorkbook) as no_column:
        excel.import_workbook(session, people["editor"], workbook([], [], rename_column))
    assert "资源名称" in str(no_column.value)


def test_merged_cells_and_formulas_are_refused(session, people):
    def merge_and_compute(book):
        sheet = book[excel.RESOURCES]
        sheet.merge_cells("B3:C3")
        sheet["C2"] = '=CONCATENATE("甲","乙")'

    content = workbook([RESOURCE_ROW, {**RESOURCE_ROW, "资源名称": "乙"}], [], merge_and_compute)
    with pytest.raises(ImportRejected) as refused:
        excel.import_workbook(session, people["editor"], content)
    found = {(p.row, p.column) for p in refused.value.problems}
    assert (3, "B3:C3") in found and (2, "C2") in found
    assert count(session) == 0


def test_a_zip_bomb_is_refused_before_parsing(session, people):
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("xl/worksheets/sheet1.xml", b"<" + b" " * (70 * 1024 * 1024) + b">")
    with pytest.raises(InvalidWorkbook) as refused:
        excel.import_workbook(session, people["editor"], out.getvalue())
    assert "60 MB" in str(refused.value)


def test_the_template_has_dropdowns_and_help(session):
    book = load_workbook(io.BytesIO(excel.template()))
    assert book.sheetnames[:3] == ["资源", "信息项", "填写说明"]
    assert book[excel.RESOURCES].data_validations.dataValidation


def test_import_over_http_reports_problems_in_chinese(api, orgs, bearer):
    editor = bearer("dept_data_admin", org_id=orgs["culture_tourism"])
    bad = workbook([{**RESOURCE_ROW, "领域": "占星"}], [])
    response = api.post(
        "/api/v1/catalog/import", files={"file": ("目录.xlsx", bad, excel.XLSX if hasattr(excel, "XLSX") else "application/octet-stream")},
        headers=editor,
    )  # fmt: skip
    assert response.status_code == 422
    error = response.json()["error"]
    assert error["problems"][0]["row"] == 2 and "不是可选值" in error["problems"][0]["message"]
    good = api.post(
        "/api/v1/catalog/import",
        files={"file": ("目录.xlsx", workbook([RESOURCE_ROW], []))},
        headers=editor,
    )
    assert good.status_code == 200 and len(good.json()["created"]) == 1
    exported = api.get("/api/v1/catalog/export.xlsx", headers=editor)
    assert exported.status_code == 200 and exported.content[:2] == b"PK"
    junk = api.post("/api/v1/catalog/import", files={"file": ("x.xlsx", b"junk")}, headers=editor)
    assert junk.status_code == 422 and junk.json()["error"]["key"] == "catalog.invalid_workbook"
