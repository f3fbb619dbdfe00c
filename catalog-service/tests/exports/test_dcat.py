"""The DCAT-AP 3 export: the official SHACL shapes report no violation, in every format, page by page."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from rdflib import RDF, Graph, Literal, Namespace, URIRef
from rdflib.compare import isomorphic
from rdflib.namespace import DCAT, DCTERMS, FOAF, SKOS

# rdflib 7.6's own JSON-LD parser builds a ConjunctiveGraph, which rdflib itself deprecates.
pytestmark = pytest.mark.filterwarnings("ignore:ConjunctiveGraph is deprecated:DeprecationWarning")

ADMS = Namespace("http://www.w3.org/ns/adms#")
HYDRA = Namespace("http://www.w3.org/ns/hydra/core#")
BASE = "https://onesource.example.gov.cn"
AUTHORITY = "http://publications.europa.eu/resource/authority/"
FORMATS = {"application/ld+json": "json-ld", "text/turtle": "turtle", "application/rdf+xml": "xml"}


async def _graph(client, headers: dict[str, str], media_type: str, **params: Any) -> tuple[Graph, Any]:
    response = await client.get("/v1/exports/dcat", params=params, headers={**headers, "Accept": media_type})
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith(media_type)
    return Graph().parse(data=response.text, format=FORMATS[media_type]), response


async def test_the_official_shapes_report_no_violation_in_any_format(client, directory, consumer, shacl) -> None:
    graphs = {media_type: (await _graph(client, consumer, media_type))[0] for media_type in FORMATS}
    for media_type, graph in graphs.items():
        conforms, report = shacl(graph)
        assert conforms, f"{media_type}:\n{report}"
    assert isomorphic(graphs["application/ld+json"], graphs["text/turtle"])
    assert isomorphic(graphs["application/ld+json"], graphs["application/rdf+xml"])


async def test_the_shapes_see_a_violation_when_a_term_is_untyped(client, directory, consumer, shacl) -> None:
    # The check can fail: the export without its vocabulary typing is what the shapes refused before.
    graph, _ = await _graph(client, consumer, "text/turtle")
    graph.remove((URIRef(AUTHORITY + "access-right/PUBLIC"), RDF.type, DCTERMS.RightsStatement))
    conforms, report = shacl(graph)
    assert not conforms
    assert "RightsStatement" in report


async def test_datasets_publishers_and_vocabulary_terms(client, directory, consumer) -> None:
    graph, _ = await _graph(client, consumer, "application/ld+json")
    datasets = {str(graph.value(node, DCTERMS.identifier)): node for node in graph.subjects(RDF.type, DCAT.Dataset)}
    assert set(datasets) == {
        "legal-entity.company",
        "legal-entity.open-register",
        "population.criminal-record",
        "population.person",
    }
    rights = {name: str(graph.value(node, DCTERMS.accessRights)) for name, node in datasets.items()}
    assert rights == {
        "population.person": AUTHORITY + "access-right/PUBLIC",
        "legal-entity.open-register": AUTHORITY + "access-right/PUBLIC",
        "legal-entity.company": AUTHORITY + "access-right/RESTRICTED",
        "population.criminal-record": AUTHORITY + "access-right/NON_PUBLIC",
    }
    person_node = datasets["population.person"]
    assert person_node == URIRef(f"{BASE}/api/catalog/v1/resources/population.person")
    assert graph.value(person_node, DCTERMS.title) == Literal("人口基础信息", lang="zh")
    assert graph.value(graph.value(person_node, ADMS.identifier), SKOS.notation) == Literal("1/000001")
    publisher = graph.value(person_node, DCTERMS.publisher)
    assert graph.value(publisher, FOAF.name) == Literal("公安局", lang="zh")
    assert graph.value(publisher, DCTERMS.identifier) == Literal("11110000000011017C")
    assert graph.value(graph.value(publisher, ADMS.identifier), SKOS.notation) == Literal("11110000000011017C")
    frequency = graph.value(datasets["population.criminal-record"], DCTERMS.accrualPeriodicity)
    assert frequency == URIRef(AUTHORITY + "frequency/ANNUAL_2")
    assert (frequency, RDF.type, DCTERMS.Frequency) in graph
    category = graph.value(datasets["population.criminal-record"], DCTERMS.type)
    assert (category, RDF.type, SKOS.Concept) in graph
    assert graph.value(category, SKOS.prefLabel) == Literal("部门信息资源", lang="zh")
    distribution = graph.value(person_node, DCAT.distribution)
    assert graph.value(distribution, DCAT.accessURL) == URIRef(f"{BASE}/api/population")
    media_type = graph.value(distribution, DCAT.mediaType)
    assert (media_type, RDF.type, DCTERMS.MediaType) in graph
    services = set(graph.subjects(RDF.type, DCAT.DataService))
    assert services == {URIRef(f"{BASE}/api/population"), URIRef(f"{BASE}/api/legal-entity")}
    assert set(graph.objects(URIRef(f"{BASE}/api/population"), DCAT.servesDataset)) == {person_node}


async def test_the_export_pages_with_cursors(client, directory, consumer, shacl) -> None:
    seen: list[str] = []
    params: dict[str, Any] = {"limit": 2}
    pages = 0
    while True:
        graph, response = await _graph(client, consumer, "text/turtle", **params)
        pages += 1
        assert shacl(graph)[0]
        seen.extend(
            sorted(str(graph.value(node, DCTERMS.identifier)) for node in graph.subjects(RDF.type, DCAT.Dataset))
        )
        view = graph.value(URIRef(f"{BASE}/api/catalog/v1/exports/dcat"), HYDRA.view)
        assert (view, RDF.type, HYDRA.PartialCollectionView) in graph
        following = graph.value(view, HYDRA.next)
        if following is None:
            assert "link" not in response.headers
            break
        assert response.headers["link"] == f'<{following}>; rel="next"'
        assert str(following).startswith(f"{BASE}/api/catalog/v1/exports/dcat?")  # the gateway's address
        params = dict(httpx.URL(str(following)).params)
    assert pages == 2
    assert seen == [
        "legal-entity.company",
        "legal-entity.open-register",
        "population.criminal-record",
        "population.person",
    ]


async def test_an_empty_directory_still_conforms(client, consumer, shacl) -> None:
    graph, response = await _graph(client, consumer, "application/ld+json")
    assert "link" not in response.headers
    assert list(graph.subjects(RDF.type, DCAT.Dataset)) == []
    assert shacl(graph)[0]


async def test_accept_chooses_the_format_and_406_names_the_offered_ones(client, consumer) -> None:
    preferred = await client.get(
        "/v1/exports/dcat", headers={**consumer, "Accept": "application/ld+json;q=0.5, text/turtle"}
    )
    assert preferred.headers["content-type"].startswith("text/turtle")
    default = await client.get("/v1/exports/dcat", headers={**consumer, "Accept": "*/*"})
    assert default.headers["content-type"].startswith("application/ld+json")
    refused = await client.get("/v1/exports/dcat", headers={**consumer, "Accept": "text/html"})
    assert refused.status_code == 406
    assert refused.json()["available"] == list(FORMATS)


async def test_the_export_needs_a_token(client) -> None:
    assert (await client.get("/v1/exports/dcat")).status_code == 401
