"""``longshu governance scan | govern | quality | ranking``."""

from __future__ import annotations

from typer.testing import CliRunner

from longshu.actor import SYSTEM
from longshu.governance import cli
from longshu.governance.cli import app
from longshu.lake import tables

runner = CliRunner()


def test_scan_govern_quality_and_ranking_from_the_command_line(
    db, population, population_rows, monkeypatch
):
    monkeypatch.setattr(cli.console, "width", 200)
    with db.session() as s:  # governance on load is off here: the commands do the work
        tables.write_version(s, SYSTEM, "population", population_rows(200, bad_ids=4))
        s.commit()
    scanned = runner.invoke(app, ["scan", "population", "--full"])
    assert scanned.exit_code == 0, scanned.output
    assert "200 rows checked (full)" in scanned.output and "sfzh" in scanned.output
    governed = runner.invoke(app, ["govern", "population"])
    assert governed.exit_code == 0 and "'quality':" in governed.output
    scored = runner.invoke(app, ["quality", "population"])
    assert scored.exit_code == 0 and "score" in scored.output and "checksum" in scored.output
    ranked = runner.invoke(app, ["ranking"])
    assert ranked.exit_code == 0 and "公安厅" in ranked.output
    missing = runner.invoke(app, ["scan", "nope"])
    assert missing.exit_code == 2 and "nope" in missing.output
