"""DCAT-AP 3.0.0 of the published directory (https://semiceu.github.io/DCAT-AP/releases/3.0.0/), one page at a time.

The graph is built once with rdflib and written as JSON-LD, Turtle or RDF/XML. It conforms to the application
profile's own SHACL shapes (``releases/3.0.0/shacl/dcat-ap-SHACL.ttl``, checked in the tests with RDFS inference):

- mandatory properties are always present — Catalogue: dct:title, dct:description, dct:publisher; Dataset:
  dct:title, dct:description; Distribution: dcat:accessURL; DataService: dct:title, dcat:endpointURL; Agent:
  foaf:name; Concept: skos:prefLabel;
- every controlled-vocabulary term is typed with the class its property's range names (the shapes check the class,
  and an EU authority IRI alone says nothing about it): dct:accessRights and dct:rights → dct:RightsStatement,
  dct:accrualPeriodicity → dct:Frequency, dcat:mediaType → dct:MediaType, dct:language → dct:LinguisticSystem,
  dct:type → skos:Concept;
- publishers are the departments by their official name and unified social credit code (GB 32100-2015);
- a page says where the next one is as a Hydra partial collection view (``hydra:view`` … ``hydra:next``), as
  paged DCAT catalogues commonly do, so the link survives any proxy (the ``Link`` header says the same).

Controlled vocabularies are the EU Publications Office authority tables the application profile names.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from rdflib import RDF, XSD, Graph, Literal, Namespace, URIRef
from rdflib.namespace import DCTERMS, FOAF, SKOS

from onesource.catalog.resources.schemas import Resource

ADMS = Namespace("http://www.w3.org/ns/adms#")
#: DCAT 3 (rdflib's closed DCAT namespace predates dcat:version).
DCAT = Namespace("http://www.w3.org/ns/dcat#")
HYDRA = Namespace("http://www.w3.org/ns/hydra/core#")
AUTHORITY = "http://publications.europa.eu/resource/authority/"
#: 共享类型 → EU access-right vocabulary: 无条件 PUBLIC, 有条件 RESTRICTED, 不予共享 NON_PUBLIC.
ACCESS_RIGHTS = {
    "unconditional": AUTHORITY + "access-right/PUBLIC",
    "conditional": AUTHORITY + "access-right/RESTRICTED",
    "not_shared": AUTHORITY + "access-right/NON_PUBLIC",
}
#: 更新周期 → EU frequency vocabulary.
FREQUENCY = {
    "realtime": "UPDATE_CONT",
    "daily": "DAILY",
    "weekly": "WEEKLY",
    "monthly": "MONTHLY",
    "quarterly": "QUARTERLY",
    "semiannual": "ANNUAL_2",
    "annual": "ANNUAL",
    "other": "OTHER",
}
LANGUAGE = AUTHORITY + "language/ZHO"
JSON_MEDIA_TYPE = "http://www.iana.org/assignments/media-types/application/json"
#: The directory's categories (信息资源分类, 类) as a SKOS scheme of the catalogue's own.
CATEGORY_LABELS = {"base": "基础信息资源", "theme": "主题信息资源", "department": "部门信息资源"}
CONTEXT = {
    "dcat": str(DCAT),
    "dct": str(DCTERMS),
    "foaf": str(FOAF),
    "adms": str(ADMS),
    "skos": str(SKOS),
    "xsd": str(XSD),
    "hydra": str(HYDRA),
}


@dataclass(frozen=True)
class Publisher:
    """A providing department as the exports name it."""

    code: str
    """The platform's short code (what a resource's ``provider`` holds)."""
    name: str
    """The department's official name."""
    uscc: str | None
    """Its unified social credit code (``None`` while the department is unknown to the catalog)."""


def _zh(value: str) -> Literal:
    return Literal(value, lang="zh")


def _date_time(value: datetime) -> Literal:
    return Literal(value.isoformat(), datatype=XSD.dateTime)


