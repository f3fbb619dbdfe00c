"""DCAT-AP 3.0 JSON-LD of the published directory (https://semiceu.github.io/DCAT-AP/releases/3.0.0/).

Mandatory properties are always present — Catalogue: dct:title, dct:description, dct:publisher (and
dcat:dataset); Dataset: dct:title, dct:description (plus dct:identifier, dct:publisher, dct:accessRights);
Distribution: dcat:accessURL; DataService: dct:title, dcat:endpointURL. Controlled vocabularies are the EU
Publications Office authority tables the application profile names.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from onesource.catalog.resources.schemas import Resource

CONTEXT = {
    "dcat": "http://www.w3.org/ns/dcat#",
    "dct": "http://purl.org/dc/terms/",
    "foaf": "http://xmlns.com/foaf/0.1/",
    "adms": "http://www.w3.org/ns/adms#",
    "skos": "http://www.w3.org/2004/02/skos/core#",
    "xsd": "http://www.w3.org/2001/XMLSchema#",
}
_AUTHORITY = "http://publications.europa.eu/resource/authority/"
#: 共享类型 → EU access-right vocabulary: 无条件 PUBLIC, 有条件 RESTRICTED, 不予共享 NON_PUBLIC.
ACCESS_RIGHTS = {
    "unconditional": _AUTHORITY + "access-right/PUBLIC",
    "conditional": _AUTHORITY + "access-right/RESTRICTED",
    "not_shared": _AUTHORITY + "access-right/NON_PUBLIC",
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
JSON_MEDIA_TYPE = "http://www.iana.org/assignments/media-types/application/json"


def _text(value: str, language: str = "zh") -> dict[str, str]:
    return {"@value": value, "@language": language}


def _date_time(value: Any) -> dict[str, str]:
    return {"@value": value.isoformat(), "@type": "xsd:dateTime"}


class DcatExport:
    """Builds the JSON-LD document for resources, naming everything by its address on the gateway."""

    def __init__(self, base_url: str) -> None:
        self.base = base_url.rstrip("/")

    def catalog_id(self) -> str:
        """The catalogue's IRI: the export's own address."""
        return f"{self.base}/api/catalog/v1/exports/dcat"

    def dataset_id(self, resource_id: str) -> str:
        """A dataset's IRI: its resource's address."""
        return f"{self.base}/api/catalog/v1/resources/{resource_id}"

    def service_id(self, service: str) -> str:
        """A registry API's IRI: its base address on the gateway."""
        return f"{self.base}/api/{service}"

    def publisher(self, department: str) -> dict[str, Any]:
        """The department as a foaf:Agent."""
        return {
            "@id": f"{self.base}/api/identity/v1/departments/{department}",
            "@type": "foaf:Agent",
            "foaf:name": department,
        }

    def dataset(self, resource: Resource) -> dict[str, Any]:
        """One dcat:Dataset with its distribution."""
        dataset_id = self.dataset_id(resource.id)
        distribution: dict[str, Any] = {
            "@id": f"{dataset_id}#distribution",
            "@type": "dcat:Distribution",
            "dct:title": _text(f"{resource.name}（接口）"),
            "dcat:mediaType": {"@id": JSON_MEDIA_TYPE},
            "dct:rights": {"@id": ACCESS_RIGHTS[resource.share_type]},
        }
        if resource.service is not None:
            distribution["dcat:accessURL"] = {"@id": self.service_id(resource.service)}
            distribution["dcat:accessService"] = {"@id": self.service_id(resource.service)}
        else:  # no registry API: the directory entry is where access is arranged
            distribution["dcat:accessURL"] = {"@id": dataset_id}
        dataset: dict[str, Any] = {
            "@id": dataset_id,
            "@type": "dcat:Dataset",
            "dct:identifier": resource.id,
            "adms:identifier": {"@type": "adms:Identifier", "skos:notation": resource.code},
            "dct:title": _text(resource.name),
            "dct:description": _text(resource.summary),
            "dct:publisher": self.publisher(resource.provider),
            "dct:accessRights": {"@id": ACCESS_RIGHTS[resource.share_type]},
            "dct:accrualPeriodicity": {"@id": _AUTHORITY + "frequency/" + FREQUENCY[resource.update_cycle]},
            "dct:modified": _date_time(resource.updated_at),
            "dcat:keyword": sorted({field.element for field in resource.fields}),
            "dcat:distribution": [distribution],
            "dct:type": {"@id": f"{self.base}/api/catalog/v1/categories/{resource.category}"},
            "dcat:version": str(resource.version),
        }
        if resource.published_at is not None:
            dataset["dct:issued"] = _date_time(resource.published_at)
        return dataset

    def data_service(self, service: str, datasets: Sequence[str]) -> dict[str, Any]:
        """One registry API as a dcat:DataService."""
        return {
            "@id": self.service_id(service),
            "@type": "dcat:DataService",
            "dct:title": _text(f"OneSource {service} registry API", "en"),
            "dcat:endpointURL": {"@id": self.service_id(service)},
            "dcat:endpointDescription": {"@id": f"{self.base}/api/{service}/openapi.json"},
            "dcat:servesDataset": [{"@id": dataset} for dataset in datasets],
        }

    def document(self, resources: Sequence[Resource]) -> dict[str, Any]:
        """The catalogue of ``resources`` as a JSON-LD document."""
        served: dict[str, list[str]] = {}
        for resource in resources:
            if resource.service is not None:
                served.setdefault(resource.service, []).append(self.dataset_id(resource.id))
        return {
            "@context": CONTEXT,
            "@id": self.catalog_id(),
            "@type": "dcat:Catalog",
            "dct:title": _text("OneSource 政务信息资源目录"),
            "dct:description": _text(
                "一数一源：各部门共享的政务信息资源目录，列明每项数据的权威来源、共享属性与开放属性。"
            ),
            "dct:publisher": {"@id": self.base, "@type": "foaf:Agent", "foaf:name": "OneSource"},
            "dct:language": {"@id": _AUTHORITY + "language/ZHO"},
            "dcat:dataset": [self.dataset(resource) for resource in resources],
            "dcat:service": [self.data_service(service, served[service]) for service in sorted(served)],
        }
