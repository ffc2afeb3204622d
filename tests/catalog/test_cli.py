"""``longshu catalog``: search, reindex, export/import and DCAT from the command line."""

from __future__ import annotations

from tests.catalog.conftest import sample
from tests.catalog.test_excel import RESOURCE_ROW, workbook
from typer.testing import CliRunner

from longshu.actor import SYSTEM
from longshu.catalog import lifecycle, service
from longshu.catalog.cli import app

runner = CliRunner()


def test_search_reindex_export_import_and_dcat(db, orgs, tmp_path):
    with db.session() as s:
        entry = service.create_resource(
            s, SYSTEM, sample(), provider_org_id=orgs["culture_tourism"]
        )
        for move in ("submit", "approve", "publish"):
            lifecycle.take(s, SYSTEM, entry.id, move)
    found = runner.invoke(app, ["search", "景区"])
    assert found.exit_code == 0 and "1 matches" in found.output
    assert "indexed 1" in runner.invoke(app, ["reindex"]).output
    assert "1 matches" in runner.invoke(app, ["search", "景区"]).output
    out = tmp_path / "catalog.xlsx"
    assert runner.invoke(app, ["export", str(out)]).exit_code == 0 and out.stat().st_size > 0
    good = tmp_path / "new.xlsx"
    good.write_bytes(workbook([RESOURCE_ROW], []))
    imported = runner.invoke(app, ["import", str(good), "--provider", str(orgs["culture_tourism"])])
    assert imported.exit_code == 0 and "created 1" in imported.output
    bad = tmp_path / "bad.xlsx"
    bad.write_bytes(workbook([{**RESOURCE_ROW, "领域": "占星"}], []))
    refused = runner.invoke(app, ["import", str(bad), "--provider", str(orgs["culture_tourism"])])
    assert refused.exit_code == 2 and "占星" in refused.output
    ttl = tmp_path / "catalog.ttl"
    assert (
        runner.invoke(app, ["dcat", str(ttl)]).exit_code == 0 and "dcat:Dataset" in ttl.read_text()
    )
