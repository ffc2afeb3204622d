"""DCAT-AP 3.0 export of the published catalog (JSON-LD and Turtle, via rdflib).

Each published entry the reader may see becomes a ``dcat:Dataset`` (title, description,
identifier = the resource code, keywords, publisher, contact point, themes, spatial coverage,
update frequency, access rights, language), with one ``dcat:Distribution`` per format whose
access URL is the entry's page (where the portal says how to obtain it). Controlled values use
the EU Publications Office authority tables (file types, frequencies, access rights, data
themes, languages), so harvesters map them without a local table. The catalog's own 领域 are
also given as ``skos:Concept``\\ s of the platform's scheme.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from rdflib import BNode, Graph, Literal, Namespace, URIRef
from rdflib.namespace import DCAT, DCTERMS, FOAF, RDF, RDFS, SKOS, XSD
from sqlalchemy import select
from sqlalchemy.orm import Session

from longshu.actor import Actor
from longshu.catalog.models import Resource, Revision
from longshu.catalog.present import org_names, region_names
from longshu.catalog.service import can_read_published, published_snapshot
from longshu.catalog.vocab import DOMAINS, FORMATS, UPDATE_CYCLES
from longshu.security import access

VCARD = Namespace("http://www.w3.org/2006/vcard/ns#")
ADMS = Namespace("http://www.w3.org/ns/adms#")
EU = "http://publications.europa.eu/resource/authority/"
FILE_TYPE = Namespace(EU + "file-type/")
FREQUENCY = Namespace(EU + "frequency/")
ACCESS_RIGHT = Namespace(EU + "access-right/")
DATA_THEME = Namespace(EU + "data-theme/")
LANGUAGE = URIRef(EU + "language/ZHO")
DCAT_VERSION = URIRef(str(DCAT) + "version")  # DCAT 3; rdflib knows DCAT 2

FILE_TYPES = {
    "CSV": "CSV", "XLSX": "XLSX", "JSON": "JSON", "XML": "XML", "DB": "SQL", "PDF": "PDF",
    "OFD": "BIN", "DOCX": "DOCX", "TXT": "TXT", "SHP": "SHP", "GEOJSON": "GEOJSON",
    "TIFF": "TIFF", "JPEG": "JPEG", "PNG": "PNG", "MP3": "MP3", "WAV": "WAV", "MP4": "MP4",
    "API": "JSON",
}  # fmt: skip
FREQUENCIES = {
    "realtime": "UPDATE_CONT", "daily": "DAILY", "weekly": "WEEKLY", "monthly": "MONTHLY",
    "quarterly": "QUARTERLY", "half_yearly": "ANNUAL_2", "yearly": "ANNUAL",
    "irregular": "IRREG", "static": "NEVER",
}  # fmt: skip
ACCESS_RIGHTS = {"unconditional": "PUBLIC", "conditional": "RESTRICTED", "none": "NON_PUBLIC"}
THEMES = {
    "culture_tourism": "EDUC", "health": "HEAL", "natural_resources": "ENVI",
    "transport_logistics": "TRAN", "agriculture": "AGRI", "meteorology": "ENVI",
    "biomedicine": "HEAL", "energy_chemical": "ENER", "market_regulation": "ECON",
    "social_security": "SOCI", "ecology": "ENVI", "emergency": "JUST", "state_assets": "ECON",
    "public_security": "JUST", "civil_affairs": "SOCI", "education": "EDUC",
    "urban_rural": "REGI", "economy": "ECON", "government": "GOVE",
}  # fmt: skip
LICENCES = {
    "CC BY 4.0": "http://creativecommons.org/licenses/by/4.0/",
    "CC0": "http://creativecommons.org/publicdomain/zero/1.0/",
    "CC BY-SA 4.0": "http://creativecommons.org/licenses/by-sa/4.0/",
}
CONTEXT = {
    "dcat": str(DCAT),
    "dct": str(DCTERMS),
    "foaf": str(FOAF),
    "vcard": str(VCARD),
    "skos": str(SKOS),
    "rdfs": str(RDFS),
    "xsd": str(XSD),
}
MEDIA_TYPES = {"turtle": "text/turtle; charset=utf-8", "json-ld": "application/ld+json"}


def _graph() -> Graph:
    graph = Graph()
    for prefix, namespace in CONTEXT.items():
        graph.bind(prefix, namespace)
    graph.bind("adms", ADMS)
    return graph


def _zh(text: str) -> Literal:
    return Literal(text, lang="zh")


def _when(value: dt.datetime | None) -> Literal | None:
    if value is None:
        return None
    return Literal(
        value.astimezone(dt.UTC).replace(microsecond=0).isoformat(), datatype=XSD.dateTime
    )


class Exporter:
    """Builds one graph for a set of entries, adding each publisher and region once."""

    def __init__(self, session: Session, base_url: str) -> None:
        self.session = session
        self.base = base_url.rstrip("/")
        self.graph = _graph()
        self._agents: set[int] = set()
        self._places: set[str] = set()
        self._themes: set[str] = set()

    def agent(self, org_id: int, name: str) -> URIRef:
        node = URIRef(f"{self.base}/orgs/{org_id}")
        if org_id not in self._agents:
            self._agents.add(org_id)
            self.graph.add((node, RDF.type, FOAF.Agent))
            self.graph.add((node, FOAF.name, _zh(name)))
        return node

    def place(self, code: str, name: str) -> URIRef:
        node = URIRef(f"{self.base}/regions/{code}")
        if code not in self._places:
            self._places.add(code)
            self.graph.add((node, RDF.type, DCTERMS.Location))
            self.graph.add((node, SKOS.prefLabel, _zh(name)))
            self.graph.add((node, DCTERMS.identifier, Literal(code)))
        return node

    def theme(self, domain: str) -> URIRef:
        node = URIRef(f"{self.base}/catalog/themes/{domain}")
        if domain not in self._themes:
            self._themes.add(domain)
            term = DOMAINS[domain]
            self.graph.add((node, RDF.type, SKOS.Concept))
            self.graph.add((node, SKOS.prefLabel, _zh(term.title_zh)))
            self.graph.add((node, SKOS.prefLabel, Literal(term.title_en, lang="en")))
            self.graph.add((node, SKOS.inScheme, URIRef(f"{self.base}/catalog/themes")))
        return node

    def dataset(self, resource: Resource, snap: dict[str, Any], names: tuple[str, str]) -> URIRef:
        """Add one entry (its published snapshot) and return its IRI."""
        g = self.graph
        page = f"{self.base}/catalog/resources/{resource.id}"
        node = URIRef(page)
        provider, region = names
        g.add((node, RDF.type, DCAT.Dataset))
        g.add((node, DCTERMS.title, _zh(snap["name"])))
        g.add((node, DCTERMS.description, _zh(snap["summary"])))
        g.add((node, DCTERMS.identifier, Literal(snap["code"])))
        g.add((node, DCAT.landingPage, URIRef(page)))
        g.add((node, DCTERMS.language, LANGUAGE))
        g.add((node, DCTERMS.publisher, self.agent(snap["provider_org_id"], provider)))
        g.add((node, DCTERMS.spatial, self.place(snap["region_code"], region)))
        g.add((node, DCTERMS.accrualPeriodicity, FREQUENCY[FREQUENCIES[snap["update_cycle"]]]))
        g.add((node, DCTERMS.accessRights, ACCESS_RIGHT[ACCESS_RIGHTS[snap["open_type"]]]))
        g.add((node, DCAT.theme, DATA_THEME[THEMES[snap["domain"]]]))
        g.add((node, DCAT.theme, self.theme(snap["domain"])))
        g.add((node, ADMS.versionNotes, _zh(f"第 {resource.published_revision} 版")))
        g.add((node, DCAT_VERSION, Literal(str(resource.published_revision))))
        for word in snap["keywords"]:
            g.add((node, DCAT.keyword, _zh(word)))
        issued = _when(resource.published_at)
        if issued is not None:
            g.add((node, DCTERMS.issued, issued))
            g.add((node, DCTERMS.modified, issued))
        if snap.get("contact_name") or snap.get("contact_email") or snap.get("contact_phone"):
            contact = BNode()
            g.add((node, DCAT.contactPoint, contact))
            g.add((contact, RDF.type, VCARD.Kind))
            g.add((contact, VCARD.fn, _zh(snap.get("contact_name") or provider)))
            if snap.get("contact_email"):
                g.add((contact, VCARD.hasEmail, URIRef(f"mailto:{snap['contact_email']}")))
            if snap.get("contact_phone"):
                phone = "".join(ch for ch in snap["contact_phone"] if ch.isdigit() or ch == "+")
                g.add((contact, VCARD.hasTelephone, URIRef(f"tel:{phone}")))
        licence = self.licence(snap.get("licence"))
        for code in snap["formats"]:
            dist = URIRef(f"{page}#distribution-{code.lower()}")
            g.add((node, DCAT.distribution, dist))
            g.add((dist, RDF.type, DCAT.Distribution))
            g.add((dist, DCAT.accessURL, URIRef(page)))
            g.add((dist, DCTERMS.title, _zh(f"{snap['name']}（{FORMATS[code].title_zh}）")))
            g.add((dist, DCTERMS.format, FILE_TYPE[FILE_TYPES[code]]))
            g.add((dist, DCTERMS.description, _zh(UPDATE_CYCLES[snap["update_cycle"]].title_zh)))
            if licence is not None:
                g.add((dist, DCTERMS.license, licence))
            if issued is not None:
                g.add((dist, DCTERMS.issued, issued))
        return node

    def licence(self, text: str | None) -> URIRef | BNode | None:
        if not text:
            return None
        known = LICENCES.get(text.strip())
        node: URIRef | BNode = URIRef(known) if known else BNode()
        self.graph.add((node, RDF.type, DCTERMS.LicenseDocument))
        self.graph.add((node, RDFS.label, Literal(text.strip())))
        return node

    def catalog(self, datasets: list[URIRef], publisher: tuple[int, str] | None) -> URIRef:
        g = self.graph
        node = URIRef(f"{self.base}/catalog")
        g.add((node, RDF.type, DCAT.Catalog))
        g.add((node, DCTERMS.title, _zh("甘肃省公共数据资源目录")))
        g.add((node, DCTERMS.title, Literal("Gansu public data resource catalog", lang="en")))
        g.add(
            (node, DCTERMS.description, _zh("甘肃省省、市、县三级公共数据资源目录（陇数平台）。"))
        )
        g.add((node, FOAF.homepage, URIRef(f"{self.base}/catalog")))
        g.add((node, DCTERMS.language, LANGUAGE))
        g.add((node, DCAT.themeTaxonomy, URIRef(str(DATA_THEME).rstrip("/"))))
        org_id, name = publisher or (0, "甘肃省公共数据资源开发利用平台")
        g.add((node, DCTERMS.publisher, self.agent(org_id, name)))
        modified = datetime_max(self.graph, datasets)
        if modified is not None:
            g.add((node, DCTERMS.modified, modified))
        for dataset in datasets:
            g.add((node, DCAT.dataset, dataset))
        return node


def datetime_max(graph: Graph, datasets: list[URIRef]) -> Literal | None:
    values = [graph.value(d, DCTERMS.modified) for d in datasets]
    present = [v for v in values if v is not None]
    return max(present, key=lambda v: v.toPython()) if present else None


def resource_graph(session: Session, actor: Actor, resource_id: int, base_url: str) -> Graph:
    """One published entry as DCAT-AP (the reader must be allowed to see it)."""
    access.require(actor, "catalog.browse")
    resource, revision = published_snapshot(session, actor, resource_id)
    exporter = Exporter(session, base_url)
    snap = revision.snapshot
    names = (
        org_names(session, [snap["provider_org_id"]]).get(snap["provider_org_id"], ""),
        region_names(session, [snap["region_code"]]).get(snap["region_code"], ""),
    )
    exporter.dataset(resource, snap, names)
    return exporter.graph


def catalog_graph(
    session: Session, actor: Actor, base_url: str, publisher: tuple[int, str] | None = None
) -> Graph:
    """The whole published catalog the reader may see, as one ``dcat:Catalog``."""
    access.require(actor, "catalog.browse")
    rows = session.execute(
        select(Resource, Revision)
        .join(
            Revision,
            (Revision.resource_id == Resource.id)
            & (Revision.number == Resource.published_revision),
        )
        .where(Resource.retired_at.is_(None))
        .order_by(Resource.id)
    ).all()
    visible = [(r, rev) for r, rev in rows if can_read_published(actor, r)]
    orgs = org_names(session, {rev.snapshot["provider_org_id"] for _r, rev in visible})
    places = region_names(session, {rev.snapshot["region_code"] for _r, rev in visible})
    exporter = Exporter(session, base_url)
    datasets = [
        exporter.dataset(
            r,
            rev.snapshot,
            (
                orgs.get(rev.snapshot["provider_org_id"], ""),
                places.get(rev.snapshot["region_code"], ""),
            ),
        )
        for r, rev in visible
    ]
    exporter.catalog(datasets, publisher)
    return exporter.graph


def serialize(graph: Graph, form: str) -> str:
    """``turtle`` or ``json-ld`` (compacted with the DCAT context)."""
    if form == "json-ld":
        return graph.serialize(format="json-ld", context=CONTEXT, indent=2)
    return graph.serialize(format="turtle")


def bureau(session: Session) -> tuple[int, str] | None:
    """The provincial data authority, the catalog's publisher (None before orgs exist)."""
    from longshu.orgs.models import Organization

    row = session.execute(
        select(Organization.id, Organization.name)
        .where(Organization.kind == "data_authority", Organization.level == "province")
        .order_by(Organization.id)
        .limit(1)
    ).first()
    return (row[0], row[1]) if row else None
