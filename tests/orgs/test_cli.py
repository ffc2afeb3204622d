from __future__ import annotations

from typer.testing import CliRunner

from longshu.actor import SYSTEM
from longshu.orgs import cli
from longshu.orgs.cli import app
from longshu.orgs.demo import load_demo_organisations

runner = CliRunner()


def test_load_regions_twice_inserts_once(db):
    first = runner.invoke(app, ["load-regions"])
    second = runner.invoke(app, ["load-regions"])
    assert first.exit_code == 0 and "102 inserted" in first.output
    assert "0 inserted, 0 updated" in second.output


def test_regions_prints_a_city_and_its_counties(db):
    runner.invoke(app, ["load-regions"])
    result = runner.invoke(app, ["regions", "620900"])
    assert result.exit_code == 0
    assert "敦煌市" in result.output and "兰州市" not in result.output


def test_unknown_region_exits_with_the_message(db):
    runner.invoke(app, ["load-regions"])
    result = runner.invoke(app, ["regions", "610100"])
    assert result.exit_code == 2 and "610100" in result.output


def test_list_shows_the_demo_directory(db, monkeypatch):
    monkeypatch.setattr(cli.console, "width", 200)
    with db.session() as session:
        load_demo_organisations(session, SYSTEM)
    result = runner.invoke(app, ["list", "--region", "620900"])
    assert result.exit_code == 0
    assert "敦煌市文化和旅游局" in result.output and "甘肃省公安厅" not in result.output


def test_check_says_why_an_identifier_is_wrong():
    assert runner.invoke(app, ["check", "11010519491231002X"]).exit_code == 0
    bad = runner.invoke(app, ["check", "110105194912310021"])
    assert bad.exit_code == 1 and "checksum" in bad.output
    assert runner.invoke(app, ["check", "91350100M000100Y43"]).exit_code == 0
    assert "category" in runner.invoke(app, ["check", "94350100M000100Y43"]).output
