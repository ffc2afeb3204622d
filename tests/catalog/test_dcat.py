"""DCAT-AP 3.0 export, validated with pyshacl against the official shapes (no network)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from pyshacl import validate
from rdflib import Graph
from rdflib.namespace import DCAT, DCTERMS, RDF
from tests.catalog.conftest import published

from longshu.catalog import dcat
from longshu.catalog.errors import ResourceNotFound

SHAPES = Path(__file__).resolve().parents[3] / "shared" / "data" / "dcat-ap"
BASE = "https://data.gansu.example"


def shapes() -> Graph:
    graph = Graph()
    for name in ("shapes.ttl", "shapes_recommended.ttl"):
        graph.parse(SHAPES / name, format="turtle")
    return graph


@pytest.fixture(scope="module")
def shape_graph():
    if not SHAPES.is_dir():
        pytest.skip(f"DCAT-AP shapes not found at {SHAPES}")
    return shapes()


@pytest.fixture
def entries(session, orgs):
    made = [
        published(session, orgs["culture_tourism"]),
        published(
            session, orgs["weather"], name="逐小时气象观测", domain="meteorology",
            formats=["JSON", "API"], open_type="conditional", open_conditions="注册用户",
            update_cycle="realtime", licence="甘肃省公共数据开放许可协议", contact_email=None,
        ),
        published(session, orgs["police"], name="常住人口", open_type="none", domain="public_security"),
    ]  # fmt: skip
    session.commit()
    return made


def conforms(data: Graph, shape_graph: Graph) -> tuple[bool, str]:
    ok, _report, text = validate(
        data, shacl_graph=shape_graph, inference="none", do_owl_imports=False,
        allow_warnings=True, advanced=True,
    )  # fmt: skip
    return ok, text


def test_the_public_catalog_validates_against_dcat_ap(session, people, orgs, entries, shape_graph):
    graph = dcat.catalog_graph(session, people["public"], BASE, dcat.bureau(session))
    ok, report = conforms(graph, shape_graph)
    assert ok, report
    datasets = set(graph.subjects(RDF.type, DCAT.Dataset))
    assert len(datasets) == 2  # the closed entry is not in the public export
    first = next(d for d in datasets if str(d).endswith(f"/{entries[0].id}"))
    assert str(graph.value(first, DCTERMS.identifier)) == entries[0].code
    assert str(graph.value(first, DCTERMS.accrualPeriodicity)).endswith("/QUARTERLY")


def test_staff_export_includes_the_sharing_catalog(session, people, entries, shape_graph):
    graph = dcat.catalog_graph(session, people["consumer"], BASE)
    assert len(set(graph.subjects(RDF.type, DCAT.Dataset))) == 3
    assert conforms(graph, shape_graph)[0]


def test_one_entry_in_turtle_and_json_ld(session, people, entries, shape_graph):
    graph = dcat.resource_graph(session, people["public"], entries[1].id, BASE)
    turtle = dcat.serialize(graph, "turtle")
    assert "dcat:Dataset" in turtle and "逐小时气象观测" in turtle
    again = Graph().parse(data=turtle, format="turtle")
    assert len(again) == len(graph)
    document = json.loads(dcat.serialize(graph, "json-ld"))
    assert document["@context"]["dcat"] == str(DCAT)
    assert len(Graph().parse(data=json.dumps(document), format="json-ld")) == len(graph)
    ok, report = conforms(graph, shape_graph)
    assert ok, report
    with pytest.raises(ResourceNotFound):
        dcat.resource_graph(session, people["public"], entries[2].id, BASE)


def test_a_broken_export_would_be_caught(session, people, entries, shape_graph):
    graph = dcat.resource_graph(session, people["public"], entries[0].id, BASE)
    dataset = next(graph.subjects(RDF.type, DCAT.Dataset))
    graph.remove((dataset, DCTERMS.title, None))
    assert not conforms(graph, shape_graph)[0]


def test_dcat_over_http(api, entries):
    jsonld = api.get("/api/v1/catalog/dcat")
    assert jsonld.status_code == 200 and jsonld.headers["content-type"].startswith(
        "application/ld+json"
    )
    graph = Graph().parse(data=jsonld.text, format="json-ld")
    assert len(set(graph.subjects(RDF.type, DCAT.Dataset))) == 2
    turtle = api.get(f"/api/v1/catalog/resources/{entries[0].id}/dcat", params={"format": "turtle"})
    assert (
        turtle.headers["content-type"].startswith("text/turtle") and entries[0].code in turtle.text
    )
    assert api.get(f"/api/v1/catalog/resources/{entries[2].id}/dcat").status_code == 404
    assert api.get("/api/v1/catalog/dcat", params={"format": "rdfxml"}).status_code == 422
