"""Chinese full-text search: two-character words, relevance, facets, filters, pages."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st
from tests.catalog.conftest import published

from longshu.catalog import search
from longshu.catalog.errors import InvalidSearch
from longshu.catalog.rules import FieldData
from longshu.catalog.search import SearchQuery, parse_query, terms


@pytest.fixture
def corpus(session, orgs):
    made = {
        "population": published(
            session, orgs["police"], name="全省常住人口统计数据", domain="public_security",
            base_databases=["population"], keywords=["户籍"], summary="各市州常住人口数量。",
            formats=["CSV"], share_type="conditional", share_conditions="用于政务服务",
        ),
        "weather": published(
            session, orgs["weather"], name="逐小时气象观测数据", domain="meteorology",
            keywords=["天气", "降水"], summary="全省国家级气象站逐小时观测。", formats=["JSON", "API"],
            kind="api", update_cycle="realtime",
        ),
        "traffic": published(
            session, orgs["transport"], name="高速公路路况信息", domain="transport_logistics",
            keywords=["交通", "路况", "人口流动"], summary="全省高速公路实时路况和管制信息。",
            update_cycle="realtime",
        ),
        "summary_only": published(
            session, orgs["statistics"], name="国民经济主要指标", domain="economy",
            keywords=["GDP"], summary="包括人口、就业和收入的年度指标。", update_cycle="yearly",
        ),
        "field_only": published(
            session, orgs["civil_affairs"], name="低保对象名册", domain="social_security",
            keywords=["救助"], summary="城乡最低生活保障对象。", open_type="none",
            fields=[FieldData("hkszd", "户口所在地人口类别", "string", 50)],
        ),
        "county": published(
            session, orgs["dunhuang_culture_tourism"], name="敦煌市旅游接待人数", domain="culture_tourism",
            keywords=["旅游", "莫高窟"], summary="敦煌市月度旅游接待人数。", update_cycle="monthly",
        ),
    }  # fmt: skip
    session.commit()
    return made


def ids(result):
    return [h.resource_id for h in result.hits]


@pytest.mark.parametrize(
    ("q", "key"), [("人口", "population"), ("气象", "weather"), ("交通", "traffic")]
)
def test_two_character_words_find_their_resources(session, people, corpus, q, key):
    found = search.search(session, people["consumer"], SearchQuery(q=q))
    assert corpus[key].id in ids(found)


def test_relevance_puts_name_before_keywords_before_summary_before_fields(session, people, corpus):
    found = search.search(session, people["consumer"], SearchQuery(q="人口"))
    order = ids(found)
    expected = ["population", "traffic", "summary_only", "field_only"]
    assert order == [corpus[key].id for key in expected]
    assert corpus["county"].id not in order  # 接待人数 has 人 and 口 apart, not 人口


def test_a_phrase_matches_only_as_written(session, people, corpus):
    assert ids(search.search(session, people["public"], SearchQuery(q="接待人数"))) == [
        corpus["county"].id
    ]
    assert search.search(session, people["public"], SearchQuery(q="人数接待")).total == 0
    assert ids(search.search(session, people["public"], SearchQuery(q="莫高窟"))) == [
        corpus["county"].id
    ]


def test_single_characters_and_latin_words(session, people, corpus):
    assert ids(search.search(session, people["public"], SearchQuery(q="降"))) == [
        corpus["weather"].id
    ]
    assert ids(search.search(session, people["public"], SearchQuery(q="gdp"))) == [
        corpus["summary_only"].id
    ]
    assert ids(search.search(session, people["public"], SearchQuery(q="敦煌 旅游"))) == [
        corpus["county"].id
    ]


def test_the_public_does_not_see_closed_entries(session, people, corpus):
    assert corpus["field_only"].id not in ids(
        search.search(session, people["public"], SearchQuery(q="人口"))
    )
    assert corpus["field_only"].id in ids(
        search.search(session, people["consumer"], SearchQuery(q="人口"))
    )


def test_facets_count_the_whole_match(session, people, corpus, orgs):
    found = search.search(session, people["consumer"], SearchQuery(q="人口", limit=1))
    assert len(found.hits) == 1 and found.total == 4
    facets = {k: dict(v) for k, v in found.facets.items()}
    assert facets["domain"] == {
        "public_security": 1,
        "transport_logistics": 1,
        "economy": 1,
        "social_security": 1,
    }
    assert facets["share_type"] == {"conditional": 1, "unconditional": 3}
    assert facets["database"] == {"base:population": 1}
    assert facets["provider"][str(orgs["police"])] == 1


def test_filters_narrow_and_combine(session, people, corpus, orgs):
    realtime = search.search(session, people["public"], SearchQuery(update_cycle="realtime"))
    assert set(ids(realtime)) == {corpus["weather"].id, corpus["traffic"].id}
    api = search.search(session, people["public"], SearchQuery(format="API"))
    assert ids(api) == [corpus["weather"].id]
    jiuquan = search.search(
        session, people["public"], SearchQuery(region_codes=["620900", "620982"])
    )
    assert ids(jiuquan) == [corpus["county"].id]
    base = search.search(session, people["consumer"], SearchQuery(database="base:population"))
    assert ids(base) == [corpus["population"].id]
    mine = search.search(
        session, people["public"], SearchQuery(provider_org_id=orgs["weather"], q="气象")
    )
    assert ids(mine) == [corpus["weather"].id]


def test_sort_and_pages(session, people, corpus):
    everything = search.search(session, people["consumer"], SearchQuery(sort="newest", limit=100))
    assert everything.total == 6
    first = search.search(session, people["consumer"], SearchQuery(sort="name", limit=4))
    second = search.search(session, people["consumer"], SearchQuery(sort="name", limit=4, offset=4))
    names = [h.name for h in first.hits + second.hits]
    assert names == sorted(names) and len(names) == 6


@pytest.mark.parametrize(
    "query",
    [
        SearchQuery(q="x" * 101),
        SearchQuery(q=" ".join("甲乙" for _ in range(9))),
        SearchQuery(domain="astrology"),
        SearchQuery(format="DOC"),
        SearchQuery(database="base:weather"),
        SearchQuery(sort="random"),
        SearchQuery(limit=0),
        SearchQuery(limit=101),
        SearchQuery(offset=-1),
    ],
)
def test_bad_searches_are_refused_clearly(session, people, query):
    with pytest.raises(InvalidSearch):
        search.search(session, people["public"], query)


def test_punctuation_and_quotes_cannot_break_the_query(session, people, corpus):
    for q in [
        '"',
        '人口"',
        "AND OR NOT",
        "*",
        "人口* NEAR(气象)",
        "'; DROP TABLE x; --",
        "（人口）",
    ]:
        search.search(session, people["public"], SearchQuery(q=q))


def test_bigram_terms():
    assert terms("人口普查2020年Data") == ["人口", "口普", "普查", "查", "2020", "年", "data"]
    assert [w.terms for w in parse_query("人口 普")] == [("人口",), ("普",)]
    assert parse_query("普")[0].prefix


@given(st.text(alphabet="人口气象交通数据统计年度甘肃省市县", min_size=2, max_size=12), st.data())
def test_any_substring_of_an_indexed_run_is_a_phrase_of_its_terms(text, data):
    start = data.draw(st.integers(0, len(text) - 2))
    end = data.draw(st.integers(start + 2, len(text)))
    needle = terms(text[start:end], trailing=False)
    haystack = terms(text)
    assert any(haystack[i : i + len(needle)] == needle for i in range(len(haystack)))
