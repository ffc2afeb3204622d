from __future__ import annotations

from typer.testing import CliRunner

from longshu.lake import cli
from longshu.lake.cli import app

runner = CliRunner()


def test_tables_versions_verify(population, monkeypatch):
    monkeypatch.setattr(cli.console, "width", 200)
    listed = runner.invoke(app, ["tables"])
    assert listed.exit_code == 0 and "population" in listed.output and "1 (ready)" in listed.output
    versions = runner.invoke(app, ["versions", "population"])
    assert versions.exit_code == 0 and "snapshot" in versions.output
    verified = runner.invoke(app, ["verify", "population", "1"])
    assert verified.exit_code == 0 and "✓" in verified.output
    missing = runner.invoke(app, ["verify", "population", "9"])
    assert missing.exit_code == 2 and "9" in missing.output
    kept = runner.invoke(app, ["retention", "population"])
    assert kept.exit_code == 0 and "purged -" in kept.output
