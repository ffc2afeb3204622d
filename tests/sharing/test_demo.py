"""The demo sharing path `make run` shows: the transport department's request for the
population table, approved by the police reviewer and the bureau, usable at once."""

import datetime as dt
import json

import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from longshu import lake
from longshu.actor import SYSTEM
from longshu.cli import app
from longshu.demo import load_demo
from longshu.lake.policy import Grant, TableGrant
from longshu.sharing import deliveries, destruction, verify_service
from longshu.sharing.deliveries import Delivery
from longshu.sharing.demo import SCENARIO, _actor, demo_key_path, load_demo_sharing
from longshu.sharing.models import ShareGrant, ShareRequest
from longshu.sharing.query import QuerySpec, run_query
from longshu.workflow import history

ROWS = 3_000


@pytest.fixture
def demo(db, lake_env):
    with db.session() as s:
        load_demo(s, rows=ROWS)
    return db


def test_the_demo_request_is_granted_answers_masked_flows_back_and_loads_once(demo):
    with demo.session() as s:
        request = s.query(ShareRequest).filter_by(scenario=SCENARIO).one()
        item = request.items[0]
        assert item.state == "granted"
        moves = [
            e.record.transition for e in history(s, item.workflow_instance_id) if e.kind == "step"
        ]
        assert moves[-2:] == ["forward", "bureau_approve"]
        grant = s.query(ShareGrant).filter_by(item_id=item.id).one()
        assert set(grant.modes) == {"query", "verify", "batch"}
        assert grant.masks.get("gmsfhm")  # the ID number is masked for queries

        rows, facts = run_query(
            s, _actor(s, "jt_user"), grant.id, QuerySpec(("xm", "gmsfhm"), limit=5)
        )
        assert len(rows) == 5 and facts["masked"]
        assert all("*" in row["gmsfhm"] for row in rows)

    # the same demo (one load: each takes ~30 s on PostgreSQL)
    _the_demo_return_flow_gives_tianshui_its_own_rows(demo)
    _loading_the_demo_twice_files_no_second_request(demo)


def _loading_the_demo_twice_files_no_second_request(demo):
    from longshu.orgs.demo import load_demo_organisations

    with demo.session() as s:
        orgs = load_demo_organisations(s, SYSTEM)
        first = s.query(ShareGrant).count()
        assert load_demo_sharing(s, orgs) is not None
        assert s.query(ShareGrant).count() == first
        assert s.query(ShareRequest).filter_by(scenario=SCENARIO).count() == 1


def _the_demo_return_flow_gives_tianshui_its_own_rows(demo):
    from longshu.orgs.models import Organization
    from longshu.sharing.flow_models import ReturnFlow

    with demo.session() as s:
        flow = s.query(ReturnFlow).one()
        tianshui = s.query(Organization).filter_by(name="天水市卫生健康委员会").one()
        grant = s.query(ShareGrant).filter_by(consumer_org_id=tianshui.id).one()
        assert grant.status == "active" and grant.resource_id == flow.resource_id
        assert grant.regions and all(code.startswith("6205") for code in grant.regions)


def test_the_demo_consumer_verifies_receives_opens_and_confirms_destruction(demo, tmp_path):
    """What a user of `make run` does by hand, with the consumer's CLI tools."""

    with demo.session() as s:
        user = _actor(s, "jt_user")
        grant = s.query(ShareGrant).filter_by(consumer_org_id=user.org_id).one()
        police = _actor(s, "ga_reviewer")
        person = lake.access(
            s, police, _own_table_grant(s, grant), "SELECT gmsfhm, xm FROM population LIMIT 1"
        ).to_pylist()[0]
        answers = verify_service.verify(
            s, user, grant.id, [person["gmsfhm"], person["gmsfhm"]], [person["xm"], "查无此人"]
        )
        assert answers == ["match", "no_match"]

        delivery = s.query(Delivery).filter_by(grant_id=grant.id).one()
        assert delivery.state == "built" and delivery.rows == ROWS
        folder = deliveries.exchange_dir() / delivery.package_id
        delivery_id = delivery.id

    runner = CliRunner()
    out = tmp_path / "rows.parquet"
    opened = runner.invoke(
        app,
        ["sharing", "open-package", str(folder), "--key", str(demo_key_path()), "--out", str(out)],
    )
    assert opened.exit_code == 0, opened.output
    assert pq.read_table(out).num_rows == ROWS

    signed = runner.invoke(
        app, ["sharing", "sign-record", str(folder / "manifest.json"), "--key",
              str(demo_key_path()), "--kind", "destroyed"],
    )  # fmt: skip
    assert signed.exit_code == 0, signed.output
    body = json.loads(signed.output)
    with demo.session() as s:
        done = destruction.confirm_destruction(
            s, _actor(s, "jt_user"), delivery_id, signature=body["signature"],
            signed_at=dt.datetime.fromisoformat(body["signed_at"]), statement=body["statement"],
            package_id=body["package_id"],
        )  # fmt: skip
        assert done.state == "destroyed"
    assert not any(p.suffix == ".lse" for p in folder.iterdir())


def _own_table_grant(s, grant):
    """The provider reading its own table (to pick a real person for the check)."""
    return Grant(
        id="test:provider",
        consumer="org:police",
        purpose="test",
        tables=(TableGrant(table=grant.table_name, columns=("gmsfhm", "xm")),),
        holder_org_id=grant.provider_org_id,
    )
