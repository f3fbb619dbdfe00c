"""The catalog's exports of the running mesh, through the gateway: DCAT-AP 3.0.0 and the national directory form.

The whole DCAT export (every page, followed by its ``hydra:next``) is checked against the official DCAT-AP 3.0.0
SHACL shapes with pySHACL and RDFS inference: no violation. Publishers are the seeded departments by name and USCC.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

import httpx
from pyshacl import validate
from rdflib import RDF, Graph, Literal, Namespace
from rdflib.namespace import DCAT, DCTERMS, FOAF

from onesource.mesh.seed import DEMO_DEPARTMENTS
from tests.conftest import Mesh

SHAPES = Path(__file__).resolve().parents[1] / "catalog-service" / "tests" / "exports" / "shapes" / "dcat-ap-SHACL.ttl"
HYDRA = Namespace("http://www.w3.org/ns/hydra/core#")
EXPORTS = "/api/catalog/v1/exports"


def whole_dcat_export(mesh: Mesh) -> tuple[Graph, int]:
    """Every page of the DCAT export as one graph (Turtle), and how many pages there were."""
    headers = {**mesh.bearer("mca-app"), "Accept": "text/turtle"}
    merged, pages = Graph(), 0
    params: dict[str, str] = {"limit": "5"}
    while True:
        response = httpx.get(f"{mesh.gateway}{EXPORTS}/dcat", params=params, headers=headers, timeout=60)
        assert response.status_code == 200, response.text
        assert response.headers["content-type"].startswith("text/turtle")
        page = Graph().parse(data=response.text, format="turtle")
        merged += page
        pages += 1
        following = next(iter(page.objects(None, HYDRA.next)), None)
        if following is None:
            return merged, pages
        assert str(following).startswith(f"{mesh.gateway}{EXPORTS}/dcat?"), following  # the mesh's gateway
        params = dict(httpx.URL(str(following)).params)


def test_the_dcat_export_conforms_to_the_official_shapes(mesh: Mesh) -> None:
    graph, pages = whole_dcat_export(mesh)
    conforms, _, report = validate(graph, shacl_graph=Graph().parse(SHAPES, format="turtle"), inference="rdfs")
    assert conforms, report
    datasets = {str(graph.value(node, DCTERMS.identifier)) for node in graph.subjects(RDF.type, DCAT.Dataset)}
    assert {"population.person", "legal-entity.entity", "geo.division"} <= datasets
    assert pages > 1
    names = {department.name: department.uscc for department in DEMO_DEPARTMENTS}
    publishers = {graph.value(dataset, DCTERMS.publisher) for dataset in graph.subjects(RDF.type, DCAT.Dataset)}
    for publisher in publishers:
        name = str(graph.value(publisher, FOAF.name))
        assert name in names, name
        assert graph.value(publisher, DCTERMS.identifier) == Literal(names[name])


def test_the_directory_form_as_csv(mesh: Mesh) -> None:
    headers = mesh.bearer("mca-app")
    response = httpx.get(f"{mesh.gateway}{EXPORTS}/directory.csv", headers=headers, timeout=60)
    assert response.status_code == 200, response.text
    rows = list(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig"))))
    person = [row for row in rows if row["资源标识"] == "population.person"]
    assert {row["信息项名称"] for row in person} >= {"id_number", "name", "sex", "birth_date"}
    assert {(row["信息资源提供方"], row["信息资源提供方代码"], row["共享类型"]) for row in person} == {
        ("公安局", "11110000000011017C", "无条件共享")
    }
