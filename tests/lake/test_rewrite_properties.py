"""Properties of the policy rewrite (hypothesis): whatever the grant and the query, the
result holds only permitted columns, only admitted rows, never a raw value under a mask,
and a name outside the grant never reaches the engine."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tests.lake.conftest import people

from longshu import lake
from longshu.lake.errors import ColumnNotGranted, QueryInvalid, QueryRefused
from longshu.lake.policy import Grant, Mask, TableGrant, rows_where

COLUMNS = ["id", "id_number", "name", "birth_date", "region_code", "income"]
REGIONS = ["620102", "620103", "620202", "620502", "620702", "620902"]
TEXT_MASKS = ["hash", "pseudonym", "keep_last"]
RAW = people().to_pylist()
FAST = settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)


@st.composite
def grants(draw):
    visible = draw(st.lists(st.sampled_from(COLUMNS), min_size=1, unique=True))
    masks = {}
    for column in visible:
        if column in ("id_number", "name") and draw(st.booleans()):
            masks[column] = Mask(kind=draw(st.sampled_from(TEXT_MASKS)), keep=2)
        elif column == "income" and draw(st.booleans()):
            masks[column] = Mask(kind="null")
    regions = draw(st.none() | st.lists(st.sampled_from(REGIONS), unique=True))
    table = TableGrant(
        table="population",
        columns=tuple(visible),
        masks=masks,
        row_filter=None if regions is None else rows_where("region_code", regions),
    )
    return Grant(id="g", consumer="org:9", tables=(table,)), regions


@FAST
@given(case=grants(), asked=st.lists(st.sampled_from(COLUMNS), min_size=1, unique=True))
def test_only_permitted_columns_and_admitted_rows(population, session, consumer, case, asked):
    grant, regions = case
    visible = grant.tables[0].columns
    sql = "SELECT " + ", ".join(asked) + " FROM population ORDER BY 1"
    if not set(asked) <= set(visible):
        with pytest.raises(ColumnNotGranted):
            lake.access(session, consumer, grant, sql)
        return
    rows = lake.access(session, consumer, grant, sql).to_pylist()
    admitted = [r for r in RAW if regions is None or r["region_code"] in regions]
    assert len(rows) == len(admitted)
    assert all(list(r) == asked for r in rows)
    star = lake.access(session, consumer, grant, "SELECT * FROM population")
    assert star.data.column_names == [c for c in COLUMNS if c in visible]
    for column, mask in grant.tables[0].masks.items():
        if column in asked:
            raw_values = {r[column] for r in RAW}
            assert not any(r[column] in raw_values for r in rows if r[column] is not None), mask


@FAST
@given(name=st.text(min_size=1, max_size=30))
def test_names_outside_the_grant_never_run(population, session, consumer, name):
    grant = Grant(id="g", consumer="c", tables=(TableGrant(table="population"),))
    quoted = '"' + name.replace('"', '""') + '"'
    if name == "population":
        return
    with pytest.raises((QueryRefused, QueryInvalid)):
        lake.access(session, consumer, grant, f"SELECT * FROM {quoted}")