class DcatExport:
    """Builds the DCAT-AP graph of published resources, naming everything by its address on the gateway."""

    def __init__(self, base_url: str) -> None:
        self.base = base_url.rstrip("/")

    def catalog_id(self) -> URIRef:
        """The catalogue's IRI: the export's own address."""
        return URIRef(f"{self.base}/api/catalog/v1/exports/dcat")

    def dataset_id(self, resource_id: str) -> URIRef:
        """A dataset's IRI: its resource's address."""
        return URIRef(f"{self.base}/api/catalog/v1/resources/{resource_id}")

    def service_id(self, service: str) -> URIRef:
        """A registry API's IRI: its base address on the gateway."""
        return URIRef(f"{self.base}/api/{service}")

    def category_id(self, category: str) -> URIRef:
        """A directory category's IRI."""
        return URIRef(f"{self.base}/api/catalog/v1/categories/{category}")

    def page_id(self, query: str) -> URIRef:
        """The IRI of one page of the catalogue: the export's address with the page's query."""
        return URIRef(f"{self.catalog_id()}?{query}" if query else str(self.catalog_id()))

    def graph(
        self,
        resources: Sequence[Resource],
        publishers: Mapping[str, Publisher],
        *,
        page: str = "",
        next_page: str | None = None,
    ) -> Graph:
        """The catalogue with ``resources`` (one page of the directory) and what they refer to.

        ``page`` and ``next_page`` are the query strings of this page and the next (``None``: this is the last).
        """
        graph = Graph()
        for prefix, namespace in CONTEXT.items():
            graph.bind(prefix, namespace)
        catalog = self.catalog_id()
        graph.add((catalog, RDF.type, DCAT.Catalog))
        graph.add((catalog, DCTERMS.title, _zh("OneSource 政务信息资源目录")))
        graph.add(
            (
                catalog,
                DCTERMS.description,
                _zh("一数一源：各部门共享的政务信息资源目录，列明每项数据的权威来源、共享属性与开放属性。"),
            )
        )
        platform = URIRef(self.base)
        graph.add((catalog, DCTERMS.publisher, platform))
        graph.add((platform, RDF.type, FOAF.Agent))
        graph.add((platform, FOAF.name, Literal("OneSource", lang="en")))
        self._typed(graph, catalog, DCTERMS.language, URIRef(LANGUAGE), DCTERMS.LinguisticSystem)
        served: dict[str, list[URIRef]] = {}
        for resource in resources:
            dataset = self._dataset(graph, resource, publishers)
            graph.add((catalog, DCAT.dataset, dataset))
            if resource.service is not None:
                served.setdefault(resource.service, []).append(dataset)
        for service in sorted(served):
            graph.add((catalog, DCAT.service, self._data_service(graph, service, served[service])))
        view = self.page_id(page)
        graph.add((catalog, HYDRA.view, view))
        graph.add((view, RDF.type, HYDRA.PartialCollectionView))
        if next_page is not None:
            graph.add((view, HYDRA.next, self.page_id(next_page)))
        return graph

    def _typed(self, graph: Graph, subject: URIRef, predicate: URIRef, term: URIRef, kind: URIRef) -> None:
        graph.add((subject, predicate, term))
        graph.add((term, RDF.type, kind))

    def _publisher(self, graph: Graph, publisher: Publisher) -> URIRef:
        agent = URIRef(f"{self.base}/api/identity/v1/departments/{publisher.code}")
        graph.add((agent, RDF.type, FOAF.Agent))
        graph.add((agent, FOAF.name, _zh(publisher.name)))
        if publisher.uscc is not None:
            graph.add((agent, DCTERMS.identifier, Literal(publisher.uscc)))
            identifier = URIRef(f"{agent}#uscc")
            graph.add((agent, ADMS.identifier, identifier))
            graph.add((identifier, RDF.type, ADMS.Identifier))
            graph.add((identifier, SKOS.notation, Literal(publisher.uscc)))
            graph.add((identifier, DCTERMS.title, _zh("统一社会信用代码")))
        return agent

    def _category(self, graph: Graph, category: str) -> URIRef:
        concept = self.category_id(category)
        scheme = URIRef(f"{self.base}/api/catalog/v1/categories")
        graph.add((concept, RDF.type, SKOS.Concept))
        graph.add((concept, SKOS.prefLabel, _zh(CATEGORY_LABELS[category])))
        graph.add((concept, SKOS.inScheme, scheme))
        graph.add((scheme, RDF.type, SKOS.ConceptScheme))
        graph.add((scheme, DCTERMS.title, _zh("政务信息资源分类")))
        return concept

    def _dataset(self, graph: Graph, resource: Resource, publishers: Mapping[str, Publisher]) -> URIRef:
        dataset = self.dataset_id(resource.id)
        graph.add((dataset, RDF.type, DCAT.Dataset))
        graph.add((dataset, DCTERMS.identifier, Literal(resource.id)))
        code = URIRef(f"{dataset}#code")
        graph.add((dataset, ADMS.identifier, code))
        graph.add((code, RDF.type, ADMS.Identifier))
        graph.add((code, SKOS.notation, Literal(resource.code)))
        graph.add((code, DCTERMS.title, _zh("信息资源代码")))
        graph.add((dataset, DCTERMS.title, _zh(resource.name)))
        graph.add((dataset, DCTERMS.description, _zh(resource.summary)))
        publisher = publishers.get(resource.provider, Publisher(resource.provider, resource.provider, None))
        graph.add((dataset, DCTERMS.publisher, self._publisher(graph, publisher)))
        rights = URIRef(ACCESS_RIGHTS[resource.share_type])
        self._typed(graph, dataset, DCTERMS.accessRights, rights, DCTERMS.RightsStatement)
        frequency = URIRef(AUTHORITY + "frequency/" + FREQUENCY[resource.update_cycle])
        self._typed(graph, dataset, DCTERMS.accrualPeriodicity, frequency, DCTERMS.Frequency)
        self._typed(graph, dataset, DCTERMS.language, URIRef(LANGUAGE), DCTERMS.LinguisticSystem)
        graph.add((dataset, DCTERMS.modified, _date_time(resource.updated_at)))
        if resource.published_at is not None:
            graph.add((dataset, DCTERMS.issued, _date_time(resource.published_at)))
        for element in sorted({field.element for field in resource.fields}):
            graph.add((dataset, DCAT.keyword, Literal(element)))
        graph.add((dataset, DCTERMS.type, self._category(graph, resource.category)))
        graph.add((dataset, DCAT.version, Literal(str(resource.version))))
        graph.add((dataset, DCAT.distribution, self._distribution(graph, resource, rights)))
        return dataset

    def _distribution(self, graph: Graph, resource: Resource, rights: URIRef) -> URIRef:
        dataset = self.dataset_id(resource.id)
        distribution = URIRef(f"{dataset}#distribution")
        graph.add((distribution, RDF.type, DCAT.Distribution))
        graph.add((distribution, DCTERMS.title, _zh(f"{resource.name}（接口）")))
        self._typed(graph, distribution, DCAT.mediaType, URIRef(JSON_MEDIA_TYPE), DCTERMS.MediaType)
        self._typed(graph, distribution, DCTERMS.rights, rights, DCTERMS.RightsStatement)
        if resource.service is not None:
            graph.add((distribution, DCAT.accessURL, self.service_id(resource.service)))
            graph.add((distribution, DCAT.accessService, self.service_id(resource.service)))
        else:  # no registry API: the directory entry is where access is arranged
            graph.add((distribution, DCAT.accessURL, dataset))
        return distribution

    def _data_service(self, graph: Graph, service: str, datasets: Sequence[URIRef]) -> URIRef:
        node = self.service_id(service)
        graph.add((node, RDF.type, DCAT.DataService))
        graph.add((node, DCTERMS.title, Literal(f"OneSource {service} registry API", lang="en")))
        graph.add((node, DCAT.endpointURL, node))
        graph.add((node, DCAT.endpointDescription, URIRef(f"{self.base}/api/{service}/openapi.json")))
        for dataset in datasets:
            graph.add((node, DCAT.servesDataset, dataset))
        return node
