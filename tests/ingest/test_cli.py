"""``longshu ingest FILE --resource …`` through the real command (typer's CliRunner)."""

from __future__ import annotations

from typer.testing import CliRunner

from longshu.cli import app
from longshu.ingest import cli
from longshu.lake import tables

runner = CliRunner()


def test_a_file_is_loaded_by_resource_code_with_a_progress_bar(
    session, admin, lake_env, tmp_path, monkeypatch
):
    monkeypatch.setattr(cli.console, "width", 200)
    tables.create_table(session, admin, "scenic", resource_id=9, resource_code="GS-LY-9")
    session.commit()
    path = tmp_path / "visitors.csv"
    path.write_bytes("景区,人次\n莫高窟,6000\n麦积山,4000\n".encode("gbk"))
    done = runner.invoke(app, ["ingest", str(path), "--resource", "GS-LY-9"])
    assert done.exit_code == 0, done.output
    assert "scenic #1" in done.output and "2 rows" in done.output and "gbk" in done.output
    assert "visitors.csv" in done.output  # the progress bar's label
    more = tmp_path / "more.csv"
    more.write_text("景区,人次\n张掖丹霞,3000\n", encoding="utf-8")
    appended = runner.invoke(app, ["ingest", str(more), "-r", "scenic", "--mode", "append"])
    assert appended.exit_code == 0 and "scenic #2" in appended.output
    assert "3 rows" in appended.output  # the table now has 3 rows
    session.expire_all()
    assert tables.get_version(session, tables.get_table(session, "scenic"), 2).rows == 3


def test_a_malformed_file_prints_every_bad_row_in_chinese_and_fails(
    session, admin, lake_env, tmp_path, monkeypatch
):
    monkeypatch.setattr(cli.console, "width", 200)
    tables.create_table(session, admin, "scenic")
    session.commit()
    path = tmp_path / "bad.csv"
    path.write_text("景区,人次\n莫高窟,6000\n麦积山\n嘉峪关,1,2\n", encoding="utf-8")
    failed = runner.invoke(app, ["ingest", str(path), "--resource", "scenic"])
    assert failed.exit_code == 2
    lines = failed.output.splitlines()
    assert any(line.strip().startswith("3:") for line in lines)
    assert any(line.strip().startswith("4:") for line in lines)
    assert "字段" in failed.output  # the reasons are translated
    session.expire_all()
    assert tables.get_table(session, "scenic").versions == []


def test_sheet_and_key_options_reach_the_loader(session, admin, lake_env, tmp_path, monkeypatch):
    import openpyxl

    monkeypatch.setattr(cli.console, "width", 200)
    tables.create_table(session, admin, "scenic")
    session.commit()
    book = openpyxl.Workbook()
    book.active.title = "说明"
    sheet = book.create_sheet("客流")
    for row in (["id", "景区"], [1, "莫高窟"], [1, "鸣沙山"]):
        sheet.append(row)
    path = tmp_path / "v.xlsx"
    book.save(path)
    first = runner.invoke(app, ["ingest", str(path), "-r", "scenic", "--sheet", "客流"])
    assert first.exit_code == 0 and "'客流'" in first.output
    twice = runner.invoke(
        app,
        ["ingest", str(path), "-r", "scenic", "--sheet", "2", "--mode", "upsert", "--key", "id"],
    )
    assert twice.exit_code == 2 and "id" in twice.output  # the key repeats: refused
    missing = runner.invoke(app, ["ingest", str(tmp_path / "none.csv"), "-r", "scenic"])
    assert missing.exit_code == 2 and "none.csv" in missing.output


def test_the_header_can_be_stated(session, admin, lake_env, tmp_path, monkeypatch):
    """Year columns look like numbers, so sniffing takes them for data; --header says so."""
    monkeypatch.setattr(cli.console, "width", 200)
    tables.create_table(session, admin, "output")
    session.commit()
    path = tmp_path / "years.csv"
    path.write_text("2024,2025\n100,120\n200,230\n", encoding="utf-8")
    done = runner.invoke(app, ["ingest", str(path), "-r", "output", "--header"])
    assert done.exit_code == 0 and "2 rows" in done.output, done.output
    session.expire_all()
    version = tables.get_version(session, tables.get_table(session, "output"), 1)
    assert [c["name"] for c in version.schema] == ["c_2024", "c_2025"]
