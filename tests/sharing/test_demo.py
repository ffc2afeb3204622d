"""The demo sharing path `make run` shows: the transport department's request for the
population table, approved by the police reviewer and the bureau, usable at once."""

import pytest

from longshu.actor import SYSTEM
from longshu.demo import load_demo
from longshu.sharing.demo import SCENARIO, _actor, load_demo_sharing
from longshu.sharing.models import ShareGrant, ShareRequest
from longshu.sharing.query import QuerySpec, run_query
from longshu.workflow import history

ROWS = 3_000


@pytest.fixture
def demo(db, lake_env):
    with db.session() as s:
        load_demo(s, rows=ROWS)
    return db


def test_the_demo_request_is_granted_after_both_reviews_and_answers_queries_masked(demo):
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


def test_loading_the_demo_twice_files_no_second_request(demo):
    from longshu.orgs.demo import load_demo_organisations

    with demo.session() as s:
        orgs = load_demo_organisations(s, SYSTEM)
        first = s.query(ShareGrant).count()
        assert load_demo_sharing(s, orgs) is not None
        assert s.query(ShareGrant).count() == first
        assert s.query(ShareRequest).filter_by(scenario=SCENARIO).count() == 1


def test_the_demo_return_flow_gives_tianshui_its_own_rows(demo):
    from longshu.orgs.models import Organization
    from longshu.sharing.flow_models import ReturnFlow

    with demo.session() as s:
        flow = s.query(ReturnFlow).one()
        tianshui = s.query(Organization).filter_by(name="天水市卫生健康委员会").one()
        grant = s.query(ShareGrant).filter_by(consumer_org_id=tianshui.id).one()
        assert grant.status == "active" and grant.resource_id == flow.resource_id
        assert grant.regions and all(code.startswith("6205") for code in grant.regions)
