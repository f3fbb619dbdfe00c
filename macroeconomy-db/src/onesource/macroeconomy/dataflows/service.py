"""SDMX-JSON 2.0.0 structure messages (sdmx-twg/sdmx-json, structure-message, tag v2.0.0) of dataflows.

A dataflow's message holds the dataflow, its data structure definition, the concept scheme of its components and
the code lists they use (``CL_AREA``: the GB/T 2260 divisions of today).
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Final

from onesource.macroeconomy.data.sdmx_json import LANGUAGE, meta
from onesource.macroeconomy.dataflows.codes import area_codes
from onesource.macroeconomy.dataflows.definitions import (
    AGENCY_ID,
    AREA_CODELIST,
    CODELISTS,
    VERSION,
    Attachment,
    Component,
    Dataflow,
    DataStructure,
    Role,
)

STRUCTURE_SCHEMA: Final = (
    "https://raw.githubusercontent.com/sdmx-twg/sdmx-json/master/structure-message/tools/schemas/2.0.0/"
    "sdmx-json-structure-schema.json"
)
MEDIA_TYPE: Final = "application/vnd.sdmx.structure+json;version=2.0.0"
_PACKAGE: Final = "urn:sdmx:org.sdmx.infomodel"
CONCEPT_SCHEME: Final = "CS_MACRO"


def _named(identifier: str, name: str) -> dict[str, Any]:
    return {"id": identifier, "name": name, "names": {LANGUAGE: name}}


def _maintained(identifier: str, name: str) -> dict[str, Any]:
    return {**_named(identifier, name), "agencyID": AGENCY_ID, "version": VERSION, "isExternalReference": False}


def _codelist_urn(codelist: str) -> str:
    return f"{_PACKAGE}.codelist.Codelist={AGENCY_ID}:{codelist}({VERSION})"


def _concept_urn(component: str) -> str:
    return f"{_PACKAGE}.conceptscheme.Concept={AGENCY_ID}:{CONCEPT_SCHEME}({VERSION}).{component}"


def _representation(component: Component) -> dict[str, Any]:
    if component.codelist is not None:
        return {"enumeration": _codelist_urn(component.codelist)}
    return {"format": {"dataType": component.text_type}}


def _component(component: Component, position: int | None = None) -> dict[str, Any]:
    found: dict[str, Any] = {
        "id": component.id,
        "conceptIdentity": _concept_urn(component.id),
        "localRepresentation": _representation(component),
    }
    if position is not None:
        found["position"] = position
    return found


def _structure(structure: DataStructure, dimension_ids: list[str]) -> dict[str, Any]:
    attributes = []
    for attribute in structure.attributes:
        relationship: dict[str, Any] = (
            {"dimensions": dimension_ids} if attribute.attachment is Attachment.SERIES else {"observation": {}}
        )
        attributes.append(
            {
                **_component(attribute),
                "usage": "mandatory" if attribute.mandatory else "optional",
                "attributeRelationship": relationship,
            }
        )
    return {
        **_maintained(structure.id, structure.name),
        "dataStructureComponents": {
            "attributeList": {"id": "AttributeDescriptor", "attributes": attributes},
            "dimensionList": {
                "id": "DimensionDescriptor",
                "dimensions": [_component(d, n) for n, d in enumerate(structure.dimensions)],
                "timeDimensions": [_component(structure.time_dimension, len(structure.dimensions))],
            },
            "measureList": {"id": "MeasureDescriptor", "measures": [_component(m) for m in structure.measures]},
        },
    }


def _codelist(codelist: str, today: date) -> dict[str, Any]:
    declared = CODELISTS[codelist]
    if codelist == AREA_CODELIST:
        codes = [_named(code, name) for code, name in area_codes(today)]
    else:
        codes = [_named(code.id, code.name) for code in declared.codes]
    return {**_maintained(codelist, declared.name), "codes": codes}


def structure_message(flows: list[Dataflow], prepared: datetime) -> dict[str, Any]:
    """The SDMX-JSON 2.0 structure message of ``flows``, with what they reference."""
    structures: dict[str, DataStructure] = {flow.structure.id: flow.structure for flow in flows}
    components = {c.id: c for s in structures.values() for c in s.components}
    codelists = sorted({c.codelist for c in components.values() if c.codelist is not None})
    return {
        "meta": {**meta(prepared), "schema": STRUCTURE_SCHEMA},
        "data": {
            "dataflows": [
                {
                    **_maintained(flow.id, flow.name),
                    "description": flow.description,
                    "descriptions": {LANGUAGE: flow.description},
                    "structure": f"{_PACKAGE}.datastructure.DataStructure={AGENCY_ID}:{flow.structure.id}({VERSION})",
                }
                for flow in flows
            ],
            "dataStructures": [_structure(s, [d.id for d in s.dimensions]) for s in structures.values()],
            "conceptSchemes": [
                {
                    **_maintained(CONCEPT_SCHEME, "宏观经济统计概念"),
                    "concepts": [_named(c.id, c.name) for c in sorted(components.values(), key=lambda c: c.id)],
                }
            ],
            "codelists": [_codelist(codelist, prepared.date()) for codelist in codelists],
        },
    }


__all__ = ["MEDIA_TYPE", "Role", "structure_message"]
